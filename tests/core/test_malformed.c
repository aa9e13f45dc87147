/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Malformed bodies: each gives its own status at a plausible offset, through
 * both the event decoder and the tree reader, and never crashes, hangs or
 * allocates what the input merely declares. */
#include <stdlib.h>

#include "check.h"
#include "hmtp.h"
#include "testutil.h"

/* Decodes with events and with trees; both must fail with `want` at an
 * offset in [lo, hi]. */
static void expect_fail_limits(const uint8_t *body, size_t len, const hessian_limits *lim, hmtp_status want,
                               size_t lo, size_t hi, const char *what)
{
    hessian_stream s;
    hessian_stream_init(&s, lim);
    rec_list l;
    rec_decode(&l, &s, hessian_stream_mark(&s), body, len, 100000);
    CHECK(l.end == -1 && l.err.code == want && l.err.offset >= lo && l.err.offset <= hi && l.err.msg[0],
          "%s: events: end %d, %s @%zu \"%s\"; want %s @%zu..%zu", what, l.end, hmtp_status_name(l.err.code),
          l.err.offset, l.err.msg, hmtp_status_name(want), lo, hi);
    rec_free(&l);
    hessian_stream_free(&s);

    hessian_stream_init(&s, lim);
    hessian_decoder d;
    hessian_decoder_init(&d, &s, hessian_stream_mark(&s), body, len);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *v;
    hmtp_error err;
    hmtp_error_clear(&err);
    int rc;
    int guard = 0;
    while ((rc = hessian_read_value(&d, &a, &v, &err)) == 1 && ++guard < 100000)
        ;
    CHECK(rc == -1 && err.code == want && err.offset >= lo && err.offset <= hi,
          "%s: tree: rc %d, %s @%zu; want %s @%zu..%zu", what, rc, hmtp_status_name(err.code), err.offset,
          hmtp_status_name(want), lo, hi);
    /* errors are sticky */
    hessian_event ev;
    CHECK(hessian_next(&d, &ev) == -1, "%s: error is sticky", what);
    hmtp_arena_free(&a);
    hessian_decoder_free(&d);
    hessian_stream_free(&s);
}

static void expect_fail(const char *hex, hmtp_status want, size_t lo, size_t hi)
{
    hmtp_buf b = hex_bytes(hex);
    expect_fail_limits(b.data, b.len, NULL, want, lo, hi, hex);
    hmtp_buf_free(&b);
}

/* A body touching most encodings, HMTP-shaped: queryError with an object. */
static const char *const RICH =
    "95 0c 6e 65 77 73 40 63 6e 6e 2e 63 6f 6d 4e e5"      /* type 5, to, from null, id 5L */
    "43 08 4e 65 77 73 49 74 65 6d 94"                     /* C NewsItem 4 fields */
    "05 74 69 74 6c 65 04 62 6f 64 79 04 64 61 74 65 04 74 61 67 73"
    "60 52 00 02 68 c3 a9 03 6c 6c 6f"                     /* title "hé" + "llo" (R chunk) */
    "42 00 03 01 02 03"                                    /* body: binary */
    "4b 01 5f 2a 3c"                                       /* date: minutes */
    "55 07 5b 73 74 72 69 6e 67 01 61 02 ed a0 bd ed b8 80 5a" /* tags: typed list */
    "43 17 63 6f 6d 2e 63 61 75 63 68 6f 2e 62 61 6d 2e 42 61 6d 45 72 72 6f 72 93"
    "05 5f 74 79 70 65 06 5f 67 72 6f 75 70 05 5f 74 65 78 74"
    "61 06 63 61 6e 63 65 6c 0e 69 74 65 6d 2d 6e 6f 74 2d 66 6f 75 6e 64"
    "48 91 5f 00 00 03 e8 92 44 40 09 21 fb 54 44 2d 18 93 4c 00 00 00 01 00 00 00 00 5a";

static void test_truncated_everywhere(void)
{
    hmtp_buf b = hex_bytes(RICH);
    rec_list full;
    rec_decode_fresh(&full, b.data, b.len);
    if (!CHECK(full.end == 0, "rich body decodes whole (%s @%zu)", full.err.msg, full.err.offset)) {
        rec_free(&full);
        hmtp_buf_free(&b);
        return;
    }
    /* where a cut leaves only whole top-level values; a cut between a class
     * definition and its object may go either way */
    uint8_t *clean = calloc(b.len + 1, 1);
    clean[0] = clean[b.len] = 1;
    for (size_t i = 0; i < full.n; i++) {
        const hessian_event *e = &full.ev[i].ev;
        if (e->depth == 0 && e->kind == HESSIAN_CLASS_DEF) {
            clean[e->offset] = 1;
            clean[e->offset + e->length] = 2;
        } else if (e->depth == 0 && e->role == HESSIAN_ROLE_TOP && e->kind != HESSIAN_END && !clean[e->offset]) {
            clean[e->offset] = 1;
        }
    }
    size_t clean_cuts = 0;
    for (size_t cut = 0; cut < b.len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exact size, so ASan sees any over-read */
        memcpy(copy, b.data, cut);
        rec_list l;
        rec_decode_fresh(&l, copy, cut);
        if (clean[cut] == 1) {
            clean_cuts++;
            CHECK(l.end == 0, "cut at %zu (a value boundary) decodes cleanly: %s", cut, l.err.msg);
        } else if (clean[cut] == 0) {
            CHECK(l.end == -1 && l.err.code == HMTP_ERR_TRUNCATED && l.err.offset <= cut,
                  "cut at %zu: end %d %s @%zu, want truncated", cut, l.end, hmtp_status_name(l.err.code),
                  l.err.offset);
            char what[40];
            snprintf(what, sizeof what, "RICH cut at %zu", cut);
            expect_fail_limits(copy, cut, NULL, HMTP_ERR_TRUNCATED, 0, cut, what);
        }
        rec_free(&l);
        free(copy);
    }
    CHECK(clean_cuts >= 5, "the body has top-level boundaries (%zu)", clean_cuts);
    free(clean);
    rec_free(&full);
    hmtp_buf_free(&b);
}

static void test_codes_and_lengths(void)
{
    /* unused first bytes */
    expect_fail("40", HMTP_ERR_BAD_CODE, 0, 0);
    expect_fail("90 4e 45", HMTP_ERR_BAD_CODE, 2, 2);
    expect_fail("57 47 5a", HMTP_ERR_BAD_CODE, 1, 1);
    expect_fail("48 91 50 5a", HMTP_ERR_BAD_CODE, 2, 2);
    /* 'Z' with nothing open to close */
    expect_fail("5a", HMTP_ERR_UNEXPECTED_END, 0, 0);
    expect_fail("90 57 5a 5a", HMTP_ERR_UNEXPECTED_END, 3, 3);
    expect_fail("79 5a", HMTP_ERR_UNEXPECTED_END, 1, 1);            /* fixed lists have no 'Z' */
    expect_fail("43 01 41 91 01 66 60 5a", HMTP_ERR_UNEXPECTED_END, 7, 7); /* nor known objects */
    /* declared lengths beyond the data */
    expect_fail("05 61", HMTP_ERR_TRUNCATED, 0, 2);
    expect_fail("53 ff ff 61", HMTP_ERR_TRUNCATED, 0, 4);
    expect_fail("30 40 61 62", HMTP_ERR_TRUNCATED, 0, 4);
    expect_fail("52 00 02 61 62", HMTP_ERR_TRUNCATED, 5, 5); /* a chunk promising more */
    expect_fail("2f 01 02", HMTP_ERR_TRUNCATED, 0, 3);
    expect_fail("34 10 01", HMTP_ERR_TRUNCATED, 0, 3);
    expect_fail("42 00 10 01", HMTP_ERR_TRUNCATED, 0, 4);
    expect_fail("41 00 01 61", HMTP_ERR_TRUNCATED, 4, 4);
    expect_fail("49 00 00", HMTP_ERR_TRUNCATED, 0, 3);
    expect_fail("4c 00 00 00 00 00 00 00", HMTP_ERR_TRUNCATED, 0, 8);
    expect_fail("44 00", HMTP_ERR_TRUNCATED, 0, 2);
    expect_fail("4a 00 00 00", HMTP_ERR_TRUNCATED, 0, 4);
    expect_fail("d0 00", HMTP_ERR_TRUNCATED, 0, 2);
    expect_fail("58 9f", HMTP_ERR_TRUNCATED, 2, 2);
    /* a list that declares 2^31-1 elements must not make anyone allocate them */
    expect_fail("58 49 7f ff ff ff 90", HMTP_ERR_TRUNCATED, 6, 7);
    expect_fail("56 01 74 49 7f ff ff ff 90 91", HMTP_ERR_TRUNCATED, 9, 10);
    expect_fail("57 90", HMTP_ERR_TRUNCATED, 2, 2);
    expect_fail("48 90", HMTP_ERR_TRUNCATED, 2, 2);
    expect_fail("43 01 41 92 01 61", HMTP_ERR_TRUNCATED, 6, 6); /* a field name missing */
    /* strings that are not UTF-8 */
    expect_fail("01 ff", HMTP_ERR_BAD_UTF8, 0, 2);
    expect_fail("02 c3 28", HMTP_ERR_BAD_UTF8, 0, 3);
    expect_fail("01 80", HMTP_ERR_BAD_UTF8, 0, 2);
}

static void test_depth(void)
{
    enum { N = 10000 };
    uint8_t *deep = malloc(N);
    const uint8_t openers[] = {0x57, 0x79, 0x48, 0x58};
    for (size_t k = 0; k < sizeof openers; k++) {
        memset(deep, openers[k], N);
        if (openers[k] == 0x58) /* 0x58 n: each length is the next 0x58's... make it 58 91 58 91 */
            for (size_t i = 1; i < N; i += 2)
                deep[i] = 0x91;
        char what[48];
        snprintf(what, sizeof what, "%d x %02x", N, openers[k]);
        /* the default limit is 64 levels: the failing container starts near
         * byte 64 (or 128 with two-byte openers) */
        size_t lo = openers[k] == 0x58 ? 120 : 60, hi = openers[k] == 0x58 ? 140 : 70;
        expect_fail_limits(deep, N, NULL, HMTP_ERR_DEPTH, lo, hi, what);
    }
    /* objects nest too: C "A" [f], then 60 60 60 ... */
    memset(deep, 0x60, N);
    const uint8_t def[] = {0x43, 0x01, 0x41, 0x91, 0x01, 0x66};
    memcpy(deep, def, sizeof def);
    expect_fail_limits(deep, N, NULL, HMTP_ERR_DEPTH, 66, 76, "deep objects");
    /* a smaller configured limit is honoured */
    hessian_limits lim;
    hessian_limits_default(&lim);
    lim.max_depth = 3;
    memset(deep, 0x57, 4);
    expect_fail_limits(deep, 4, &lim, HMTP_ERR_DEPTH, 3, 3, "depth 4 with limit 3");
    free(deep);
}

static void test_refs(void)
{
    /* a list that contains a reference to itself: a REF event, no recursion */
    hmtp_buf b = hex_bytes("57 51 90 5a");
    rec_list l;
    rec_decode_fresh(&l, b.data, b.len);
    CHECK(l.end == 0 && l.n == 3 && l.ev[1].ev.kind == HESSIAN_REF && l.ev[1].ev.v.ref == 0,
          "self-referencing list: LIST REF(0) END (end %d, %zu events)", l.end, l.n);
    rec_free(&l);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    hessian_decoder d;
    hessian_decoder_init(&d, &s, hessian_stream_mark(&s), b.data, b.len);
    hessian_value *v = NULL;
    hmtp_error err;
    if (CHECK(hessian_read_value(&d, &a, &v, &err) == 1, "cyclic tree reads"))
        CHECK(v->kind == HESSIAN_LIST && v->v.list.n == 1 && v->v.list.items[0]->kind == HESSIAN_REF &&
                  v->v.list.items[0]->v.ref == 0,
              "cyclic tree holds a REF node");
    if (v)
        CHECK(hessian_value_equal(v, v), "equality on a cyclic tree terminates");
    hessian_decoder_free(&d);
    hessian_stream_free(&s);
    hmtp_arena_free(&a);
    hmtp_buf_free(&b);
    /* a ref to a container that does not exist yet */
    expect_fail("57 51 91 5a", HMTP_ERR_BAD_REF, 1, 2);
    expect_fail("51 90", HMTP_ERR_BAD_REF, 0, 1);
    expect_fail("57 5a 51 49 7f ff ff ff", HMTP_ERR_BAD_REF, 2, 3);
}

static void test_limits(void)
{
    hessian_limits lim;
    hessian_limits_default(&lim);
    CHECK(lim.max_depth == 64 && lim.max_classes == 4096 && lim.max_fields == 1024 && lim.max_types == 4096,
          "documented defaults");
    lim.max_classes = 2;
    hmtp_buf b = hex_bytes("43 01 41 90 43 01 42 90 43 01 43 90 60");
    expect_fail_limits(b.data, b.len, &lim, HMTP_ERR_LIMIT, 8, 9, "third class with max_classes 2");
    hmtp_buf_free(&b);
    hessian_limits_default(&lim);
    lim.max_fields = 2;
    b = hex_bytes("43 01 41 93 01 61 01 62 01 63 60 90 90 90");
    expect_fail_limits(b.data, b.len, &lim, HMTP_ERR_LIMIT, 0, 4, "3 fields with max_fields 2");
    hmtp_buf_free(&b);
    hessian_limits_default(&lim);
    lim.max_types = 1;
    b = hex_bytes("57 70 01 61 70 01 62 5a");
    expect_fail_limits(b.data, b.len, &lim, HMTP_ERR_LIMIT, 4, 5, "second type with max_types 1");
    hmtp_buf_free(&b);
    /* the default class limit holds against a flood of definitions */
    hmtp_buf_init(&b);
    for (int i = 0; i < 5000; i++)
        hex_append(&b, "43 01 41 90");
    hessian_limits_default(&lim);
    expect_fail_limits(b.data, b.len, NULL, HMTP_ERR_LIMIT, 4096 * 4, 4096 * 4 + 1, "5000 class definitions");
    hmtp_buf_free(&b);
    /* a negative field count is refused (as a limit or a bad value: both
     * name the problem) */
    b = hex_bytes("43 01 41 8f");
    rec_list l;
    rec_decode_fresh(&l, b.data, b.len);
    CHECK(l.end == -1 && (l.err.code == HMTP_ERR_LIMIT || l.err.code == HMTP_ERR_BAD_VALUE) && l.err.offset <= 4,
          "negative field count: %s @%zu", hmtp_status_name(l.err.code), l.err.offset);
    rec_free(&l);
    hmtp_buf_free(&b);
}

int main(void)
{
    test_truncated_everywhere();
    test_codes_and_lengths();
    test_depth();
    test_refs();
    test_limits();
    return check_summary("malformed");
}
