/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hmtp_buf_init(hmtp_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

void hmtp_buf_free(hmtp_buf *b)
{
    free(b->data);
    hmtp_buf_init(b);
}

void hmtp_buf_reset(hmtp_buf *b)
{
    b->len = 0;
    b->failed = false;
}

bool hmtp_buf_reserve(hmtp_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra <= b->cap - b->len)
        return true;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra)
        cap *= 2;
    uint8_t *data = realloc(b->data, cap);
    if (!data) {
        b->failed = true;
        return false;
    }
    b->data = data;
    b->cap = cap;
    return true;
}

bool hmtp_buf_append(hmtp_buf *b, const void *data, size_t len)
{
    if (len == 0)
        return !b->failed;
    if (!hmtp_buf_reserve(b, len))
        return false;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return true;
}

bool hmtp_buf_append_byte(hmtp_buf *b, uint8_t byte)
{
    if (b->len == b->cap && !hmtp_buf_reserve(b, 1))
        return false;
    if (b->failed)
        return false;
    b->data[b->len++] = byte;
    return true;
}

bool hmtp_buf_printf(hmtp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !hmtp_buf_reserve(b, (size_t)n + 1))
        return false;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

void hmtp_buf_consume(hmtp_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}
