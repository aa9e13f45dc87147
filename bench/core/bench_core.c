/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench-core: throughput of the core codec on a realistic in-memory stream.
 * Prints, for each stage, MB/s and packets/s (median of --runs) and the
 * ratio to a plain memcpy of the same bytes, the ceiling any reader has. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_mix.h"
#include "framing.h"
#include "hmtp.h"

#define PIECE ((size_t)64 * 1024) /* what a socket read typically returns */

typedef struct stage_result {
    size_t packets; /* packets seen, so every stage proves it did the work */
    bool ok;
} stage_result;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static stage_result stage_memcpy(const hmtp_buf *in, uint8_t *scratch)
{
    for (size_t pos = 0; pos < in->len; pos += PIECE) {
        size_t n = in->len - pos < PIECE ? in->len - pos : PIECE;
        memcpy(scratch + pos, in->data + pos, n);
    }
    /* read one byte back so the copies cannot be optimised away */
    return (stage_result){(size_t)scratch[in->len / 2] & 0, true};
}

typedef enum decode_level { LEVEL_FRAMES, LEVEL_EVENTS, LEVEL_TREES } decode_level;

static bool decode_events(hessian_stream *s, const hmtp_frame *f)
{
    hessian_decoder d;
    hessian_decoder_init(&d, s, hessian_stream_mark(s), f->body, f->body_len);
    hessian_event ev;
    int rc;
    while ((rc = hessian_next(&d, &ev)) == 1)
        ;
    hessian_decoder_free(&d);
    return rc == 0;
}

static bool decode_tree(hessian_stream *s, const hmtp_frame *f)
{
    hmtp_packet p;
    hmtp_packet_init(&p);
    hmtp_error err;
    hmtp_status st = hmtp_packet_decode(&p, s, hessian_stream_mark(s), f->body, f->body_len, &err);
    hmtp_packet_free(&p);
    return st == HMTP_OK;
}

static stage_result stage_decode(const hmtp_buf *in, decode_level level)
{
    stage_result r = {0, true};
    hmtp_reader *reader = hmtp_reader_new(HMTP_DEFAULT_MAX_PACKET);
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    for (size_t pos = 0; pos < in->len && r.ok; pos += PIECE) {
        const uint8_t *p = in->data + pos;
        size_t left = in->len - pos < PIECE ? in->len - pos : PIECE;
        while (left > 0 && r.ok) {
            size_t consumed = 0;
            hmtp_frame f;
            hmtp_error err;
            int rc = hmtp_reader_push(reader, p, left, &consumed, &f, &err);
            if (rc < 0) {
                fprintf(stderr, "bench-core: framing failed at stream offset %zu: %s\n", pos, err.msg);
                r.ok = false;
                break;
            }
            if (rc == 1) {
                r.packets++;
                if (level == LEVEL_EVENTS)
                    r.ok = decode_events(&s, &f);
                else if (level == LEVEL_TREES)
                    r.ok = decode_tree(&s, &f);
                if (!r.ok)
                    fprintf(stderr, "bench-core: packet %zu did not decode\n", r.packets);
            }
            p += consumed;
            left -= consumed;
        }
    }
    hessian_stream_free(&s);
    hmtp_reader_free(reader);
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static bool parse_size(const char *s, const char *name, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v == 0 || v > 4096) {
        fprintf(stderr, "bench-core: %s wants a number from 1 to 4096, got \"%s\"\n", name, s);
        return false;
    }
    *out = (size_t)v;
    return true;
}

int main(int argc, char **argv)
{
    size_t mb = 64, runs = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mb") == 0 && i + 1 < argc) {
            if (!parse_size(argv[++i], "--mb", &mb))
                return 2;
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            if (!parse_size(argv[++i], "--runs", &runs))
                return 2;
        } else {
            fprintf(stderr, "usage: bench-core [--mb N (default 64)] [--runs N (default 5)]\n");
            return 2;
        }
    }
    hmtp_buf stream;
    hmtp_buf_init(&stream);
    bench_mix_stats mix;
    if (!bench_mix_generate(&stream, mb << 20, &mix)) {
        fprintf(stderr, "bench-core: could not generate %zu MB of packets (out of memory)\n", mb);
        hmtp_buf_free(&stream);
        return 1;
    }
    uint8_t *scratch = malloc(stream.len);
    if (!scratch) {
        fprintf(stderr, "bench-core: out of memory for the memcpy target (%zu bytes)\n", stream.len);
        hmtp_buf_free(&stream);
        return 1;
    }
    memset(scratch, 0, stream.len);
    printf("stream: %.1f MB, %zu packets (%zu presence, %zu messages, %zu queries, %zu large 100K-1M)\n",
           (double)stream.len / 1e6, mix.packets, mix.presence, mix.messages, mix.queries, mix.large);
    printf("%-22s %10s %12s %10s\n", "stage", "MB/s", "packets/s", "vs memcpy");

    static const char *const names[] = {"memcpy", "framing", "framing+events", "framing+tree"};
    double median[4] = {0};
    int status = 0;
    double *times = calloc(runs, sizeof *times);
    for (int stage = 0; stage < 4 && times; stage++) {
        size_t packets = 0;
        for (size_t r = 0; r < runs; r++) {
            double t0 = now_seconds();
            stage_result res = stage == 0 ? stage_memcpy(&stream, scratch)
                                           : stage_decode(&stream, (decode_level)(stage - 1));
            times[r] = now_seconds() - t0;
            packets = res.packets;
            if (!res.ok || (stage > 0 && packets != mix.packets)) {
                fprintf(stderr, "bench-core: stage %s saw %zu of %zu packets\n", names[stage], packets, mix.packets);
                status = 1;
            }
        }
        qsort(times, runs, sizeof *times, cmp_double);
        median[stage] = times[runs / 2];
        double mbs = (double)stream.len / 1e6 / median[stage];
        char pps[32] = "-";
        if (stage > 0)
            snprintf(pps, sizeof pps, "%.0f", (double)mix.packets / median[stage]);
        printf("%-22s %10.0f %12s %9.1f%%\n", names[stage], mbs, pps, 100.0 * median[0] / median[stage]);
    }
    free(times);
    free(scratch);
    hmtp_buf_free(&stream);
    return status;
}
