/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "order.h"

static gint event_cmp(gconstpointer pa, gconstpointer pb)
{
    const order_event *a = pa, *b = pb;
    if (a->frame != b->frame)
        return a->frame < b->frame ? -1 : 1;
    if (a->member_seq != b->member_seq)
        return a->member_seq < b->member_seq ? -1 : 1;
    /* One frame is one segment of one direction: a member's events in a
       frame are all sends or all replies, in their recorded order. */
    if (a->send != b->send)
        return a->send ? 1 : -1;
    return a->index < b->index ? -1 : a->index > b->index;
}

order_group *order_group_new(const order_member_ops *ops, unsigned timeout_ms)
{
    order_group *g = g_new0(order_group, 1);
    g->ops = ops;
    g->events = g_array_new(FALSE, FALSE, sizeof(order_event));
    g->timeout_ms = timeout_ms;
    return g;
}

void order_group_add(order_group *g, void *member, guint member_seq, bool send, guint index, uint64_t frame,
                     guint *place)
{
    order_event e = {member, send, index, frame, member_seq, place};
    g_array_append_val(g->events, e);
}

void order_group_seal(order_group *g)
{
    g_array_sort(g->events, event_cmp);
    for (guint k = 0; k < g->events->len; k++)
        *g_array_index(g->events, order_event, k).place = k;
}

void order_group_free(order_group *g)
{
    if (!g)
        return;
    if (g->timer)
        hmtp_loop_cancel(g->loop, g->timer);
    g_array_free(g->events, TRUE);
    g_free(g);
}

static bool event_done(const order_group *g, const order_event *e)
{
    if (!g->ops->running(e->member))
        return true; /* not running together with the others: see order.h */
    return e->send ? g->ops->sent(e->member) > e->index : g->ops->credit(e->member) > e->index;
}

/* The frontier has waited --timeout for a reply: it is missing. So is every
 * other reply before the next client packet; the members that own them are
 * told, so a session that only waits for its last replies can end. */
static void on_stuck(void *data)
{
    order_group *g = data;
    g->timer = NULL;
    GPtrArray *owners = g_ptr_array_new();
    while (g->pos < g->events->len) {
        order_event *e = &g_array_index(g->events, order_event, g->pos);
        if (e->send && !event_done(g, e))
            break;
        if (!e->send && g->ops->credit(e->member) <= e->index) {
            g->ops->excuse(e->member, e->index + 1);
            if (!g_ptr_array_find(owners, e->member, NULL))
                g_ptr_array_add(owners, e->member);
        }
        g->pos++;
    }
    g->stuck_since_us = 0;
    /* and the member whose packet is now at the frontier: it may go */
    if (g->pos < g->events->len) {
        void *next = g_array_index(g->events, order_event, g->pos).member;
        if (!g_ptr_array_find(owners, next, NULL))
            g_ptr_array_add(owners, next);
    }
    for (guint i = 0; i < owners->len; i++)
        g->ops->wake(g_ptr_array_index(owners, i));
    g_ptr_array_free(owners, TRUE);
    order_group_advance(g);
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
            hmtp_loop_cancel(g->loop, g->timer);
        g->timer = NULL;
        g->stuck_since_us = 0;
        return;
    }
    gint64 now = g_get_monotonic_time();
    if (!g->stuck_since_us)
        g->stuck_since_us = now;
    if (g->timer || !g->loop)
        return;
    gint64 left = g->stuck_since_us + (gint64)g->timeout_ms * 1000 - now;
    g->timer = hmtp_loop_timer(g->loop, left <= 0 ? 0 : (uint64_t)((left + 999) / 1000), on_stuck, g);
}

/* wake only queues the member (order_member_ops): nothing here is entered
 * again while it runs. */
void order_group_advance(order_group *g)
{
    guint before = g->pos;
    while (g->pos < g->events->len && event_done(g, &g_array_index(g->events, order_event, g->pos)))
        g->pos++;
    if (g->pos != before) {
        g->stuck_since_us = 0;
        if (g->timer) {
            hmtp_loop_cancel(g->loop, g->timer);
            g->timer = NULL;
        }
        if (g->pos < g->events->len)
            g->ops->wake(g_array_index(g->events, order_event, g->pos).member);
    }
    arm(g);
}
