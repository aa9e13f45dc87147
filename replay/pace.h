/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pacing: when a session's next client packet may go, and when the session
 * is over. Decisions only, on the session's clock and counters; the session
 * (job.c) sends and ends. A decision to wait arms the pace's timer, whose
 * expiry calls `due` so the session looks again. */
#ifndef REPLAY_PACE_H
#define REPLAY_PACE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "hmtp_loop.h"
#include "replay_config.h"

typedef struct job_pace {
    const engine_config *cfg;
    hmtp_loop *loop;
    void (*due)(void *ctx);  /* the timer expired */
    void *ctx;
    guint next;              /* client packets sent (the next one to send) */
    gint64 origin_us;        /* PACE_ORIGINAL: when the first client packet is due */
    gint64 last_send_us, wait_since_us, drain_since_us;
    bool settling;
    hmtp_timer *timer;
} job_pace;

void pace_init(job_pace *p, const engine_config *cfg, hmtp_loop *loop, void (*due)(void *ctx), void *ctx);
/* Stops the timer. */
void pace_stop(job_pace *p);

/* PACE_ORIGINAL: the session's first packet is due at the recorded offset
 * from the round's first client packet (the round started at round_t0_us,
 * standing for capture time round_ts0); a session that got its connection
 * slot later than that keeps only its own gaps, from now. */
void pace_start(job_pace *p, gint64 round_t0_us, double round_ts0, double first_ts);

/* May the session connect now? With the original pace it connects shortly
 * before its first packet is due (a timer is armed otherwise). */
bool pace_connect_due(job_pace *p, gint64 now);

/* May the next client packet (recorded at ts; first_ts the session's first)
 * go now? credit: replies counted; wait_for: replies recorded before it;
 * order_ok: the group's order has reached it (always, without a group).
 * false: wait (a timer is armed, or the group wakes the session). */
bool pace_may_send(job_pace *p, double ts, double first_ts, uint64_t credit, uint64_t wait_for, bool order_ok,
                   gint64 now);
/* The packet went. */
void pace_sent(job_pace *p, gint64 now);

/* Waiting --timeout for something without which nothing can be sent (the
 * target's key): true while the wait lasts (a timer is armed). */
bool pace_wait(job_pace *p, gint64 now);

/* Everything is sent: true when the session is over (every expected reply
 * counted and --settle passed, or --timeout without a reply). next_ok: the
 * group's order has reached the next expected reply. */
bool pace_drained(job_pace *p, uint64_t credit, uint64_t expected, bool next_ok, gint64 now);

#endif
