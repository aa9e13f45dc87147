/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pubsub.h"

#include <string.h>

#include "log.h"
#include "reply.h"
#include "router.h"

static void subscriber_free(gpointer p)
{
    pubsub_subscriber *s = p;
    if (s->caps) {
        hmtp_packet_free(s->caps);
        g_free(s->caps);
    }
    g_free(s);
}

pubsub_service *pubsub_new(const char *jid)
{
    pubsub_service *s = g_new0(pubsub_service, 1);
    s->jid = g_strdup(jid);
    s->subscribers = g_ptr_array_new_with_free_func(subscriber_free);
    return s;
}

void pubsub_free(pubsub_service *s)
{
    g_ptr_array_free(s->subscribers, TRUE);
    g_free(s->jid);
    g_free(s);
}

pubsub_service *pubsub_find(broker *b, const char *jid)
{
    char *bare = router_bare_of(jid);
    if (!bare)
        return NULL;
    pubsub_service *found = NULL;
    for (guint i = 0; i < b->services->len && !found; i++) {
        pubsub_service *s = g_ptr_array_index(b->services, i);
        if (strcmp(s->jid, bare) == 0)
            found = s;
    }
    g_free(bare);
    return found;
}

static int subscriber_index(pubsub_service *s, conn *c)
{
    for (guint i = 0; i < s->subscribers->len; i++) {
        pubsub_subscriber *sub = g_ptr_array_index(s->subscribers, i);
        if (sub->c == c)
            return (int)i;
    }
    return -1;
}

static void subscribe(pubsub_service *s, conn *c, hmtp_packet *p)
{
    if (subscriber_index(s, c) < 0) {
        if (conn_subscription_count(c) >= c->b->cfg->max_subscriptions) {
            reply_error(c, p, "wait", "resource-constraint",
                        "this link holds the maximum number of subscriptions");
            return;
        }
        pubsub_subscriber *sub = g_new0(pubsub_subscriber, 1);
        sub->c = c;
        g_ptr_array_add(s->subscribers, sub);
        g_ptr_array_add(c->services, s);
        broker_log("conn %llu %s subscribed to %s (%u subscribers)", (unsigned long long)c->id,
                   c->jid, s->jid, s->subscribers->len);
    }
    /* The XMPP order: accept, show the service's presence, then ask the new
     * subscriber what it can take. A repeated subscribe gets the same
     * answers, so a client that lost track can resynchronise. */
    reply_presence(c, HMTP_PRESENCE_SUBSCRIBED, s->jid, p->value);
    reply_presence(c, HMTP_PRESENCE, s->jid, NULL);
    reply_presence(c, HMTP_PRESENCE_PROBE, s->jid, NULL);
}

static bool unsubscribe_quietly(pubsub_service *s, conn *c)
{
    int i = subscriber_index(s, c);
    if (i < 0)
        return false;
    g_ptr_array_remove_index(s->subscribers, (guint)i); /* keeps the order */
    g_ptr_array_remove(c->services, s);
    return true;
}

static void unsubscribe(pubsub_service *s, conn *c, hmtp_packet *p)
{
    if (unsubscribe_quietly(s, c))
        broker_log("conn %llu %s unsubscribed from %s (%u subscribers)",
                   (unsigned long long)c->id, c->jid, s->jid, s->subscribers->len);
    /* As XMPP does after an unsubscribe: the client stops seeing the
     * service, so it is told the service is unavailable to it. */
    reply_presence(c, HMTP_PRESENCE_UNSUBSCRIBED, s->jid, p->value);
    reply_presence(c, HMTP_PRESENCE_UNAVAILABLE, s->jid, NULL);
}

static void remember_capabilities(pubsub_service *s, conn *c, hmtp_packet *p, bool *taken)
{
    int i = subscriber_index(s, c);
    if (i < 0)
        return; /* presence from a non-subscriber tells the service nothing */
    pubsub_subscriber *sub = g_ptr_array_index(s->subscribers, (guint)i);
    if (sub->caps) {
        hmtp_packet_free(sub->caps);
        g_free(sub->caps);
    }
    /* Keep the whole decoded packet: its arena owns the value tree. */
    sub->caps = g_new(hmtp_packet, 1);
    *sub->caps = *p;
    *taken = true;
}

static void publish(pubsub_service *s, conn *c, hmtp_packet *p)
{
    if (!hessian_value_writable(p->value)) {
        reply_error(c, p, "modify", "bad-request",
                    "the payload holds an object whose class was never defined");
        return;
    }
    /* Delivery can close a subscriber (output limit) but never frees it
     * here, so the array stays intact during the walk. */
    for (guint i = 0; i < s->subscribers->len; i++) {
        pubsub_subscriber *sub = g_ptr_array_index(s->subscribers, i);
        reply_send(sub->c, HMTP_MESSAGE, sub->c->jid, s->jid, false, 0, p->value, NULL);
    }
}

void pubsub_handle(pubsub_service *s, conn *c, hmtp_packet *p, bool *taken)
{
    switch (p->type) {
    case HMTP_PRESENCE_SUBSCRIBE:
        subscribe(s, c, p);
        break;
    case HMTP_PRESENCE_UNSUBSCRIBE:
        unsubscribe(s, c, p);
        break;
    case HMTP_PRESENCE:
        remember_capabilities(s, c, p, taken);
        break;
    case HMTP_PRESENCE_UNAVAILABLE:
        if (unsubscribe_quietly(s, c))
            broker_log("conn %llu %s unavailable to %s: subscription ended (%u subscribers)",
                       (unsigned long long)c->id, c->jid, s->jid, s->subscribers->len);
        break;
    case HMTP_PRESENCE_PROBE:
        reply_presence(c, HMTP_PRESENCE, s->jid, NULL);
        break;
    case HMTP_MESSAGE:
        publish(s, c, p);
        break;
    default:
        /* subscribed/unsubscribed/results/errors sent to a service: nothing
         * to do, and an error must not answer them */
        break;
    }
}

void pubsub_drop_subscriber(pubsub_service *s, conn *c)
{
    unsubscribe_quietly(s, c);
}

void pubsub_announce_unavailable(pubsub_service *s)
{
    for (guint i = 0; i < s->subscribers->len; i++) {
        pubsub_subscriber *sub = g_ptr_array_index(s->subscribers, i);
        reply_presence(sub->c, HMTP_PRESENCE_UNAVAILABLE, s->jid, NULL);
    }
}
