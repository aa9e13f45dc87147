/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "http_head.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool http_looks_like_request(const uint8_t *buf, size_t len)
{
    size_t i = 0;
    while (i < len && i < 16 && buf[i] >= 'A' && buf[i] <= 'Z')
        i++;
    if (i == len)
        return i > 0 && i < 16; /* only capitals so far: could still be one */
    return i > 0 && buf[i] == ' ';
}

bool http_looks_like_response(const uint8_t *buf, size_t len)
{
    static const char prefix[] = "HTTP/1.";
    size_t n = len < sizeof prefix - 1 ? len : sizeof prefix - 1;
    return n > 0 && memcmp(buf, prefix, n) == 0;
}

static const uint8_t *find_blank_line(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            return buf + i + 4;
    return NULL;
}

static void copy_trimmed(char *dst, size_t cap, const char *src, size_t len)
{
    while (len > 0 && (*src == ' ' || *src == '\t')) {
        src++;
        len--;
    }
    while (len > 0 && (src[len - 1] == ' ' || src[len - 1] == '\t'))
        len--;
    if (len >= cap)
        len = cap - 1;
    /* HTTP heads are ASCII: anything else is shown as '?', so a corrupt
       capture never puts raw bytes into reports or JSON. */
    for (size_t i = 0; i < len; i++)
        dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
    dst[len] = '\0';
}

/* End of the line that starts at p (its CR), never beyond limit. */
static const char *line_end(const char *p, const char *limit)
{
    while (p + 1 < limit && !(p[0] == '\r' && p[1] == '\n'))
        p++;
    return p + 1 < limit ? p : limit;
}

static bool parse_first_line(const char *line, size_t len, http_head *out)
{
    if (len >= 9 && memcmp(line, "HTTP/1.", 7) == 0) {
        out->is_request = false;
        if (len < 12 || line[8] != ' ')
            return false;
        char code[4] = {line[9], line[10], line[11], 0};
        for (int i = 0; i < 3; i++)
            if (code[i] < '0' || code[i] > '9')
                return false;
        out->status = atoi(code);
        if (len > 13)
            copy_trimmed(out->reason, sizeof out->reason, line + 13, len - 13);
        return true;
    }
    const char *sp1 = memchr(line, ' ', len);
    if (!sp1)
        return false;
    const char *sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line));
    if (!sp2 || (size_t)(sp1 - line) >= sizeof out->method)
        return false;
    out->is_request = true;
    copy_trimmed(out->method, sizeof out->method, line, (size_t)(sp1 - line));
    copy_trimmed(out->path, sizeof out->path, sp1 + 1, (size_t)(sp2 - sp1 - 1));
    size_t rest = len - (size_t)(sp2 + 1 - line);
    return rest >= 7 && memcmp(sp2 + 1, "HTTP/1.", 7) == 0;
}

int http_head_parse(const uint8_t *buf, size_t len, http_head *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0)
        return 0;
    if (!http_looks_like_request(buf, len) && !http_looks_like_response(buf, len))
        return -1;
    const uint8_t *end = find_blank_line(buf, len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX);
    if (!end)
        return len >= HTTP_HEAD_MAX ? -1 : 0;
    out->head_len = (size_t)(end - buf);
    const char *p = (const char *)buf;
    const char *stop = (const char *)end - 2; /* the blank line's CRLF */
    const char *eol = line_end(p, stop + 2);
    if (eol > stop || !parse_first_line(p, (size_t)(eol - p), out))
        return -1;
    for (p = eol + 2; p < stop; p = eol + 2) {
        eol = line_end(p, stop + 2);
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon)
            continue; /* tolerate a malformed header line: it cannot be one we need */
        size_t name_len = (size_t)(colon - p);
        const char *val = colon + 1;
        size_t val_len = (size_t)(eol - val);
        if (name_len == 4 && strncasecmp(p, "Host", 4) == 0)
            copy_trimmed(out->host, sizeof out->host, val, val_len);
        else if (name_len == 7 && strncasecmp(p, "Upgrade", 7) == 0)
            copy_trimmed(out->upgrade, sizeof out->upgrade, val, val_len);
        else if (name_len == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
            char num[32];
            copy_trimmed(num, sizeof num, val, val_len);
            out->content_length = (size_t)strtoull(num, NULL, 10);
        }
    }
    return 1;
}

bool http_is_hmtp_upgrade(const http_head *h)
{
    return h->is_request && strcasecmp(h->upgrade, "HMTP/0.9") == 0;
}
