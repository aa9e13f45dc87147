/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "broker.h"

#include <signal.h>
#include <string.h>
#include <time.h>

#include <glib-unix.h>

#include "http_upgrade.h"
#include "log.h"
#include "pending.h"
#include "presence.h"
#include "pubsub.h"
#include "router.h"

static void refresh_date(broker *b)
{
    /* Fixed unless asked: the same input must give the same bytes. */
    http_format_date(b->cfg->real_date ? (int64_t)time(NULL) : 0, b->date);
}

static void teardown(broker *b, conn *c)
{
    broker_log("conn %llu closed: %s (in %llu bytes %llu packets, out %llu bytes %llu packets)",
               (unsigned long long)c->id, c->close_reason ? c->close_reason : "closed",
               (unsigned long long)c->bytes_in, (unsigned long long)c->packets_in,
               (unsigned long long)c->bytes_out, (unsigned long long)c->packets_out);
    presence_client_gone(c);
    pending_fail_all(c);
    router_remove(b, c);
    if (c->queued_dirty)
        g_queue_remove(&b->dirty, c);
    g_queue_delete_link(&b->conns, c->link);
    b->nconns--;
    conn_free(c);
}

void broker_settle(broker *b)
{
    while (b->dirty.length > 0 || b->doomed.length > 0) {
        conn *c;
        while ((c = g_queue_pop_head(&b->dirty)) != NULL) {
            c->queued_dirty = false;
            if (!c->closing)
                conn_flush(c);
        }
        /* Tearing one down may send presenceUnavailable to others: the outer
         * loop flushes those and reaps any it pushed over their limit. */
        if ((c = g_queue_pop_head(&b->doomed)) != NULL)
            teardown(b, c);
    }
}

/* The listener is full: say so in HTTP and close, without keeping state. */
static void refuse_connection(broker *b, GSocket *s, const char *peer_note)
{
    hmtp_buf out;
    hmtp_buf_init(&out);
    http_write_error(&out, 503, "too many connections", b->cfg->server_header, b->date);
    g_socket_send(s, (const gchar *)out.data, out.len, NULL, NULL); /* best effort */
    hmtp_buf_free(&out);
    g_socket_close(s, NULL);
    broker_log("refused a connection%s: %u connections open (limit %u)", peer_note, b->nconns,
               b->cfg->max_connections);
}

static gboolean on_accept(GSocket *listener, GIOCondition cond, gpointer data);

static void watch_listener(broker *b)
{
    b->accept_source = g_socket_create_source(b->listener, G_IO_IN, NULL);
    g_source_set_callback(b->accept_source, (GSourceFunc)(void (*)(void))on_accept, b, NULL);
    g_source_attach(b->accept_source, NULL);
}

static gboolean resume_accepting(gpointer data)
{
    broker *b = data;
    b->accept_pause = 0;
    watch_listener(b);
    return G_SOURCE_REMOVE;
}

/* accept() failing for want of descriptors (EMFILE) would fire again at
 * once: stop watching the listener for a moment instead of spinning. */
static void pause_accepting(broker *b, const char *why)
{
    broker_log("accept failed: %s; not accepting for 100 ms", why);
    g_source_destroy(b->accept_source);
    g_source_unref(b->accept_source);
    b->accept_source = NULL;
    b->accept_pause = g_timeout_add(100, resume_accepting, b);
}

static gboolean on_accept(GSocket *listener, GIOCondition cond, gpointer data)
{
    (void)cond;
    broker *b = data;
    for (;;) {
        GError *err = NULL;
        GSocket *s = g_socket_accept(listener, NULL, &err);
        if (!s) {
            bool again = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
            if (!again)
                pause_accepting(b, err->message);
            g_error_free(err);
            broker_settle(b);
            return again ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
        }
        g_socket_set_blocking(s, FALSE);
        if (b->nconns >= b->cfg->max_connections) {
            refuse_connection(b, s, "");
            g_object_unref(s);
            continue;
        }
        refresh_date(b);
        conn *c = conn_new(b, s, ++b->next_conn_id);
        g_queue_push_tail(&b->conns, c);
        c->link = b->conns.tail;
        b->nconns++;
        broker_log("conn %llu accepted from %s", (unsigned long long)c->id, c->peer);
        conn_update_watches(c);
    }
}

static bool write_port_file(broker *b, GError **error)
{
    char text[16];
    g_snprintf(text, sizeof text, "%u\n", b->port);
    /* g_file_set_contents writes a temporary file and renames it, so a test
     * that polls for the file never reads half of it. */
    return g_file_set_contents(b->cfg->port_file, text, -1, error);
}

static bool open_listener(broker *b, GError **error)
{
    const broker_config *cfg = b->cfg;
    GInetAddress *ia = g_inet_address_new_from_string(cfg->listen_host);
    if (!ia) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad listen address '%s'",
                    cfg->listen_host);
        return false;
    }
    GSocketAddress *sa = g_inet_socket_address_new(ia, cfg->listen_port);
    b->listener = g_socket_new(g_inet_address_get_family(ia), G_SOCKET_TYPE_STREAM,
                               G_SOCKET_PROTOCOL_TCP, error);
    g_object_unref(ia);
    bool ok = b->listener != NULL;
    if (ok) {
        g_socket_set_blocking(b->listener, FALSE);
        g_socket_set_listen_backlog(b->listener, 1024);
        ok = g_socket_bind(b->listener, sa, TRUE, error) && g_socket_listen(b->listener, error);
    }
    g_object_unref(sa);
    if (!ok) {
        g_prefix_error(error, "cannot listen on %s:%u: ", cfg->listen_host, cfg->listen_port);
        return false;
    }
    GSocketAddress *local = g_socket_get_local_address(b->listener, error);
    if (!local)
        return false;
    b->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
    g_object_unref(local);
    return true;
}

broker *broker_new(broker_config *cfg, GError **error)
{
    broker *b = g_new0(broker, 1);
    b->cfg = cfg;
    g_queue_init(&b->conns);
    g_queue_init(&b->dirty);
    g_queue_init(&b->doomed);
    router_init(b);
    b->services = g_ptr_array_new_with_free_func((GDestroyNotify)pubsub_free);
    for (guint i = 0; i < cfg->pubsub_jids->len; i++)
        g_ptr_array_add(b->services, pubsub_new(g_ptr_array_index(cfg->pubsub_jids, i)));
    b->query_jid = g_strdup(cfg->query_service_jid);
    refresh_date(b);
    if (!open_listener(b, error)) {
        broker_free(b);
        return NULL;
    }
    bool v6 = strchr(cfg->listen_host, ':') != NULL;
    broker_log("listening on %s%s%s:%u", v6 ? "[" : "", cfg->listen_host, v6 ? "]" : "", b->port);
    if (cfg->port_file && !write_port_file(b, error)) {
        broker_free(b);
        return NULL;
    }
    watch_listener(b);
    return b;
}

static gboolean on_signal(gpointer data)
{
    broker *b = data;
    if (!b->stopping) {
        b->stopping = true;
        broker_log("shutting down on signal");
        g_main_loop_quit(b->loop);
    }
    return G_SOURCE_CONTINUE;
}

/* Services say goodbye, pending output gets one last chance, then every
 * connection closes with its log line. */
static void shutdown_connections(broker *b)
{
    for (guint i = 0; i < b->services->len; i++)
        pubsub_announce_unavailable(g_ptr_array_index(b->services, i));
    broker_settle(b);
    for (GList *l = b->conns.head; l; l = l->next) {
        conn *c = l->data;
        if (!c->closing && conn_pending(c) > 0)
            conn_flush(c);
    }
    for (GList *l = b->conns.head; l; l = l->next)
        conn_close(l->data, "broker shutting down");
    broker_settle(b);
}

void broker_run(broker *b)
{
    signal(SIGPIPE, SIG_IGN); /* a peer that vanished is an error value, not a signal */
    b->loop = g_main_loop_new(NULL, FALSE);
    /* The signal sources stay installed until the process ends: removing
     * them restores the default action, and a second SIGTERM arriving during
     * the shutdown below would then kill the process halfway. */
    g_unix_signal_add(SIGINT, on_signal, b);
    g_unix_signal_add(SIGTERM, on_signal, b);
    g_main_loop_run(b->loop);
    shutdown_connections(b);
    g_main_loop_unref(b->loop);
    b->loop = NULL;
}

void broker_free(broker *b)
{
    if (!b)
        return;
    for (GList *l = b->conns.head; l; l = l->next)
        conn_close(l->data, "broker freed");
    broker_settle(b);
    if (b->accept_pause)
        g_source_remove(b->accept_pause);
    if (b->accept_source) {
        g_source_destroy(b->accept_source);
        g_source_unref(b->accept_source);
    }
    if (b->listener) {
        g_socket_close(b->listener, NULL);
        g_object_unref(b->listener);
    }
    g_ptr_array_free(b->services, TRUE);
    router_free(b);
    g_free(b->query_jid);
    g_free(b);
}
