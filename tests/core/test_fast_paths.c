/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The codec's fast paths against the slow paths they stand in for:
 * - the reader's whole-packet walk (a packet pushed whole from a boundary)
 *   against the same stream pushed one byte at a time, frames and errors;
 * - the packet decoder's printable-ASCII JID test against hmtp_jid_check(),
 *   one odd character at every position around its 8-byte steps;
 * - the tree reader's chunk-by-chunk copy of a binary into its arena against
 *   the event reader's joined binary. */
#include <stdlib.h>

#include "check.h"
#include "framing.h"
#include "hmtp.h"
#include "jid.h"
#include "testutil.h"

/* ---- reader: whole pushes against byte-by-byte pushes ---- */

typedef struct frames {
    hmtp_buf bodies; /* every body, back to back */
    size_t n, lens[512], chunks[512], wire_lens[512];
    uint64_t offsets[512];
    int rc; /* 0, or -1 after a framing error */
    hmtp_error err;
} frames;

/* Pushes wire in pieces of `piece` bytes (0: all at once). */
static void read_all(const uint8_t *wire, size_t len, size_t max_body, size_t piece, frames *out)
{
    memset(out, 0, sizeof *out);
    hmtp_buf_init(&out->bodies);
    hmtp_reader *r = hmtp_reader_new(max_body);
    for (size_t pos = 0; pos < len && out->rc == 0;) {
        size_t n = piece && piece < len - pos ? piece : len - pos;
        const uint8_t *p = wire + pos;
        size_t left = n;
        while (left > 0) {
            size_t used = 0;
            hmtp_frame f;
            int rc = hmtp_reader_push(r, p, left, &used, &f, &out->err);
            if (rc < 0) {
                out->rc = -1;
                break;
            }
            if (rc == 1 && out->n < 512) {
                hmtp_buf_append(&out->bodies, f.body, f.body_len);
                out->lens[out->n] = f.body_len;
                out->chunks[out->n] = f.chunks;
                out->wire_lens[out->n] = f.wire_len;
                out->offsets[out->n++] = f.wire_offset;
            }
            p += used;
            left -= used;
        }
        pos += n;
    }
    hmtp_reader_free(r);
}

static void same_frames(const frames *a, const frames *b, const char *what)
{
    bool ok = CHECK(a->n == b->n && a->rc == b->rc, "%s: %zu packets rc %d, byte by byte %zu rc %d", what, a->n,
                    a->rc, b->n, b->rc);
    for (size_t i = 0; ok && i < a->n; i++)
        ok = CHECK(a->lens[i] == b->lens[i] && a->chunks[i] == b->chunks[i] && a->wire_lens[i] == b->wire_lens[i] &&
                       a->offsets[i] == b->offsets[i],
                   "%s: packet %zu differs", what, i);
    if (ok)
        CHECK_BYTES(a->bodies.data, a->bodies.len, b->bodies.data, b->bodies.len, what);
    if (ok && a->rc < 0)
        CHECK(a->err.code == b->err.code && a->err.offset == b->err.offset && strcmp(a->err.msg, b->err.msg) == 0,
              "%s: error \"%s\" at %zu, byte by byte \"%s\" at %zu", what, a->err.msg, a->err.offset, b->err.msg,
              b->err.offset);
}

static void put_length(hmtp_buf *w, size_t n, bool two)
{
    if (n >= 0x80 || two)
        hmtp_buf_append_byte(w, (uint8_t)(0x80 | (n >> 7)));
    hmtp_buf_append_byte(w, (uint8_t)(n & 0x7f));
}

/* A stream of random packets: single-chunk, multi-chunk, two-byte length
 * fields for short chunks and the terminator, empty packets between them;
 * then, by `tail`, a
 * length field too long (1), a packet too large for max 300 bytes (2), or a
 * packet cut short (3). */
static void make_stream(hmtp_buf *w, uint64_t *seed, int tail)
{
    for (int k = 0; k < 60; k++) {
        size_t len = 1 + test_rand(seed) % 280;
        unsigned shape = (unsigned)(test_rand(seed) % 4);
        size_t chunk = shape == 1 ? 1 + test_rand(seed) % 40 : len;
        bool two = shape == 2;
        for (size_t at = 0; at < len; at += chunk) {
            size_t n = len - at < chunk ? len - at : chunk;
            put_length(w, n, two);
            for (size_t i = 0; i < n; i++)
                hmtp_buf_append_byte(w, (uint8_t)test_rand(seed));
        }
        if (two) /* the terminator written long too: a zero length in two bytes */
            hmtp_buf_append_byte(w, 0x80);
        hmtp_buf_append_byte(w, 0);
        if (shape == 3)
            hmtp_buf_append_byte(w, 0); /* an empty packet */
    }
    if (tail == 1)
        hmtp_buf_append(w, "\x05" "abcde" "\x81\x80\x80\x80\x01", 11);
    else if (tail == 2) {
        put_length(w, 301, false);
        for (int i = 0; i < 301; i++)
            hmtp_buf_append_byte(w, 'x');
        hmtp_buf_append_byte(w, 0);
    } else if (tail == 3)
        hmtp_buf_append(w, "\x05" "abc", 4);
}

static void test_reader_whole_packets(void)
{
    uint64_t seed = 17;
    for (int tail = 0; tail < 4; tail++) {
        for (int round = 0; round < 8; round++) {
            hmtp_buf w;
            hmtp_buf_init(&w);
            make_stream(&w, &seed, tail);
            size_t max = tail == 2 ? 300 : HMTP_DEFAULT_MAX_PACKET;
            static frames ref, got;
            read_all(w.data, w.len, max, 1, &ref);
            CHECK(ref.n >= 60 && (tail == 1 || tail == 2 ? ref.rc < 0 : ref.rc == 0),
                  "byte by byte: %zu packets, rc %d", ref.n, ref.rc);
            const size_t pieces[] = {0, 7, 300, 4096};
            for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
                char what[64];
                snprintf(what, sizeof what, "tail %d round %d piece %zu", tail, round, pieces[i]);
                read_all(w.data, w.len, max, pieces[i], &got);
                same_frames(&got, &ref, what);
                hmtp_buf_free(&got.bodies);
            }
            hmtp_buf_free(&ref.bodies);
            hmtp_buf_free(&w);
        }
    }
}

/* ---- JIDs: the ASCII test against hmtp_jid_check ---- */

static hmtp_status decode_body(const uint8_t *body, size_t len, hmtp_packet *p, hmtp_error *err)
{
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    hmtp_packet_init(p);
    hmtp_status st = hmtp_packet_decode(p, &s, hessian_stream_mark(&s), body, len, err);
    hessian_stream_free(&s);
    return st;
}

static void test_jid_every_position(void)
{
    /* UTF-8 of characters around the edges the test draws */
    static const char *const odd[] = {"\x01", "\t", "\x1f", " ", "~", "\x7f", "\xc2\x80", "\xc2\x85",
                                      "\xc2\x9f", "\xc2\xa0", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    const char base[] = "user.name@host.example.org/r"; /* 28 characters */
    for (size_t o = 0; o < sizeof odd / sizeof odd[0]; o++) {
        for (size_t at = 0; at < 20; at++) {
            for (int field = 0; field < 2; field++) {
                char jid[64];
                size_t olen = strlen(odd[o]);
                memcpy(jid, base, at);
                memcpy(jid + at, odd[o], olen);
                size_t jlen = at + olen + strlen(base + at + 1);
                memcpy(jid + at + olen, base + at + 1, strlen(base + at + 1));
                /* a presence with the JID as to or from: 96 to from N */
                uint8_t body[96];
                size_t n = 0;
                body[n++] = 0x96;
                if (field == 1)
                    body[n++] = 'N';
                body[n++] = (uint8_t)(28 + (olen == 4)); /* UTF-16 units: a 4-byte form is two */
                memcpy(body + n, jid, jlen);
                n += jlen;
                if (field == 0)
                    body[n++] = 'N';
                body[n++] = 'N';
                hmtp_packet p;
                hmtp_error err;
                hmtp_status st = decode_body(body, n, &p, &err);
                size_t bad_at = 0;
                const char *why = hmtp_jid_check(jid, jlen, &bad_at);
                if (why)
                    CHECK(st == HMTP_ERR_BAD_STRING && strstr(err.msg, why) != NULL,
                          "JID with U+%s at %zu: status %s \"%s\", want %s", odd[o], at, hmtp_status_name(st),
                          err.msg, why);
                else
                    CHECK(st == HMTP_OK && (field ? p.from : p.to) &&
                              memcmp(field ? p.from : p.to, jid, jlen) == 0,
                          "JID with %zu-byte character at %zu: status %s \"%s\"", olen, at, hmtp_status_name(st),
                          err.msg);
                hmtp_packet_free(&p);
            }
        }
    }
}

/* ---- binaries: tree copy against the joined event ---- */

/* Appends a binary of len bytes (value seed) split into chunks of `chunk`,
 * the last one compact when short enough. */
static void put_binary(hmtp_buf *b, size_t len, size_t chunk, uint8_t seed, hmtp_buf *want)
{
    size_t at = 0;
    do {
        size_t n = len - at < chunk ? len - at : chunk;
        bool last = at + n == len;
        if (last && n < 16) {
            hmtp_buf_append_byte(b, (uint8_t)(0x20 + n));
        } else if (last && n < 1024) {
            hmtp_buf_append_byte(b, (uint8_t)(0x34 + (n >> 8)));
            hmtp_buf_append_byte(b, (uint8_t)n);
        } else {
            hmtp_buf_append_byte(b, last ? 'B' : 'A');
            hmtp_buf_append_byte(b, (uint8_t)(n >> 8));
            hmtp_buf_append_byte(b, (uint8_t)n);
        }
        for (size_t i = 0; i < n; i++) {
            uint8_t v = (uint8_t)(seed + at + i * 7);
            hmtp_buf_append_byte(b, v);
            hmtp_buf_append_byte(want, v);
        }
        at += n;
    } while (at < len);
}

static void test_tree_binaries(void)
{
    const size_t lens[] = {0, 1, 15, 16, 17, 300, 1023, 1024, 5000, 70000};
    const size_t chunks[] = {1, 3, 16, 1000, 65535};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            if (lens[i] / chunks[c] > 2000)
                continue;
            /* message N N [binary, binary] (a fixed list of two: 0x7a) */
            hmtp_buf body, want;
            hmtp_buf_init(&body);
            hmtp_buf_init(&want);
            hmtp_buf_append(&body, "\x90NN\x7a", 4);
            put_binary(&body, lens[i], chunks[c], 1, &want);
            put_binary(&body, lens[i] / 2, chunks[c], 9, &want);
            hmtp_packet p;
            hmtp_error err;
            hmtp_status st = decode_body(body.data, body.len, &p, &err);
            const hessian_value *v = p.value;
            if (CHECK(st == HMTP_OK && v && v->kind == HESSIAN_LIST && v->v.list.n == 2,
                      "binaries %zu in chunks of %zu: %s \"%s\"", lens[i], chunks[c], hmtp_status_name(st),
                      err.msg)) {
                hmtp_buf got;
                hmtp_buf_init(&got);
                for (int k = 0; k < 2; k++)
                    hmtp_buf_append(&got, v->v.list.items[k]->v.bin.data, v->v.list.items[k]->v.bin.len);
                CHECK_BYTES(got.data, got.len, want.data, want.len, "tree binaries");
                /* the events join the same bytes */
                hessian_stream s;
                hessian_stream_init(&s, NULL);
                hessian_decoder d;
                hessian_decoder_init(&d, &s, hessian_stream_mark(&s), body.data, body.len);
                hessian_event ev;
                hmtp_buf joined;
                hmtp_buf_init(&joined);
                while (hessian_next(&d, &ev) == 1)
                    if (ev.kind == HESSIAN_BINARY)
                        hmtp_buf_append(&joined, ev.v.bin.data, ev.v.bin.len);
                CHECK_BYTES(joined.data, joined.len, want.data, want.len, "event binaries");
                hessian_decoder_free(&d);
                hessian_stream_free(&s);
                hmtp_buf_free(&joined);
                hmtp_buf_free(&got);
            }
            hmtp_packet_free(&p);
            /* the same binary as the packet's value itself, and cut short */
            hmtp_buf_reset(&body);
            hmtp_buf_reset(&want);
            hmtp_buf_append(&body, "\x90NN", 3);
            put_binary(&body, lens[i], chunks[c], 5, &want);
            st = decode_body(body.data, body.len, &p, &err);
            if (CHECK(st == HMTP_OK && p.value && p.value->kind == HESSIAN_BINARY, "binary value: %s",
                      hmtp_status_name(st)))
                CHECK_BYTES(p.value->v.bin.data, p.value->v.bin.len, want.data, want.len, "binary value");
            hmtp_packet_free(&p);
            if (lens[i] > 0) {
                st = decode_body(body.data, body.len - 1, &p, &err);
                CHECK(st == HMTP_ERR_TRUNCATED, "binary cut short: %s", hmtp_status_name(st));
                hmtp_packet_free(&p);
            }
            hmtp_buf_free(&body);
            hmtp_buf_free(&want);
        }
    }
}

int main(void)
{
    test_reader_whole_packets();
    test_jid_every_position();
    test_tree_binaries();
    return check_summary("core fast paths");
}
