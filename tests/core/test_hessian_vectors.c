/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Decoder vectors: every first byte of PROTOCOL.md section 4 and every range
 * boundary, written by hand from the spec (not from the code's output).
 * Each vector is checked as events (kind, offset, length, depth, role,
 * index, value) and as a tree (hessian_read_value). */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "testutil.h"
#include "value.h"

/* ---- scalar vectors: one top-level value filling the whole body ---- */

static bool decode_single(const char *hex, rec_list *l, hmtp_buf *b)
{
    *b = hex_bytes(hex);
    rec_decode_fresh(l, b->data, b->len);
    bool ok = CHECK(l->end == 0 && l->n == 1, "%s: want one event and a clean end, got %zu events, end %d (%s @%zu)",
                    hex, l->n, l->end, l->err.msg, l->err.offset);
    if (ok) {
        const hessian_event *e = &l->ev[0].ev;
        CHECK(e->offset == 0 && e->length == b->len && e->depth == 0 && e->role == HESSIAN_ROLE_TOP &&
                  e->top_index == 0 && e->code == b->data[0],
              "%s: offset %zu length %zu depth %u role %d top %u code %02x", hex, e->offset, e->length,
              e->depth, (int)e->role, e->top_index, e->code);
    }
    return ok;
}

/* The tree view of the same single-value body. */
static hessian_value *tree_single(const hmtp_buf *b, hmtp_arena *arena, const char *hex)
{
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    hessian_decoder d;
    hessian_decoder_init(&d, &s, hessian_stream_mark(&s), b->data, b->len);
    hessian_value *v = NULL;
    hmtp_error err;
    hmtp_error_clear(&err);
    int rc = hessian_read_value(&d, arena, &v, &err);
    CHECK(rc == 1 && v, "%s: hessian_read_value rc %d (%s)", hex, rc, err.msg);
    if (rc == 1) {
        hessian_value *extra = NULL;
        CHECK(hessian_read_value(&d, arena, &extra, &err) == 0, "%s: second read_value is not the end", hex);
        /* a value preceded by its class definition starts after it */
        size_t want_off = b->data[0] == 0x43 ? v->offset : 0;
        CHECK(v->offset == want_off && v->offset + v->length == b->len, "%s: tree offset %zu length %zu", hex,
              v->offset, v->length);
    }
    hessian_decoder_free(&d);
    hessian_stream_free(&s);
    return rc == 1 ? v : NULL;
}

static void expect_int(const char *hex, int32_t want)
{
    rec_list l;
    hmtp_buf b;
    if (decode_single(hex, &l, &b))
        CHECK(l.ev[0].ev.kind == HESSIAN_INT && l.ev[0].ev.v.i == want, "%s: want int %d, got kind %d value %d",
              hex, want, (int)l.ev[0].ev.kind, l.ev[0].ev.v.i);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *v = tree_single(&b, &a, hex);
    if (v)
        CHECK(v->kind == HESSIAN_INT && v->v.i == want, "%s: tree int", hex);
    hmtp_arena_free(&a);
    rec_free(&l);
    hmtp_buf_free(&b);
}

static void expect_long(const char *hex, int64_t want)
{
    rec_list l;
    hmtp_buf b;
    if (decode_single(hex, &l, &b))
        CHECK(l.ev[0].ev.kind == HESSIAN_LONG && l.ev[0].ev.v.l == want,
              "%s: want long %" PRId64 ", got kind %d value %" PRId64, hex, want, (int)l.ev[0].ev.kind,
              l.ev[0].ev.v.l);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *v = tree_single(&b, &a, hex);
    if (v)
        CHECK(v->kind == HESSIAN_LONG && v->v.l == want, "%s: tree long", hex);
    hmtp_arena_free(&a);
    rec_free(&l);
    hmtp_buf_free(&b);
}

static bool same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static void expect_double(const char *hex, double want)
{
    rec_list l;
    hmtp_buf b;
    if (decode_single(hex, &l, &b))
        CHECK(l.ev[0].ev.kind == HESSIAN_DOUBLE && same_bits(l.ev[0].ev.v.d, want),
              "%s: want double %.17g, got kind %d value %.17g", hex, want, (int)l.ev[0].ev.kind,
              l.ev[0].ev.v.d);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *v = tree_single(&b, &a, hex);
    if (v)
        CHECK(v->kind == HESSIAN_DOUBLE && same_bits(v->v.d, want), "%s: tree double", hex);
    hmtp_arena_free(&a);
    rec_free(&l);
    hmtp_buf_free(&b);
}

static void expect_date(const char *hex, int64_t want_ms)
{
    rec_list l;
    hmtp_buf b;
    if (decode_single(hex, &l, &b))
        CHECK(l.ev[0].ev.kind == HESSIAN_DATE && l.ev[0].ev.v.date_ms == want_ms,
              "%s: want date %" PRId64 ", got kind %d value %" PRId64, hex, want_ms, (int)l.ev[0].ev.kind,
              l.ev[0].ev.v.date_ms);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *v = tree_single(&b, &a, hex);
    if (v)
        CHECK(v->kind == HESSIAN_DATE && v->v.date_ms == want_ms, "%s: tree date", hex);
    hmtp_arena_free(&a);
    rec_free(&l);
    hmtp_buf_free(&b);
}

static void expect_simple(const char *hex, hessian_kind kind, bool bval)
{
    rec_list l;
    hmtp_buf b;
    if (decode_single(hex, &l, &b)) {
        CHECK(l.ev[0].ev.kind == kind, "%s: kind %d want %d", hex, (int)l.ev[0].ev.kind, (int)kind);
        if (kind == HESSIAN_BOOL)
            CHECK(l.ev[0].ev.v.b == bval, "%s: bool value", hex);
    }
    rec_free(&l);
    hmtp_buf_free(&b);
}

/* body = prefix_hex followed by `repeat` copies of byte fill; the value is a
 * string whose UTF-8 is want (want_len bytes). */
static void expect_string_bytes(const uint8_t *body, size_t body_len, const char *want, size_t want_len,
                                size_t utf16, uint32_t chunks, const char *what)
{
    rec_list l;
    rec_decode_fresh(&l, body, body_len);
    if (CHECK(l.end == 0 && l.n == 1, "%s: %zu events end %d (%s)", what, l.n, l.end, l.err.msg)) {
        const rec_event *r = &l.ev[0];
        CHECK(r->ev.kind == HESSIAN_STRING, "%s: kind %d", what, (int)r->ev.kind);
        CHECK_BYTES((const uint8_t *)r->data, r->data_len, (const uint8_t *)want, want_len, what);
        CHECK_INT(r->ev.v.str.utf16_len, utf16, what);
        CHECK_INT(r->ev.v.str.chunks, chunks, what);
        CHECK_INT(r->ev.length, body_len, what);
    }
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    hessian_decoder d;
    hessian_decoder_init(&d, &s, hessian_stream_mark(&s), body, body_len);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *v = NULL;
    hmtp_error err;
    if (CHECK(hessian_read_value(&d, &a, &v, &err) == 1 && v->kind == HESSIAN_STRING, "%s: tree", what)) {
        CHECK_BYTES((const uint8_t *)v->v.str.data, v->v.str.len, (const uint8_t *)want, want_len, what);
        CHECK(v->v.str.data[v->v.str.len] == 0, "%s: tree string NUL-terminated", what);
    }
    hmtp_arena_free(&a);
    hessian_decoder_free(&d);
    hessian_stream_free(&s);
    rec_free(&l);
}

static void expect_string_hex(const char *hex, const char *want, size_t utf16, uint32_t chunks)
{
    hmtp_buf b = hex_bytes(hex);
    expect_string_bytes(b.data, b.len, want, strlen(want), utf16, chunks, hex);
    hmtp_buf_free(&b);
}

/* A string of n ASCII 'a's with the given header bytes. */
static void expect_ascii_run(const char *header_hex, size_t n)
{
    hmtp_buf b = hex_bytes(header_hex);
    char *want = malloc(n + 1);
    memset(want, 'a', n);
    want[n] = 0;
    hmtp_buf_append(&b, want, n);
    char what[64];
    snprintf(what, sizeof what, "string %s +%zu", header_hex, n);
    expect_string_bytes(b.data, b.len, want, n, n, 1, what);
    free(want);
    hmtp_buf_free(&b);
}

static void test_strings(void)
{
    expect_string_hex("00", "", 0, 1);
    expect_string_hex("05 68 65 6c 6c 6f", "hello", 5, 1);
    expect_ascii_run("1f", 31);
    expect_ascii_run("30 00", 0);
    expect_ascii_run("30 20", 32);
    expect_ascii_run("33 ff", 1023);
    expect_ascii_run("53 00 00", 0);
    expect_ascii_run("53 04 00", 1024);
    expect_ascii_run("53 ff ff", 65535);
    /* 2- and 3-byte UTF-8: lengths count UTF-16 units, not bytes */
    expect_string_hex("01 c3 a9", "\xc3\xa9", 1, 1);
    expect_string_hex("01 e2 82 ac", "\xe2\x82\xac", 1, 1);
    expect_string_hex("03 61 c3 a9 e2 82 ac", "a\xc3\xa9\xe2\x82\xac", 3, 1);
    /* U+1F600 as Java writes it (CESU-8: two 3-byte surrogates) and as
     * standard 4-byte UTF-8: both count 2 and decode to 4-byte UTF-8 */
    expect_string_hex("02 ed a0 bd ed b8 80", "\xf0\x9f\x98\x80", 2, 1);
    expect_string_hex("02 f0 9f 98 80", "\xf0\x9f\x98\x80", 2, 1);
    expect_string_hex("30 02 ed a0 bd ed b8 80", "\xf0\x9f\x98\x80", 2, 1);
    expect_string_hex("04 78 ed a0 bd ed b8 80 79", "x\xf0\x9f\x98\x80y", 4, 1);
    /* 'R' chunks end with a final 'S' or compact string */
    expect_string_hex("52 00 03 61 62 63 02 64 65", "abcde", 5, 2);
    expect_string_hex("52 00 01 78 52 00 01 79 53 00 01 7a", "xyz", 3, 3);
    expect_string_hex("52 00 02 61 c3 a9 30 01 e2 82 ac", "a\xc3\xa9\xe2\x82\xac", 3, 2);
    expect_string_hex("52 00 00 00", "", 0, 2);
}

static void expect_binary_bytes(const uint8_t *body, size_t body_len, const uint8_t *want, size_t want_len,
                                uint32_t chunks, const char *what)
{
    rec_list l;
    rec_decode_fresh(&l, body, body_len);
    if (CHECK(l.end == 0 && l.n == 1, "%s: %zu events end %d (%s)", what, l.n, l.end, l.err.msg)) {
        const rec_event *r = &l.ev[0];
        CHECK(r->ev.kind == HESSIAN_BINARY, "%s: kind %d", what, (int)r->ev.kind);
        CHECK_BYTES((const uint8_t *)r->data, r->data_len, want, want_len, what);
        CHECK_INT(r->ev.v.bin.chunks, chunks, what);
        CHECK_INT(r->ev.length, body_len, what);
    }
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    hessian_decoder d;
    hessian_decoder_init(&d, &s, hessian_stream_mark(&s), body, body_len);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *v = NULL;
    hmtp_error err;
    if (CHECK(hessian_read_value(&d, &a, &v, &err) == 1 && v->kind == HESSIAN_BINARY, "%s: tree", what))
        CHECK_BYTES(v->v.bin.data, v->v.bin.len, want, want_len, what);
    hmtp_arena_free(&a);
    hessian_decoder_free(&d);
    hessian_stream_free(&s);
    rec_free(&l);
}

static void expect_binary_run(const char *header_hex, size_t n)
{
    hmtp_buf b = hex_bytes(header_hex);
    uint8_t *want = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        want[i] = (uint8_t)(i * 7 + 3);
    hmtp_buf_append(&b, want, n);
    char what[64];
    snprintf(what, sizeof what, "binary %s +%zu", header_hex, n);
    expect_binary_bytes(b.data, b.len, want, n, 1, what);
    free(want);
    hmtp_buf_free(&b);
}

/* Overlong UTF-8 (c0 80 is how Java's modified UTF-8 writes U+0000): Java's
 * reader takes the code point; the decoder must either do the same or refuse
 * the string, but never hand out bytes that are not UTF-8. */
static void expect_overlong(const char *hex, const char *canonical, size_t canonical_len)
{
    hmtp_buf b = hex_bytes(hex);
    rec_list l;
    rec_decode_fresh(&l, b.data, b.len);
    bool refused = l.end == -1 && l.err.code == HMTP_ERR_BAD_UTF8;
    bool canon = l.end == 0 && l.n == 1 && l.ev[0].data_len == canonical_len &&
                 memcmp(l.ev[0].data, canonical, canonical_len) == 0;
    CHECK(refused || canon, "%s: overlong UTF-8 must decode to its code point or be refused (end %d, %zu bytes%s)",
          hex, l.end, l.n ? l.ev[0].data_len : 0, l.n && l.ev[0].data_len && (uint8_t)l.ev[0].data[0] >= 0xc0 ? ", passed through verbatim" : "");
    rec_free(&l);
    hmtp_buf_free(&b);
}

static void test_binaries(void)
{
    expect_binary_run("20", 0);
    expect_binary_run("21", 1);
    expect_binary_run("2f", 15);
    expect_binary_run("34 00", 0);
    expect_binary_run("34 10", 16);
    expect_binary_run("37 ff", 1023);
    expect_binary_run("42 00 00", 0);
    expect_binary_run("42 04 00", 1024);
    expect_binary_run("42 ff ff", 65535);
    hmtp_buf b = hex_bytes("41 00 02 01 02 23 03 04 05");
    const uint8_t want[] = {1, 2, 3, 4, 5};
    expect_binary_bytes(b.data, b.len, want, 5, 2, "A chunk + compact");
    hmtp_buf_free(&b);
    b = hex_bytes("41 00 01 aa 41 00 01 bb 42 00 01 cc");
    const uint8_t want3[] = {0xaa, 0xbb, 0xcc};
    expect_binary_bytes(b.data, b.len, want3, 3, 3, "A A B chunks");
    hmtp_buf_free(&b);
    b = hex_bytes("41 00 01 aa 34 01 bb");
    const uint8_t want2[] = {0xaa, 0xbb};
    expect_binary_bytes(b.data, b.len, want2, 2, 2, "A chunk + short binary");
    hmtp_buf_free(&b);
}

static void test_numbers(void)
{
    /* int 0x80-0xbf, 0xc0-0xcf, 0xd0-0xd7, 'I' */
    expect_int("90", 0);
    expect_int("80", -16);
    expect_int("bf", 47);
    expect_int("c7 ef", -17);
    expect_int("c8 30", 48);
    expect_int("c0 00", -2048);
    expect_int("cf ff", 2047);
    expect_int("d3 f7 ff", -2049);
    expect_int("d4 08 00", 2048);
    expect_int("d0 00 00", -262144);
    expect_int("d7 ff ff", 262143);
    expect_int("49 ff fb ff ff", -262145);
    expect_int("49 00 04 00 00", 262144);
    expect_int("49 80 00 00 00", INT32_MIN);
    expect_int("49 7f ff ff ff", INT32_MAX);
    expect_int("49 00 00 00 01", 1); /* non-shortest forms are legal input */
    expect_int("d4 00 01", 1);
    /* long 0xd8-0xef, 0xf0-0xff, 0x38-0x3f, 0x59, 'L' */
    expect_long("e0", 0);
    expect_long("d8", -8);
    expect_long("ef", 15);
    expect_long("f7 f7", -9);
    expect_long("f8 10", 16);
    expect_long("f0 00", -2048);
    expect_long("ff ff", 2047);
    expect_long("3b f7 ff", -2049);
    expect_long("3c 08 00", 2048);
    expect_long("38 00 00", -262144);
    expect_long("3f ff ff", 262143);
    expect_long("59 ff fb ff ff", -262145);
    expect_long("59 00 04 00 00", 262144);
    expect_long("59 80 00 00 00", INT32_MIN);
    expect_long("59 7f ff ff ff", INT32_MAX);
    expect_long("4c 00 00 00 00 80 00 00 00", (int64_t)INT32_MAX + 1);
    expect_long("4c ff ff ff ff 7f ff ff ff", (int64_t)INT32_MIN - 1);
    expect_long("4c 7f ff ff ff ff ff ff ff", INT64_MAX);
    expect_long("4c 80 00 00 00 00 00 00 00", INT64_MIN);
    /* doubles 0x5b-0x5f and 'D' */
    expect_double("5b", 0.0);
    expect_double("5c", 1.0);
    expect_double("5d 80", -128.0);
    expect_double("5d 7f", 127.0);
    expect_double("5d 00", 0.0);
    expect_double("5e 80 00", -32768.0);
    expect_double("5e 7f ff", 32767.0);
    /* Java computes 0.001 * m: 9 mills is 0.009000000000000001, not 0.009 */
    expect_double("5f 00 00 00 09", 0.009000000000000001);
    expect_double("5f ff ff ff ff", -0.001);
    expect_double("5f 7f ff ff ff", 2147483.647);
    expect_double("44 3f f8 00 00 00 00 00 00", 1.5);
    expect_double("44 80 00 00 00 00 00 00 00", -0.0);
    expect_double("44 7f f0 00 00 00 00 00 00", INFINITY);
    expect_double("44 3f 82 6e 97 8d 4f df 3b", 0.009);
    /* dates: 0x4a ms, 0x4b minutes */
    expect_date("4a 00 00 00 00 00 00 00 01", 1);
    expect_date("4a ff ff ff ff ff ff ff ff", -1);
    expect_date("4a 00 00 01 1d 5f 6c 31 80", 1225666605440LL);
    expect_date("4b 00 00 00 01", 60000);
    expect_date("4b ff ff ff ff", -60000);
    expect_date("4b 7f ff ff ff", (int64_t)INT32_MAX * 60000);
    expect_simple("4e", HESSIAN_NULL, false);
    expect_simple("54", HESSIAN_BOOL, true);
    expect_simple("46", HESSIAN_BOOL, false);
}

/* ---- containers: the event sequence, field by field ---- */

typedef struct want_ev {
    hessian_kind kind;
    size_t offset, length;
    unsigned depth;
    int role;  /* -1: do not check (END events) */
    int index; /* -1: do not check */
} want_ev;

static void expect_events(const char *hex, const want_ev *w, size_t n, rec_list *keep)
{
    hmtp_buf b = hex_bytes(hex);
    rec_list l;
    rec_decode_fresh(&l, b.data, b.len);
    CHECK(l.end == 0, "%s: end %d (%s @%zu)", hex, l.end, l.err.msg, l.err.offset);
    CHECK(l.n == n, "%s: %zu events, want %zu", hex, l.n, n);
    for (size_t i = 0; i < n && i < l.n; i++) {
        const hessian_event *e = &l.ev[i].ev;
        CHECK(e->kind == w[i].kind && e->offset == w[i].offset && e->length == w[i].length &&
                  e->depth == w[i].depth && (w[i].role < 0 || (int)e->role == w[i].role) &&
                  (w[i].index < 0 || (int)e->index == w[i].index),
              "%s: event %zu: got kind %s off %zu len %zu depth %u role %d index %u; want kind %s off %zu "
              "len %zu depth %u role %d index %d",
              hex, i, hessian_kind_name(e->kind), e->offset, e->length, e->depth, (int)e->role, e->index,
              hessian_kind_name(w[i].kind), w[i].offset, w[i].length, w[i].depth, w[i].role, w[i].index);
    }
    if (keep)
        *keep = l;
    else
        rec_free(&l);
    hmtp_buf_free(&b);
}

enum { TOP = HESSIAN_ROLE_TOP, EL = HESSIAN_ROLE_ELEMENT, KEY = HESSIAN_ROLE_KEY, VAL = HESSIAN_ROLE_VALUE,
       FLD = HESSIAN_ROLE_FIELD };

static hessian_value *tree_of(const char *hex, hmtp_arena *a, hmtp_buf *b)
{
    *b = hex_bytes(hex);
    return tree_single(b, a, hex);
}

static void test_lists(void)
{
    rec_list l;
    /* 0x57: variable untyped list, ends with Z */
    const want_ev w57[] = {{HESSIAN_LIST, 0, 1, 0, TOP, 0}, {HESSIAN_INT, 1, 1, 1, EL, 0},
                           {HESSIAN_INT, 2, 1, 1, EL, 1}, {HESSIAN_END, 3, 1, 0, -1, -1}};
    expect_events("57 90 91 5a", w57, 4, &l);
    if (l.n == 4) {
        CHECK(l.ev[0].name == NULL && l.ev[0].ev.v.container.type_index == -1 &&
                  l.ev[0].ev.v.container.count == -1 && l.ev[0].ev.v.container.ref == 0,
              "57: untyped variable list header values");
        CHECK(l.ev[1].ev.v.i == 0 && l.ev[2].ev.v.i == 1, "57: element values");
    }
    rec_free(&l);
    /* 0x58: fixed untyped list, int length; END has length 0 after the last element */
    const want_ev w58[] = {{HESSIAN_LIST, 0, 2, 0, TOP, 0}, {HESSIAN_INT, 2, 1, 1, EL, 0},
                           {HESSIAN_INT, 3, 1, 1, EL, 1}, {HESSIAN_END, 4, 0, 0, -1, -1}};
    expect_events("58 92 90 91", w58, 4, &l);
    if (l.n == 4)
        CHECK(l.ev[0].ev.v.container.count == 2 && l.ev[0].ev.v.container.type_index == -1, "58: count 2");
    rec_free(&l);
    const want_ev w58b[] = {{HESSIAN_LIST, 0, 3, 0, TOP, 0}, {HESSIAN_INT, 3, 1, 1, EL, 0},
                            {HESSIAN_END, 4, 0, 0, -1, -1}};
    expect_events("58 c8 01 9f", w58b, 3, &l); /* length as a 2-byte int */
    rec_free(&l);
    /* 0x78-0x7f: compact fixed untyped lists */
    const want_ev w78[] = {{HESSIAN_LIST, 0, 1, 0, TOP, 0}, {HESSIAN_END, 1, 0, 0, -1, -1}};
    expect_events("78", w78, 2, &l);
    if (l.n == 2)
        CHECK(l.ev[0].ev.v.container.count == 0, "78: count 0");
    rec_free(&l);
    hmtp_buf b = hex_bytes("7f 90 91 92 93 94 95 96");
    rec_decode_fresh(&l, b.data, b.len);
    CHECK(l.end == 0 && l.n == 9 && l.ev[0].ev.v.container.count == 7 && l.ev[7].ev.v.i == 6 &&
              l.ev[8].ev.kind == HESSIAN_END,
          "7f: seven elements");
    rec_free(&l);
    hmtp_buf_free(&b);
    /* 0x55: typed variable list; the type string defines type index 0 */
    const want_ev w55[] = {{HESSIAN_LIST, 0, 6, 0, TOP, 0}, {HESSIAN_INT, 6, 1, 1, EL, 0},
                           {HESSIAN_END, 7, 1, 0, -1, -1}};
    expect_events("55 04 5b 69 6e 74 90 5a", w55, 3, &l);
    if (l.n == 3) {
        CHECK_STR(l.ev[0].name, "[int", "55: type");
        CHECK_INT(l.ev[0].ev.v.container.type_index, 0, "55: type index");
        CHECK_INT(l.ev[0].ev.v.container.count, -1, "55: count");
    }
    rec_free(&l);
    /* 0x56: typed fixed list: code, type, int length */
    const want_ev w56[] = {{HESSIAN_LIST, 0, 7, 0, TOP, 0}, {HESSIAN_INT, 7, 1, 1, EL, 0},
                           {HESSIAN_INT, 8, 1, 1, EL, 1}, {HESSIAN_END, 9, 0, 0, -1, -1}};
    expect_events("56 04 5b 69 6e 74 92 90 91", w56, 4, &l);
    if (l.n == 4) {
        CHECK_STR(l.ev[0].name, "[int", "56: type");
        CHECK_INT(l.ev[0].ev.v.container.count, 2, "56: count");
    }
    rec_free(&l);
    /* 0x70-0x77 typed compact lists, and a type referenced by int */
    const want_ev w70[] = {
        {HESSIAN_LIST, 0, 1, 0, TOP, 0},    {HESSIAN_LIST, 1, 6, 1, EL, 0},   {HESSIAN_INT, 7, 1, 2, EL, 0},
        {HESSIAN_INT, 8, 1, 2, EL, 1},      {HESSIAN_END, 9, 0, 1, -1, -1},   {HESSIAN_LIST, 9, 2, 1, EL, 1},
        {HESSIAN_INT, 11, 1, 2, EL, 0},     {HESSIAN_END, 12, 0, 1, -1, -1},  {HESSIAN_LIST, 12, 2, 1, EL, 2},
        {HESSIAN_END, 14, 0, 1, -1, -1},    {HESSIAN_END, 14, 1, 0, -1, -1}};
    expect_events("57 72 04 5b 69 6e 74 90 91 71 90 92 70 90 5a", w70, 11, &l);
    if (l.n == 11) {
        CHECK_STR(l.ev[1].name, "[int", "72: type by string");
        CHECK_STR(l.ev[5].name, "[int", "71: type by int ref 0");
        CHECK_INT(l.ev[5].ev.v.container.type_index, 0, "71: type index");
        CHECK_INT(l.ev[1].ev.v.container.count, 2, "72: count");
        CHECK_INT(l.ev[5].ev.v.container.count, 1, "71: count");
        CHECK_INT(l.ev[8].ev.v.container.count, 0, "70: count");
        CHECK(l.ev[0].ev.v.container.ref == 0 && l.ev[1].ev.v.container.ref == 1 &&
                  l.ev[5].ev.v.container.ref == 2 && l.ev[8].ev.v.container.ref == 3,
              "containers numbered in order of start");
    }
    rec_free(&l);
    /* the tree of the same */
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *v = tree_of("57 72 04 5b 69 6e 74 90 91 71 90 92 70 90 5a", &a, &b);
    if (v && CHECK(v->kind == HESSIAN_LIST && v->v.list.n == 3 && v->v.list.variable && !v->v.list.type,
                   "tree: outer variable untyped list of 3")) {
        hessian_value *x = v->v.list.items[0];
        CHECK(x->kind == HESSIAN_LIST && !x->v.list.variable && x->v.list.n == 2 && x->v.list.type &&
                  strcmp(x->v.list.type, "[int") == 0 && x->v.list.items[1]->v.i == 1 && x->offset == 1 &&
                  x->length == 8,
              "tree: typed list [int of 2 at 1+8");
        x = v->v.list.items[1];
        CHECK(x->kind == HESSIAN_LIST && x->v.list.n == 1 && x->v.list.type && strcmp(x->v.list.type, "[int") == 0 &&
                  x->v.list.items[0]->v.i == 2,
              "tree: list by type ref");
        CHECK(v->v.list.items[2]->v.list.n == 0, "tree: empty typed list");
    }
    hmtp_arena_free(&a);
    hmtp_buf_free(&b);
    /* nesting depth of ends */
    const want_ev wnest[] = {{HESSIAN_LIST, 0, 1, 0, TOP, 0}, {HESSIAN_LIST, 1, 1, 1, EL, 0},
                             {HESSIAN_INT, 2, 1, 2, EL, 0},   {HESSIAN_END, 3, 1, 1, -1, -1},
                             {HESSIAN_INT, 4, 1, 1, EL, 1},   {HESSIAN_END, 5, 1, 0, -1, -1}};
    expect_events("57 57 90 5a 91 5a", wnest, 6, NULL);
}

static void test_maps(void)
{
    rec_list l;
    const want_ev wh[] = {{HESSIAN_MAP, 0, 1, 0, TOP, 0},   {HESSIAN_INT, 1, 1, 1, KEY, 0},
                          {HESSIAN_STRING, 2, 2, 1, VAL, 0}, {HESSIAN_INT, 4, 1, 1, KEY, 1},
                          {HESSIAN_STRING, 5, 2, 1, VAL, 1}, {HESSIAN_END, 7, 1, 0, -1, -1}};
    expect_events("48 91 01 61 92 01 62 5a", wh, 6, &l);
    if (l.n == 6) {
        CHECK(l.ev[0].name == NULL && l.ev[0].ev.v.container.type_index == -1, "H: untyped");
        CHECK_STR(l.ev[4].data, "b", "H: second value");
    }
    rec_free(&l);
    const want_ev wm[] = {{HESSIAN_MAP, 0, 3, 0, TOP, 0}, {HESSIAN_INT, 3, 1, 1, KEY, 0},
                          {HESSIAN_NULL, 4, 1, 1, VAL, 0}, {HESSIAN_END, 5, 1, 0, -1, -1}};
    expect_events("4d 01 6d 90 4e 5a", wm, 4, &l);
    if (l.n == 4) {
        CHECK_STR(l.ev[0].name, "m", "M: type");
        CHECK_INT(l.ev[0].ev.v.container.type_index, 0, "M: type index");
    }
    rec_free(&l);
    /* a typed map and a typed list share the type table */
    hmtp_buf b = hex_bytes("57 4d 01 6d 5a 4d 90 5a 71 90 4e 5a");
    rec_decode_fresh(&l, b.data, b.len);
    CHECK(l.end == 0 && l.n == 9, "shared types: %zu events end %d", l.n, l.end);
    if (l.n == 9) {
        CHECK_STR(l.ev[3].name, "m", "M by type ref 0");
        CHECK_STR(l.ev[5].name, "m", "list by type ref 0");
    }
    rec_free(&l);
    hmtp_buf_free(&b);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *v = tree_of("48 91 01 61 92 01 62 5a", &a, &b);
    if (v && CHECK(v->kind == HESSIAN_MAP && v->v.map.n == 2 && !v->v.map.type, "tree: H map of 2"))
        CHECK(v->v.map.keys[1]->v.i == 2 && strcmp(v->v.map.values[1]->v.str.data, "b") == 0, "tree: pair 2");
    hmtp_buf_free(&b);
    v = tree_of("4d 01 6d 90 4e 5a", &a, &b);
    if (v)
        CHECK(v->kind == HESSIAN_MAP && v->v.map.n == 1 && v->v.map.type && strcmp(v->v.map.type, "m") == 0 &&
                  v->v.map.values[0]->kind == HESSIAN_NULL,
              "tree: M map");
    hmtp_buf_free(&b);
    hmtp_arena_free(&a);
}

static void test_objects(void)
{
    rec_list l;
    /* C "Point" 2 fields "x" "y", then 0x60 1 2 */
    const want_ev wc[] = {{HESSIAN_CLASS_DEF, 0, 12, 0, -1, -1}, {HESSIAN_OBJECT, 12, 1, 0, TOP, 0},
                          {HESSIAN_INT, 13, 1, 1, FLD, 0},       {HESSIAN_INT, 14, 1, 1, FLD, 1},
                          {HESSIAN_END, 15, 0, 0, -1, -1}};
    expect_events("43 05 50 6f 69 6e 74 92 01 78 01 79 60 91 92", wc, 5, &l);
    if (l.n == 5) {
        CHECK(l.ev[0].has_cls && l.ev[0].name && strcmp(l.ev[0].name, "Point") == 0 &&
                  l.ev[0].ev.v.def.class_index == 0,
              "C: class def Point #0");
        CHECK(l.ev[1].has_cls && l.ev[1].name && strcmp(l.ev[1].name, "Point") == 0 &&
                  l.ev[1].ev.v.object.class_index == 0 && l.ev[1].ev.v.object.ref == 0,
              "0x60: object Point ref 0");
        CHECK_STR(l.ev[2].field_name, "x", "field 0 name");
        CHECK_STR(l.ev[3].field_name, "y", "field 1 name");
        CHECK(l.ev[2].ev.v.i == 1 && l.ev[3].ev.v.i == 2, "field values");
    }
    rec_free(&l);
    /* 'O' int form */
    const want_ev wo[] = {{HESSIAN_CLASS_DEF, 0, 6, 0, -1, -1}, {HESSIAN_OBJECT, 6, 2, 0, TOP, 0},
                          {HESSIAN_STRING, 8, 2, 1, FLD, 0},    {HESSIAN_END, 10, 0, 0, -1, -1}};
    expect_events("43 01 41 91 01 66 4f 90 01 7a", wo, 4, &l);
    if (l.n == 4) {
        CHECK_STR(l.ev[1].name, "A", "O: class");
        CHECK_STR(l.ev[2].field_name, "f", "O: field name");
    }
    rec_free(&l);
    /* 17 classes: the 17th is referred to as 'O' 0xa0 (int 16); 0x6f is the 15th */
    hmtp_buf b;
    hmtp_buf_init(&b);
    for (int i = 0; i < 17; i++) {
        uint8_t def[] = {0x43, 0x02, 'K', (uint8_t)('a' + i), 0x91, 0x01, 'v'};
        hmtp_buf_append(&b, def, sizeof def);
    }
    size_t o6f = b.len;
    hex_append(&b, "6f 91");
    size_t oO = b.len;
    hex_append(&b, "4f a0 92");
    rec_decode_fresh(&l, b.data, b.len);
    CHECK(l.end == 0 && l.n == 23, "17 classes: %zu events end %d (%s)", l.n, l.end, l.err.msg);
    if (l.n == 23) {
        CHECK(l.ev[16].ev.kind == HESSIAN_CLASS_DEF && l.ev[16].ev.v.def.class_index == 16, "def #16");
        CHECK(l.ev[17].ev.kind == HESSIAN_OBJECT && l.ev[17].ev.offset == o6f &&
                  l.ev[17].ev.v.object.class_index == 15 && l.ev[17].name && strcmp(l.ev[17].name, "Kp") == 0,
              "0x6f: class 15 Kp");
        CHECK(l.ev[20].ev.kind == HESSIAN_OBJECT && l.ev[20].ev.offset == oO && l.ev[20].ev.length == 2 &&
                  l.ev[20].ev.v.object.class_index == 16 && l.ev[20].name &&
                  strcmp(l.ev[20].name, "Kq") == 0 && l.ev[20].ev.top_index == 1,
              "'O' 16: class Kq, second top-level value");
    }
    rec_free(&l);
    hmtp_buf_free(&b);
    /* the tree of an object */
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *v = tree_of("43 05 50 6f 69 6e 74 92 01 78 01 79 60 91 92", &a, &b);
    if (v && CHECK(v->kind == HESSIAN_OBJECT && v->v.object.n == 2, "tree: object of 2")) {
        CHECK(v->v.object.cls && strcmp(v->v.object.cls, "Point") == 0, "tree: class name");
        CHECK(v->v.object.names && strcmp(v->v.object.names[1], "y") == 0, "tree: field names");
        CHECK(v->v.object.fields[1]->v.i == 2, "tree: field value");
        const hessian_value *y = hessian_object_field(v, "y");
        CHECK(y && y->kind == HESSIAN_INT && y->v.i == 2, "hessian_object_field y");
        CHECK(hessian_object_field(v, "z") == NULL, "hessian_object_field absent");
        CHECK(hmtp_value_is_object(v, "Point"), "hmtp_value_is_object: its class");
        CHECK(!hmtp_value_is_object(v, "Poin") && !hmtp_value_is_object(v, "Points"),
              "hmtp_value_is_object: a name that only shares a prefix is another class");
        CHECK(!hmtp_value_is_object(y, "Point") && !hmtp_value_is_object(NULL, "Point"),
              "hmtp_value_is_object: an int or NULL is no object");
        CHECK(v->offset == 12 && v->length == 3, "tree: object spans 12+3 (after the def), got %zu+%zu",
              v->offset, v->length);
    }
    hmtp_buf_free(&b);
    hmtp_arena_free(&a);
}

static void test_refs(void)
{
    rec_list l;
    /* a list, a list inside it, a ref to the inner */
    const want_ev wr[] = {{HESSIAN_LIST, 0, 1, 0, TOP, 0}, {HESSIAN_LIST, 1, 1, 1, EL, 0},
                          {HESSIAN_END, 2, 1, 1, -1, -1},  {HESSIAN_REF, 3, 2, 1, EL, 1},
                          {HESSIAN_END, 5, 1, 0, -1, -1}};
    expect_events("57 57 5a 51 91 5a", wr, 5, &l);
    if (l.n == 5)
        CHECK_INT(l.ev[3].ev.v.ref, 1, "Q 1");
    rec_free(&l);
    /* objects are counted too: an object then a ref to it */
    hmtp_buf b = hex_bytes("57 43 01 41 90 60 51 91 5a");
    rec_decode_fresh(&l, b.data, b.len);
    CHECK(l.end == 0 && l.n == 6, "object ref: %zu events end %d (%s)", l.n, l.end, l.err.msg);
    if (l.n == 6)
        CHECK(l.ev[2].ev.kind == HESSIAN_OBJECT && l.ev[2].ev.v.object.ref == 1 && l.ev[4].ev.kind == HESSIAN_REF &&
                  l.ev[4].ev.v.ref == 1,
              "object numbered 1, Q 1 refers to it");
    rec_free(&l);
    hmtp_buf_free(&b);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *v = tree_of("57 57 5a 51 91 5a", &a, &b);
    if (v)
        CHECK(v->kind == HESSIAN_LIST && v->v.list.n == 2 && v->v.list.items[1]->kind == HESSIAN_REF &&
                  v->v.list.items[1]->v.ref == 1,
              "tree: REF node");
    hmtp_buf_free(&b);
    hmtp_arena_free(&a);
}

static void test_top_level_sequence(void)
{
    /* several top-level values: each gets its top_index */
    const want_ev w[] = {{HESSIAN_INT, 0, 1, 0, TOP, -1},    {HESSIAN_NULL, 1, 1, 0, TOP, -1},
                         {HESSIAN_STRING, 2, 2, 0, TOP, -1}, {HESSIAN_LIST, 4, 1, 0, TOP, -1},
                         {HESSIAN_INT, 5, 1, 1, EL, 0},      {HESSIAN_END, 6, 0, 0, -1, -1}};
    rec_list l;
    expect_events("90 4e 01 61 79 92", w, 6, &l);
    if (l.n == 6)
        CHECK(l.ev[0].ev.top_index == 0 && l.ev[1].ev.top_index == 1 && l.ev[2].ev.top_index == 2 &&
                  l.ev[3].ev.top_index == 3 && l.ev[4].ev.top_index == 3,
              "top_index counts top-level values");
    rec_free(&l);
    /* hessian_skip_value passes over a whole container */
    hmtp_buf b = hex_bytes("57 90 48 91 92 5a 5a 93");
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    hessian_decoder d;
    hessian_decoder_init(&d, &s, hessian_stream_mark(&s), b.data, b.len);
    hessian_event ev;
    if (CHECK(hessian_next(&d, &ev) == 1 && ev.kind == HESSIAN_LIST, "skip: first event")) {
        CHECK(hessian_skip_value(&d, &ev) == 1, "skip: rc");
        CHECK(hessian_at_top(&d), "skip: back at top");
        CHECK(hessian_next(&d, &ev) == 1 && ev.kind == HESSIAN_INT && ev.v.i == 3 && ev.offset == 7,
              "skip: next top-level value is int 3 at 7");
        CHECK(hessian_next(&d, &ev) == 0, "skip: then the end");
    }
    hessian_decoder_free(&d);
    hessian_stream_free(&s);
    hmtp_buf_free(&b);
    CHECK_STR(hessian_kind_name(HESSIAN_STRING), "string", "kind name");
}

/* The class test on decoded objects: the name must match whole, and a
 * value that is no object (or whose class was never defined) is none. */
static void test_is_object(void)
{
    hmtp_arena a;
    hmtp_arena_init(&a);
    /* C "a.B" [_x] then O #0 {_x: 0} */
    static const char obj_hex[] = "43 03 61 2e 42 91 02 5f 78 60 90";
    hmtp_buf b = hex_bytes(obj_hex);
    hessian_value *v = tree_single(&b, &a, obj_hex);
    CHECK(hmtp_value_is_object(v, "a.B"), "a.B object is an a.B");
    CHECK(!hmtp_value_is_object(v, "a.C"), "a.B object is no a.C");
    CHECK(!hmtp_value_is_object(v, "a."), "a prefix of the class name does not match");
    CHECK(!hmtp_value_is_object(v, "a.BB"), "a longer class name does not match");
    hmtp_buf_free(&b);
    /* the string "a.B" is no object of that class */
    static const char str_hex[] = "03 61 2e 42";
    b = hex_bytes(str_hex);
    v = tree_single(&b, &a, str_hex);
    CHECK(v && !hmtp_value_is_object(v, "a.B"), "a string is no object");
    hmtp_buf_free(&b);
    CHECK(!hmtp_value_is_object(NULL, "a.B"), "NULL is no object");
    hmtp_arena_free(&a);
}

int main(void)
{
    test_is_object();
    test_numbers();
    test_strings();
    test_binaries();
    expect_overlong("01 c0 80", "\0", 1);
    expect_overlong("01 c0 93", "\x13", 1);
    expect_overlong("01 e0 81 81", "A", 1);
    test_lists();
    test_maps();
    test_objects();
    test_refs();
    test_top_level_sequence();
    return check_summary("hessian_vectors");
}
