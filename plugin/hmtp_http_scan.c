/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include <glib.h>

#include "hmtp_http_scan.h"

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* One element of an Upgrade list, [p, end), trimmed, equals token. */
static bool element_is(const uint8_t *p, const uint8_t *end, const char *token)
{
    while (p < end && is_space(*p))
        p++;
    while (end > p && is_space(end[-1]))
        end--;
    size_t n = strlen(token);
    return (size_t)(end - p) == n && g_ascii_strncasecmp((const char *)p, token, n) == 0;
}

static bool list_names(const uint8_t *p, const uint8_t *end, const char *token)
{
    while (p < end) {
        const uint8_t *comma = memchr(p, ',', (size_t)(end - p));
        const uint8_t *stop = comma ? comma : end;
        if (element_is(p, stop, token))
            return true;
        p = stop + 1;
    }
    return false;
}

bool hmtp_http_asks_upgrade(const uint8_t *buf, size_t len, const char *token)
{
    static const char name[] = "upgrade:";
    const size_t n = sizeof name - 1;
    const uint8_t *end = buf + len;
    /* header lines start after a LF; the request line never is one */
    for (const uint8_t *p = buf; p < end; p++) {
        const uint8_t *lf = memchr(p, '\n', (size_t)(end - p));
        if (!lf)
            break;
        p = lf;
        if ((size_t)(end - lf - 1) < n || g_ascii_strncasecmp((const char *)lf + 1, name, n) != 0)
            continue;
        const uint8_t *value = lf + 1 + n;
        const uint8_t *eol = memchr(value, '\n', (size_t)(end - value));
        if (!eol)
            eol = end;
        if (eol > value && eol[-1] == '\r')
            eol--;
        if (list_names(value, eol, token))
            return true;
    }
    return false;
}

/* "HTTP/1.x NNN" then a space, CR or the end of the bytes. */
static unsigned status_at(const uint8_t *p, const uint8_t *end)
{
    static const char prefix[] = "HTTP/1.";
    const size_t n = sizeof prefix - 1;
    if ((size_t)(end - p) < n + 5 || memcmp(p, prefix, n) != 0)
        return 0;
    p += n;
    if (!g_ascii_isdigit(p[0]) || p[1] != ' ')
        return 0;
    p += 2;
    for (int i = 0; i < 3; i++)
        if (!g_ascii_isdigit(p[i]))
            return 0;
    if (p + 3 < end && p[3] != ' ' && p[3] != '\r')
        return 0;
    return (unsigned)(p[0] - '0') * 100u + (unsigned)(p[1] - '0') * 10u + (unsigned)(p[2] - '0');
}

unsigned hmtp_http_status(const uint8_t *buf, size_t len)
{
    const uint8_t *end = buf + len;
    unsigned informational = 0;
    for (const uint8_t *p = buf; p < end; p++) {
        p = memchr(p, 'H', (size_t)(end - p));
        if (!p)
            break;
        unsigned code = status_at(p, end);
        if (code == 101 || code >= 200)
            return code; /* the answer to the request */
        if (code >= 100 && !informational)
            informational = code; /* e.g. 100 Continue: the answer is still to come */
    }
    return informational;
}
