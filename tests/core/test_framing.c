/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Framing (PROTOCOL.md section 2): the stateless scanner, the chunk walker,
 * body copies, and the incremental reader fed a stream split at every byte
 * position. Expected packets are recorded while the test builds the stream
 * itself, so neither reader is checked against the other alone. */
#include <stdlib.h>

#include "check.h"
#include "framing.h"
#include "testutil.h"

/* ---- building streams ---- */

static void put_length(hmtp_buf *w, size_t n, bool two_bytes)
{
    uint8_t tmp[8];
    size_t k = 0;
    do {
        tmp[k++] = (uint8_t)(n & 0x7f);
        n >>= 7;
    } while (n);
    if (two_bytes && k == 1)
        tmp[k++] = 0; /* a redundant leading zero group, as the writer emits mid-packet */
    for (size_t i = k; i-- > 0;)
        hmtp_buf_append_byte(w, (uint8_t)(tmp[i] | (i ? 0x80 : 0)));
}

typedef struct want_packet {
    uint8_t *body;
    size_t body_len;
    uint64_t wire_offset;
    size_t wire_len;
    size_t chunks;
} want_packet;

typedef struct want_stream {
    hmtp_buf wire;
    want_packet p[64];
    size_t n;
    uint64_t empties;
} want_stream;

/* Appends a packet whose body is body_len pseudo-random bytes cut into chunks
 * of the given sizes (the last size repeats); body_len 0 makes a lone 0x00. */
static void add_packet(want_stream *s, size_t body_len, const size_t *sizes, size_t nsizes, bool two_bytes,
                       uint64_t *rng)
{
    if (body_len == 0) {
        hmtp_buf_append_byte(&s->wire, 0);
        s->empties++;
        return;
    }
    want_packet *p = &s->p[s->n++];
    p->body = malloc(body_len);
    for (size_t i = 0; i < body_len; i++)
        p->body[i] = (uint8_t)test_rand(rng);
    p->body_len = body_len;
    p->wire_offset = s->wire.len;
    p->chunks = 0;
    size_t done = 0, k = 0;
    while (done < body_len) {
        size_t c = sizes[k < nsizes ? k : nsizes - 1];
        k++;
        if (c > body_len - done)
            c = body_len - done;
        put_length(&s->wire, c, two_bytes);
        hmtp_buf_append(&s->wire, p->body + done, c);
        done += c;
        p->chunks++;
    }
    hmtp_buf_append_byte(&s->wire, 0);
    p->wire_len = s->wire.len - p->wire_offset;
}

static void free_stream(want_stream *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->p[i].body);
    hmtp_buf_free(&s->wire);
}

/* A stream that exercises one-, two- and three-byte lengths, several chunks,
 * chunks ending in a 0x00 data byte, and empty packets between packets. */
static void small_stream(want_stream *s, bool with_big)
{
    memset(s, 0, sizeof *s);
    hmtp_buf_init(&s->wire);
    uint64_t rng = 42;
    const size_t one[] = {100000};
    const size_t three[] = {5, 130, 1};
    const size_t tiny[] = {1};
    add_packet(s, 0, one, 1, false, &rng);
    add_packet(s, 36, one, 1, false, &rng);
    add_packet(s, 136, three, 3, false, &rng);
    add_packet(s, 0, one, 1, false, &rng);
    add_packet(s, 0, one, 1, false, &rng);
    add_packet(s, 7, tiny, 1, false, &rng);
    add_packet(s, 127, one, 1, false, &rng);
    add_packet(s, 128, one, 1, false, &rng);
    add_packet(s, 40, three, 3, true, &rng);
    if (with_big) {
        const size_t big[] = {16384, 4094};
        add_packet(s, 70000, big, 2, true, &rng);
    }
    add_packet(s, 1, one, 1, false, &rng);
    s->wire.data[s->p[s->n - 1].wire_offset + 1] = 0; /* a body that is one 0x00 byte */
    s->p[s->n - 1].body[0] = 0;
    add_packet(s, 0, one, 1, false, &rng);
}

/* ---- scanner ---- */

static void expect_scan(const char *hex, size_t max, hmtp_frame_status want, size_t wire, size_t body,
                        size_t chunks_or_need)
{
    hmtp_buf b = hex_bytes(hex);
    hmtp_frame_info info;
    memset(&info, 0xa5, sizeof info);
    hmtp_error err;
    hmtp_error_clear(&err);
    hmtp_frame_status st = hmtp_frame_scan(b.data, b.len, max, &info, &err);
    CHECK(st == want, "scan %s: status %d want %d (%s)", hex, (int)st, (int)want, err.msg);
    if (st == want && want == HMTP_FRAME_COMPLETE)
        CHECK(info.wire_len == wire && info.body_len == body && info.chunks == chunks_or_need,
              "scan %s: wire %zu body %zu chunks %zu; want %zu %zu %zu", hex, info.wire_len, info.body_len,
              info.chunks, wire, body, chunks_or_need);
    if (st == want && want == HMTP_FRAME_INCOMPLETE)
        CHECK(info.need == chunks_or_need, "scan %s: need %zu want %zu", hex, info.need, chunks_or_need);
    if (st == want && want == HMTP_FRAME_INVALID)
        CHECK(err.code == (hmtp_status)chunks_or_need, "scan %s: error %s want %s", hex,
              hmtp_status_name(err.code), hmtp_status_name((hmtp_status)chunks_or_need));
    hmtp_buf_free(&b);
}

/* hex of a chunk header followed by n data bytes */
static char *hex_chunk(const char *header, size_t n, const char *tail)
{
    size_t cap = strlen(header) + 3 * n + strlen(tail) + 4;
    char *s = malloc(cap);
    char *p = s + sprintf(s, "%s", header);
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, " %02x", (unsigned)(i & 0x7f));
    sprintf(p, " %s", tail);
    return s;
}

static void test_scan(void)
{
    const size_t big = HMTP_DEFAULT_MAX_PACKET;
    expect_scan("03 61 62 63 00", big, HMTP_FRAME_COMPLETE, 5, 3, 1);
    expect_scan("00", big, HMTP_FRAME_COMPLETE, 1, 0, 0);
    expect_scan("00 03 61 62 63 00", big, HMTP_FRAME_COMPLETE, 1, 0, 0); /* only the lone 0x00 */
    expect_scan("03 61 62 63 00 ff ff", big, HMTP_FRAME_COMPLETE, 5, 3, 1);
    expect_scan("80 05 01 02 03 04 05 00", big, HMTP_FRAME_COMPLETE, 8, 5, 1);
    expect_scan("80 80 80 05 01 02 03 04 05 00", big, HMTP_FRAME_COMPLETE, 10, 5, 1);
    expect_scan("02 61 00 01 00 00", big, HMTP_FRAME_COMPLETE, 6, 3, 2); /* chunk data ending in 0x00 */
    char *h = hex_chunk("81 00", 128, "00");
    expect_scan(h, big, HMTP_FRAME_COMPLETE, 131, 128, 1);
    free(h);
    h = hex_chunk("81 80 00", 16384, "00");
    expect_scan(h, big, HMTP_FRAME_COMPLETE, 16388, 16384, 1);
    free(h);
    h = hex_chunk("02 61 62 81 00", 128, "01 63 00");
    expect_scan(h, big, HMTP_FRAME_COMPLETE, 136, 131, 3);
    free(h);
    /* incomplete: inside chunk data, need is the missing data plus the
     * terminator that must still follow; 1 inside a length field */
    uint8_t nothing[1];
    hmtp_frame_info info;
    hmtp_error err;
    CHECK(hmtp_frame_scan(nothing, 0, big, &info, &err) == HMTP_FRAME_INCOMPLETE && info.need == 1,
          "empty buffer: incomplete, need 1");
    expect_scan("05 61 62", big, HMTP_FRAME_INCOMPLETE, 0, 0, 4);
    expect_scan("05 61 62 63 64 65", big, HMTP_FRAME_INCOMPLETE, 0, 0, 1);
    expect_scan("81", big, HMTP_FRAME_INCOMPLETE, 0, 0, 1);
    expect_scan("81 00", big, HMTP_FRAME_INCOMPLETE, 0, 0, 129);
    expect_scan("03 61 62 63 02 61", big, HMTP_FRAME_INCOMPLETE, 0, 0, 2);
    /* invalid: an over-long length field, a body beyond the maximum */
    expect_scan("80 80 80 80 01 61 00", big, HMTP_FRAME_INVALID, 0, 0, HMTP_ERR_BAD_FRAMING);
    h = hex_chunk("64", 100, "00");
    expect_scan(h, 100, HMTP_FRAME_COMPLETE, 102, 100, 1);
    free(h);
    h = hex_chunk("65", 101, "00");
    expect_scan(h, 100, HMTP_FRAME_INVALID, 0, 0, HMTP_ERR_TOO_LARGE);
    free(h);
    h = hex_chunk("32", 50, "");
    char *h2 = hex_chunk(h, 0, "33");
    free(h);
    h = hex_chunk(h2, 51, "00");
    expect_scan(h, 100, HMTP_FRAME_INVALID, 0, 0, HMTP_ERR_TOO_LARGE); /* 50 + 51 over two chunks */
    free(h);
    free(h2);
    /* refused from the declared length alone: a reassembler must not be told
     * to wait for a 128-byte chunk that can never be accepted */
    expect_scan("81 00", 100, HMTP_FRAME_INVALID, 0, 0, HMTP_ERR_TOO_LARGE);
}

static void test_chunks_and_copy(void)
{
    char *h = hex_chunk("02 61 62 81 00", 128, "01 63 00");
    hmtp_buf b = hex_bytes(h);
    free(h);
    const hmtp_chunk want[] = {{0, 1, 1, 2}, {3, 2, 5, 128}, {133, 1, 134, 1}, {135, 1, 136, 0}};
    size_t pos = 0, k = 0;
    hmtp_chunk c;
    while (k < 10 && hmtp_frame_next_chunk(b.data, b.len, &pos, &c)) {
        if (k < 4)
            CHECK(c.header_offset == want[k].header_offset && c.header_len == want[k].header_len &&
                      c.data_offset == want[k].data_offset && c.data_len == want[k].data_len,
                  "chunk %zu: hdr %zu+%zu data %zu+%zu", k, c.header_offset, c.header_len, c.data_offset,
                  c.data_len);
        k++;
    }
    CHECK_INT(k, 4, "chunks returned, terminator included");
    uint8_t body[131];
    memset(body, 0xee, sizeof body);
    CHECK_INT(hmtp_frame_copy_body(b.data, b.len, body), 131, "copy_body length");
    uint8_t expect[131];
    expect[0] = 0x61;
    expect[1] = 0x62;
    for (size_t i = 0; i < 128; i++)
        expect[2 + i] = (uint8_t)i;
    expect[130] = 0x63;
    CHECK_BYTES(body, 131, expect, 131, "copy_body bytes");
    hmtp_buf_free(&b);
    /* a lone terminator: one chunk (the terminator), empty body */
    uint8_t zero = 0;
    pos = 0;
    CHECK(hmtp_frame_next_chunk(&zero, 1, &pos, &c) && c.data_len == 0 && c.header_len == 1,
          "lone 0x00 reports its terminator");
    CHECK(!hmtp_frame_next_chunk(&zero, 1, &pos, &c), "then nothing");
    CHECK_INT(hmtp_frame_copy_body(&zero, 1, body), 0, "empty body copy");
}

/* ---- incremental reader ---- */

typedef struct got_stream {
    want_packet p[64];
    size_t n;
    bool failed;
    hmtp_error err;
} got_stream;

static void got_free(got_stream *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->p[i].body);
    g->n = 0;
}

static void feed(hmtp_reader *r, const uint8_t *data, size_t len, got_stream *g)
{
    size_t guard = 0;
    while (len > 0 && !g->failed) {
        size_t consumed = 0;
        hmtp_frame f;
        int rc = hmtp_reader_push(r, data, len, &consumed, &f, &g->err);
        if (rc < 0) {
            g->failed = true;
            return;
        }
        if (consumed > len || (rc == 0 && consumed != len) || ++guard > len + 1000) {
            CHECK(0, "reader: push of %zu bytes returned %d having consumed %zu", len, rc, consumed);
            g->failed = true;
            return;
        }
        if (rc == 1 && g->n < 64) {
            want_packet *p = &g->p[g->n++];
            p->body = malloc(f.body_len ? f.body_len : 1);
            memcpy(p->body, f.body, f.body_len);
            p->body_len = f.body_len;
            p->wire_offset = f.wire_offset;
            p->wire_len = f.wire_len;
            p->chunks = f.chunks;
        }
        data += consumed;
        len -= consumed;
    }
}

static bool same_packets(const want_stream *w, const got_stream *g, const char *what, size_t split)
{
    if (!CHECK(!g->failed && g->n == w->n, "%s (split %zu): %zu packets (failed %d: %s), want %zu", what, split,
               g->n, g->failed, g->err.msg, w->n))
        return false;
    for (size_t i = 0; i < w->n; i++) {
        const want_packet *a = &g->p[i], *b = &w->p[i];
        if (!CHECK(a->body_len == b->body_len && memcmp(a->body, b->body, b->body_len) == 0 &&
                       a->wire_offset == b->wire_offset && a->wire_len == b->wire_len && a->chunks == b->chunks,
                   "%s (split %zu): packet %zu: body %zu wire %" PRIu64 "+%zu chunks %zu; want body %zu wire "
                   "%" PRIu64 "+%zu chunks %zu",
                   what, split, i, a->body_len, a->wire_offset, a->wire_len, a->chunks, b->body_len,
                   b->wire_offset, b->wire_len, b->chunks))
            return false;
    }
    return true;
}

static void test_reader_every_split(void)
{
    want_stream w;
    small_stream(&w, false);
    size_t n = w.wire.len;
    size_t bad = 0;
    for (size_t split = 0; split <= n; split++) {
        hmtp_reader *r = hmtp_reader_new(HMTP_DEFAULT_MAX_PACKET);
        got_stream g = {0};
        feed(r, w.wire.data, split, &g);
        feed(r, w.wire.data + split, n - split, &g);
        if (!same_packets(&w, &g, "two pieces", split))
            bad++;
        CHECK(hmtp_reader_offset(r) == n && hmtp_reader_at_boundary(r) && hmtp_reader_empty_packets(r) == w.empties,
              "split %zu: offset %" PRIu64 " boundary %d empties %" PRIu64 " (want %zu, 1, %" PRIu64 ")", split,
              hmtp_reader_offset(r), hmtp_reader_at_boundary(r), hmtp_reader_empty_packets(r), n, w.empties);
        got_free(&g);
        hmtp_reader_free(r);
        if (bad > 3)
            break; /* the first few say enough */
    }
    /* byte by byte, and the reader mid-packet is not at a boundary */
    hmtp_reader *r = hmtp_reader_new(HMTP_DEFAULT_MAX_PACKET);
    got_stream g = {0};
    for (size_t i = 0; i < n; i++) {
        feed(r, w.wire.data + i, 1, &g);
        if (i == w.p[1].wire_offset + 1)
            CHECK(!hmtp_reader_at_boundary(r) && hmtp_reader_offset(r) == i + 1,
                  "mid-packet: not at a boundary, offset %" PRIu64, hmtp_reader_offset(r));
    }
    same_packets(&w, &g, "byte by byte", 0);
    got_free(&g);
    hmtp_reader_free(r);
    free_stream(&w);
}

static void test_reader_random_pieces(void)
{
    want_stream w;
    small_stream(&w, true);
    uint64_t rng = 7;
    for (int round = 0; round < 40; round++) {
        hmtp_reader *r = hmtp_reader_new(HMTP_DEFAULT_MAX_PACKET);
        got_stream g = {0};
        size_t pos = 0;
        while (pos < w.wire.len) {
            size_t piece = 1 + (size_t)(test_rand(&rng) % (round < 20 ? 7 : 5000));
            if (piece > w.wire.len - pos)
                piece = w.wire.len - pos;
            feed(r, w.wire.data + pos, piece, &g);
            pos += piece;
        }
        same_packets(&w, &g, "random pieces", (size_t)round);
        got_free(&g);
        hmtp_reader_free(r);
    }
    /* the whole stream in one push */
    hmtp_reader *r = hmtp_reader_new(HMTP_DEFAULT_MAX_PACKET);
    got_stream g = {0};
    feed(r, w.wire.data, w.wire.len, &g);
    same_packets(&w, &g, "one push", 0);
    got_free(&g);
    hmtp_reader_free(r);
    /* the scanner walking the same stream agrees */
    size_t pos = 0, k = 0;
    while (pos < w.wire.len) {
        hmtp_frame_info info;
        hmtp_error err;
        if (!CHECK(hmtp_frame_scan(w.wire.data + pos, w.wire.len - pos, HMTP_DEFAULT_MAX_PACKET, &info, &err) ==
                       HMTP_FRAME_COMPLETE,
                   "scan at %zu: %s", pos, err.msg))
            break;
        if (info.body_len > 0) {
            if (CHECK(k < w.n && w.p[k].wire_offset == pos && w.p[k].wire_len == info.wire_len &&
                          w.p[k].body_len == info.body_len && w.p[k].chunks == info.chunks,
                      "scan packet %zu at %zu", k, pos)) {
                uint8_t *body = malloc(info.body_len);
                hmtp_frame_copy_body(w.wire.data + pos, info.wire_len, body);
                CHECK_BYTES(body, info.body_len, w.p[k].body, w.p[k].body_len, "scan body");
                free(body);
            }
            k++;
        }
        pos += info.wire_len;
    }
    CHECK_INT(k, w.n, "packets found by scanning");
    free_stream(&w);
}

static void test_reader_errors(void)
{
    /* a body over the maximum fails, and keeps failing */
    hmtp_reader *r = hmtp_reader_new(100);
    hmtp_buf b;
    hmtp_buf_init(&b);
    hex_append(&b, "64");
    for (int i = 0; i < 100; i++)
        hmtp_buf_append_byte(&b, 1);
    hex_append(&b, "00 65");
    for (int i = 0; i < 101; i++)
        hmtp_buf_append_byte(&b, 2);
    hex_append(&b, "00");
    got_stream g = {0};
    feed(r, b.data, b.len, &g);
    CHECK(g.n == 1 && g.p[0].body_len == 100, "100-byte body accepted with max 100 (%zu packets)", g.n);
    CHECK(g.failed && g.err.code == HMTP_ERR_TOO_LARGE, "101-byte body refused: failed %d %s", g.failed,
          hmtp_status_name(g.err.code));
    CHECK(g.err.offset >= 102 && g.err.offset <= b.len, "error offset %zu is in the second packet", g.err.offset);
    size_t consumed;
    hmtp_frame f;
    hmtp_error err;
    uint8_t ok_packet[] = {1, 0x90, 0};
    CHECK(hmtp_reader_push(r, ok_packet, 3, &consumed, &f, &err) == -1, "error is sticky");
    got_free(&g);
    hmtp_reader_free(r);
    hmtp_buf_free(&b);
    /* an over-long length field */
    r = hmtp_reader_new(HMTP_DEFAULT_MAX_PACKET);
    uint8_t longlen[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    int rc = hmtp_reader_push(r, longlen, sizeof longlen, &consumed, &f, &err);
    CHECK(rc == -1 && err.code == HMTP_ERR_BAD_FRAMING, "5-byte length field refused (rc %d, %s)", rc,
          hmtp_status_name(err.code));
    hmtp_reader_free(r);
    /* a huge declared chunk is refused from its header, before buffering */
    r = hmtp_reader_new(1000);
    uint8_t huge[] = {0x8f, 0xff, 0xff, 0x7f};
    rc = hmtp_reader_push(r, huge, sizeof huge, &consumed, &f, &err);
    CHECK(rc == -1 && err.code == HMTP_ERR_TOO_LARGE, "declared 32 MiB chunk with max 1000 refused (rc %d)", rc);
    hmtp_reader_free(r);
}

/* Last, because a sanitizer build stops the process on undefined behaviour:
 * an empty buffer may come as (NULL, 0) and must be handled. */
static void test_scan_null_empty(void)
{
    expect_scan("", HMTP_DEFAULT_MAX_PACKET, HMTP_FRAME_INCOMPLETE, 0, 0, 1);
    hmtp_reader *r = hmtp_reader_new(HMTP_DEFAULT_MAX_PACKET);
    size_t consumed = 1;
    hmtp_frame f;
    hmtp_error err;
    CHECK(hmtp_reader_push(r, NULL, 0, &consumed, &f, &err) == 0 && consumed == 0, "reader: (NULL, 0) push");
    hmtp_reader_free(r);
}

int main(void)
{
    test_scan();
    test_chunks_and_copy();
    test_reader_every_split();
    test_reader_random_pieces();
    test_reader_errors();
    test_scan_null_empty();
    return check_summary("framing");
}
