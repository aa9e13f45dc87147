/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "order.h"

#include "engine.h"

static gint event_cmp(gconstpointer pa, gconstpointer pb)
{
    const order_event *a = pa, *b = pb;
    if (a->frame != b->frame)
        return a->frame < b->frame ? -1 : 1;
    if (a->job_seq != b->job_seq)
        return a->job_seq < b->job_seq ? -1 : 1;
    /* One frame is one segment of one direction: a job's events in a frame
       are all sends or all replies, in their recorded order. */
    if (a->send != b->send)
        return a->send ? 1 : -1;
    return a->index < b->index ? -1 : a->index > b->index;
}

order_group *order_group_new(GPtrArray *jobs, unsigned timeout_ms, void (*wake)(struct replay_job *j))
{
    order_group *g = g_new0(order_group, 1);
    g->events = g_array_new(FALSE, FALSE, sizeof(order_event));
    g->timeout_ms = timeout_ms;
    g->wake = wake;
    for (guint n = 0; n < jobs->len; n++) {
        replay_job *j = g_ptr_array_index(jobs, n);
        j->group = g;
        for (guint i = 0; i < j->sends->len; i++) {
            const send_item *s = g_ptr_array_index(j->sends, i);
            order_event e = {j, true, i, s->rec->frame, n};
            g_array_append_val(g->events, e);
        }
        for (guint i = 0; i < j->expected->len; i++) {
            const rec_packet *r = g_ptr_array_index(j->expected, i);
            order_event e = {j, false, i, r->frame, n};
            g_array_append_val(g->events, e);
        }
        g_free(j->expected_order);
        j->expected_order = g_new0(guint, j->expected->len ? j->expected->len : 1);
    }
    g_array_sort(g->events, event_cmp);
    for (guint k = 0; k < g->events->len; k++) {
        const order_event *e = &g_array_index(g->events, order_event, k);
        if (e->send)
            ((send_item *)g_ptr_array_index(e->job->sends, e->index))->order = k;
        else
            e->job->expected_order[e->index] = k;
    }
    return g;
}

void order_group_free(order_group *g)
{
    if (!g)
        return;
    if (g->timer)
        g_source_remove(g->timer);
    g_array_free(g->events, TRUE);
    g_free(g);
}

static bool event_done(const order_event *e)
{
    const replay_job *j = e->job;
    if (!j->started || j->done)
        return true; /* not running together with the others: see order.h */
    return e->send ? j->next > e->index : job_reply_credit(j) > e->index;
}

static void arm(order_group *g);

/* The frontier has waited --timeout for a reply: it is missing. So is every
 * other reply before the next client packet; the jobs that own them are
 * told, so a job that only waits for its last replies can end. */
static gboolean on_stuck(gpointer data)
{
    order_group *g = data;
    g->timer = 0;
    GPtrArray *owners = g_ptr_array_new();
    while (g->pos < g->events->len) {
        order_event *e = &g_array_index(g->events, order_event, g->pos);
        if (e->send && !event_done(e))
            break;
        if (!e->send && e->job->excused <= e->index) {
            e->job->excused = e->index + 1;
            if (!g_ptr_array_find(owners, e->job, NULL))
                g_ptr_array_add(owners, e->job);
        }
        g->pos++;
    }
    g->stuck_since_us = 0;
    /* and the job whose packet is now at the frontier: it may go */
    if (g->pos < g->events->len) {
        replay_job *next = g_array_index(g->events, order_event, g->pos).job;
        if (!g_ptr_array_find(owners, next, NULL))
            g_ptr_array_add(owners, next);
    }
    for (guint i = 0; i < owners->len; i++)
        g->wake(g_ptr_array_index(owners, i));
    g_ptr_array_free(owners, TRUE);
    order_group_advance(g);
    return G_SOURCE_REMOVE;
}

/* A timer only while the frontier waits for a reply: a client packet at the
 * frontier goes as soon as its connection allows. */
static void arm(order_group *g)
{
    bool waiting_reply = false;
    if (g->pos < g->events->len) {
        const order_event *e = &g_array_index(g->events, order_event, g->pos);
        waiting_reply = !e->send;
    }
    if (!waiting_reply) {
        if (g->timer)
            g_source_remove(g->timer);
        g->timer = 0;
        g->stuck_since_us = 0;
        return;
    }
    gint64 now = g_get_monotonic_time();
    if (!g->stuck_since_us)
        g->stuck_since_us = now;
    if (g->timer)
        return;
    gint64 left = g->stuck_since_us + (gint64)g->timeout_ms * 1000 - now;
    g->timer = g_timeout_add(left <= 0 ? 0 : (guint)((left + 999) / 1000), on_stuck, g);
}

void order_group_advance(order_group *g)
{
    if (g->busy) {
        g->again = true;
        return;
    }
    g->busy = true;
    do {
        g->again = false;
        guint before = g->pos;
        while (g->pos < g->events->len && event_done(&g_array_index(g->events, order_event, g->pos)))
            g->pos++;
        if (g->pos != before) {
            g->stuck_since_us = 0;
            if (g->timer) {
                g_source_remove(g->timer);
                g->timer = 0;
            }
            if (g->pos < g->events->len)
                g->wake(g_array_index(g->events, order_event, g->pos).job);
        }
    } while (g->again);
    g->busy = false;
    arm(g);
}
