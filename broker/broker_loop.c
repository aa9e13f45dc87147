/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "broker_loop.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <glib-unix.h>

#include "conn_input.h"
#include "http_upgrade.h"
#include "log.h"
#include "pending.h"
#include "presence.h"
#include "pubsub.h"
#include "router.h"

static void refresh_date(broker *b)
{
    /* Fixed unless asked: the same input must give the same bytes. */
    hmtp_upgrade_format_date(b->cfg->real_date ? (int64_t)time(NULL) : 0, b->date);
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
    if (c->refusing) {
        b->nrefusing--;
    } else {
        b->nconns--;
        unsigned n = GPOINTER_TO_UINT(g_hash_table_lookup(b->per_ip, c->ip));
        if (n > 1)
            g_hash_table_insert(b->per_ip, g_strdup(c->ip), GUINT_TO_POINTER(n - 1));
        else
            g_hash_table_remove(b->per_ip, c->ip);
    }
    b->held -= c->held;
    pending_free(c);
    conn_free(c);
}

/* Over the memory budget: the link holding the most goes first (it is over
 * any fair share), one log line each, until the rest fits. */
static void enforce_budget(broker *b)
{
    size_t total = b->held;
    while (total > b->cfg->memory_budget) {
        conn *big = NULL;
        for (GList *l = b->conns.head; l; l = l->next) {
            conn *c = l->data;
            if (!c->closing && (!big || c->held > big->held))
                big = c;
        }
        if (!big || big->held == 0)
            return;
        conn_close(big,
                   "memory budget: holds %zu bytes of unfinished input and queued output, the most of "
                   "%u links (all together %zu, --memory-budget %zu)",
                   big->held, b->nconns + b->nrefusing, total, b->cfg->memory_budget);
        total -= big->held;
    }
}

/* The one step after every event (socket, timer, accept, shutdown): what
 * the event only queued happens here, output flushed and connections torn
 * down, so no connection is freed under the code that was handling it. */
static void broker_settle(broker *b)
{
    if (b->held > b->cfg->memory_budget)
        enforce_budget(b);
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
        if (b->dirty.length == 0 && b->doomed.length == 0 && b->held > b->cfg->memory_budget)
            enforce_budget(b); /* queues the biggest on doomed: the loop goes on */
    }
}

/* The callbacks of a connection's sources (conn_handlers): each handles its
 * event, then settles. GLib holds a reference to a source while it
 * dispatches, so a source that broker_settle destroys with its connection
 * stays valid until the callback returns. */
static gboolean on_readable(GSocket *socket, GIOCondition cond, gpointer data)
{
    (void)socket;
    (void)cond;
    conn *c = data;
    broker *b = c->b;
    if (conn_receive(c))
        broker_settle(b);
    return G_SOURCE_CONTINUE;
}

static gboolean on_writable(GSocket *socket, GIOCondition cond, gpointer data)
{
    (void)socket;
    (void)cond;
    conn *c = data;
    conn_flush(c);
    broker_settle(c->b);
    return G_SOURCE_CONTINUE; /* conn_update_watches removes it when drained */
}

/* A refused login's hold is over: the answer that waited goes out, then the
 * input held behind it is handled, in order. */
static gboolean on_hold_end(gpointer data)
{
    conn *c = data;
    GSource *self = c->hold_timer;
    c->hold_timer = NULL; /* broker_settle may free c: it must not destroy this source */
    if (!c->closing)
        conn_flush(c); /* the answer that waited, before any input held behind it */
    if (!c->closing && c->held_input.len > 0) {
        hmtp_buf held = c->held_input;
        hmtp_buf_init(&c->held_input);
        conn_input(c, held.data, held.len);
        hmtp_buf_free(&held);
    }
    if (!c->closing)
        conn_update_watches(c);
    conn_account(c);
    broker_settle(c->b);
    g_source_unref(self);
    return G_SOURCE_REMOVE;
}

static const conn_handlers loop_handlers = {
    .readable = on_readable,
    .writable = on_writable,
    .hold_end = on_hold_end,
};

/* The deadlines, checked once a second for every link: cheaper and simpler
 * than a timer per connection, and a second late is soon enough. */
static gboolean on_tick(gpointer data)
{
    broker *b = data;
    const broker_config *cfg = b->cfg;
    int64_t now = g_get_monotonic_time();
    for (GList *l = b->conns.head; l; l = l->next) {
        conn *c = l->data;
        if (c->closing)
            continue;
        int64_t age = (now - c->accepted_us) / G_USEC_PER_SEC;
        if (c->draining) {
            if (now - c->drain_us > 2 * G_USEC_PER_SEC)
                conn_close(c, "%s", c->close_after_flush);
        } else if (c->phase == CONN_HTTP && cfg->http_timeout && age >= cfg->http_timeout) {
            conn_close(c, "no complete HTTP request within %u s (--http-timeout)", cfg->http_timeout);
        } else if (!c->jid && cfg->login_timeout && age >= cfg->login_timeout) {
            conn_close(c, "no login within %u s (--login-timeout)", cfg->login_timeout);
        } else if (c->jid && cfg->idle_timeout && (now - c->active_us) / G_USEC_PER_SEC >= cfg->idle_timeout) {
            conn_close(c, "idle for %u s: no byte in or out (--idle-timeout)", cfg->idle_timeout);
        }
    }
    broker_settle(b);
    return G_SOURCE_CONTINUE;
}

static conn *add_conn(broker *b, GSocket *s)
{
    refresh_date(b);
    conn *c = conn_new(b, s, ++b->next_conn_id);
    g_queue_push_tail(&b->conns, c);
    c->link = b->conns.tail;
    return c;
}

/* Past a limit: a reserve of connections still gets its 503 the clean way
 * (answer, shut the write side, read the request to its end, close), so a
 * fresh client reads why instead of a reset; past the reserve too, the
 * socket is closed at once. why names the limit for the log. */
static void refuse_connection(broker *b, conn *c, const char *why)
{
    if (b->nrefusing >= BROKER_REFUSE_RESERVE) {
        broker_log("refused a connection from %s: %s; %u refusals under way, closed without an answer", c->peer,
                   why, b->nrefusing);
        g_queue_delete_link(&b->conns, c->link);
        pending_free(c);
        conn_free(c);
        return;
    }
    c->refusing = true;
    b->nrefusing++;
    broker_log("refused a connection from %s: %s", c->peer, why);
    hmtp_upgrade_write_error(&c->out, 503, "too many connections", b->cfg->server_header, b->date);
    conn_close_after_flush(c, "HTTP 503 answered");
    conn_update_watches(c);
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
        conn *c = add_conn(b, s);
        unsigned from_ip = GPOINTER_TO_UINT(g_hash_table_lookup(b->per_ip, c->ip));
        char why[160];
        if (b->nconns >= b->cfg->max_connections) {
            snprintf(why, sizeof why, "%u connections open (limit %u)", b->nconns, b->cfg->max_connections);
            refuse_connection(b, c, why);
        } else if (from_ip >= b->cfg->max_per_ip) {
            snprintf(why, sizeof why, "%u connections open from %s (--max-per-ip %u)", from_ip, c->ip,
                     b->cfg->max_per_ip);
            refuse_connection(b, c, why);
        } else {
            b->nconns++;
            g_hash_table_insert(b->per_ip, g_strdup(c->ip), GUINT_TO_POINTER(from_ip + 1));
            broker_log("conn %llu accepted from %s", (unsigned long long)c->id, c->peer);
            conn_update_watches(c);
        }
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
    b->handlers = &loop_handlers;
    router_init(b);
    b->per_ip = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    b->login_failures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
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
    b->tick = g_timeout_add_seconds(1, on_tick, b);
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
    if (b->tick)
        g_source_remove(b->tick);
    g_ptr_array_free(b->services, TRUE);
    g_hash_table_destroy(b->per_ip);
    g_hash_table_destroy(b->login_failures);
    router_free(b);
    g_free(b->query_jid);
    g_free(b);
}
