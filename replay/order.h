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
 * its first event (engine.c, job_connect_when_due): until then its events
 * hold the frontier like any other's. */
#ifndef REPLAY_ORDER_H
#define REPLAY_ORDER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct replay_job;

typedef struct order_event {
    struct replay_job *job;
    bool send;        /* a client packet (else a recorded reply) */
    guint index;      /* in job->sends or job->expected */
    uint64_t frame;
    guint job_seq;    /* tie-break: the job's place in its group */
} order_event;

typedef struct order_group {
    GArray *events;   /* order_event, in recorded order */
    guint pos;        /* the frontier */
    unsigned timeout_ms;
    void (*wake)(struct replay_job *j); /* lets a job look again at what it may do */
    gint64 stuck_since_us;
    guint timer;
    bool busy, again; /* advancing: wakes may advance again; loop instead of recursing */
} order_group;

/* Builds the timeline of these jobs (replay_job*) and points each job and
 * send item at its place in it. */
order_group *order_group_new(GPtrArray *jobs, unsigned timeout_ms, void (*wake)(struct replay_job *j));
void order_group_free(order_group *g);

/* Moves the frontier over what is done and wakes the job that owns the new
 * frontier. Call after anything that may have done an event: a packet sent, a
 * reply counted, a job started or ended. */
void order_group_advance(order_group *g);

/* True when the frontier has reached the event at `order`. */
static inline bool order_reached(const order_group *g, guint order) { return g->pos >= order; }

#endif
