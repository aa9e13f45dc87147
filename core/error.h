/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Errors as values: every failing core call fills one of these, naming the
 * problem and the byte offset (in the packet body, or in the wire stream for
 * framing errors) where it was found. */
#ifndef HMTP_ERROR_H
#define HMTP_ERROR_H

#include <stdbool.h>
#include <stddef.h>

typedef enum hmtp_status {
    HMTP_OK = 0,
    HMTP_ERR_TRUNCATED,      /* the bytes end inside a value or packet */
    HMTP_ERR_BAD_CODE,       /* an unused Hessian code (0x40 0x45 0x47 0x50) */
    HMTP_ERR_UNEXPECTED_END, /* 'Z' where no list or map is open */
    HMTP_ERR_DEPTH,          /* nesting deeper than the limit */
    HMTP_ERR_TOO_LARGE,      /* packet larger than the configured maximum */
    HMTP_ERR_BAD_FRAMING,    /* a chunk length field longer than HMTP_MAX_LENGTH_BYTES */
    HMTP_ERR_LIMIT,          /* too many class definitions, fields or types */
    HMTP_ERR_BAD_UTF8,       /* string data that is not UTF-8 / CESU-8 */
    HMTP_ERR_BAD_REF,        /* Q ref to a value that does not exist (yet) */
    HMTP_ERR_BAD_TYPE_REF,   /* int type ref beyond the known type names */
    HMTP_ERR_BAD_VALUE,      /* a value of the wrong kind where the grammar needs one */
    HMTP_ERR_BAD_PACKET,     /* HMTP level: body does not hold the packet's fields */
    HMTP_ERR_UNKNOWN_TYPE,   /* HMTP level: packet type outside 0..13 */
    HMTP_ERR_BAD_STRING,     /* HMTP level: a JID with U+0000 or a control character, an error field with U+0000 */
    HMTP_ERR_NOMEM,
    HMTP_ERR_BAD_HTTP,       /* the HTTP upgrade head is not one (core/http_upgrade.h) */
} hmtp_status;

typedef struct hmtp_error {
    hmtp_status code;
    size_t offset;  /* where the problem was found */
    char msg[200];  /* "string length 40 runs past the end of the body (12 bytes left)" */
} hmtp_error;

/* Fills err (if non-NULL) and returns code, so callers can `return hmtp_fail(...)`. */
hmtp_status hmtp_fail(hmtp_error *err, hmtp_status code, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void hmtp_error_clear(hmtp_error *err);

/* Short stable name of a status, e.g. "truncated", for logs and JSON. */
const char *hmtp_status_name(hmtp_status code);

/* ---- the error value of the programs above the codec ----
 *
 * The broker, the client, the replayer and crypto/ report one way: a
 * function returns false (or NULL) and fills a caller's hmtp_tool_error with
 * the whole message a user reads, naming what and where; GError is turned
 * into one of these at the GLib call that made it.
 *
 * Why a second type and not a larger hmtp_error: the codec's value is
 * embedded where size counts (one in every hessian_decoder, one per
 * hmtp_reader, i.e. per connection, one in each reply hmtp-replay holds until
 * the comparison: 100,000 of them in the 100-session benchmark), while the
 * programs' messages quote a path, a peer or a codec error and need room for
 * all of it: 1024, the largest buffer any of them used before (the client's
 * connect and upgrade messages, which quote the body of a refusal), so no
 * message got shorter. They live on the stack or once per client
 * connection, never once per packet or session. Same shape otherwise: offset
 * (where in the input, when that means something, e.g. the scenario
 * reader's byte offset) and the message; a codec error enters with
 * hmtp_tool_fail(err, "...: %s", codec_err.msg). */
#define HMTP_TOOL_ERROR_MAX 1024

typedef struct hmtp_tool_error {
    char msg[HMTP_TOOL_ERROR_MAX];
    size_t offset;
} hmtp_tool_error;

/* Fills err (if non-NULL, offset 0) and returns false, so a function can
 * `return hmtp_tool_fail(err, ...)`. */
bool hmtp_tool_fail(hmtp_tool_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with the offset in the input the message is about. */
bool hmtp_tool_fail_at(hmtp_tool_error *err, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
