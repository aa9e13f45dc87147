/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hmtp-decode: one direction of a raw HMTP byte stream in, one JSON object
 * per packet out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "hmtp.h"
#include "http_upgrade.h"
#include "json.h"

static const char usage[] =
    "usage: hmtp-decode [--skip-http] [--max-packet BYTES] [FILE|-]\n"
    "Decodes one direction of a raw HMTP stream (no TCP/IP headers) and prints one\n"
    "JSON object per packet. --skip-http skips a leading HTTP upgrade request or\n"
    "response (up to its empty line; at most 8192 bytes, lines ending in CR LF or LF).\n"
    "Exit status: 0 all packets decoded, 1 bad or truncated input, 2 usage or I/O error.\n";

typedef struct decode_state {
    const char *name;
    hmtp_reader *reader;
    hessian_stream stream;
    /* one packet and decoder for every packet in turn (their memory reused) */
    hmtp_packet packet;
    hessian_decoder decoder;
    hmtp_buf line;
    unsigned long index;
    int status;
    /* --skip-http */
    bool skipping_http;
    hmtp_buf http;
} decode_state;

static int emit_packet(decode_state *st, const hmtp_frame *f)
{
    hmtp_packet *p = &st->packet;
    hmtp_packet_reset(p);
    hmtp_error err;
    hmtp_status rc = hmtp_packet_decode_with(p, &st->decoder, &st->stream, hessian_stream_mark(&st->stream), f->body,
                                             f->body_len, &err);
    hmtp_buf_reset(&st->line);
    hmtp_buf_printf(&st->line, "{\"index\":%lu,\"offset\":%llu,\"length\":%zu,\"chunks\":%zu,", st->index,
                    (unsigned long long)f->wire_offset, f->wire_len, f->chunks);
    hmtp_json_packet_fields(&st->line, p);
    if (rc != HMTP_OK) {
        hmtp_buf_printf(&st->line, ",\"decode_error\":{\"code\":\"%s\",\"offset\":%zu,\"message\":",
                        hmtp_status_name(err.code), err.offset);
        hmtp_json_string(&st->line, err.msg, strlen(err.msg));
        hmtp_buf_append_byte(&st->line, '}');
        fprintf(stderr, "hmtp-decode: %s: packet %lu at stream offset %llu: %s\n", st->name, st->index,
                (unsigned long long)f->wire_offset, err.msg);
        st->status = 1;
    }
    hmtp_buf_append(&st->line, "}\n", 2);
    st->index++;
    if (st->line.failed) {
        fprintf(stderr, "hmtp-decode: out of memory rendering packet %lu\n", st->index - 1);
        return -1;
    }
    if (fwrite(st->line.data, 1, st->line.len, stdout) != st->line.len) {
        fprintf(stderr, "hmtp-decode: writing output: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* Feeds bytes to the framer; returns -1 when decoding cannot go on. */
static int feed(decode_state *st, const uint8_t *data, size_t len)
{
    while (len > 0) {
        size_t used;
        hmtp_frame f;
        hmtp_error err;
        int rc = hmtp_reader_push(st->reader, data, len, &used, &f, &err);
        if (rc < 0) {
            fprintf(stderr, "hmtp-decode: %s: framing error at stream offset %zu: %s\n", st->name, err.offset,
                    err.msg);
            st->status = 1;
            return -1;
        }
        data += used;
        len -= used;
        if (rc == 1 && emit_packet(st, &f) < 0) {
            st->status = 2;
            return -1;
        }
    }
    return 0;
}

static int feed_maybe_http(decode_state *st, const uint8_t *data, size_t len)
{
    if (!st->skipping_http)
        return feed(st, data, len);
    if (!hmtp_buf_append(&st->http, data, len)) {
        fprintf(stderr, "hmtp-decode: out of memory reading the HTTP head\n");
        st->status = 2;
        return -1;
    }
    hmtp_upgrade_head h;
    hmtp_error err;
    int r = hmtp_upgrade_head_parse(st->http.data, st->http.len, &h, &err);
    if (r == 0)
        return 0;
    if (r < 0) {
        fprintf(stderr, "hmtp-decode: %s: --skip-http: %s\n", st->name, err.msg);
        st->status = 1;
        return -1;
    }
    st->skipping_http = false;
    /* The framer's offsets count from the first HMTP byte. */
    return feed(st, st->http.data + h.head_len, st->http.len - h.head_len);
}

int main(int argc, char **argv)
{
    decode_state st;
    memset(&st, 0, sizeof st);
    size_t max_packet = HMTP_DEFAULT_MAX_PACKET;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--skip-http") == 0) {
            st.skipping_http = true;
        } else if (strcmp(argv[i], "--max-packet") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (errno || *end || v == 0) {
                fprintf(stderr, "hmtp-decode: --max-packet wants a positive byte count, not '%s'\n", argv[i]);
                return 2;
            }
            max_packet = (size_t)v;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "hmtp-decode: unknown option '%s'\n%s", argv[i], usage);
            return 2;
        } else if (!path) {
            path = argv[i];
        } else {
            fprintf(stderr, "hmtp-decode: one input only ('%s' and '%s')\n%s", path, argv[i], usage);
            return 2;
        }
    }
    FILE *in = stdin;
    st.name = "stdin";
    if (path && strcmp(path, "-") != 0) {
        in = fopen(path, "rb");
        if (!in) {
            fprintf(stderr, "hmtp-decode: cannot open '%s': %s\n", path, strerror(errno));
            return 2;
        }
        st.name = path;
    }
    st.reader = hmtp_reader_new(max_packet);
    if (!st.reader) {
        fprintf(stderr, "hmtp-decode: out of memory\n");
        return 2;
    }
    hessian_stream_init(&st.stream, NULL);
    hmtp_packet_init(&st.packet);
    memset(&st.decoder, 0, sizeof st.decoder);
    hmtp_buf_init(&st.line);
    hmtp_buf_init(&st.http);

    static uint8_t buf[65536];
    size_t n;
    bool stopped = false;
    while (!stopped && (n = fread(buf, 1, sizeof buf, in)) > 0)
        stopped = feed_maybe_http(&st, buf, n) < 0;
    if (!stopped && ferror(in)) {
        fprintf(stderr, "hmtp-decode: reading %s: %s\n", st.name, strerror(errno));
        st.status = 2;
    } else if (!stopped && st.skipping_http) {
        fprintf(stderr, "hmtp-decode: %s: input ends inside the HTTP header\n", st.name);
        st.status = 1;
    } else if (!stopped && !hmtp_reader_at_boundary(st.reader)) {
        fprintf(stderr, "hmtp-decode: %s: input ends inside packet %lu (stream offset %llu)\n", st.name, st.index,
                (unsigned long long)hmtp_reader_offset(st.reader));
        st.status = 1;
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "hmtp-decode: writing output: %s\n", strerror(errno));
        st.status = 2;
    }
    if (in != stdin)
        fclose(in);
    hmtp_reader_free(st.reader);
    hessian_stream_free(&st.stream);
    hmtp_packet_free(&st.packet);
    hessian_decoder_free(&st.decoder);
    hmtp_buf_free(&st.line);
    hmtp_buf_free(&st.http);
    return st.status;
}
