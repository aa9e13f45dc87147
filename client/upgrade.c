/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "upgrade.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* A 101 answer is a status line and a few headers; a server that sends more
 * than this before the blank line is not speaking HMTP. */
#define UPGRADE_MAX_HEADER 16384
/* Enough of a refusal's body to tell a person why. */
#define UPGRADE_MAX_BODY 2048

int upgrade_format_request(char *out, size_t size, const char *method, const char *path, const char *host)
{
    return snprintf(out, size,
                    "%s %s HTTP/1.1\r\n"
                    "Host: %s\r\n"
                    "Upgrade: HMTP/0.9\r\n"
                    "Connection: Upgrade\r\n"
                    "Content-Length: 0\r\n"
                    "\r\n",
                    method, path, host);
}

/* Waits for fd to be ready for events; false on timeout or error. */
static bool wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR)
            return false;
    }
}

static bool send_all(int fd, const char *data, size_t len, int64_t deadline)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (!wait_fd(fd, POLLOUT, deadline))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

/* Reads into b; 1 data, 0 closed, -1 error or timeout. */
static int recv_some(int fd, hmtp_buf *b, int64_t deadline)
{
    char tmp[4096];
    for (;;) {
        ssize_t n = recv(fd, tmp, sizeof tmp, MSG_DONTWAIT);
        if (n > 0)
            return hmtp_buf_append(b, tmp, (size_t)n) ? 1 : -1;
        if (n == 0)
            return 0;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        if (!wait_fd(fd, POLLIN, deadline))
            return -1;
    }
}

static const char *find_header_end(const hmtp_buf *b)
{
    if (!b->data)
        return NULL;
    const char *p = memmem(b->data, b->len, "\r\n\r\n", 4);
    return p ? p + 4 : NULL;
}

/* Content-Length of a header block, -1 when absent. */
static long content_length(const char *head, size_t len)
{
    const char *p = head, *end = head + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        if ((size_t)(eol - p) > 15 && strncasecmp(p, "Content-Length:", 15) == 0)
            return strtol(p + 15, NULL, 10);
        p = eol + 1;
    }
    return -1;
}

/* The body, made printable: control bytes other than newline become '.'. */
static void append_printable(char *msg, size_t msg_size, const uint8_t *data, size_t len)
{
    size_t at = strlen(msg);
    for (size_t i = 0; i < len && at + 1 < msg_size; i++)
        msg[at++] = (data[i] == '\n' || (data[i] >= 0x20 && data[i] != 0x7f)) ? (char)data[i] : '.';
    msg[at] = '\0';
}

static upgrade_result refused(client_conn *c, size_t head_len, int64_t deadline, char *msg, size_t msg_size)
{
    hmtp_buf *b = &c->http;
    const char *eol = memchr(b->data, '\r', head_len);
    int status_len = (int)(eol ? (size_t)(eol - (const char *)b->data) : head_len);
    long want = content_length((const char *)b->data, head_len);
    if (want < 0 || want > UPGRADE_MAX_BODY)
        want = UPGRADE_MAX_BODY;
    while (b->len - head_len < (size_t)want && recv_some(c->fd, b, deadline) == 1)
        ;
    snprintf(msg, msg_size, "the server refused the upgrade: %.*s", status_len, (const char *)b->data);
    size_t body = b->len - head_len;
    if (body) {
        append_printable(msg, msg_size, (const uint8_t *)"\n", 1);
        append_printable(msg, msg_size, b->data + head_len, body > (size_t)want ? (size_t)want : body);
    }
    return UPGRADE_REFUSED;
}

upgrade_result upgrade_perform(client_session *s, client_conn *c, const char *method, const char *path,
                               const char *host, int64_t timeout_ms, char *msg, size_t msg_size)
{
    char req[2048];
    int n = upgrade_format_request(req, sizeof req, method, path, host);
    int64_t deadline = now_ms() + timeout_ms;
    if (n < 0 || (size_t)n >= sizeof req) {
        snprintf(msg, msg_size, "upgrade request for %s: path or host too long", c->name);
        return UPGRADE_FAILED;
    }
    if (!send_all(c->fd, req, (size_t)n, deadline)) {
        snprintf(msg, msg_size, "%s: sending the upgrade request failed: %s", c->name, strerror(errno));
        return UPGRADE_FAILED;
    }
    hmtp_buf_reset(&c->http);
    const char *end;
    while (!(end = find_header_end(&c->http))) {
        if (c->http.len > UPGRADE_MAX_HEADER) {
            snprintf(msg, msg_size, "%s: no end of the HTTP answer in its first %d bytes", c->name,
                     UPGRADE_MAX_HEADER);
            return UPGRADE_FAILED;
        }
        int r = recv_some(c->fd, &c->http, deadline);
        if (r <= 0) {
            if (c->http.len && memcmp(c->http.data, "HTTP/", c->http.len < 5 ? c->http.len : 5) == 0) {
                /* a refusal that closes without a blank line still says why */
                hmtp_buf_append(&c->http, "\r\n\r\n", 4);
                return refused(c, c->http.len, deadline, msg, msg_size);
            }
            snprintf(msg, msg_size, "%s: %s before the upgrade answer was complete (%zu bytes received)", c->name,
                     r == 0 ? "the server closed the connection" : "timed out or failed", c->http.len);
            return UPGRADE_FAILED;
        }
    }
    size_t head_len = (size_t)(end - (const char *)c->http.data);
    static const char ok[] = "HTTP/1.1 101";
    if (head_len < sizeof ok - 1 || memcmp(c->http.data, ok, sizeof ok - 1) != 0 ||
        !(c->http.data[sizeof ok - 1] == ' ' || c->http.data[sizeof ok - 1] == '\r'))
        return refused(c, head_len, deadline, msg, msg_size);
    c->upgraded = true;
    if (c->http.len > head_len)
        conn_feed(s, c, c->http.data + head_len, c->http.len - head_len);
    hmtp_buf_reset(&c->http);
    return UPGRADE_OK;
}
