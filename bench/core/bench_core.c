/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench-core: throughput of the core codec on a realistic in-memory stream,
 * side by side with a peer (msgpack-c reading the same packets encoded as
 * MessagePack) when the benchmark was built with it. Every stage of both
 * runs --runs times, ours and the peer's in turn (A B B A ...), so a machine
 * whose speed drifts slows both alike; the table prints medians, and the
 * ratio is the median of the run-by-run ratios. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_mix.h"
#include "framing.h"
#include "hmtp.h"
#ifdef HMTP_BENCH_PEER
#include "bench_peer.h"
#endif

#define PIECE ((size_t)64 * 1024) /* what a socket read typically returns */

typedef enum stage {
    ST_MEMCPY,
    ST_FRAMING,
    ST_EVENTS,
    ST_TREES,
    ST_PEER_UNPACK, /* a peer row only: its reader without validation */
    ST_COUNT,
} stage;

static const char *const stage_names[ST_COUNT] = {"memcpy", "framing", "events, validated", "trees, validated",
                                                  "unpack, not validated"};
static const char *const stage_args[ST_COUNT] = {"memcpy", "framing", "events", "trees", "peer-unpack"};

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

/* One packet reused for every frame, as a reader that handles one packet at
 * a time does: its arena emptied (hmtp_arena_reset), not freed, so the
 * memory the last packet needed serves the next. */
static bool decode_tree(hessian_stream *s, const hmtp_frame *f, hmtp_packet *p)
{
    hmtp_arena arena = p->arena;
    hmtp_arena_reset(&arena);
    hmtp_packet_init(p);
    p->arena = arena;
    hmtp_error err;
    hmtp_status st = hmtp_packet_decode(p, s, hessian_stream_mark(s), f->body, f->body_len, &err);
    return st == HMTP_OK;
}

static stage_result stage_decode(const hmtp_buf *in, stage level)
{
    stage_result r = {0, true};
    hmtp_reader *reader = hmtp_reader_new(HMTP_DEFAULT_MAX_PACKET);
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    hmtp_packet packet;
    hmtp_packet_init(&packet);
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
                if (level == ST_EVENTS)
                    r.ok = decode_events(&s, &f);
                else if (level == ST_TREES)
                    r.ok = decode_tree(&s, &f, &packet);
                if (!r.ok)
                    fprintf(stderr, "bench-core: packet %zu did not decode\n", r.packets);
            }
            p += consumed;
            left -= consumed;
        }
    }
    hmtp_packet_free(&packet);
    hessian_stream_free(&s);
    hmtp_reader_free(reader);
    return r;
}

/* noinline: a profiler can count just this (valgrind --toggle-collect). */
__attribute__((noinline)) static stage_result run_ours(stage st, const hmtp_buf *in, uint8_t *scratch)
{
    return st == ST_MEMCPY ? stage_memcpy(in, scratch) : stage_decode(in, st);
}

#ifdef HMTP_BENCH_PEER
__attribute__((noinline)) static stage_result run_peer(stage st, const hmtp_buf *in, uint8_t *scratch)
{
    stage_result r = {0, true};
    if (st == ST_MEMCPY)
        return stage_memcpy(in, scratch);
    r.packets = bench_peer_read(in, PIECE, st == ST_PEER_UNPACK ? PEER_UNPACK : PEER_VALIDATE, &r.ok);
    return r;
}
#endif

/* Which implementation measures a row: ours has no unpack-only row, the
 * peer no framing layer (MessagePack values delimit themselves). */
static bool ours_has(stage st)
{
    return st != ST_PEER_UNPACK;
}

static bool peer_has(stage st)
{
#ifdef HMTP_BENCH_PEER
    return st != ST_FRAMING;
#else
    (void)st;
    return false;
#endif
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, size_t n, double *sorted)
{
    memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
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

typedef struct side {
    const char *name;
    hmtp_buf stream;
    uint8_t *scratch;
    double *times[ST_COUNT];
} side;

/* One timed run of a stage; false (after a message) when it did not see
 * every packet decode. */
static bool timed(stage st, bool peer, side *sd, size_t want, size_t r)
{
    double t0 = now_seconds();
#ifdef HMTP_BENCH_PEER
    stage_result res = peer ? run_peer(st, &sd->stream, sd->scratch) : run_ours(st, &sd->stream, sd->scratch);
#else
    (void)peer;
    stage_result res = run_ours(st, &sd->stream, sd->scratch);
#endif
    sd->times[st][r] = now_seconds() - t0;
    if (!res.ok || (st != ST_MEMCPY && res.packets != want)) {
        fprintf(stderr, "bench-core: %s stage %s saw %zu of %zu packets decode\n", sd->name, stage_names[st],
                res.packets, want);
        return false;
    }
    return true;
}

static void cell(char *out, size_t cap, const side *sd, stage st, size_t runs, size_t packets, double memcpy_med,
                 double *sorted)
{
    if (!sd->times[st]) {
        snprintf(out, cap, "%10s %11s %8s", "-", "-", "-");
        return;
    }
    double med = median(sd->times[st], runs, sorted);
    char pps[32] = "-";
    if (st != ST_MEMCPY)
        snprintf(pps, sizeof pps, "%.0f", (double)packets / med);
    snprintf(out, cap, "%10.0f %11s %7.1f%%", (double)sd->stream.len / 1e6 / med, pps, 100.0 * memcpy_med / med);
}

int main(int argc, char **argv)
{
    size_t mb = 64, runs = 5;
    int only = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mb") == 0 && i + 1 < argc) {
            if (!parse_size(argv[++i], "--mb", &mb))
                return 2;
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            if (!parse_size(argv[++i], "--runs", &runs))
                return 2;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            const char *a = argv[++i];
            for (int s = 0; s < ST_COUNT; s++)
                if (strcmp(a, stage_args[s]) == 0 || (strncmp(a, "peer-", 5) == 0 && strcmp(a + 5, stage_args[s]) == 0))
                    only = s + (strncmp(a, "peer-", 5) == 0 ? 100 : 0);
            if (only < 0 || (only >= 100 ? !peer_has((stage)(only - 100)) : !ours_has((stage)only))) {
                fprintf(stderr, "bench-core: --only wants memcpy, framing, events, trees%s; got \"%s\"\n",
                        peer_has(ST_EVENTS) ? " or peer-memcpy, peer-events, peer-trees, peer-unpack" : "", a);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: bench-core [--mb N (default 64)] [--runs N (default 5)] [--only STAGE]\n"
                            "  STAGE: memcpy, framing, events, trees (ours and the peer's), or peer-events,\n"
                            "  peer-trees, peer-unpack (the peer's alone); memcpy always runs\n");
            return 2;
        }
    }
    side ours = {.name = "hessian"}, peer = {.name = "msgpack-c"};
    hmtp_buf_init(&ours.stream);
    hmtp_buf_init(&peer.stream);
    bench_mix_stats mix;
    bool gen;
#ifdef HMTP_BENCH_PEER
    gen = bench_mix_generate(&ours.stream, mb << 20, &mix, bench_peer_encode, &peer.stream) && !peer.stream.failed;
#else
    gen = bench_mix_generate(&ours.stream, mb << 20, &mix, NULL, NULL);
#endif
    int status = 0;
    double *sorted = calloc(runs, sizeof *sorted);
    side *sides[2] = {&ours, &peer};
    if (!gen || !sorted) {
        fprintf(stderr, "bench-core: could not generate %zu MB of packets (out of memory)\n", mb);
        status = 1;
        goto out;
    }
    for (int k = 0; k < 2; k++) {
        side *sd = sides[k];
        if (sd->stream.len == 0)
            continue;
        sd->scratch = malloc(sd->stream.len);
        if (!sd->scratch) {
            fprintf(stderr, "bench-core: out of memory for the memcpy target (%zu bytes)\n", sd->stream.len);
            status = 1;
            goto out;
        }
        memset(sd->scratch, 0, sd->stream.len);
        for (int st = 0; st < ST_COUNT; st++) {
            bool has = k == 0 ? ours_has((stage)st) : peer_has((stage)st);
            /* --only STAGE: that stage of both; peer-STAGE: the peer's alone */
            bool wanted = only < 0 || only == st || (k == 1 && only == st + 100) || st == ST_MEMCPY;
            if (has && wanted && !(sd->times[st] = calloc(runs, sizeof(double)))) {
                status = 1;
                goto out;
            }
        }
    }
    printf("stream: %zu packets (%zu presence, %zu messages, %zu queries, %zu large 100K-1M)\n", mix.packets,
           mix.presence, mix.messages, mix.queries, mix.large);
    printf("hessian: %.1f MB", (double)ours.stream.len / 1e6);
#ifdef HMTP_BENCH_PEER
    printf("; the same as MessagePack for msgpack-c %s: %.1f MB", bench_peer_version(), (double)peer.stream.len / 1e6);
#else
    printf("; no peer (built without libmsgpack-dev)");
#endif
    printf("\n");

    /* Rounds: every stage of both, in turn, the order swapped each round. */
    for (size_t r = 0; r < runs && status == 0; r++)
        for (int st = 0; st < ST_COUNT && status == 0; st++)
            for (int k = 0; k < 2 && status == 0; k++) {
                int which = (r % 2) ? 1 - k : k;
                side *sd = sides[which];
                if (sd->times[st] && !timed((stage)st, which == 1, sd, mix.packets, r))
                    status = 1;
            }
    if (status)
        goto out;

    printf("%-22s %10s %11s %8s | %10s %11s %8s | %9s\n", "stage", "MB/s", "packets/s", "memcpy%", "peer MB/s",
           "packets/s", "memcpy%", "ours/peer");
    double mm[2];
    for (int k = 0; k < 2; k++)
        mm[k] = sides[k]->times[ST_MEMCPY] ? median(sides[k]->times[ST_MEMCPY], runs, sorted) : 0;
    for (int st = 0; st < ST_COUNT; st++) {
        if (!ours.times[st] && !peer.times[st])
            continue;
        char a[64], b[64], ratio[32] = "-";
        cell(a, sizeof a, &ours, (stage)st, runs, mix.packets, mm[0], sorted);
        cell(b, sizeof b, &peer, (stage)st, runs, mix.packets, mm[1], sorted);
        if (ours.times[st] && peer.times[st] && st != ST_MEMCPY) {
            /* per packet: both read the same packets, so time B / time A */
            double *q = calloc(runs, sizeof *q);
            if (q) {
                for (size_t r = 0; r < runs; r++)
                    q[r] = peer.times[st][r] / ours.times[st][r];
                snprintf(ratio, sizeof ratio, "%.2fx", median(q, runs, sorted));
                free(q);
            }
        }
        printf("%-22s %s | %s | %9s\n", stage_names[st], a, b, ratio);
    }
out:
    for (int k = 0; k < 2; k++) {
        for (int st = 0; st < ST_COUNT; st++)
            free(sides[k]->times[st]);
        free(sides[k]->scratch);
        hmtp_buf_free(&sides[k]->stream);
    }
    free(sorted);
    return status;
}
