/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "order.h"

#define NOT_IN_HEAP G_MAXUINT

static int key_cmp(const order_key *a, const order_key *b)
{
    if (a->frame != b->frame)
        return a->frame < b->frame ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    if (a->send != b->send)
        return a->send < b->send ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

static order_key send_key(const order_group *g, const order_member *m, guint i)
{
    return (order_key){g->ops->send_frame(m->owner, i), m->seq, 1, i};
}

static order_key reply_key(const order_group *g, const order_member *m, guint i)
{
    return (order_key){g->ops->reply_frame(m->owner, i), m->seq, 0, i};
}

/* The earlier of the member's next send and next reply; false when it has
 * no events left. */
static bool next_key(const order_group *g, const order_member *m, order_key *out)
{
    bool has_send = m->next_send < g->ops->n_sends(m->owner);
    bool has_reply = m->next_reply < g->ops->n_replies(m->owner);
    if (!has_send && !has_reply)
        return false;
    if (!has_reply) {
        *out = send_key(g, m, m->next_send);
    } else if (!has_send) {
        *out = reply_key(g, m, m->next_reply);
    } else {
        order_key s = send_key(g, m, m->next_send), r = reply_key(g, m, m->next_reply);
        *out = key_cmp(&r, &s) < 0 ? r : s;
    }
    return true;
}

/* Past the member's next event (the one its key names). */
static void pass_event(order_member *m)
{
    if (m->key.send)
        m->next_send++;
    else
        m->next_reply++;
}

static bool event_done(const order_group *g, const order_member *m)
{
    if (m->key.send)
        return g->ops->sent(m->owner) > m->key.index;
    return g->ops->credit(m->owner) > m->key.index;
}

/* ---------------------------------------------------------------- the heap */

static order_member *heap_at(const order_group *g, guint i) { return g_ptr_array_index(g->heap, i); }

static void heap_put(order_group *g, guint i, order_member *m)
{
    g->heap->pdata[i] = m;
    m->heap_at = i;
}

static void sift_up(order_group *g, guint i)
{
    order_member *m = heap_at(g, i);
    while (i > 0) {
        guint parent = (i - 1) / 2;
        order_member *p = heap_at(g, parent);
        if (key_cmp(&p->key, &m->key) <= 0)
            break;
        heap_put(g, i, p);
        i = parent;
    }
    heap_put(g, i, m);
}

static void sift_down(order_group *g, guint i)
{
    order_member *m = heap_at(g, i);
    guint n = g->heap->len;
    for (;;) {
        guint c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && key_cmp(&heap_at(g, c + 1)->key, &heap_at(g, c)->key) < 0)
            c++;
        if (key_cmp(&m->key, &heap_at(g, c)->key) <= 0)
            break;
        heap_put(g, i, heap_at(g, c));
        i = c;
    }
    heap_put(g, i, m);
}

static void heap_remove(order_group *g, order_member *m)
{
    guint i = m->heap_at;
    if (i == NOT_IN_HEAP)
        return;
    m->heap_at = NOT_IN_HEAP;
    order_member *last = g_ptr_array_steal_index(g->heap, g->heap->len - 1);
    if (last == m)
        return;
    heap_put(g, i, last);
    sift_up(g, i);
    sift_down(g, last->heap_at);
}

/* The member's key moved on (it only ever grows): its place again, or out
 * of the heap when it has no events left. */
static void reposition(order_group *g, order_member *m)
{
    if (!next_key(g, m, &m->key))
        heap_remove(g, m);
    else
        sift_down(g, m->heap_at);
}

/* ---------------------------------------------------------------- the group */

order_group *order_group_new(const order_member_ops *ops, unsigned timeout_ms)
{
    order_group *g = g_new0(order_group, 1);
    g->ops = ops;
    g->heap = g_ptr_array_new();
    g->timeout_ms = timeout_ms;
    return g;
}

void order_group_free(order_group *g)
{
    if (!g)
        return;
    if (g->timer)
        hmtp_loop_cancel(g->loop, g->timer);
    for (guint i = 0; i < g->heap->len; i++)
        heap_at(g, i)->heap_at = NOT_IN_HEAP;
    g_ptr_array_free(g->heap, TRUE);
    g_free(g);
}

void order_member_init(order_member *m, void *owner, guint seq)
{
    *m = (order_member){.owner = owner, .seq = seq, .heap_at = NOT_IN_HEAP};
}

void order_group_join(order_group *g, order_member *m)
{
    if (m->heap_at != NOT_IN_HEAP)
        return;
    /* what the frontier passed while the member was not running is passed */
    while (next_key(g, m, &m->key)) {
        if (g->started && key_cmp(&m->key, &g->frontier) < 0)
            pass_event(m);
        else {
            g_ptr_array_add(g->heap, m);
            m->heap_at = g->heap->len - 1;
            sift_up(g, m->heap_at);
            return;
        }
    }
}

void order_group_leave(order_group *g, order_member *m) { heap_remove(g, m); }

/* Takes the done events off the top: the top is then the frontier, the
 * first event not done (the heap holds each member at a key no later than
 * its first event not done). */
static void settle(order_group *g)
{
    while (g->heap->len) {
        order_member *top = heap_at(g, 0);
        if (!event_done(g, top))
            return;
        pass_event(top);
        reposition(g, top);
    }
}

static bool frontier_is_reply(const order_group *g) { return g->heap->len && !heap_at(g, 0)->key.send; }

/* The frontier has waited --timeout for a reply: it is missing. So is every
 * other reply before the next client packet; the members that own them are
 * told, so a session that only waits for its last replies can end. */
static void on_stuck(void *data)
{
    order_group *g = data;
    g->timer = NULL;
    GPtrArray *owners = g_ptr_array_new();
    for (;;) {
        settle(g);
        if (!frontier_is_reply(g))
            break;
        order_member *top = heap_at(g, 0);
        g->ops->excuse(top->owner, (uint64_t)top->key.index + 1);
        if (!g_ptr_array_find(owners, top, NULL))
            g_ptr_array_add(owners, top);
    }
    g->stuck_since_us = 0;
    /* and the member whose packet is now at the frontier: it may go */
    if (g->heap->len && !g_ptr_array_find(owners, heap_at(g, 0), NULL))
        g_ptr_array_add(owners, heap_at(g, 0));
    for (guint i = 0; i < owners->len; i++)
        g->ops->wake(((order_member *)g_ptr_array_index(owners, i))->owner);
    g_ptr_array_free(owners, TRUE);
    order_group_advance(g);
}

/* A timer only while the frontier waits for a reply: a client packet at the
 * frontier goes as soon as its connection allows. */
static void arm(order_group *g)
{
    if (!frontier_is_reply(g)) {
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
 * again while it runs. The frontier never moves back: a member that joins
 * has passed what lies before it (order_group_join), so the top is never
 * earlier than the frontier. When no member is left, the frontier stays
 * where it was. */
void order_group_advance(order_group *g)
{
    settle(g);
    if (g->heap->len) {
        order_member *top = heap_at(g, 0);
        if (!g->started || key_cmp(&top->key, &g->frontier) != 0) {
            g->frontier = top->key;
            g->started = true;
            g->stuck_since_us = 0;
            if (g->timer) {
                hmtp_loop_cancel(g->loop, g->timer);
                g->timer = NULL;
            }
            g->ops->wake(top->owner);
        }
    }
    arm(g);
}

bool order_reached(const order_group *g, const order_member *m, bool send, guint index)
{
    if (!g->started)
        return false;
    order_key k = send ? send_key(g, m, index) : reply_key(g, m, index);
    return key_cmp(&k, &g->frontier) <= 0;
}

bool order_reached_first(const order_group *g, const order_member *m)
{
    order_member first = *m;
    first.next_send = first.next_reply = 0;
    order_key k;
    if (!next_key(g, &first, &k))
        return true;
    return g->started && key_cmp(&k, &g->frontier) <= 0;
}
