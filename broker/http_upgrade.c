/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "http_upgrade.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static void reject(http_request *req, int status, const char *reason)
{
    req->status = status;
    snprintf(req->reason, sizeof req->reason, "%s", reason);
}

/* Index just past the blank line that ends the header, or 0. Bare LF line
 * ends are accepted as RFC 7230 section 3.5 allows. */
static size_t header_end(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* A byte no HTTP request header contains: lets a client that skipped the
 * upgrade (or sent binary garbage) be told at once instead of waiting for a
 * blank line that never comes. */
static bool bad_header_byte(uint8_t c)
{
    return (c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7f;
}

/* True when the comma-separated list value holds token (case-insensitive). */
static bool list_has_token(const char *value, size_t len, const char *token)
{
    size_t tlen = strlen(token);
    size_t i = 0;
    while (i < len) {
        while (i < len && (value[i] == ' ' || value[i] == '\t' || value[i] == ','))
            i++;
        size_t start = i;
        while (i < len && value[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t'))
            end--;
        if (end - start == tlen && strncasecmp(value + start, token, tlen) == 0)
            return true;
    }
    return false;
}

static http_request_status parse_request_line(const char *line, size_t len, http_request *req)
{
    const char *sp1 = memchr(line, ' ', len);
    if (!sp1 || sp1 == line) {
        reject(req, 400, "the request line is not 'METHOD PATH HTTP/1.x'");
        return HTTP_REQUEST_REJECT;
    }
    size_t mlen = (size_t)(sp1 - line);
    snprintf(req->method, sizeof req->method, "%.*s", (int)(mlen < 15 ? mlen : 15), line);
    const char *rest = sp1 + 1;
    size_t rlen = len - mlen - 1;
    const char *sp2 = memchr(rest, ' ', rlen);
    if (!sp2 || sp2 == rest) {
        reject(req, 400, "the request line is not 'METHOD PATH HTTP/1.x'");
        return HTTP_REQUEST_REJECT;
    }
    const char *version = sp2 + 1;
    size_t vlen = rlen - (size_t)(version - rest);
    if (vlen != 8 || strncmp(version, "HTTP/1.", 7) != 0 || version[7] < '0' || version[7] > '9') {
        reject(req, 505, "only HTTP/1.x requests can be upgraded to HMTP/0.9");
        return HTTP_REQUEST_REJECT;
    }
    if (strcmp(req->method, "CONNECT") != 0 && strcmp(req->method, "GET") != 0) {
        reject(req, 405, "an HMTP/0.9 upgrade uses CONNECT or GET");
        return HTTP_REQUEST_REJECT;
    }
    return HTTP_REQUEST_UPGRADE;
}

http_request_status http_request_parse(const uint8_t *buf, size_t len, http_request *req)
{
    memset(req, 0, sizeof *req);
    size_t end = header_end(buf, len);
    size_t scan = end ? end : len;
    for (size_t i = 0; i < scan; i++) {
        if (bad_header_byte(buf[i])) {
            reject(req, 400, "not an HTTP request (control byte in the header)");
            return HTTP_REQUEST_REJECT;
        }
    }
    if (!end) {
        if (len >= HTTP_MAX_REQUEST_HEADER) {
            reject(req, 431, "the request header is larger than 8192 bytes");
            return HTTP_REQUEST_REJECT;
        }
        return HTTP_REQUEST_INCOMPLETE;
    }
    if (end > HTTP_MAX_REQUEST_HEADER) {
        reject(req, 431, "the request header is larger than 8192 bytes");
        return HTTP_REQUEST_REJECT;
    }
    const char *text = (const char *)buf;
    const char *nl = memchr(text, '\n', end);
    size_t line_len = (size_t)(nl - text);
    if (line_len > 0 && text[line_len - 1] == '\r')
        line_len--;
    if (parse_request_line(text, line_len, req) != HTTP_REQUEST_UPGRADE)
        return HTTP_REQUEST_REJECT;

    bool upgrade = false, other_upgrade = false;
    const char *p = nl + 1;
    const char *stop = text + end;
    while (p < stop) {
        const char *eol = memchr(p, '\n', (size_t)(stop - p));
        size_t n = (size_t)(eol - p);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n == 0)
            break; /* the blank line */
        const char *colon = memchr(p, ':', n);
        if (!colon || colon == p) {
            reject(req, 400, "a header line has no 'Name:'");
            return HTTP_REQUEST_REJECT;
        }
        size_t name_len = (size_t)(colon - p);
        if (name_len == 7 && strncasecmp(p, "Upgrade", 7) == 0) {
            const char *v = colon + 1;
            size_t vlen = n - name_len - 1;
            if (list_has_token(v, vlen, "HMTP/0.9"))
                upgrade = true;
            else
                other_upgrade = true;
        }
        p = eol + 1;
    }
    if (!upgrade) {
        /* Resin answers 404 when the Upgrade is not HMTP/0.9. */
        reject(req, 404,
               other_upgrade ? "this server only upgrades to HMTP/0.9"
                             : "this is an HMTP/0.9 endpoint: send 'Upgrade: HMTP/0.9'");
        return HTTP_REQUEST_REJECT;
    }
    req->header_len = end;
    return HTTP_REQUEST_UPGRADE;
}

void http_format_date(int64_t t, char out[30])
{
    static const char *const days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (t < 0)
        t = 0;
    int64_t days_since = t / 86400, secs = t % 86400;
    const char *wday = days[days_since % 7];
    /* civil-from-days (Howard Hinnant's algorithm, restated) */
    int64_t z = days_since + 719468;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    snprintf(out, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT", wday, (int)d, months[m - 1], (int)y,
             (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

const char *http_status_reason(int status)
{
    switch (status) {
    case 101: return "Switching Protocols";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

void http_write_switching(hmtp_buf *out, const char *server, const char *date, bool upgrade_header)
{
    hmtp_buf_printf(out, "HTTP/1.1 101 Switching Protocols\r\n");
    if (upgrade_header)
        hmtp_buf_printf(out, "Upgrade: HMTP/0.9\r\nConnection: Upgrade\r\n");
    hmtp_buf_printf(out, "Server: %s\r\nContent-Length: 0\r\nDate: %s\r\n\r\n", server, date);
}

void http_write_error(hmtp_buf *out, int status, const char *text, const char *server,
                      const char *date)
{
    size_t body_len = strlen(text) + 1; /* the text and a newline */
    hmtp_buf_printf(out,
                    "HTTP/1.1 %d %s\r\nServer: %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    "Content-Length: %zu\r\nConnection: close\r\nDate: %s\r\n\r\n%s\n",
                    status, http_status_reason(status), server, body_len, date, text);
}
