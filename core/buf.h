/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A growable byte buffer with a sticky allocation failure flag, so that a
 * writer can append many times and check once. */
#ifndef HMTP_BUF_H
#define HMTP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hmtp_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    bool failed; /* an allocation failed; contents are incomplete */
} hmtp_buf;

void hmtp_buf_init(hmtp_buf *b);
void hmtp_buf_free(hmtp_buf *b);
void hmtp_buf_reset(hmtp_buf *b); /* len = 0, keeps capacity, clears failed */
bool hmtp_buf_reserve(hmtp_buf *b, size_t extra);
bool hmtp_buf_append(hmtp_buf *b, const void *data, size_t len);
bool hmtp_buf_append_byte(hmtp_buf *b, uint8_t byte);
bool hmtp_buf_printf(hmtp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Removes the first n bytes (n <= len). */
void hmtp_buf_consume(hmtp_buf *b, size_t n);

#endif
