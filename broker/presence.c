/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "presence.h"

#include <string.h>

#include "pubsub.h"
#include "reply.h"
#include "router.h"

static bool has(GPtrArray *jids, const char *jid)
{
    for (guint i = 0; i < jids->len; i++)
        if (strcmp(g_ptr_array_index(jids, i), jid) == 0)
            return true;
    return false;
}

static void remove_jid(GPtrArray *jids, const char *jid)
{
    for (guint i = 0; i < jids->len; i++) {
        if (strcmp(g_ptr_array_index(jids, i), jid) == 0) {
            g_ptr_array_remove_index(jids, i); /* frees the string, keeps order */
            return;
        }
    }
}

/* target's presence now goes to subscriber. */
static void link_pair(conn *target, conn *subscriber)
{
    if (has(target->presence_subscribers, subscriber->jid))
        return;
    if (conn_subscription_count(subscriber) >= subscriber->b->cfg->max_subscriptions)
        return; /* the subscriber asked for more than it may hold: not recorded */
    g_ptr_array_add(target->presence_subscribers, g_strdup(subscriber->jid));
    g_ptr_array_add(subscriber->peer_targets, g_strdup(target->jid));
}

static void unlink_pair(conn *target, conn *subscriber)
{
    remove_jid(target->presence_subscribers, subscriber->jid);
    remove_jid(subscriber->peer_targets, target->jid);
}

void presence_track(conn *from, conn *to, const hmtp_packet *p)
{
    switch (p->type) {
    case HMTP_PRESENCE_SUBSCRIBED: /* from accepts to's subscription */
        link_pair(from, to);
        break;
    case HMTP_PRESENCE_UNSUBSCRIBED: /* from cancels to's subscription */
        unlink_pair(from, to);
        break;
    case HMTP_PRESENCE_UNSUBSCRIBE: /* from no longer wants to's presence */
        unlink_pair(to, from);
        break;
    default:
        break;
    }
}

void presence_broadcast(conn *c, const hmtp_packet *p)
{
    for (guint i = 0; i < c->presence_subscribers->len; i++) {
        const char *jid = g_ptr_array_index(c->presence_subscribers, i);
        conn *sub = g_hash_table_lookup(c->b->by_full, jid);
        if (sub)
            reply_send(sub, p->type, sub->jid, c->jid, false, 0, p->value, NULL);
    }
}

void presence_client_gone(conn *c)
{
    broker *b = c->b;
    while (c->services->len > 0)
        pubsub_drop_subscriber(g_ptr_array_index(c->services, c->services->len - 1), c);
    if (!c->jid)
        return;
    for (guint i = 0; i < c->peer_targets->len; i++) {
        conn *target = g_hash_table_lookup(b->by_full, g_ptr_array_index(c->peer_targets, i));
        if (target)
            remove_jid(target->presence_subscribers, c->jid);
    }
    g_ptr_array_set_size(c->peer_targets, 0);
    for (guint i = 0; i < c->presence_subscribers->len; i++) {
        const char *jid = g_ptr_array_index(c->presence_subscribers, i);
        conn *sub = g_hash_table_lookup(b->by_full, jid);
        if (!sub)
            continue;
        remove_jid(sub->peer_targets, c->jid);
        reply_presence(sub, HMTP_PRESENCE_UNAVAILABLE, c->jid, NULL);
    }
    g_ptr_array_set_size(c->presence_subscribers, 0);
}
