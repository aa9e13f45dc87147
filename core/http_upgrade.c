/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "http_upgrade.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_upper(uint8_t c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* A byte no HTTP head contains (CR and LF are handled as line ends). */
static bool is_control(uint8_t c)
{
    return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f;
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* Fails the parse: err names what and where, h->refusal the answer. */
static int refuse(hmtp_upgrade_head *h, hmtp_error *err, int status, hmtp_status code, size_t at, const char *what)
{
    h->refusal = status;
    hmtp_fail(err, code, at, "%s (byte %zu of the HTTP head)", what, at);
    return -1;
}

/* What the first bytes can still be. A request line starts with a method of
 * 1 to 15 capital letters and a space; a status line with "HTTP/". */
static hmtp_upgrade_kind first_bytes_kind(const uint8_t *buf, size_t len, bool *neither)
{
    static const char http[] = "HTTP/";
    size_t n = len < sizeof http - 1 ? len : sizeof http - 1;
    bool response = len > 0 && memcmp(buf, http, n) == 0;
    size_t i = 0;
    while (i < len && i < 16 && is_upper(buf[i]))
        i++;
    bool request = i > 0 && i < 16 && (i == len || buf[i] == ' ');
    *neither = !request && !response;
    if (request == response)
        return HMTP_UPGRADE_UNKNOWN;
    return request ? HMTP_UPGRADE_REQUEST : HMTP_UPGRADE_RESPONSE;
}

bool hmtp_upgrade_may_be_request(const uint8_t *buf, size_t len)
{
    bool neither;
    return !(first_bytes_kind(buf, len, &neither) == HMTP_UPGRADE_RESPONSE || neither);
}

bool hmtp_upgrade_may_be_response(const uint8_t *buf, size_t len)
{
    bool neither;
    return !(first_bytes_kind(buf, len, &neither) == HMTP_UPGRADE_REQUEST || neither);
}

/* Copies a value without surrounding blanks; non-ASCII shows as '?' so that
 * a corrupt capture never puts raw bytes into logs, reports or JSON. */
static void copy_text(char *dst, size_t cap, const uint8_t *src, size_t len)
{
    while (len > 0 && is_space(*src)) {
        src++;
        len--;
    }
    while (len > 0 && is_space(src[len - 1]))
        len--;
    if (len >= cap)
        len = cap - 1;
    for (size_t i = 0; i < len; i++)
        dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
    dst[len] = '\0';
}

/* True when the comma-separated list value holds token (any case). */
static bool list_has_token(const uint8_t *value, size_t len, const char *token)
{
    size_t tlen = strlen(token);
    size_t i = 0;
    while (i < len) {
        while (i < len && (is_space(value[i]) || value[i] == ','))
            i++;
        size_t start = i;
        while (i < len && value[i] != ',')
            i++;
        size_t end = i;
        while (end > start && is_space(value[end - 1]))
            end--;
        if (end - start == tlen && strncasecmp((const char *)value + start, token, tlen) == 0)
            return true;
    }
    return false;
}

/* "HTTP/1.x" where x is one digit. */
static bool is_http1(const uint8_t *p, size_t n)
{
    return n == 8 && memcmp(p, "HTTP/1.", 7) == 0 && is_digit(p[7]);
}

static int request_line(const uint8_t *p, size_t n, hmtp_upgrade_head *h, hmtp_error *err)
{
    static const char shape[] = "the request line is not 'METHOD PATH HTTP/1.x'";
    size_t m = 0;
    while (m < n && is_upper(p[m]))
        m++;
    if (m == 0 || m >= sizeof h->method || m == n || p[m] != ' ')
        return refuse(h, err, 400, HMTP_ERR_BAD_HTTP, m, shape);
    const uint8_t *target = p + m + 1;
    const uint8_t *sp = memchr(target, ' ', n - m - 1);
    if (!sp || sp == target)
        return refuse(h, err, 400, HMTP_ERR_BAD_HTTP, m + 1, shape);
    const uint8_t *version = sp + 1;
    if (!is_http1(version, n - (size_t)(version - p)))
        return refuse(h, err, 505, HMTP_ERR_BAD_HTTP, (size_t)(version - p),
                      "only HTTP/1.x requests can be upgraded to HMTP/0.9");
    /* only a whole request line fills these: a reader scanning bytes for
     * one (the plugin) takes method[0] as "a request line starts here" */
    copy_text(h->method, sizeof h->method, p, m);
    copy_text(h->path, sizeof h->path, target, (size_t)(sp - target));
    return 0;
}

/* "HTTP/1.x NNN reason"; Resin may send just "HTTP/1.1 101". */
static int status_line(const uint8_t *p, size_t n, hmtp_upgrade_head *h, hmtp_error *err)
{
    if (n < 12 || !is_http1(p, 8) || p[8] != ' ' || !is_digit(p[9]) || !is_digit(p[10]) || !is_digit(p[11]) ||
        (n > 12 && p[12] != ' '))
        return refuse(h, err, 400, HMTP_ERR_BAD_HTTP, 0, "the status line is not 'HTTP/1.x NNN reason'");
    h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    if (n > 13)
        copy_text(h->reason, sizeof h->reason, p + 13, n - 13);
    return 0;
}

static bool name_is(const uint8_t *p, size_t n, const char *name)
{
    return n == strlen(name) && strncasecmp((const char *)p, name, n) == 0;
}

/* One "Name: value" line at byte at of the head. */
static int header_line(const uint8_t *p, size_t n, size_t at, hmtp_upgrade_head *h, hmtp_error *err)
{
    const uint8_t *colon = memchr(p, ':', n);
    size_t name_len = colon ? (size_t)(colon - p) : 0;
    for (size_t i = 0; i < name_len; i++)
        if (is_space(p[i]))
            name_len = 0;
    if (name_len == 0)
        return refuse(h, err, 400, HMTP_ERR_BAD_HTTP, at, "a header line has no 'Name:'");
    const uint8_t *value = colon + 1;
    size_t value_len = n - name_len - 1;
    if (name_is(p, name_len, "Host")) {
        copy_text(h->host, sizeof h->host, value, value_len);
    } else if (name_is(p, name_len, "Upgrade")) {
        if (!h->upgrade[0])
            copy_text(h->upgrade, sizeof h->upgrade, value, value_len);
        if (list_has_token(value, value_len, HMTP_UPGRADE_TOKEN))
            h->upgrade_hmtp = true;
    } else if (name_is(p, name_len, "Content-Length")) {
        while (value_len > 0 && is_space(*value)) {
            value++;
            value_len--;
        }
        while (value_len > 0 && is_space(value[value_len - 1]))
            value_len--;
        uint64_t v = 0;
        /* 18 digits cannot overflow, and no upgrade has a body that large */
        if (value_len == 0 || value_len > 18)
            return refuse(h, err, 400, HMTP_ERR_BAD_HTTP, at, "Content-Length is not a decimal number");
        for (size_t i = 0; i < value_len; i++) {
            if (!is_digit(value[i]))
                return refuse(h, err, 400, HMTP_ERR_BAD_HTTP, at, "Content-Length is not a decimal number");
            v = v * 10 + (uint64_t)(value[i] - '0');
        }
        h->has_content_length = true;
        h->content_length = v;
    }
    return 0;
}

int hmtp_upgrade_head_parse(const uint8_t *buf, size_t len, hmtp_upgrade_head *h, hmtp_error *err)
{
    memset(h, 0, sizeof *h);
    hmtp_error_clear(err);
    if (len == 0)
        return 0;
    bool neither;
    h->kind = first_bytes_kind(buf, len, &neither);
    size_t limit = len < HMTP_UPGRADE_HEAD_MAX ? len : HMTP_UPGRADE_HEAD_MAX;
    size_t start = 0; /* of the current line */
    for (size_t i = 0; i < limit; i++) {
        uint8_t c = buf[i];
        if (c == '\r' && i + 1 < len && buf[i + 1] != '\n')
            return refuse(h, err, 400, HMTP_ERR_BAD_HTTP, i, "a CR that does not end a line");
        if (is_control(c)) {
            char what[64];
            snprintf(what, sizeof what, "control byte 0x%02x: not an HTTP head", c);
            return refuse(h, err, 400, HMTP_ERR_BAD_HTTP, i, what);
        }
        if (c != '\n')
            continue;
        size_t end = i > start && buf[i - 1] == '\r' ? i - 1 : i;
        const uint8_t *line = buf + start;
        int rc;
        if (start == 0) {
            if (neither)
                return refuse(h, err, 400, HMTP_ERR_BAD_HTTP, 0,
                              "not an HTTP head: it starts with neither 'METHOD ' nor 'HTTP/'");
            rc = h->kind == HMTP_UPGRADE_REQUEST ? request_line(line, end, h, err) : status_line(line, end, h, err);
        } else if (end == start) {
            h->head_len = i + 1;
            return 1;
        } else {
            rc = header_line(line, end - start, start, h, err);
        }
        if (rc < 0)
            return -1;
        start = i + 1;
    }
    if (len >= HMTP_UPGRADE_HEAD_MAX) {
        h->refusal = 431;
        hmtp_fail(err, HMTP_ERR_TOO_LARGE, HMTP_UPGRADE_HEAD_MAX,
                  "no end of the HTTP head (an empty line) in its first %d bytes", HMTP_UPGRADE_HEAD_MAX);
        return -1;
    }
    if (neither)
        return refuse(h, err, 400, HMTP_ERR_BAD_HTTP, 0, "not an HTTP head: it starts with neither 'METHOD ' nor 'HTTP/'");
    return 0;
}

int hmtp_upgrade_request_refusal(const hmtp_upgrade_head *h, const char **why)
{
    if (strcmp(h->method, "CONNECT") != 0 && strcmp(h->method, "GET") != 0) {
        *why = "an HMTP/0.9 upgrade uses CONNECT or GET";
        return 405;
    }
    if (!h->upgrade_hmtp) {
        /* Resin answers 404 when the Upgrade is not HMTP/0.9. */
        *why = h->upgrade[0] ? "this server only upgrades to HMTP/0.9"
                             : "this is an HMTP/0.9 endpoint: send 'Upgrade: HMTP/0.9'";
        return 404;
    }
    *why = NULL;
    return 0;
}

void hmtp_upgrade_write_request(hmtp_buf *out, const char *method, const char *path, const char *host)
{
    hmtp_buf_printf(out,
                    "%s %s HTTP/1.1\r\nHost: %s\r\nUpgrade: " HMTP_UPGRADE_TOKEN
                    "\r\nConnection: Upgrade\r\nContent-Length: 0\r\n\r\n",
                    method, path, host);
}

void hmtp_upgrade_format_date(int64_t t, char out[30])
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

const char *hmtp_upgrade_status_reason(int status)
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

void hmtp_upgrade_write_switching(hmtp_buf *out, const char *server, const char *date, bool echo_upgrade)
{
    hmtp_buf_printf(out, "HTTP/1.1 101 Switching Protocols\r\n");
    if (echo_upgrade)
        hmtp_buf_printf(out, "Upgrade: " HMTP_UPGRADE_TOKEN "\r\nConnection: Upgrade\r\n");
    hmtp_buf_printf(out, "Server: %s\r\nContent-Length: 0\r\nDate: %s\r\n\r\n", server, date);
}

void hmtp_upgrade_write_error(hmtp_buf *out, int status, const char *text, const char *server, const char *date)
{
    size_t body_len = strlen(text) + 1; /* the text and a newline */
    hmtp_buf_printf(out,
                    "HTTP/1.1 %d %s\r\nServer: %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    "Content-Length: %zu\r\nConnection: close\r\nDate: %s\r\n\r\n%s\n",
                    status, hmtp_upgrade_status_reason(status), server, body_len, date, text);
}
