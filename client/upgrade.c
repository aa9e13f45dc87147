/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "upgrade.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http_upgrade.h"

/* Enough of a refusal's body to tell a person why. */
#define UPGRADE_MAX_BODY 2048

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

/* The body, made printable: control bytes other than newline become '.'. */
static void append_printable(hmtp_tool_error *err, const uint8_t *data, size_t len)
{
    size_t at = strlen(err->msg);
    for (size_t i = 0; i < len && at + 1 < sizeof err->msg; i++)
        err->msg[at++] = (data[i] == '\n' || (data[i] >= 0x20 && data[i] != 0x7f)) ? (char)data[i] : '.';
    err->msg[at] = '\0';
}

/* The server answered head_len bytes of head (h as far as it was read) but
 * no 101: its status line and as much body as it announced say why. */
static upgrade_result refused(client_conn *c, const hmtp_upgrade_head *h, size_t head_len, int64_t deadline,
                              hmtp_tool_error *err)
{
    hmtp_buf *b = &c->http;
    size_t status_len = 0;
    while (status_len < head_len && b->data[status_len] != '\r' && b->data[status_len] != '\n')
        status_len++;
    size_t want = UPGRADE_MAX_BODY;
    if (h->has_content_length && h->content_length < want)
        want = (size_t)h->content_length;
    while (b->len - head_len < want && recv_some(c->fd, b, deadline) == 1)
        ;
    hmtp_tool_fail(err, "the server refused the upgrade: %.*s", (int)status_len, (const char *)b->data);
    size_t body = b->len - head_len;
    if (body) {
        append_printable(err, (const uint8_t *)"\n", 1);
        append_printable(err, b->data + head_len, body > want ? want : body);
    }
    return UPGRADE_REFUSED;
}

upgrade_result upgrade_perform(client_session *s, client_conn *c, const char *method, const char *path,
                               const char *host, int64_t timeout_ms, hmtp_tool_error *err)
{
    int64_t deadline = now_ms() + timeout_ms;
    hmtp_buf req;
    hmtp_buf_init(&req);
    hmtp_upgrade_write_request(&req, method, path, host);
    if (req.failed || req.len > HMTP_UPGRADE_HEAD_MAX) {
        hmtp_buf_free(&req);
        hmtp_tool_fail(err, "upgrade request for %s: path or host too long", c->name);
        return UPGRADE_FAILED;
    }
    bool sent = send_all(c->fd, (const char *)req.data, req.len, deadline);
    hmtp_buf_free(&req);
    if (!sent) {
        hmtp_tool_fail(err, "%s: sending the upgrade request failed: %s", c->name, strerror(errno));
        return UPGRADE_FAILED;
    }
    hmtp_buf_reset(&c->http);
    hmtp_upgrade_head h;
    hmtp_error head_err;
    int r;
    while ((r = hmtp_upgrade_head_parse(c->http.data, c->http.len, &h, &head_err)) == 0) {
        int got = recv_some(c->fd, &c->http, deadline);
        if (got <= 0) {
            if (h.kind == HMTP_UPGRADE_RESPONSE) /* a refusal that closes without an empty line still says why */
                return refused(c, &h, c->http.len, deadline, err);
            hmtp_tool_fail(err, "%s: %s before the upgrade answer was complete (%zu bytes received)", c->name,
                           got == 0 ? "the server closed the connection" : "timed out or failed", c->http.len);
            return UPGRADE_FAILED;
        }
    }
    if (r < 0 || h.kind != HMTP_UPGRADE_RESPONSE) {
        hmtp_tool_fail(err, "%s: the answer to the upgrade is not an HTTP status: %s", c->name,
                       r < 0 ? head_err.msg : "it is a request");
        return UPGRADE_FAILED;
    }
    if (h.status != 101)
        return refused(c, &h, h.head_len, deadline, err);
    c->upgraded = true;
    if (c->http.len > h.head_len)
        conn_feed(s, c, c->http.data + h.head_len, c->http.len - h.head_len);
    hmtp_buf_reset(&c->http);
    return UPGRADE_OK;
}
