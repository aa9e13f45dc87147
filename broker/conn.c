/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "conn.h"

#include <stdarg.h>
#include <stdio.h>

#include "broker.h"

conn *conn_new(broker *b, GSocket *socket, uint64_t id)
{
    conn *c = g_new0(conn, 1);
    c->b = b;
    c->id = id;
    c->socket = socket;
    c->phase = CONN_HTTP;
    hmtp_buf_init(&c->http_in);
    hmtp_buf_init(&c->out);
    hessian_stream_init(&c->in_stream, NULL);
    hessian_writer_init(&c->writer, &c->out);
    c->services = g_ptr_array_new();
    c->peer_targets = g_ptr_array_new_with_free_func(g_free);
    c->presence_subscribers = g_ptr_array_new_with_free_func(g_free);

    GSocketAddress *addr = g_socket_get_remote_address(socket, NULL);
    if (addr && G_IS_INET_SOCKET_ADDRESS(addr)) {
        GInetSocketAddress *ia = G_INET_SOCKET_ADDRESS(addr);
        char *host = g_inet_address_to_string(g_inet_socket_address_get_address(ia));
        snprintf(c->peer, sizeof c->peer, "%s:%u", host, g_inet_socket_address_get_port(ia));
        snprintf(c->ip, sizeof c->ip, "%s", host);
        g_free(host);
    } else {
        snprintf(c->peer, sizeof c->peer, "unknown");
        snprintf(c->ip, sizeof c->ip, "unknown");
    }
    if (addr)
        g_object_unref(addr);
    hmtp_buf_init(&c->held_input);
    c->accepted_us = c->active_us = g_get_monotonic_time();
    return c;
}

static void drop_source(GSource **s)
{
    if (*s) {
        g_source_destroy(*s);
        g_source_unref(*s);
        *s = NULL;
    }
}

void conn_free(conn *c)
{
    drop_source(&c->in_source);
    drop_source(&c->out_source);
    drop_source(&c->hold_timer);
    hmtp_buf_free(&c->held_input);
    g_free(c->close_after_flush);
    if (c->socket) {
        g_socket_close(c->socket, NULL);
        g_object_unref(c->socket);
    }
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
        GError *err = NULL;
        gssize n = g_socket_send(c->socket, (const gchar *)c->out.data + c->out_sent,
                                 conn_pending(c), NULL, &err);
        if (n < 0) {
            bool would_block = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
            if (!would_block && !c->closing)
                conn_close(c, "send failed: %s", err->message);
            g_error_free(err);
            if (!would_block)
                return false;
            break;
        }
        c->out_sent += (size_t)n;
        c->bytes_out += (uint64_t)n;
        c->active_us = g_get_monotonic_time();
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
            c->drain_us = g_get_monotonic_time();
            g_socket_shutdown(c->socket, FALSE, TRUE, NULL);
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
    if (c->closing) {
        drop_source(&c->in_source);
        drop_source(&c->out_source);
        return;
    }
    bool want_out = conn_pending(c) > 0;
    if (want_out && !c->out_source) {
        c->out_source = g_socket_create_source(c->socket, G_IO_OUT, NULL);
        g_source_set_callback(c->out_source, (GSourceFunc)(void (*)(void))c->b->handlers->writable, c, NULL);
        g_source_attach(c->out_source, NULL);
    } else if (!want_out) {
        drop_source(&c->out_source);
    }
    bool want_in = !c->hold_timer &&
                   (c->draining || (!c->close_after_flush && conn_pending(c) <= c->b->cfg->output_limit / 2));
    if (want_in && !c->in_source) {
        c->in_source = g_socket_create_source(c->socket, G_IO_IN, NULL);
        g_source_set_callback(c->in_source, (GSourceFunc)(void (*)(void))c->b->handlers->readable, c,
                              NULL);
        g_source_attach(c->in_source, NULL);
    } else if (!want_in) {
        drop_source(&c->in_source);
    }
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
    drop_source(&c->hold_timer);
    c->hold_timer = g_timeout_source_new(ms);
    g_source_set_callback(c->hold_timer, c->b->handlers->hold_end, c, NULL);
    g_source_attach(c->hold_timer, NULL);
    conn_update_watches(c);
}

void conn_account(conn *c)
{
    size_t now = c->http_in.cap + c->out.cap + c->held_input.cap + (c->reader ? hmtp_reader_buffered(c->reader) : 0);
    c->b->held = c->b->held - c->held + now;
    c->held = now;
}
