/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cross-session order for conversation pacing. The sessions replayed together
 * (one round of --loop, one copy of --sessions-scale) share one timeline: every
 * client packet and every compared server packet of all of them, sorted by the
 * frame that completed it. The frontier is the first event of that timeline
 * not yet done (a packet not yet sent, a reply not yet arrived). A client
 * packet may go only when the frontier has reached it: everything recorded
 * before it, in any session, has happened. That is what keeps a publication
 * from overtaking another session's subscription.
 *
 * Replies are counted, not identified: a session's k-th recorded reply is
 * done once k+1 replies arrived there (verification pairs them within
 * --window). A reply that holds the frontier for --timeout is declared
 * missing, together with every reply up to the next client packet, so a lost
 * reply costs one timeout, not one per session. Events of sessions that are
 * not running (waiting for a connection slot under --max-connections, or
 * --serial) or have ended do not hold the frontier: those sessions keep only
 * their own order. A running session connects only when the frontier reaches
 * its first event (job.c, job_connect_when_due): until then its events
 * hold the frontier like any other's. */
#ifndef REPLAY_ORDER_H
#define REPLAY_ORDER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "hmtp_loop.h"

/* What the group asks of a member (a session run): a narrow interface, so
 * the order knows nothing of how sessions run. */
typedef struct order_member_ops {
    bool (*running)(const void *m);             /* started and not ended: its events hold the frontier */
    guint (*sent)(const void *m);               /* client packets sent so far */
    uint64_t (*credit)(const void *m);          /* replies arrived or declared missing */
    void (*excuse)(void *m, uint64_t replies);  /* its first `replies` replies are declared missing */
    void (*wake)(void *m);                      /* look again at what it may do (must not call back in) */
} order_member_ops;

typedef struct order_event {
    void *member;
    bool send;        /* a client packet (else a recorded reply) */
    guint index;      /* the member's n-th send or recorded reply */
    uint64_t frame;
    guint member_seq; /* tie-break: the member's place in its group */
    guint *place;     /* receives the event's place in the timeline */
} order_event;

typedef struct order_group {
    const order_member_ops *ops;
    GArray *events;   /* order_event, in recorded order once sealed */
    guint pos;        /* the frontier */
    unsigned timeout_ms;
    hmtp_loop *loop;  /* the stuck timer's; NULL (a test without a loop): no deadline */
    gint64 stuck_since_us;
    hmtp_timer *timer;
} order_group;

order_group *order_group_new(const order_member_ops *ops, unsigned timeout_ms);
void order_group_free(order_group *g);
/* One event of a member; *place is written by order_group_seal. */
void order_group_add(order_group *g, void *member, guint member_seq, bool send, guint index, uint64_t frame,
                     guint *place);
/* Sorts the timeline and tells every event its place. */
void order_group_seal(order_group *g);

/* Moves the frontier over what is done and wakes the member that owns the
 * new frontier. Call after anything that may have done an event: a packet
 * sent, a reply counted, a member started or ended. */
void order_group_advance(order_group *g);

/* True when the frontier has reached the event at `order`. */
static inline bool order_reached(const order_group *g, guint order) { return g->pos >= order; }

#endif
