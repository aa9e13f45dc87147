/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "queries.h"

#include <glib.h>
#include <string.h>

#include "pubsub.h"
#include "reply.h"

/* --real-date adds _date, the time of the answer: a value that changes from
 * one run to the next, as a real server's clock fields do (hmtp-replay learn
 * is tested on it). Without it the answer is as recorded, byte for byte. */
static const char *const ping_fields[] = {"_payload", "_server", "_date"};
static const char *const subscribers_fields[] = {"_service", "_subscribers", "_capabilities"};

/* A value copied into a new place of the answer must not hold a 'Q' ref
 * (it would count containers from a different start): such a value is
 * answered as null. */
static const hessian_value *movable(hmtp_arena *a, const hessian_value *v)
{
    if (v && hessian_value_movable(v))
        return v;
    return hessian_new_null(a);
}

static void answer_ping(conn *c, hmtp_packet *p, const char *service_jid)
{
    hmtp_arena *a = &p->arena;
    const char *server = c->b->cfg->alter_ping ? "hmtp-broker-altered" : "hmtp-broker";
    bool dated = c->b->cfg->real_date;
    hessian_value *obj = hessian_new_object(a, BROKER_PING_CLASS, dated ? 3 : 2, ping_fields);
    hessian_value *payload =
        (hessian_value *)movable(a, hessian_object_field(p->value, "_payload"));
    hessian_value *server_v = hessian_new_string(a, server, strlen(server));
    if (!obj || !payload || !server_v || !hessian_object_set(obj, "_payload", payload) ||
        !hessian_object_set(obj, "_server", server_v)) {
        conn_close(c, "out of memory answering a ping");
        return;
    }
    hessian_value *date = dated ? hessian_new_date(a, g_get_real_time() / 1000) : NULL;
    if (dated && (!date || !hessian_object_set(obj, "_date", date))) {
        conn_close(c, "out of memory answering a ping");
        return;
    }
    reply_send(c, HMTP_QUERY_RESULT, c->jid, service_jid, true, p->id, obj, NULL);
}

static hessian_value *subscribers_answer(hmtp_arena *a, pubsub_service *s)
{
    guint n = s->subscribers->len;
    hessian_value *obj = hessian_new_object(a, BROKER_SUBSCRIBERS_CLASS, 3, subscribers_fields);
    hessian_value *list = hessian_new_list(a, NULL, false, n);
    hessian_value *map = hessian_new_map(a, NULL, n);
    hessian_value *name = hessian_new_string(a, s->jid, strlen(s->jid));
    if (!obj || !list || !map || !name)
        return NULL;
    for (guint i = 0; i < n; i++) {
        const pubsub_subscriber *sub = g_ptr_array_index(s->subscribers, i);
        hessian_value *jid = hessian_new_string(a, sub->c->jid, strlen(sub->c->jid));
        hessian_value *key = hessian_new_string(a, sub->c->jid, strlen(sub->c->jid));
        const hessian_value *caps = movable(a, sub->caps ? sub->caps->value : NULL);
        if (!jid || !key || !caps)
            return NULL;
        list->v.list.items[i] = jid;
        map->v.map.keys[i] = key;
        map->v.map.values[i] = (hessian_value *)caps;
    }
    if (!hessian_object_set(obj, "_service", name) ||
        !hessian_object_set(obj, "_subscribers", list) ||
        !hessian_object_set(obj, "_capabilities", map))
        return NULL;
    return obj;
}

static void answer_subscribers(conn *c, hmtp_packet *p, const char *service_jid,
                               pubsub_service *dflt)
{
    const hessian_value *named = hessian_object_field(p->value, "_service");
    const char *name = hessian_value_string(named);
    pubsub_service *s = name ? pubsub_find(c->b, name) : dflt;
    if (!s) {
        reply_error(c, p, "cancel", "item-not-found",
                    name ? "no publish/subscribe service by that name"
                         : "this broker runs no publish/subscribe service");
        return;
    }
    hessian_value *obj = subscribers_answer(&p->arena, s);
    if (!obj) {
        conn_close(c, "out of memory answering a subscriber list");
        return;
    }
    reply_send(c, HMTP_QUERY_RESULT, c->jid, service_jid, true, p->id, obj, NULL);
}

void queries_answer(conn *c, hmtp_packet *p, const char *service_jid, pubsub_service *dflt)
{
    if (hmtp_value_is_object(p->value, BROKER_PING_CLASS))
        answer_ping(c, p, service_jid);
    else if (hmtp_value_is_object(p->value, BROKER_SUBSCRIBERS_CLASS))
        answer_subscribers(c, p, service_jid, dflt);
    else
        reply_error(c, p, "cancel", "feature-not-implemented",
                    "this service answers hmtp.PingQuery and hmtp.SubscribersQuery only");
}
