/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "broker_loop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

/* The callbacks of a connection's watch and timers (conn_handlers): each
 * handles its event, then settles. The loop frees a timer before calling
 * it, and skips events of a descriptor unwatched earlier in the same batch,
 * so broker_settle may free c here. */
static void on_io(void *data, int fd, unsigned events)
{
    (void)fd;
    conn *c = data;
    broker *b = c->b;
    bool settle = false;
    /* Writing first: output drained may let reading resume. A hang-up or an
     * error goes to whichever side is watched, whose call then fails. */
    if ((c->watching & HMTP_LOOP_OUT) && (events & (HMTP_LOOP_OUT | HMTP_LOOP_HUP | HMTP_LOOP_ERR))) {
        conn_flush(c);
        settle = true;
    }
    if (!c->closing && (c->watching & HMTP_LOOP_IN) && (events & (HMTP_LOOP_IN | HMTP_LOOP_HUP | HMTP_LOOP_ERR)))
        settle = conn_receive(c) || settle;
    if (settle)
        broker_settle(b);
}

/* A refused login's hold is over: the answer that waited goes out, then the
 * input held behind it is handled, in order. */
static void on_hold_end(void *data)
{
    conn *c = data;
    c->hold_timer = NULL; /* the loop frees a timer as it fires */
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
}

static void on_deadline(void *data)
{
    conn *c = data;
    conn_expire(c);
    broker_settle(c->b);
}

static const conn_handlers loop_handlers = {
    .io = on_io,
    .hold_end = on_hold_end,
    .deadline = on_deadline,
};

static conn *add_conn(broker *b, int fd)
{
    refresh_date(b);
    conn *c = conn_new(b, fd, ++b->next_conn_id);
    g_queue_push_tail(&b->conns, c);
    c->link = b->conns.tail;
    conn_arm_deadline(c);
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

static void on_accept(void *data, int fd, unsigned events);

static bool watch_listener(broker *b)
{
    return hmtp_loop_watch(b->loop, g_socket_get_fd(b->listener), HMTP_LOOP_IN, on_accept, b);
}

static void resume_accepting(void *data)
{
    broker *b = data;
    b->accept_pause = NULL; /* the loop frees a timer as it fires */
    if (!watch_listener(b)) {
        broker_log("cannot watch the listening socket: %s; trying again in 100 ms", g_strerror(errno));
        b->accept_pause = hmtp_loop_timer(b->loop, 100, resume_accepting, b);
    }
}

/* accept() failing for want of descriptors (EMFILE) would fire again at
 * once: stop watching the listener for a moment instead of spinning. */
static void pause_accepting(broker *b, const char *why)
{
    broker_log("accept failed: %s; not accepting for 100 ms", why);
    hmtp_loop_unwatch(b->loop, g_socket_get_fd(b->listener));
    b->accept_pause = hmtp_loop_timer(b->loop, 100, resume_accepting, b);
}

static void admit(broker *b, int fd)
{
    conn *c = add_conn(b, fd);
    unsigned from_ip = GPOINTER_TO_UINT(g_hash_table_lookup(b->per_ip, c->ip));
    hmtp_tool_error why;
    if (b->nconns >= b->cfg->max_connections) {
        hmtp_tool_fail(&why, "%u connections open (limit %u)", b->nconns, b->cfg->max_connections);
        refuse_connection(b, c, why.msg);
    } else if (from_ip >= b->cfg->max_per_ip) {
        hmtp_tool_fail(&why, "%u connections open from %s (--max-per-ip %u)", from_ip, c->ip, b->cfg->max_per_ip);
        refuse_connection(b, c, why.msg);
    } else {
        b->nconns++;
        g_hash_table_insert(b->per_ip, g_strdup(c->ip), GUINT_TO_POINTER(from_ip + 1));
        broker_log("conn %llu accepted from %s", (unsigned long long)c->id, c->peer);
        conn_update_watches(c);
    }
}

static void on_accept(void *data, int fd, unsigned events)
{
    (void)events;
    broker *b = data;
    for (;;) {
        int s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (s >= 0) {
            admit(b, s);
        } else if (errno == EINTR || errno == ECONNABORTED) {
            continue; /* that one is gone; the next may be there */
        } else {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                pause_accepting(b, g_strerror(errno));
            broker_settle(b);
            return;
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

static void on_signal(void *data, int fd, unsigned events)
{
    (void)events;
    broker *b = data;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (!b->stopping) {
            b->stopping = true;
            broker_log("shutting down on signal");
            hmtp_loop_quit(b->loop);
        }
    }
}

/* SIGINT and SIGTERM arrive as reads on a descriptor the loop watches. They
 * stay blocked until the process ends: unblocking them would restore the
 * default action, and a second SIGTERM arriving during the shutdown would
 * then kill the process halfway. Set before the port file is written, so a
 * test that signals as soon as it reads the port is heard. */
static bool watch_signals(broker *b, GError **error)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
        (b->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
        !hmtp_loop_watch(b->loop, b->signal_fd, HMTP_LOOP_IN, on_signal, b)) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot watch SIGINT and SIGTERM: %s",
                    g_strerror(errno));
        return false;
    }
    return true;
}

broker *broker_new(broker_config *cfg, GError **error)
{
    broker *b = g_new0(broker, 1);
    b->cfg = cfg;
    b->signal_fd = -1;
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
    b->loop = hmtp_loop_new();
    if (!b->loop) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot create the event loop: %s",
                    g_strerror(errno));
        broker_free(b);
        return NULL;
    }
    if (!watch_signals(b, error) || !open_listener(b, error)) {
        broker_free(b);
        return NULL;
    }
    if (!watch_listener(b)) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot watch the listening socket: %s",
                    g_strerror(errno));
        broker_free(b);
        return NULL;
    }
    bool v6 = strchr(cfg->listen_host, ':') != NULL;
    broker_log("listening on %s%s%s:%u", v6 ? "[" : "", cfg->listen_host, v6 ? "]" : "", b->port);
    if (cfg->port_file && !write_port_file(b, error)) {
        broker_free(b);
        return NULL;
    }
    return b;
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

bool broker_run(broker *b, GError **error)
{
    signal(SIGPIPE, SIG_IGN); /* a peer that vanished is an error value, not a signal */
    bool ok = hmtp_loop_run(b->loop);
    if (!ok)
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "waiting for events failed: %s",
                    g_strerror(errno));
    shutdown_connections(b);
    return ok;
}

void broker_free(broker *b)
{
    if (!b)
        return;
    for (GList *l = b->conns.head; l; l = l->next)
        conn_close(l->data, "broker freed");
    broker_settle(b);
    if (b->loop) {
        hmtp_loop_cancel(b->loop, b->accept_pause);
        if (b->listener)
            hmtp_loop_unwatch(b->loop, g_socket_get_fd(b->listener));
        if (b->signal_fd >= 0)
            hmtp_loop_unwatch(b->loop, b->signal_fd);
    }
    if (b->signal_fd >= 0)
        close(b->signal_fd);
    if (b->listener) {
        g_socket_close(b->listener, NULL);
        g_object_unref(b->listener);
    }
    g_ptr_array_free(b->services, TRUE);
    g_hash_table_destroy(b->per_ip);
    g_hash_table_destroy(b->login_failures);
    router_free(b);
    g_free(b->query_jid);
    hmtp_loop_free(b->loop); /* last: the connections cancelled their timers in it */
    g_free(b);
}
