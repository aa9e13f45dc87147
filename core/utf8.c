/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "utf8.h"

hmtp_utf8_status hmtp_utf8_next(const uint8_t *p, size_t left, uint32_t *cp, size_t *len)
{
    uint8_t c = p[0];
    size_t n;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        *len = 1;
        return HMTP_UTF8_OK;
    }
    if (c >= 0xc0 && c <= 0xdf) {
        n = 2;
        v = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07u;
    } else {
        *len = 1;
        return HMTP_UTF8_BAD_LEAD;
    }
    *len = n;
    if (n > left)
        return HMTP_UTF8_TRUNCATED;
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xc0) != 0x80) {
            *len = k;
            return HMTP_UTF8_BAD_CONTINUATION;
        }
        v = (v << 6) | (p[k] & 0x3fu);
    }
    *cp = v;
    return HMTP_UTF8_OK;
}

size_t hmtp_utf8_put(uint8_t *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}
