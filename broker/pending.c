/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pending.h"

#include <string.h>

#include "broker.h"
#include "reply.h"

typedef struct pending_query {
    char *querier; /* full JID */
    char *to;      /* the address the querier used, the answer's from */
    int64_t id;
} pending_query;

static void pending_query_free(gpointer p)
{
    pending_query *q = p;
    g_free(q->querier);
    g_free(q->to);
    g_free(q);
}

static GQueue *queue_of(conn *c)
{
    if (!c->pending)
        c->pending = g_queue_new();
    return c->pending;
}

bool pending_add(conn *target, const conn *querier, const hmtp_packet *p)
{
    GQueue *q = queue_of(target);
    if (q->length >= PENDING_QUERIES_MAX)
        return false;
    pending_query *e = g_new(pending_query, 1);
    e->querier = g_strdup(querier->jid);
    e->to = g_strdup(p->to);
    e->id = p->id;
    g_queue_push_tail(q, e);
    return true;
}

bool pending_answered(conn *target, const hmtp_packet *p)
{
    if (!target->pending || !p->to)
        return false;
    size_t n = strlen(p->to);
    for (GList *l = target->pending->head; l; l = l->next) {
        pending_query *e = l->data;
        /* the answer may be addressed to the querier's bare JID */
        bool to_querier = strncmp(e->querier, p->to, n) == 0 &&
                          (e->querier[n] == '\0' || e->querier[n] == '/');
        if (e->id == p->id && to_querier) {
            pending_query_free(e);
            g_queue_delete_link(target->pending, l);
            return true;
        }
    }
    return false;
}

void pending_fail_all(conn *target)
{
    if (!target->pending)
        return;
    hmtp_arena a;
    hmtp_arena_init(&a);
    pending_query *e;
    while ((e = g_queue_pop_head(target->pending)) != NULL) {
        conn *querier = g_hash_table_lookup(target->b->by_full, e->querier);
        hessian_value *err = hmtp_new_bam_error(&a, "cancel", "service-unavailable",
                                                "the client left before answering");
        if (querier && err)
            reply_send(querier, HMTP_QUERY_ERROR, querier->jid, e->to, true, e->id, NULL, err);
        pending_query_free(e);
    }
    hmtp_arena_free(&a);
}

void pending_free(conn *target)
{
    if (target->pending)
        g_queue_free_full(target->pending, pending_query_free);
    target->pending = NULL;
}
