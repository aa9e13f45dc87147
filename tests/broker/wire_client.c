/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "wire_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

bool wire_connect(wire_client *c, uint16_t port)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    hmtp_buf_init(&c->out);
    hmtp_buf_init(&c->raw);
    hmtp_buf_init(&c->pending);
    hessian_writer_init(&c->writer, &c->out);
    hessian_stream_init(&c->in, NULL);
    c->reader = hmtp_reader_new(HMTP_DEFAULT_MAX_PACKET);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0 || !c->reader) {
        snprintf(c->error, sizeof c->error, "socket: %s", strerror(errno));
        return false;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(c->error, sizeof c->error, "connect to port %u: %s", port, strerror(errno));
        return false;
    }
    return true;
}

void wire_close(wire_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    hessian_writer_free(&c->writer);
    hmtp_buf_free(&c->out);
    if (c->reader)
        hmtp_reader_free(c->reader);
    c->reader = NULL;
    hessian_stream_free(&c->in);
    hmtp_buf_free(&c->raw);
    hmtp_buf_free(&c->pending);
}

bool wire_send_raw(wire_client *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(c->error, sizeof c->error, "send: %s", strerror(errno));
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

int wire_fill(wire_client *c, int timeout_ms)
{
    if (c->eof)
        return -1;
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    int r = poll(&pfd, 1, timeout_ms);
    if (r == 0)
        return 0;
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    uint8_t buf[65536];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n <= 0) {
        if (n < 0)
            snprintf(c->error, sizeof c->error, "recv: %s", strerror(errno));
        else
            snprintf(c->error, sizeof c->error, "peer closed");
        c->eof = true;
        return -1;
    }
    if (c->pending_off == c->pending.len) {
        hmtp_buf_reset(&c->pending);
        c->pending_off = 0;
    }
    hmtp_buf_append(&c->raw, buf, (size_t)n);
    hmtp_buf_append(&c->pending, buf, (size_t)n);
    return (int)n;
}

bool wire_http(wire_client *c, const char *request, char *head, size_t cap, int timeout_ms)
{
    if (!wire_send_raw(c, request, strlen(request)))
        return false;
    for (;;) {
        const uint8_t *d = c->pending.data;
        size_t len = c->pending.len;
        for (size_t i = 0; i + 3 < len; i++) {
            if (memcmp(d + i, "\r\n\r\n", 4) == 0) {
                size_t hl = i + 4;
                size_t n = hl < cap - 1 ? hl : cap - 1;
                memcpy(head, d, n);
                head[n] = '\0';
                c->pending_off = hl;
                return true;
            }
        }
        int r = wire_fill(c, timeout_ms);
        if (r <= 0) {
            /* an error answer ends with the body and a close: return what came */
            size_t n = len < cap - 1 ? len : cap - 1;
            if (len)
                memcpy(head, d, n);
            head[len ? n : 0] = '\0';
            if (r == 0)
                snprintf(c->error, sizeof c->error, "no HTTP answer within %d ms", timeout_ms);
            return false;
        }
    }
}

bool wire_upgrade(wire_client *c)
{
    char head[1024];
    if (!wire_http(c, WIRE_UPGRADE_REQUEST, head, sizeof head, 5000))
        return false;
    if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
        snprintf(c->error, sizeof c->error, "upgrade answered '%.60s'", head);
        return false;
    }
    return true;
}

bool wire_send(wire_client *c, int32_t type, const char *to, const char *from, int64_t id,
               const hessian_value *value, const hessian_value *error_value)
{
    hmtp_packet p;
    hmtp_packet_init(&p);
    p.type = type;
    p.to = to;
    p.from = from;
    p.has_id = hmtp_type_has_id(type);
    p.id = id;
    p.value = (hessian_value *)value;
    p.error_value = (hessian_value *)error_value;
    hmtp_buf_reset(&c->out);
    bool ok = hmtp_packet_write(&c->writer, &p);
    p.value = p.error_value = NULL;
    hmtp_packet_free(&p);
    if (!ok) {
        snprintf(c->error, sizeof c->error, "could not encode a %s", hmtp_type_name(type));
        return false;
    }
    return wire_send_raw(c, c->out.data, c->out.len);
}

int wire_next_buffered(wire_client *c, hmtp_packet *p)
{
    while (c->pending_off < c->pending.len) {
        size_t consumed = 0;
        hmtp_frame f;
        hmtp_error err;
        hmtp_error_clear(&err);
        int r = hmtp_reader_push(c->reader, c->pending.data + c->pending_off,
                                 c->pending.len - c->pending_off, &consumed, &f, &err);
        c->pending_off += consumed;
        if (r < 0) {
            snprintf(c->error, sizeof c->error, "framing: %s", err.msg);
            return -1;
        }
        if (r == 0)
            return 0;
        hmtp_packet_init(p);
        if (hmtp_packet_decode(p, &c->in, hessian_stream_mark(&c->in), f.body, f.body_len,
                               &err) != HMTP_OK) {
            snprintf(c->error, sizeof c->error, "decode: %s", err.msg);
            hmtp_packet_free(p);
            return -1;
        }
        return 1;
    }
    return 0;
}

int wire_recv(wire_client *c, hmtp_packet *p, int timeout_ms)
{
    for (;;) {
        int r = wire_next_buffered(c, p);
        if (r != 0)
            return r;
        r = wire_fill(c, timeout_ms);
        if (r == 0) {
            snprintf(c->error, sizeof c->error, "no packet within %d ms", timeout_ms);
            return 0;
        }
        if (r < 0)
            return -1;
    }
}

bool wire_wait_closed(wire_client *c, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        int r = wire_fill(c, 50);
        if (r < 0)
            return true;
    }
    return false;
}

int wire_login(wire_client *c, const char *uid, const char *password, const char *resource,
               int64_t id, char *err_group, size_t cap)
{
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *cred = hessian_new_string(&a, password, password ? strlen(password) : 0);
    int type = cred ? wire_login_value(c, uid, resource, cred, id, err_group, cap) : -1;
    hmtp_arena_free(&a);
    return type;
}

int wire_login_value(wire_client *c, const char *uid, const char *resource,
                     hessian_value *credentials, int64_t id, char *err_group, size_t cap)
{
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *q = hmtp_new_auth_query(&a, uid, resource, credentials);
    bool sent = q && wire_send(c, HMTP_QUERY_SET, NULL, NULL, id, q, NULL);
    hmtp_arena_free(&a);
    if (!sent)
        return -1;
    hmtp_packet p;
    if (wire_recv(c, &p, 5000) != 1)
        return -1;
    int type = p.type;
    if (type == HMTP_QUERY_RESULT) {
        const char *jid = hessian_value_string(hessian_object_field(p.value, "_jid"));
        snprintf(c->jid, sizeof c->jid, "%s", jid ? jid : "");
    } else if (err_group && cap) {
        snprintf(err_group, cap, "%s", p.error.group ? p.error.group : "");
    }
    if (p.id != id)
        type = -1;
    hmtp_packet_free(&p);
    return type;
}

bool wire_open(wire_client *c, uint16_t port, const char *uid, const char *password,
               const char *resource)
{
    if (!wire_connect(c, port) || !wire_upgrade(c))
        return false;
    if (wire_login(c, uid, password, resource, 0, NULL, 0) != HMTP_QUERY_RESULT) {
        snprintf(c->error, sizeof c->error, "login of %s failed", uid);
        return false;
    }
    return true;
}

bool wire_ping(wire_client *c, int64_t id, int timeout_ms)
{
    hmtp_arena a;
    hmtp_arena_init(&a);
    const char *names[] = {"_payload"};
    hessian_value *q = hessian_new_object(&a, "hmtp.PingQuery", 1, names);
    hessian_object_set(q, "_payload", hessian_new_string(&a, "p", 1));
    bool ok = wire_send(c, HMTP_QUERY_GET, "service@localhost", NULL, id, q, NULL);
    hmtp_arena_free(&a);
    hmtp_packet p;
    ok = ok && wire_recv(c, &p, timeout_ms) == 1;
    if (ok) {
        ok = p.type == HMTP_QUERY_RESULT && p.id == id;
        hmtp_packet_free(&p);
    }
    return ok;
}
