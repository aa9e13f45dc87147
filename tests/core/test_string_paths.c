/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strings through the decoder's fast paths (ASCII runs skipped 8 and 16
 * bytes at a time, 2- and 3-byte forms checked in line) against the plain
 * character-by-character rules of string_oracle.h: ASCII that turns into
 * each kind of multi-byte form at every offset, surrogate halves and pairs
 * (also split across chunks) at every position, NUL as 00 and as Java's
 * C0 80 at every position, bad bytes at every position, every truncation,
 * and random mixes. Events and trees must both agree with the oracle. */
#include <stdlib.h>

#include "check.h"
#include "hmtp.h"
#include "string_oracle.h"
#include "testutil.h"

typedef struct piece {
    const char *bytes;
    size_t len;
    size_t units;
} piece;

#define P(s, u) {s, sizeof(s) - 1, u}

/* Every kind of character the decoder tells apart. */
static const piece FORMS[] = {
    P("\xc3\xa9", 1),                 /* e acute, 2 bytes */
    P("\xe2\x82\xac", 1),             /* euro sign, 3 bytes */
    P("\xf0\x9f\x98\x80", 2),         /* U+1F600 as 4-byte UTF-8: 2 units */
    P("\xed\xa0\xbd\xed\xb8\x80", 2), /* U+1F600 as a CESU-8 pair */
    P("\xed\xa0\xbd", 1),             /* lone high surrogate */
    P("\xed\xb8\x80", 1),             /* lone low surrogate */
    P("\xc0\x80", 1),                 /* Java's NUL */
    P("\x00", 1),                     /* plain NUL */
    P("\xe0\x80\x80", 1),             /* NUL overlong in 3 bytes */
    P("\xc1\xbf", 1),                 /* overlong 2-byte DEL */
    P("\xdf\xbf", 1),                 /* last 2-byte form */
    P("\xef\xbf\xbf", 1),             /* last BMP character */
    P("\xf4\x8f\xbf\xbf", 2),         /* U+10FFFF */
    P("\xed\x9f\xbf", 1),             /* U+D7FF, just below the surrogates */
    P("\xee\x80\x80", 1),             /* U+E000, just above */
};

/* Bytes the decoder must refuse, each at some offset the oracle names. */
static const piece BAD[] = {
    P("\x80", 1),             /* continuation as lead */
    P("\xbf", 1),
    P("\xf5\x80\x80\x80", 2), /* lead past U+10FFFF */
    P("\xff", 1),
    P("\xc3x", 1),             /* bad continuation */
    P("\xe2\x82x", 1),
    P("\xe2x\xac", 1),
    P("\xf0\x9f\x98x", 2),
    P("\xf4\x90\x80\x80", 2), /* U+110000 */
    P("\xf0\x8f\xbf\xbf", 2), /* overlong 4-byte */
};

static void emit_header(hmtp_buf *b, size_t units, bool final, bool long_form)
{
    if (!long_form && final && units < 32) {
        hmtp_buf_append_byte(b, (uint8_t)units);
    } else if (!long_form && final && units < 1024) {
        hmtp_buf_append_byte(b, (uint8_t)(0x30 + (units >> 8)));
        hmtp_buf_append_byte(b, (uint8_t)(units & 0xff));
    } else {
        hmtp_buf_append_byte(b, final ? 'S' : 'R');
        hmtp_buf_append_byte(b, (uint8_t)(units >> 8));
        hmtp_buf_append_byte(b, (uint8_t)(units & 0xff));
    }
}

static void ascii(hmtp_buf *b, size_t n, char base)
{
    for (size_t i = 0; i < n; i++)
        hmtp_buf_append_byte(b, (uint8_t)(base + (char)(i % 26)));
}

static size_t checked;

/* Decodes body (a string first) as events and as a tree; both must match
 * the oracle. */
static void check_body(const uint8_t *body, size_t len, const char *what, size_t case_no)
{
    checked++;
    oracle_string want;
    want.out = malloc(len + 8);
    oracle_read_string(body, len, 0, &want);

    oracle_events o;
    oracle_events_read(&o, body, len);
    if (want.ok) {
        if (CHECK(o.rc == 1 && o.ev.kind == HESSIAN_STRING, "%s #%zu: events rc %d kind %s (%s)", what, case_no, o.rc,
                  hessian_kind_name(o.ev.kind), hessian_decoder_error(&o.dec.d)->msg)) {
            CHECK(o.ev.length == want.end && o.ev.v.str.utf16_len == want.units,
                  "%s #%zu: events length %zu units %zu, want %zu %zu", what, case_no, o.ev.length,
                  o.ev.v.str.utf16_len, want.end, want.units);
            CHECK_BYTES((const uint8_t *)o.ev.v.str.data, o.ev.v.str.len, want.out, want.out_len, what);
        }
    } else {
        const hmtp_error *e = hessian_decoder_error(&o.dec.d);
        CHECK(o.rc == -1 && e->code == want.code && e->offset == want.offset,
              "%s #%zu: events rc %d %s @%zu, want %s @%zu", what, case_no, o.rc, hmtp_status_name(e->code),
              e->offset, hmtp_status_name(want.code), want.offset);
    }
    oracle_decoder_close(&o.dec);

    oracle_tree t;
    oracle_tree_read(&t, body, len);
    if (want.ok) {
        if (CHECK(t.rc == 1 && t.v && t.v->kind == HESSIAN_STRING, "%s #%zu: tree rc %d", what, case_no, t.rc)) {
            CHECK_BYTES((const uint8_t *)t.v->v.str.data, t.v->v.str.len, want.out, want.out_len, what);
            CHECK(t.v->v.str.data[t.v->v.str.len] == '\0', "%s #%zu: tree string NUL-terminated", what, case_no);
        }
    } else {
        CHECK(t.rc == -1 && t.err.code == want.code && t.err.offset == want.offset, "%s #%zu: tree rc %d %s @%zu", what,
              case_no, t.rc, hmtp_status_name(t.err.code), t.err.offset);
    }
    oracle_tree_free(&t);
    free(want.out);
}

static const size_t TAILS[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 33};

/* ASCII of every length up to 40, then a form (once or twice), then ASCII;
 * compact, medium and 'S' headers; a value after the string. */
static void ascii_then_form(void)
{
    size_t n = 0;
    for (size_t f = 0; f < sizeof FORMS / sizeof FORMS[0]; f++)
        for (size_t pre = 0; pre <= 40; pre++)
            for (size_t t = 0; t < sizeof TAILS / sizeof TAILS[0]; t++)
                for (int twice = 0; twice < 2; twice++)
                    for (int long_form = 0; long_form < 2; long_form++) {
                        const piece *x = &FORMS[f];
                        size_t units = pre + x->units * (1 + (size_t)twice) + TAILS[t];
                        hmtp_buf b;
                        hmtp_buf_init(&b);
                        emit_header(&b, units, true, long_form);
                        ascii(&b, pre, 'a');
                        hmtp_buf_append(&b, x->bytes, x->len);
                        if (twice)
                            hmtp_buf_append(&b, x->bytes, x->len);
                        ascii(&b, TAILS[t], 'A');
                        hmtp_buf_append_byte(&b, 'N');
                        check_body(b.data, b.len, "ascii then form", n++);
                        hmtp_buf_free(&b);
                    }
}

/* A pair split over an 'R' chunk and the 'S' chunk after it, at every
 * position: the halves must still become one 4-byte character. */
static void pairs_across_chunks(void)
{
    size_t n = 0;
    for (size_t pre = 0; pre <= 40; pre++)
        for (size_t t = 0; t < sizeof TAILS / sizeof TAILS[0]; t++) {
            hmtp_buf b;
            hmtp_buf_init(&b);
            emit_header(&b, pre + 1, false, true);
            ascii(&b, pre, 'a');
            hmtp_buf_append(&b, "\xed\xa0\xbd", 3);
            emit_header(&b, 1 + TAILS[t], true, true);
            hmtp_buf_append(&b, "\xed\xb8\x80", 3);
            ascii(&b, TAILS[t], 'A');
            check_body(b.data, b.len, "pair across chunks", n++);
            hmtp_buf_free(&b);
        }
}

/* A bad form at every position of ASCII, and a 4-byte form where the
 * declared length leaves room for only one unit. */
static void bad_at_every_offset(void)
{
    size_t n = 0;
    for (size_t f = 0; f < sizeof BAD / sizeof BAD[0]; f++)
        for (size_t pre = 0; pre <= 40; pre++)
            for (size_t t = 0; t < sizeof TAILS / sizeof TAILS[0]; t++) {
                const piece *x = &BAD[f];
                hmtp_buf b;
                hmtp_buf_init(&b);
                emit_header(&b, pre + x->units + TAILS[t], true, false);
                ascii(&b, pre, 'a');
                hmtp_buf_append(&b, x->bytes, x->len);
                ascii(&b, TAILS[t], 'A');
                check_body(b.data, b.len, "bad form", n++);
                hmtp_buf_free(&b);
            }
    for (size_t pre = 0; pre <= 40; pre++) {
        hmtp_buf b;
        hmtp_buf_init(&b);
        emit_header(&b, pre + 1, true, false);
        ascii(&b, pre, 'a');
        hmtp_buf_append(&b, "\xf0\x9f\x98\x80", 4);
        check_body(b.data, b.len, "4-byte form split by the length", n++);
        hmtp_buf_free(&b);
    }
}

/* Every prefix of strings with each form: the body ends inside the string
 * at every byte. */
static void truncated_everywhere(void)
{
    size_t n = 0;
    for (size_t f = 0; f < sizeof FORMS / sizeof FORMS[0]; f++)
        for (size_t pre = 0; pre <= 20; pre++) {
            hmtp_buf b;
            hmtp_buf_init(&b);
            emit_header(&b, pre + FORMS[f].units + 17, true, false);
            ascii(&b, pre, 'a');
            hmtp_buf_append(&b, FORMS[f].bytes, FORMS[f].len);
            ascii(&b, 17, 'A');
            for (size_t cut = 1; cut <= b.len; cut++)
                check_body(b.data, cut, "truncated", n++);
            hmtp_buf_free(&b);
        }
}

/* Random strings: runs of ASCII and forms (good and, sometimes, bad),
 * split into random chunks, sometimes with a byte changed. */
static void random_mixes(void)
{
    uint64_t rng = 17;
    for (size_t n = 0; n < 4000; n++) {
        hmtp_buf payload;
        hmtp_buf_init(&payload);
        size_t bounds[64], units_at[64], nb = 0, units = 0;
        size_t items = 1 + test_rand(&rng) % 12;
        for (size_t i = 0; i < items && nb < 64; i++) {
            if (test_rand(&rng) % 2) {
                size_t run = test_rand(&rng) % 70;
                ascii(&payload, run, 'a');
                units += run;
            } else {
                const piece *x = test_rand(&rng) % 20 == 0 ? &BAD[test_rand(&rng) % (sizeof BAD / sizeof BAD[0])]
                                                           : &FORMS[test_rand(&rng) % (sizeof FORMS / sizeof FORMS[0])];
                hmtp_buf_append(&payload, x->bytes, x->len);
                units += x->units;
            }
            bounds[nb] = payload.len; /* chunks may end after any item */
            units_at[nb++] = units;
        }
        if (payload.len && test_rand(&rng) % 8 == 0)
            payload.data[test_rand(&rng) % payload.len] = (uint8_t)test_rand(&rng);
        /* chunking: cut at a few item boundaries (so each chunk holds whole
           items and its unit count is known) */
        hmtp_buf b;
        hmtp_buf_init(&b);
        size_t from = 0, from_units = 0;
        for (size_t k = 0; k < nb; k++) {
            bool last = k == nb - 1;
            if (!last && test_rand(&rng) % 3)
                continue;
            emit_header(&b, units_at[k] - from_units, last, !last || test_rand(&rng) % 2);
            if (bounds[k] > from)
                hmtp_buf_append(&b, payload.data + from, bounds[k] - from);
            from = bounds[k];
            from_units = units_at[k];
        }
        hmtp_buf_append_byte(&b, 'T');
        check_body(b.data, b.len, "random", n);
        hmtp_buf_free(&b);
        hmtp_buf_free(&payload);
    }
}

int main(void)
{
    ascii_then_form();
    pairs_across_chunks();
    bad_at_every_offset();
    truncated_everywhere();
    random_mixes();
    printf("%zu string bodies compared with the oracle\n", checked);
    return check_summary("core_strings");
}
