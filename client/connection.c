/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "connection.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auto_answer.h"

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void session_init(client_session *s)
{
    memset(s, 0, sizeof *s);
    s->max_packet = HMTP_DEFAULT_MAX_PACKET;
}

static void conn_free(client_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    hmtp_buf_free(&c->pending);
    hessian_writer_free(&c->writer);
    hmtp_buf_free(&c->wire);
    hmtp_reader_free(c->reader);
    hessian_stream_free(&c->in);
    hmtp_buf_free(&c->http);
    for (size_t i = 0; i < c->ninbox; i++) {
        hmtp_packet_free(c->inbox[i]);
        free(c->inbox[i]);
    }
    free(c->inbox);
    free(c->jid);
    free(c->last_query_from);
    free(c->last_from);
    auto_answers_free(c->answers, c->nanswers);
    free(c->name);
    free(c);
}

void session_free(client_session *s)
{
    for (size_t i = 0; i < s->nconns; i++)
        conn_free(s->conns[i]);
    free(s->conns);
    memset(s, 0, sizeof *s);
}

client_conn *session_find(client_session *s, const char *name)
{
    for (size_t i = 0; i < s->nconns; i++)
        if (strcmp(s->conns[i]->name, name) == 0)
            return s->conns[i];
    return NULL;
}

client_conn *session_add(client_session *s, const char *name)
{
    client_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = -1;
    c->name = strdup(name);
    c->reader = hmtp_reader_new(s->max_packet);
    if (!c->name || !c->reader) {
        conn_free(c);
        return NULL;
    }
    hmtp_buf_init(&c->pending);
    hmtp_buf_init(&c->wire);
    hmtp_buf_init(&c->http);
    /* one writer per connection: class definitions are per direction */
    hessian_writer_init(&c->writer, &c->wire);
    hessian_stream_init(&c->in, NULL);
    for (size_t i = 0; i < s->nconns; i++) {
        if (strcmp(s->conns[i]->name, name) == 0) {
            conn_free(s->conns[i]);
            s->conns[i] = c;
            return c;
        }
    }
    client_conn **conns = realloc(s->conns, (s->nconns + 1) * sizeof *conns);
    if (!conns) {
        conn_free(c);
        return NULL;
    }
    s->conns = conns;
    s->conns[s->nconns++] = c;
    return c;
}

static bool wait_connected(int fd, int64_t deadline_ms, hmtp_tool_error *err, const char *what)
{
    for (;;) {
        int64_t left = deadline_ms - now_ms();
        if (left <= 0)
            return hmtp_tool_fail(err, "%s: connect timed out", what);
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return hmtp_tool_fail(err, "%s: poll: %s", what, strerror(errno));
        if (r == 0)
            continue;
        int soerr = 0;
        socklen_t len = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        if (soerr)
            return hmtp_tool_fail(err, "%s: %s", what, strerror(soerr));
        return true;
    }
}

bool conn_open(client_conn *c, const char *host, const char *port, int64_t timeout_ms, hmtp_tool_error *err)
{
    char what[300];
    snprintf(what, sizeof what, "connect %s to %s:%s", c->name, host, port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    int r = getaddrinfo(host, port, &hints, &res);
    if (r != 0)
        return hmtp_tool_fail(err, "%s: %s", what, gai_strerror(r));
    int64_t deadline = now_ms() + timeout_ms;
    bool ok = false;
    for (struct addrinfo *ai = res; ai && !ok; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            hmtp_tool_fail(err, "%s: socket: %s", what, strerror(errno));
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
            (errno == EINPROGRESS && wait_connected(fd, deadline, err, what))) {
            ok = true;
            c->fd = fd;
        } else {
            if (errno != EINPROGRESS)
                hmtp_tool_fail(err, "%s: %s", what, strerror(errno));
            close(fd);
        }
    }
    freeaddrinfo(res);
    if (ok) {
        /* one TCP segment per packet where possible: captures read better */
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return ok;
}

bool conn_queue(client_conn *c, const void *data, size_t len)
{
    return hmtp_buf_append(&c->pending, data, len) && !c->pending.failed;
}

/* Keeps the first failure: later ones are usually its consequences. */
__attribute__((format(printf, 2, 3))) static void set_error(client_conn *c, const char *fmt, ...)
{
    if (c->error.msg[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error.msg, sizeof c->error.msg, fmt, ap);
    va_end(ap);
}

static void deliver(client_session *s, client_conn *c, const hmtp_frame *f)
{
    hmtp_packet *p = malloc(sizeof *p);
    if (!p) {
        set_error(c, "out of memory (packet at stream offset %llu)", (unsigned long long)f->wire_offset);
        return;
    }
    hmtp_packet_init(p);
    hmtp_error err;
    hmtp_error_clear(&err);
    if (hmtp_packet_decode(p, &c->in, hessian_stream_mark(&c->in), f->body, f->body_len, &err) != HMTP_OK) {
        char detail[260];
        snprintf(detail, sizeof detail, "undecodable packet from the server: %s at body offset %zu", err.msg,
                 err.offset);
        set_error(c, "%s (packet at stream offset %llu)", detail, (unsigned long long)f->wire_offset);
        hmtp_packet_free(p);
        free(p);
        return;
    }
    if (s->on_packet)
        s->on_packet(s, c, p);
    if (c->ninbox == c->inbox_cap) {
        size_t cap = c->inbox_cap ? c->inbox_cap * 2 : 16;
        hmtp_packet **inbox = realloc(c->inbox, cap * sizeof *inbox);
        if (!inbox) {
            set_error(c, "out of memory (packet at stream offset %llu)", (unsigned long long)f->wire_offset);
            hmtp_packet_free(p);
            free(p);
            return;
        }
        c->inbox = inbox;
        c->inbox_cap = cap;
    }
    c->inbox[c->ninbox++] = p;
}

void conn_feed(client_session *s, client_conn *c, const uint8_t *data, size_t len)
{
    while (len && !c->error.msg[0]) {
        size_t used = 0;
        hmtp_frame f;
        hmtp_error err;
        hmtp_error_clear(&err);
        int r = hmtp_reader_push(c->reader, data, len, &used, &f, &err);
        if (r < 0) {
            set_error(c, "bad framing from the server: %s (stream offset %zu)", err.msg, err.offset);
            return;
        }
        data += used;
        len -= used;
        if (r == 1)
            deliver(s, c, &f);
    }
}

static void read_some(client_session *s, client_conn *c)
{
    uint8_t buf[65536];
    ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
        conn_feed(s, c, buf, (size_t)n);
    } else if (n == 0) {
        c->eof = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        set_error(c, "read: %s", strerror(errno));
        c->eof = true;
    }
}

static void write_some(client_conn *c)
{
    ssize_t n = send(c->fd, c->pending.data, c->pending.len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
        hmtp_buf_consume(&c->pending, (size_t)n);
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        set_error(c, "write: %s", strerror(errno));
        hmtp_buf_reset(&c->pending); /* nobody will ever take these bytes */
    }
}

/* A connection is read while it is upgraded, open and sane; after a decode
 * error its remaining bytes mean nothing, so they are left unread. */
static bool readable(const client_conn *c)
{
    return c->fd >= 0 && c->upgraded && !c->eof && !c->error.msg[0];
}

bool session_pump(client_session *s, int64_t deadline_ms, bool (*done)(client_session *, void *), void *ctx)
{
    struct pollfd *fds = calloc(s->nconns ? s->nconns : 1, sizeof *fds);
    client_conn **who = calloc(s->nconns ? s->nconns : 1, sizeof *who);
    bool result = false;
    if (!fds || !who)
        goto out;
    for (;;) {
        if (done && done(s, ctx)) {
            result = true;
            break;
        }
        int64_t left = deadline_ms - now_ms();
        if (left <= 0) {
            result = done == NULL;
            break;
        }
        nfds_t n = 0;
        for (size_t i = 0; i < s->nconns; i++) {
            client_conn *c = s->conns[i];
            short events = (short)((readable(c) ? POLLIN : 0) |
                                   (c->fd >= 0 && c->pending.len && !c->error.msg[0] ? POLLOUT : 0));
            if (!events)
                continue;
            fds[n].fd = c->fd;
            fds[n].events = events;
            fds[n].revents = 0;
            who[n++] = c;
        }
        if (n == 0 && done) /* nothing can change any more */
            break;
        int r = poll(fds, n, left > INT_MAX ? INT_MAX : (int)left);
        if (r < 0 && errno != EINTR)
            break;
        for (nfds_t i = 0; r > 0 && i < n; i++) {
            if (fds[i].revents & POLLOUT)
                write_some(who[i]);
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                if (readable(who[i]))
                    read_some(s, who[i]);
                else if (fds[i].revents & (POLLHUP | POLLERR))
                    set_error(who[i], "the connection failed while writing");
            }
        }
    }
out:
    free(fds);
    free(who);
    return result;
}

static bool flushed(client_session *s, void *ctx)
{
    (void)s;
    client_conn *c = ctx;
    return c->pending.len == 0 || c->error.msg[0] || c->fd < 0;
}

bool session_flush(client_session *s, client_conn *c, int64_t deadline_ms)
{
    if (!session_pump(s, deadline_ms, flushed, c))
        return false;
    return c->pending.len == 0 && !c->error.msg[0];
}

static bool closed_by_peer(client_session *s, void *ctx)
{
    (void)s;
    client_conn *c = ctx;
    return c->eof || c->error.msg[0] || c->fd < 0;
}

void client_conn_close(client_session *s, client_conn *c, bool abort, int64_t linger_ms)
{
    if (c->fd < 0)
        return;
    if (abort) {
        struct linger l = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    } else {
        int64_t deadline = now_ms() + linger_ms;
        session_flush(s, c, deadline);
        shutdown(c->fd, SHUT_WR);
        /* keep reading (and handling packets) until the server closes too */
        if (c->upgraded)
            session_pump(s, deadline, closed_by_peer, c);
    }
    close(c->fd);
    c->fd = -1;
    c->eof = true;
}

bool conn_send_packet(client_session *s, client_conn *c, const hmtp_packet *p, size_t truncate, hmtp_tool_error *err)
{
    hmtp_buf_reset(&c->wire);
    if (!hmtp_packet_write(&c->writer, p) || c->wire.failed || c->writer.failed)
        return hmtp_tool_fail(err, "writing the packet failed (out of memory, or an object of unknown class)");
    size_t len = c->wire.len < truncate ? c->wire.len : truncate;
    if (s->on_send)
        s->on_send(s, c, p, c->wire.len, len);
    bool ok = conn_queue(c, c->wire.data, len);
    hmtp_buf_reset(&c->wire);
    return ok;
}

void conn_inbox_remove(client_conn *c, size_t index)
{
    hmtp_packet_free(c->inbox[index]);
    free(c->inbox[index]);
    memmove(&c->inbox[index], &c->inbox[index + 1], (c->ninbox - index - 1) * sizeof *c->inbox);
    c->ninbox--;
}

static int64_t link_next_id(const client_link *l)
{
    client_conn *c = l->conn;
    return c->next_id++;
}

static bool link_send_query(const client_link *l, const hmtp_packet *q, hmtp_tool_error *err)
{
    client_conn *c = l->conn;
    if (!conn_send_packet(l->session, c, q, SIZE_MAX, err))
        return false;
    c->has_last_sent = true;
    c->last_sent_id = q->id;
    return true;
}

typedef struct answer_wait {
    client_conn *c;
    int64_t id;
    size_t index; /* where in the inbox the answer is */
} answer_wait;

static bool answered(client_session *s, void *ctx)
{
    (void)s;
    answer_wait *w = ctx;
    for (size_t i = 0; i < w->c->ninbox; i++) {
        const hmtp_packet *p = w->c->inbox[i];
        if ((p->type == HMTP_QUERY_RESULT || p->type == HMTP_QUERY_ERROR) && p->has_id && p->id == w->id) {
            w->index = i;
            return true;
        }
    }
    return w->c->eof || w->c->error.msg[0] || w->c->fd < 0;
}

static hmtp_packet *link_await_answer(const client_link *l, int64_t id, const char *what, int64_t timeout_ms,
                                      hmtp_tool_error *err)
{
    client_conn *c = l->conn;
    answer_wait w = {.c = c, .id = id, .index = SIZE_MAX};
    int64_t deadline = now_ms() + timeout_ms;
    if (!session_pump(l->session, deadline, answered, &w) || w.index == SIZE_MAX) {
        hmtp_tool_fail(err, "no answer to the %s (id=%lld) %s", what, (long long)id,
                       c->error.msg[0] ? c->error.msg
                       : c->eof   ? "before the server closed the connection"
                                  : "in time");
        return NULL;
    }
    hmtp_packet *p = c->inbox[w.index];
    memmove(&c->inbox[w.index], &c->inbox[w.index + 1], (c->ninbox - w.index - 1) * sizeof *c->inbox);
    c->ninbox--;
    return p;
}

client_link client_conn_link(client_session *s, client_conn *c)
{
    return (client_link){.name = c->name,
                         .session = s,
                         .conn = c,
                         .next_id = link_next_id,
                         .send_query = link_send_query,
                         .await_answer = link_await_answer};
}
