/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The decoder's string rules, written the plain way: one character at a
 * time with hmtp_utf8_next(), no fast paths. The string tests and the
 * strings fuzzer decode the same bytes with the real decoder and require
 * the same answer: the same bytes out, units, end, error code and offset.
 * Header-only so the fuzz target (which links the fuzzing copy of the core,
 * not the test helpers) can include it too. */
#ifndef HMTP_STRING_ORACLE_H
#define HMTP_STRING_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "error.h"
#include "hessian.h"
#include "utf8.h"
#include "value.h"

typedef struct oracle_string {
    bool ok;
    hmtp_status code; /* when !ok */
    size_t offset;    /* when !ok: body offset of the error */
    size_t end;       /* when ok: body offset after the string */
    size_t units;     /* UTF-16 units declared over all chunks */
    uint8_t *out;     /* canonical UTF-8 (caller's buffer, >= len bytes) */
    size_t out_len;
} oracle_string;

static inline void oracle_put(oracle_string *r, uint32_t cp)
{
    r->out_len += hmtp_utf8_put(r->out + r->out_len, cp);
}

/* One chunk's `units` characters at body[p...]; returns the end or sets
 * r->ok false. *pending carries a high surrogate waiting for its partner. */
static inline size_t oracle_chunk(const uint8_t *body, size_t len, size_t p, size_t units, uint32_t *pending,
                                  oracle_string *r)
{
    while (units > 0) {
        uint32_t cp;
        size_t n;
        if (p >= len) {
            r->ok = false, r->code = HMTP_ERR_TRUNCATED, r->offset = p;
            return 0;
        }
        hmtp_utf8_status st = hmtp_utf8_next(body + p, len - p, &cp, &n);
        if (st != HMTP_UTF8_OK) {
            r->ok = false;
            r->code = st == HMTP_UTF8_TRUNCATED ? HMTP_ERR_TRUNCATED : HMTP_ERR_BAD_UTF8;
            r->offset = st == HMTP_UTF8_BAD_CONTINUATION ? p + n : p;
            return 0;
        }
        size_t u = n == 4 ? 2 : 1;
        if ((n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || u > units) {
            r->ok = false, r->code = HMTP_ERR_BAD_UTF8, r->offset = p;
            return 0;
        }
        /* canonical form: pairs joined, overlong forms shortest, lone halves kept */
        if (*pending && cp >= 0xdc00 && cp <= 0xdfff) {
            oracle_put(r, 0x10000 + ((*pending - 0xd800) << 10) + (cp - 0xdc00));
            *pending = 0;
        } else {
            if (*pending)
                oracle_put(r, *pending);
            *pending = 0;
            if (cp >= 0xd800 && cp <= 0xdbff)
                *pending = cp;
            else
                oracle_put(r, cp);
        }
        units -= u;
        p += n;
    }
    return p;
}

/* The string (compact, 'S' or 'R' chunks) at body[pos]. */
static inline void oracle_read_string(const uint8_t *body, size_t len, size_t pos, oracle_string *r)
{
    r->ok = true;
    r->out_len = 0;
    r->units = 0;
    uint32_t pending = 0;
    size_t p = pos;
    for (;;) {
        if (p >= len) {
            r->ok = false, r->code = HMTP_ERR_TRUNCATED, r->offset = p;
            return;
        }
        uint8_t c = body[p];
        size_t units, hdr;
        bool final = true;
        if (c <= 0x1f) {
            units = c, hdr = 1;
        } else if (c >= 0x30 && c <= 0x33) {
            if (len - p < 2) {
                r->ok = false, r->code = HMTP_ERR_TRUNCATED, r->offset = p;
                return;
            }
            units = ((size_t)(c - 0x30) << 8) | body[p + 1], hdr = 2;
        } else if (c == 'S' || c == 'R') {
            if (len - p < 3) {
                r->ok = false, r->code = HMTP_ERR_TRUNCATED, r->offset = p;
                return;
            }
            units = ((size_t)body[p + 1] << 8) | body[p + 2], hdr = 3;
            final = c == 'S';
        } else {
            r->ok = false, r->code = HMTP_ERR_BAD_VALUE, r->offset = p;
            return;
        }
        r->units += units;
        p = oracle_chunk(body, len, p + hdr, units, &pending, r);
        if (!r->ok)
            return;
        if (final)
            break;
    }
    if (pending)
        oracle_put(r, pending);
    r->end = p;
}

/* The real decoder over the same bytes, from a fresh stream. */
typedef struct oracle_decoder {
    hessian_stream s;
    hessian_decoder d;
} oracle_decoder;

static inline void oracle_decoder_open(oracle_decoder *o, const uint8_t *body, size_t len)
{
    hessian_stream_init(&o->s, NULL);
    hessian_decoder_init(&o->d, &o->s, hessian_stream_mark(&o->s), body, len);
}

static inline void oracle_decoder_close(oracle_decoder *o)
{
    hessian_decoder_free(&o->d);
    hessian_stream_free(&o->s);
}

/* Its first event ... */
typedef struct oracle_events {
    oracle_decoder dec;
    hessian_event ev;
    int rc;
} oracle_events;

static inline void oracle_events_read(oracle_events *o, const uint8_t *body, size_t len)
{
    oracle_decoder_open(&o->dec, body, len);
    o->rc = hessian_next(&o->dec.d, &o->ev);
}

/* ... and its value tree. */
typedef struct oracle_tree {
    oracle_decoder dec;
    hmtp_arena a;
    hessian_value *v;
    hmtp_error err;
    int rc;
} oracle_tree;

static inline void oracle_tree_read(oracle_tree *t, const uint8_t *body, size_t len)
{
    oracle_decoder_open(&t->dec, body, len);
    hmtp_arena_init(&t->a);
    t->v = NULL;
    hmtp_error_clear(&t->err);
    t->rc = hessian_read_value(&t->dec.d, &t->a, &t->v, &t->err);
}

static inline void oracle_tree_free(oracle_tree *t)
{
    hmtp_arena_free(&t->a);
    oracle_decoder_close(&t->dec);
}

#endif
