/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "link.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "http_upgrade.h"

#define READ_SIZE 65536

void link_init(replay_link *l, const link_events *ev, void *ctx, int *pending_ops, unsigned timeout_ms)
{
    memset(l, 0, sizeof *l);
    l->ev = ev;
    l->ctx = ctx;
    l->pending_ops = pending_ops;
    l->timeout_ms = timeout_ms;
    hmtp_buf_init(&l->head);
    hmtp_buf_init(&l->outq);
}

void link_free(replay_link *l)
{
    hmtp_buf_free(&l->head);
    hmtp_buf_free(&l->outq);
    if (l->reader)
        hmtp_reader_free(l->reader);
    g_free(l->rbuf);
    if (l->cancel)
        g_object_unref(l->cancel);
}

static void watch_stop(replay_link *l)
{
    if (l->watch)
        g_source_remove(l->watch);
    l->watch = 0;
}

static gboolean on_watch(gpointer data)
{
    replay_link *l = data;
    l->watch = 0;
    l->ev->failed(l->ctx, !l->conn ? LINK_CONNECT_TIMEOUT : !l->upgraded ? LINK_UPGRADE_TIMEOUT : LINK_WRITE_STALLED,
                  NULL);
    return G_SOURCE_REMOVE;
}

static void watch_start(replay_link *l)
{
    watch_stop(l);
    l->watch = g_timeout_add(l->timeout_ms, on_watch, l);
}

void link_close(replay_link *l)
{
    if (l->closed)
        return;
    l->closed = true;
    watch_stop(l);
    if (l->cancel)
        g_cancellable_cancel(l->cancel);
    if (l->conn) {
        g_io_stream_close(G_IO_STREAM(l->conn), NULL, NULL);
        g_object_unref(l->conn);
        l->conn = NULL;
    }
    if (!l->reading) {
        g_free(l->rbuf);
        l->rbuf = NULL;
    }
    if (l->reader) {
        hmtp_reader_free(l->reader);
        l->reader = NULL;
    }
}

/* A reset or broken pipe is the target hanging up, said plainly. */
static bool is_peer_close(const GError *error)
{
    return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
           g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
}

/* ---------------------------------------------------------------- writing */

static void on_written(GObject *src, GAsyncResult *res, gpointer data)
{
    replay_link *l = data;
    GError *error = NULL;
    gssize n = g_output_stream_write_finish(G_OUTPUT_STREAM(src), res, &error);
    (*l->pending_ops)--;
    l->writing = false;
    if (l->closed) {
        g_clear_error(&error);
        l->ev->settled(l->ctx);
        return;
    }
    if (n < 0) {
        l->ev->failed(l->ctx, is_peer_close(error) ? LINK_PEER_CLOSED : LINK_WRITE_ERROR, error->message);
        g_error_free(error);
        return;
    }
    if (l->upgraded)
        watch_stop(l); /* the target reads: link_flush times the next write */
    l->out_off += (size_t)n;
    if (l->out_off == l->outq.len) {
        hmtp_buf_reset(&l->outq);
        l->out_off = 0;
    }
    l->ev->wrote(l->ctx, (size_t)n);
}

void link_queue(replay_link *l, const uint8_t *data, size_t len)
{
    hmtp_buf_append(&l->outq, data, len);
}

void link_flush(replay_link *l)
{
    if (l->writing || l->closed || !l->conn || l->out_off == l->outq.len)
        return;
    l->writing = true;
    if (l->upgraded)
        watch_start(l); /* before the 101 the upgrade's deadline covers the request */
    (*l->pending_ops)++;
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(l->conn));
    g_output_stream_write_async(out, l->outq.data + l->out_off, l->outq.len - l->out_off, G_PRIORITY_DEFAULT,
                                l->cancel, on_written, l);
}

/* ---------------------------------------------------------------- reading */

static void take_hmtp_bytes(replay_link *l, const uint8_t *data, size_t len)
{
    while (len > 0 && !l->closed) {
        size_t used = 0;
        hmtp_frame f;
        hmtp_error err;
        hmtp_error_clear(&err);
        int r = hmtp_reader_push(l->reader, data, len, &used, &f, &err);
        data += used;
        len -= used;
        if (r < 0) {
            char msg[320];
            snprintf(msg, sizeof msg, "the target sent bytes that are not HMTP framing (stream offset %zu): %s",
                     err.offset, err.msg);
            l->ev->failed(l->ctx, LINK_BAD_FRAMING, msg);
            return;
        }
        if (r == 0)
            break;
        l->ev->frame(l->ctx, &f);
    }
}

static void take_upgrade_bytes(replay_link *l, const uint8_t *data, size_t len)
{
    hmtp_buf_append(&l->head, data, len);
    hmtp_upgrade_head h;
    int r = hmtp_upgrade_head_parse(l->head.data, l->head.len, &h, NULL);
    if (r == 0)
        return;
    if (r < 0 || h.kind != HMTP_UPGRADE_RESPONSE) {
        l->ev->failed(l->ctx, LINK_NOT_HTTP, NULL);
        return;
    }
    if (h.status != 101) {
        char detail[200];
        snprintf(detail, sizeof detail, "HTTP %d %s", h.status, h.reason);
        l->ev->failed(l->ctx, LINK_REFUSED, detail);
        return;
    }
    l->upgraded = true;
    watch_stop(l);
    size_t rest = l->head.len - h.head_len;
    if (rest)
        take_hmtp_bytes(l, l->head.data + h.head_len, rest);
    if (!l->closed)
        l->ev->progressed(l->ctx);
}

static void read_more(replay_link *l);

static void on_read(GObject *src, GAsyncResult *res, gpointer data)
{
    replay_link *l = data;
    GError *error = NULL;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(src), res, &error);
    (*l->pending_ops)--;
    l->reading = false;
    if (l->closed) {
        g_clear_error(&error);
        g_free(l->rbuf);
        l->rbuf = NULL;
        l->ev->settled(l->ctx);
        return;
    }
    if (n < 0) {
        l->ev->failed(l->ctx, l->upgraded && is_peer_close(error) ? LINK_PEER_CLOSED : LINK_READ_ERROR, error->message);
        g_error_free(error);
        return;
    }
    if (n == 0) {
        if (!l->upgraded)
            l->ev->failed(l->ctx, LINK_UPGRADE_CLOSED, NULL);
        else
            l->ev->closed(l->ctx);
        return;
    }
    if (l->upgraded) {
        take_hmtp_bytes(l, l->rbuf, (size_t)n);
        if (!l->closed)
            l->ev->progressed(l->ctx);
    } else {
        take_upgrade_bytes(l, l->rbuf, (size_t)n);
    }
    read_more(l);
}

static void read_more(replay_link *l)
{
    if (l->closed || !l->conn)
        return;
    (*l->pending_ops)++;
    l->reading = true;
    GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(l->conn));
    g_input_stream_read_async(in, l->rbuf, READ_SIZE, G_PRIORITY_DEFAULT, l->cancel, on_read, l);
}

/* ---------------------------------------------------------------- connecting */

typedef struct upgrade_request {
    replay_link *link;
    hmtp_buf request; /* written when the connection is there */
} upgrade_request;

static void on_connected(GObject *src, GAsyncResult *res, gpointer data)
{
    upgrade_request *u = data;
    replay_link *l = u->link;
    GError *error = NULL;
    GSocketConnection *conn = g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(src), res, &error);
    (*l->pending_ops)--;
    if (l->closed) {
        if (conn)
            g_object_unref(conn);
        g_clear_error(&error);
        hmtp_buf_free(&u->request);
        g_free(u);
        l->ev->settled(l->ctx);
        return;
    }
    if (!conn) {
        hmtp_buf_free(&u->request);
        g_free(u);
        l->ev->failed(l->ctx, LINK_CONNECT_ERROR, error->message);
        g_error_free(error);
        return;
    }
    l->conn = conn;
    GSocket *sock = g_socket_connection_get_socket(conn);
    /* The client's timeout was for connecting; replies are timed by --timeout. */
    g_socket_set_timeout(sock, 0);
    g_socket_set_option(sock, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
    hmtp_buf_append(&l->outq, u->request.data, u->request.len);
    hmtp_buf_free(&u->request);
    g_free(u);
    l->reader = hmtp_reader_new(HMTP_DEFAULT_MAX_PACKET);
    l->rbuf = g_malloc(READ_SIZE);
    link_flush(l);
    read_more(l);
}

void link_connect(replay_link *l, GSocketClient *client, const char *target, const char *path, const char *host)
{
    upgrade_request *u = g_new0(upgrade_request, 1);
    u->link = l;
    hmtp_buf_init(&u->request);
    hmtp_upgrade_write_request(&u->request, "CONNECT", path, host);
    l->requested = true;
    l->cancel = g_cancellable_new();
    (*l->pending_ops)++;
    watch_start(l);
    g_socket_client_connect_to_host_async(client, target, 0, l->cancel, on_connected, u);
}
