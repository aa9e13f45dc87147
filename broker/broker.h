/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The broker: listener, the set of connections, the JID routing tables and
 * the built-in services, driven by one GLib main loop. */
#ifndef BROKER_BROKER_H
#define BROKER_BROKER_H

#include <stdbool.h>
#include <stdint.h>

#include <gio/gio.h>

#include "config.h"
#include "conn.h"

typedef struct broker {
    broker_config *cfg;
    GMainLoop *loop;
    GSocket *listener;
    GSource *accept_source; /* NULL while accepting is paused */
    guint accept_pause;     /* the timeout that resumes it */
    uint16_t port;
    uint64_t next_conn_id;
    unsigned nconns;     /* connections within the limits (not refusing ones) */
    unsigned nrefusing;  /* connections past the limits, answered 503 and draining */
    size_t held;         /* bytes all links hold: unfinished input, queued output */
    GHashTable *per_ip;  /* address -> open connections from it (GUINT_TO_POINTER) */
    GHashTable *login_failures; /* uid -> refused logins since its last success */
    guint tick;          /* the once-a-second deadline check */
    GQueue conns;  /* every live connection, in accept order */
    GQueue dirty;  /* connections with output to flush after this event */
    GQueue doomed; /* connections to tear down after this event */
    GHashTable *by_full; /* full JID -> conn* */
    GHashTable *by_bare; /* bare JID -> GPtrArray of conn*, in login order */
    GPtrArray *services; /* pubsub_service* */
    char *query_jid;
    char date[30]; /* the 101's Date header */
    bool stopping;
} broker;

/* Binds and listens (port 0: ephemeral); prints the "listening on" line and
 * writes the port file. */
broker *broker_new(broker_config *cfg, GError **error);
/* Runs until SIGINT/SIGTERM, then shuts down cleanly. */
void broker_run(broker *b);
void broker_free(broker *b);

/* Called at the end of every event callback: flushes output queued during the
 * event and tears down connections marked closing, until neither is left. */
void broker_settle(broker *b);

#endif
