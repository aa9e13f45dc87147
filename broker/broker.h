/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The broker's state that every part shares: listener, the set of
 * connections, the queues of deferred work, the JID routing tables and the
 * built-in services. Declares no functions: the loop that drives it is
 * broker_loop.[ch], and every file may read this without calling up. */
#ifndef BROKER_BROKER_H
#define BROKER_BROKER_H

#include <stdbool.h>
#include <stdint.h>

#include <gio/gio.h>

#include "config.h"
#include "hmtp_loop.h"

struct conn_handlers;

typedef struct broker {
    broker_config *cfg;
    hmtp_loop *loop;          /* every socket and timer of the broker */
    GSocket *listener;
    hmtp_timer *accept_pause; /* set while accepting is paused: resumes it */
    int signal_fd;            /* SIGINT and SIGTERM, read from the loop; -1 when none */
    uint16_t port;
    uint64_t next_conn_id;
    unsigned nconns;     /* connections within the limits (not refusing ones) */
    unsigned nrefusing;  /* connections past the limits, answered 503 and draining */
    size_t held;         /* bytes all links hold: unfinished input, queued output */
    GHashTable *per_ip;  /* address -> open connections from it (GUINT_TO_POINTER) */
    GHashTable *login_failures; /* uid -> refused logins since its last success */
    GQueue conns;  /* every live connection, in accept order */
    GQueue dirty;  /* connections with output to flush after this event */
    GQueue doomed; /* connections to tear down after this event */
    const struct conn_handlers *handlers; /* the loop's socket and timer callbacks */
    GHashTable *by_full; /* full JID -> conn* */
    GHashTable *by_bare; /* bare JID -> GPtrArray of conn*, in login order */
    GPtrArray *services; /* pubsub_service* */
    char *query_jid;
    char date[30]; /* the 101's Date header */
    bool stopping;
} broker;

#endif
