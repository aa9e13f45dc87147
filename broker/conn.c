/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"

/* The drain after a last answer lasts this long at most. */
#define CONN_DRAIN_MS 2000u

static void name_peer(conn *c)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    char host[INET6_ADDRSTRLEN] = "";
    unsigned port = 0;
    if (getpeername(c->fd, (struct sockaddr *)&sa, &len) == 0) {
        if (sa.ss_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)&sa;
            inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
            port = ntohs(in->sin_port);
        } else if (sa.ss_family == AF_INET6) {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&sa;
            inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
            port = ntohs(in6->sin6_port);
        }
    }
    if (host[0]) {
        snprintf(c->peer, sizeof c->peer, "%s:%u", host, port);
        snprintf(c->ip, sizeof c->ip, "%s", host);
    } else {
        snprintf(c->peer, sizeof c->peer, "unknown");
        snprintf(c->ip, sizeof c->ip, "unknown");
    }
}

conn *conn_new(broker *b, int fd, uint64_t id)
{
    conn *c = g_new0(conn, 1);
    c->b = b;
    c->id = id;
    c->fd = fd;
    c->phase = CONN_HTTP;
    hmtp_buf_init(&c->http_in);
    hmtp_buf_init(&c->out);
    hessian_stream_init(&c->in_stream, NULL);
    hessian_writer_init(&c->writer, &c->out);
    c->services = g_ptr_array_new();
    c->peer_targets = g_ptr_array_new_with_free_func(g_free);
    c->presence_subscribers = g_ptr_array_new_with_free_func(g_free);
    name_peer(c);
    hmtp_buf_init(&c->held_input);
    c->accepted_ms = c->active_ms = hmtp_loop_now_ms();
    return c;
}

static void drop_timer(conn *c, hmtp_timer **t)
{
    if (*t) {
        hmtp_loop_cancel(c->b->loop, *t);
        *t = NULL;
    }
}

void conn_free(conn *c)
{
    if (c->watching)
        hmtp_loop_unwatch(c->b->loop, c->fd);
    drop_timer(c, &c->hold_timer);
    drop_timer(c, &c->deadline);
    hmtp_buf_free(&c->held_input);
    g_free(c->close_after_flush);
    close(c->fd);
    hmtp_buf_free(&c->http_in);
    if (c->reader)
        hmtp_reader_free(c->reader);
    hessian_stream_free(&c->in_stream);
    hessian_writer_free(&c->writer);
    hmtp_buf_free(&c->out);
    g_free(c->jid);
    g_ptr_array_free(c->services, TRUE);
    g_ptr_array_free(c->peer_targets, TRUE);
    g_ptr_array_free(c->presence_subscribers, TRUE);
    g_free(c->close_reason);
    g_free(c);
}

size_t conn_pending(const conn *c)
{
    return c->out.len - c->out_sent;
}

uint64_t conn_subscription_count(const conn *c)
{
    return (uint64_t)c->services->len + c->peer_targets->len;
}

void conn_close(conn *c, const char *fmt, ...)
{
    if (c->closing)
        return;
    c->closing = true;
    va_list ap;
    va_start(ap, fmt);
    c->close_reason = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_queue_push_tail(&c->b->doomed, c);
}

void conn_mark_dirty(conn *c)
{
    if (!c->queued_dirty) {
        c->queued_dirty = true;
        g_queue_push_tail(&c->b->dirty, c);
    }
}

bool conn_flush(conn *c)
{
    if (c->out.failed) {
        conn_close(c, "out of memory while queueing output");
        return false;
    }
    if (c->hold_timer) {
        /* a refused login's answer waits out its delay too, so a guesser on
           a fresh link per try still learns nothing sooner */
        conn_account(c);
        return true;
    }
    while (conn_pending(c) > 0) {
        ssize_t n = send(c->fd, c->out.data + c->out_sent, conn_pending(c), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (!c->closing)
                conn_close(c, "send failed: %s", g_strerror(errno));
            return false;
        }
        c->out_sent += (size_t)n;
        c->bytes_out += (uint64_t)n;
        c->active_ms = hmtp_loop_now_ms();
    }
    if (conn_pending(c) == 0) {
        /* a burst's buffer is not kept by an idle link */
        if (c->out.cap > HMTP_READER_KEEP)
            hmtp_buf_free(&c->out);
        else
            hmtp_buf_reset(&c->out);
        c->out_sent = 0;
        if (c->close_after_flush && !c->draining) {
            c->draining = true;
            c->drain_ms = hmtp_loop_now_ms();
            shutdown(c->fd, SHUT_WR);
            conn_arm_deadline(c);
        }
    } else if (c->out_sent > 65536 && c->out_sent * 2 > c->out.len) {
        /* Drop what was sent so a long-lived slow reader does not keep it. */
        hmtp_buf_consume(&c->out, c->out_sent);
        c->out_sent = 0;
    }
    conn_update_watches(c);
    conn_account(c);
    return true;
}

void conn_update_watches(conn *c)
{
    unsigned want = 0;
    if (!c->closing && !c->hold_timer) {
        /* held: the answer that waits goes out when the hold ends */
        if (conn_pending(c) > 0)
            want |= HMTP_LOOP_OUT;
        if (c->draining || (!c->close_after_flush && conn_pending(c) <= c->b->cfg->output_limit / 2))
            want |= HMTP_LOOP_IN;
    }
    if (want == c->watching)
        return;
    /* Not watched at all rather than for nothing: epoll reports a hang-up
     * whatever the interest, and would report it on every turn. */
    if (want == 0) {
        hmtp_loop_unwatch(c->b->loop, c->fd);
    } else if (!hmtp_loop_watch(c->b->loop, c->fd, want, c->b->handlers->io, c)) {
        conn_close(c, "cannot watch the socket: %s", g_strerror(errno));
        if (c->watching)
            hmtp_loop_unwatch(c->b->loop, c->fd);
        want = 0;
    }
    c->watching = want;
}

void conn_close_after_flush(conn *c, const char *reason)
{
    if (c->close_after_flush || c->closing)
        return;
    c->close_after_flush = g_strdup(reason);
    conn_mark_dirty(c);
}

void conn_hold(conn *c, unsigned ms)
{
    drop_timer(c, &c->hold_timer);
    c->hold_timer = hmtp_loop_timer(c->b->loop, ms, c->b->handlers->hold_end, c);
    conn_update_watches(c);
}

/* The earliest deadline that applies to c now; 0: none. */
static uint64_t next_deadline(const conn *c)
{
    const broker_config *cfg = c->b->cfg;
    if (c->draining)
        return c->drain_ms + CONN_DRAIN_MS;
    uint64_t due = UINT64_MAX;
    if (c->phase == CONN_HTTP && cfg->http_timeout)
        due = MIN(due, c->accepted_ms + cfg->http_timeout * 1000ull);
    if (!c->jid && cfg->login_timeout)
        due = MIN(due, c->accepted_ms + cfg->login_timeout * 1000ull);
    if (c->jid && cfg->idle_timeout)
        due = MIN(due, c->active_ms + cfg->idle_timeout * 1000ull);
    return due == UINT64_MAX ? 0 : due;
}

void conn_arm_deadline(conn *c)
{
    if (c->closing)
        return;
    uint64_t due = next_deadline(c);
    if (c->deadline && (due == 0 || c->deadline_ms <= due))
        return; /* fires no later than needed; conn_expire looks again then */
    drop_timer(c, &c->deadline);
    if (due == 0)
        return;
    uint64_t now = hmtp_loop_now_ms();
    c->deadline = hmtp_loop_timer(c->b->loop, due > now ? due - now : 0, c->b->handlers->deadline, c);
    c->deadline_ms = due;
}

void conn_expire(conn *c)
{
    c->deadline = NULL; /* the loop frees a timer as it fires */
    if (c->closing)
        return;
    const broker_config *cfg = c->b->cfg;
    uint64_t now = hmtp_loop_now_ms(), age = now - c->accepted_ms;
    if (c->draining) {
        if (now - c->drain_ms >= CONN_DRAIN_MS)
            conn_close(c, "%s", c->close_after_flush);
    } else if (c->phase == CONN_HTTP && cfg->http_timeout && age >= cfg->http_timeout * 1000ull) {
        conn_close(c, "no complete HTTP request within %u s (--http-timeout)", cfg->http_timeout);
    } else if (!c->jid && cfg->login_timeout && age >= cfg->login_timeout * 1000ull) {
        conn_close(c, "no login within %u s (--login-timeout)", cfg->login_timeout);
    } else if (c->jid && cfg->idle_timeout && now - c->active_ms >= cfg->idle_timeout * 1000ull) {
        conn_close(c, "idle for %u s: no byte in or out (--idle-timeout)", cfg->idle_timeout);
    }
    conn_arm_deadline(c); /* nothing passed yet: the next one */
}

void conn_account(conn *c)
{
    size_t now = c->http_in.cap + c->out.cap + c->held_input.cap + (c->reader ? hmtp_reader_buffered(c->reader) : 0);
    c->b->held = c->b->held - c->held + now;
    c->held = now;
}
