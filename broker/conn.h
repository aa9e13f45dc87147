/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One client connection: its socket, the HTTP phase, the HMTP reader and
 * writer state of both directions, and its output queue.
 *
 * A connection is never freed in the middle of handling another one's packet
 * (a fan-out may push a subscriber over its output limit while the broker
 * walks the subscriber list): conn_close() only marks it and queues it, and
 * the broker tears it down at the end of the current event. Output is
 * queued the same way (conn_mark_dirty). The loop's callbacks come in
 * through conn_handlers, so this file never calls up into what drives it. */
#ifndef BROKER_CONN_H
#define BROKER_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "buf.h"
#include "framing.h"
#include "hessian.h"
#include "hmtp_loop.h"
#include "writer.h"

typedef struct broker broker;
typedef struct pubsub_service pubsub_service;

typedef struct conn conn;

/* What a connection's watch and timers run: the loop's handlers
 * (broker_loop.c), each of which settles the broker after its event. The
 * context is the conn. */
typedef struct conn_handlers {
    hmtp_loop_fd_fn io;          /* the socket is readable, writable or failed */
    hmtp_loop_timer_fn hold_end; /* a refused login's hold is over */
    hmtp_loop_timer_fn deadline; /* the time conn_arm_deadline set has come */
} conn_handlers;

typedef enum conn_phase {
    CONN_HTTP, /* waiting for the upgrade request */
    CONN_HMTP, /* upgraded: HMTP packets both ways */
} conn_phase;

typedef struct conn {
    broker *b;
    uint64_t id; /* 1, 2, 3... in accept order: names the connection in logs */
    int fd;                 /* the socket, non-blocking; owned */
    unsigned watching;      /* HMTP_LOOP_IN/OUT the loop watches fd for (0: not watched) */
    hmtp_timer *hold_timer; /* input held after a refused login (login_guard.c) */
    hmtp_timer *deadline;   /* the earliest deadline that applied when it was set */
    uint64_t deadline_ms;   /* when it fires */
    hmtp_buf held_input; /* bytes received while held, handled when the hold ends */
    char peer[64];
    char ip[48];         /* the peer's address, the key of broker->per_ip */
    bool refusing;       /* past the connection limits: answered 503, counted in broker->nrefusing */
    uint64_t accepted_ms; /* the loop's clock, for the HTTP and login deadlines */
    uint64_t active_ms;   /* last byte in or out, for --idle-timeout */
    uint64_t drain_ms;    /* when draining began */
    unsigned login_failures;
    size_t held;         /* bytes counted in broker->held (conn_account) */
    conn_phase phase;
    hmtp_buf http_in; /* request bytes until the blank line */
    hmtp_reader *reader;
    hessian_stream in_stream;
    hessian_writer writer; /* the one writer of the broker-to-client direction */
    hmtp_buf out;
    size_t out_sent; /* bytes of out already on the socket */

    char *jid; /* full JID once logged in, else NULL */
    GPtrArray *services; /* pubsub_service* this client subscribes to, in order */
    GPtrArray *peer_targets; /* char*: clients whose presence this client receives */
    GPtrArray *presence_subscribers; /* char*: clients that receive this one's presence */
    GQueue *pending; /* queries forwarded to this client, unanswered (pending.c) */

    bool closing;
    char *close_after_flush; /* the close reason once the last answer (an HTTP error, a
                                last refusal) is out; then the link drains */
    bool draining;           /* answer sent, write side shut: reading to EOF, discarding */
    char *close_reason;
    GList *link;       /* in broker->conns */
    bool queued_dirty; /* in broker->dirty */
    uint64_t bytes_in, bytes_out, packets_in, packets_out;
} conn;

/* Takes fd (an accepted, non-blocking socket); the connection closes it. */
conn *conn_new(broker *b, int fd, uint64_t id);
/* Releases what the connection itself holds; the caller has already
 * unlinked it everywhere and freed its pending queries (pending.c). */
void conn_free(conn *c);

/* Bytes waiting to be sent. */
size_t conn_pending(const conn *c);

/* Marks c for teardown at the end of the current event, with one log line's
 * reason. The first reason wins; later calls do nothing. */
void conn_close(conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sends what is queued, then shuts the write side and reads (discarding)
 * until the peer closes or a short deadline passes, and closes with reason:
 * a peer whose request is still unread would otherwise get a reset that can
 * destroy the answer before it reads it. */
void conn_close_after_flush(conn *c, const char *reason);

/* Stops handling c's input for ms milliseconds (bytes that arrive are kept
 * and handled afterwards, in order). */
void conn_hold(conn *c, unsigned ms);

/* Re-counts what c holds in memory (unfinished input, queued output) into
 * broker->held. */
void conn_account(conn *c);

/* Queues c for a flush at the end of the current event. */
void conn_mark_dirty(conn *c);

/* Tries to send pending output now; arms the writable watch for the rest.
 * Returns false when the socket failed (c is then marked closing). */
bool conn_flush(conn *c);

/* Re-evaluates the read and write interest after output changed: reading
 * pauses while this client's own unsent output is above half the limit, so a
 * client that sends without reading is slowed down rather than buffered;
 * writing is watched only while output waits. */
void conn_update_watches(conn *c);

/* The deadlines (--http-timeout, --login-timeout, --idle-timeout, the end
 * of draining) run on one timer per connection, set for the earliest that
 * applies. Moving a deadline later (a byte in or out) costs nothing: the
 * timer fires early, conn_expire finds nothing due and sets it again. Call
 * this after anything that can make a deadline apply sooner (accepting,
 * input handled: an upgrade or a login; draining begun). */
void conn_arm_deadline(conn *c);
/* The timer fired: closes c with the reason of the deadline that passed,
 * or sets the timer again. */
void conn_expire(conn *c);

uint64_t conn_subscription_count(const conn *c);

#endif
