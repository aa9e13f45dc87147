/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cross-session order for conversation pacing. The sessions replayed together
 * (one round of --loop, one copy of --sessions-scale) share one timeline: every
 * client packet and every compared server packet of all of them, in the order
 * of the frame that completed it. The frontier is the first event of that
 * timeline not yet done (a packet not yet sent, a reply not yet arrived). A
 * client packet may go only when the frontier has reached it: everything
 * recorded before it, in any session, has happened. That is what keeps a
 * publication from overtaking another session's subscription.
 *
 * The timeline is never built. Each running session's own events are already
 * in recorded order (its plan), so the frontier is the smallest of the
 * running sessions' next events: a heap holds each running session at its
 * next event not yet passed. Memory follows the sessions running at once,
 * not the length of the capture (a sorted list of every event cost 40 bytes
 * an event: 100 MB for a 1 GB capture).
 *
 * Replies are counted, not identified: a session's k-th recorded reply is
 * done once k+1 replies arrived there (verification pairs them within
 * --window). A reply that holds the frontier for --timeout is declared
 * missing, together with every reply up to the next client packet, so a lost
 * reply costs one timeout, not one per session. Sessions that are not running
 * (waiting for a connection slot under --max-connections, or --serial) or
 * have ended do not hold the frontier: a session that starts after the
 * frontier passed some of its events keeps only its own order for those. A
 * running session connects only when the frontier reaches its first event
 * (job.c, job_connect_when_due): until then its events hold the frontier like
 * any other's. */
#ifndef REPLAY_ORDER_H
#define REPLAY_ORDER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "hmtp_loop.h"

/* What the group asks of a member (a session run): a narrow interface, so
 * the order knows nothing of how sessions run. A member's sends and replies
 * are each numbered from 0 in recorded order. */
typedef struct order_member_ops {
    guint (*n_sends)(const void *m);
    uint64_t (*send_frame)(const void *m, guint i);
    guint (*n_replies)(const void *m);
    uint64_t (*reply_frame)(const void *m, guint i);
    guint (*sent)(const void *m);               /* client packets sent so far */
    uint64_t (*credit)(const void *m);          /* replies arrived or declared missing */
    void (*excuse)(void *m, uint64_t replies);  /* its first `replies` replies are declared missing */
    void (*wake)(void *m);                      /* look again at what it may do (must not call back in) */
} order_member_ops;

/* A place in the timeline: by frame, then by the member's place in the
 * group, then (within one frame, which is one segment of one direction)
 * replies before sends, then by number. */
typedef struct order_key {
    uint64_t frame;
    guint seq;
    guint send;
    guint index;
} order_key;

/* A member's place in its group, embedded in the member. */
typedef struct order_member {
    void *owner;       /* what the ops are called with */
    guint seq;         /* its place among the group's sessions (recorded order) */
    guint next_send, next_reply; /* its first events the frontier has not passed */
    order_key key;     /* of the earlier of the two */
    guint heap_at;     /* index in the group's heap; G_MAXUINT when not in it */
} order_member;

typedef struct order_group {
    const order_member_ops *ops;
    GPtrArray *heap;   /* order_member*: running members with events left, by key */
    order_key frontier;
    bool started;      /* the frontier has been set once */
    unsigned timeout_ms;
    hmtp_loop *loop;   /* the stuck timer's; NULL (a test without a loop): no deadline */
    gint64 stuck_since_us;
    hmtp_timer *timer;
} order_group;

order_group *order_group_new(const order_member_ops *ops, unsigned timeout_ms);
void order_group_free(order_group *g);

void order_member_init(order_member *m, void *owner, guint seq);
/* The member runs from now on: its events hold the frontier, except those
 * the frontier has already passed. Call order_group_advance after. */
void order_group_join(order_group *g, order_member *m);
/* The member has ended: it holds nobody back. Call order_group_advance after. */
void order_group_leave(order_group *g, order_member *m);

/* Moves the frontier over what is done and wakes the member that owns the
 * new frontier. Call after anything that may have done an event: a packet
 * sent, a reply counted, a member started or ended. */
void order_group_advance(order_group *g);

/* True when the frontier has reached the member's event (its send or its
 * recorded reply number `index`). */
bool order_reached(const order_group *g, const order_member *m, bool send, guint index);
/* True when the frontier has reached the member's first event (or it has none). */
bool order_reached_first(const order_group *g, const order_member *m);

#endif
