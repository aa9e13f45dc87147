/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the core tests: byte strings from hex text, a recorded
 * copy of a decoder's event stream, and an unframer written independently of
 * core/framing.c so writer output is checked against the spec, not against
 * the code under test. */
#ifndef HMTP_TESTUTIL_H
#define HMTP_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "hessian.h"
#include "hmtp.h"

/* "24 99 0c 6e" (spaces optional) -> bytes appended to out. A malformed hex
 * string is a bug in the test: it aborts loudly. */
void hex_append(hmtp_buf *out, const char *hex);
/* A fresh buffer holding the bytes of hex; free with hmtp_buf_free. */
hmtp_buf hex_bytes(const char *hex);

/* One event with its string/binary/type/field/class data copied out, so a
 * list of them outlives the decoder's scratch memory. */
typedef struct rec_event {
    hessian_event ev; /* pointers inside are cleared; use the copies below */
    char *data;       /* string or binary bytes */
    size_t data_len;
    char *name;       /* container type, class name (OBJECT/CLASS_DEF) */
    char *field_name;
    bool has_cls;
} rec_event;

typedef struct rec_list {
    rec_event *ev;
    size_t n, cap;
    int end;          /* hessian_next's final result: 0 clean end, -1 error */
    hmtp_error err;   /* copy of the decoder's error when end == -1 */
} rec_list;

/* Decodes body with s at mark `at` until the end or an error, recording
 * every event (at most max_events, to bound runaway decoders). */
void rec_decode(rec_list *out, hessian_stream *s, hessian_mark at, const uint8_t *body, size_t len,
                size_t max_events);
/* Same with a fresh default stream. */
void rec_decode_fresh(rec_list *out, const uint8_t *body, size_t len);
void rec_free(rec_list *l);
/* Decodes body as one packet into p with s as a fresh default stream (the
 * caller frees both, and reads the outcome in err). */
hmtp_status packet_decode_fresh(hmtp_packet *p, hessian_stream *s, const uint8_t *body, size_t len,
                                hmtp_error *err);
/* True when both lists hold the same events (every field compared). On a
 * difference, *where gets the index. */
bool rec_equal(const rec_list *a, const rec_list *b, size_t *where);

/* Splits a framed packet stream with our own reading of PROTOCOL.md
 * section 2: appends the concatenated body of the packet at *pos to body,
 * records each non-empty chunk's header length and data length (up to
 * max_chunks), advances *pos past the terminator. False on malformed input. */
bool unframe_one(const uint8_t *wire, size_t len, size_t *pos, hmtp_buf *body, size_t *hdr_lens,
                 size_t *data_lens, size_t max_chunks, size_t *nchunks);

/* Deterministic pseudo-random numbers for reproducible tests. */
uint64_t test_rand(uint64_t *state);

#endif
