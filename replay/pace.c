/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pace.h"

/* PACE_ORIGINAL: a session connects this long before its first packet is
 * due, for the upgrade's round trip. */
#define CONNECT_LEAD_US 100000

void pace_init(job_pace *p, const engine_config *cfg, hmtp_loop *loop, void (*due)(void *ctx), void *ctx)
{
    *p = (job_pace){.cfg = cfg, .loop = loop, .due = due, .ctx = ctx};
}

void pace_stop(job_pace *p)
{
    if (p->timer)
        hmtp_loop_cancel(p->loop, p->timer);
    p->timer = NULL;
}

static void on_timer(void *data)
{
    job_pace *p = data;
    p->timer = NULL;
    p->due(p->ctx);
}

static void arm(job_pace *p, gint64 wait_us)
{
    pace_stop(p);
    uint64_t ms = wait_us <= 0 ? 0 : (uint64_t)((wait_us + 999) / 1000);
    p->timer = hmtp_loop_timer(p->loop, ms, on_timer, p);
}

static gint64 timeout_us(const job_pace *p) { return (gint64)p->cfg->timeout_ms * 1000; }

void pace_start(job_pace *p, gint64 round_t0_us, double round_ts0, double first_ts)
{
    if (p->cfg->pace != PACE_ORIGINAL)
        return;
    gint64 now = g_get_monotonic_time();
    gint64 at = round_t0_us + (gint64)((first_ts - round_ts0) / p->cfg->speed * 1e6);
    p->origin_us = at > now ? at : now;
}

bool pace_connect_due(job_pace *p, gint64 now)
{
    if (p->cfg->pace == PACE_ORIGINAL && now < p->origin_us - CONNECT_LEAD_US) {
        arm(p, p->origin_us - CONNECT_LEAD_US - now);
        return false;
    }
    return true;
}

bool pace_wait(job_pace *p, gint64 now)
{
    if (!p->wait_since_us)
        p->wait_since_us = now;
    if (now - p->wait_since_us < timeout_us(p)) {
        arm(p, p->wait_since_us + timeout_us(p) - now);
        return true;
    }
    return false;
}

bool pace_may_send(job_pace *p, double ts, double first_ts, uint64_t credit, uint64_t wait_for, bool order_ok,
                   gint64 now)
{
    const engine_config *cfg = p->cfg;
    bool conversation = cfg->pace == PACE_CONVERSATION || cfg->pace == PACE_SESSION;
    if (conversation && credit < wait_for && pace_wait(p, now))
        return false; /* when the reply never comes, go on: verification calls it missing */
    if (!order_ok) {
        /* Something recorded earlier, maybe in another session, has not
           happened yet: the group wakes the session when it has (or has
           timed out). */
        p->wait_since_us = 0;
        pace_stop(p);
        return false;
    }
    if (cfg->pace == PACE_ORIGINAL) {
        gint64 due = p->origin_us + (gint64)((ts - first_ts) / cfg->speed * 1e6);
        if (now < due) {
            arm(p, due - now);
            return false;
        }
    }
    return true;
}

void pace_sent(job_pace *p, gint64 now)
{
    p->next++;
    p->wait_since_us = 0;
    p->last_send_us = now;
}

bool pace_drained(job_pace *p, uint64_t credit, uint64_t expected, bool next_ok, gint64 now)
{
    if (credit < expected && !next_ok) {
        /* The next reply answers something not yet sent (perhaps by another
           session): its clock starts when the group gets there. */
        p->drain_since_us = 0;
        pace_stop(p);
        return false;
    }
    if (!p->drain_since_us)
        p->drain_since_us = now;
    if (credit >= expected) {
        if (!p->settling) {
            p->settling = true;
            arm(p, (gint64)p->cfg->settle_ms * 1000);
            return false;
        }
        return !p->timer;
    }
    if (now - p->drain_since_us >= timeout_us(p))
        return true;
    arm(p, p->drain_since_us + timeout_us(p) - now);
    return false;
}
