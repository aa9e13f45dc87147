/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One UTF-8 reader and writer for the core. Hessian strings are Java
 * strings written by Caucho as CESU-8 (each UTF-16 unit on its own, so
 * surrogate halves appear as 3-byte forms), and the reader must also take
 * 4-byte UTF-8 and Java's overlong forms: the reader here reports what the
 * bytes say and lets each caller judge overlong forms, surrogates and range
 * from the code point and length. */
#ifndef HMTP_UTF8_H
#define HMTP_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum hmtp_utf8_status {
    HMTP_UTF8_OK,
    HMTP_UTF8_TRUNCATED,        /* *len says how many bytes the form needs */
    HMTP_UTF8_BAD_LEAD,         /* 0x80-0xbf or 0xf5-0xff */
    HMTP_UTF8_BAD_CONTINUATION, /* *len is the offset of the bad byte */
} hmtp_utf8_status;

/* Reads the sequence at p (left > 0): its code point and length in bytes. */
hmtp_utf8_status hmtp_utf8_next(const uint8_t *p, size_t left, uint32_t *cp, size_t *len);

/* Writes cp in its shortest form (1-4 bytes) at out; returns the length. */
size_t hmtp_utf8_put(uint8_t *out, uint32_t cp);

static inline bool hmtp_utf8_overlong(uint32_t cp, size_t len)
{
    return (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
}

static inline bool hmtp_utf8_surrogate(uint32_t cp)
{
    return cp >= 0xd800 && cp <= 0xdfff;
}

#endif
