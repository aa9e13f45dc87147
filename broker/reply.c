/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "reply.h"

#include <string.h>

#include "log.h"

static const char *jid_or_null(const char *s)
{
    return s ? s : "null";
}

bool reply_send(conn *c, int32_t type, const char *to, const char *from, bool has_id, int64_t id,
                const hessian_value *value, const hessian_value *error_value)
{
    if (c->closing || c->phase != CONN_HMTP)
        return false;
    hmtp_packet q;
    hmtp_packet_init(&q);
    q.type = type;
    q.to = to;
    q.from = from;
    q.has_id = has_id;
    q.id = id;
    /* The packet only borrows the values: they live in the caller's arena. */
    /* A payload echoed back (subscribe, errors) may hold what the writer
     * cannot re-create (a class or type never defined on that link): it goes
     * back as null rather than as a half-written value. */
    if (value && !hessian_value_writable(value))
        value = NULL;
    if (error_value && !hessian_value_writable(error_value))
        error_value = NULL;
    q.value = value ? (hessian_value *)value : hessian_new_null(&q.arena);
    q.error_value = error_value ? (hessian_value *)error_value : hessian_new_null(&q.arena);
    bool ok = q.value && q.error_value && hmtp_packet_write(&c->writer, &q);
    hmtp_packet_free(&q); /* frees only q's own null node, if any */
    c->packets_out++;
    if (broker_log_packets())
        broker_log("conn %llu out %s from=%s to=%s", (unsigned long long)c->id,
                   hmtp_type_name(type), jid_or_null(from), jid_or_null(to));
    if (!ok || c->writer.failed || c->out.failed) {
        /* Values were checked above, so this is the writer running out of
         * memory: the link's output can no longer be trusted. */
        conn_close(c, "could not encode an outgoing %s (out of memory)", hmtp_type_name(type));
        return false;
    }
    conn_mark_dirty(c);
    size_t pending = conn_pending(c);
    if (pending > c->b->cfg->output_limit) {
        conn_close(c,
                   "output limit exceeded: %zu bytes unsent (limit %zu); the client is not reading",
                   pending, c->b->cfg->output_limit);
        return false;
    }
    return true;
}

bool reply_presence(conn *c, int32_t type, const char *from, const hessian_value *echo)
{
    if (echo && echo->kind != HESSIAN_NULL && hessian_value_writable(echo))
        return reply_send(c, type, c->jid, from, false, 0, echo, NULL);
    if (!c->b->cfg->presence_payloads)
        return reply_send(c, type, c->jid, from, false, 0, NULL, NULL);
    hmtp_arena a;
    hmtp_arena_init(&a);
    static const char *const fields[] = {"_jid"};
    hessian_value *v = hessian_new_object(&a, BROKER_PRESENCE_CLASS, 1, fields);
    hessian_value *jid = hessian_new_string(&a, from, from ? strlen(from) : 0);
    bool ok = v && jid && hessian_object_set(v, "_jid", jid);
    if (ok)
        ok = reply_send(c, type, c->jid, from, false, 0, v, NULL);
    else
        conn_close(c, "out of memory building a presence payload");
    hmtp_arena_free(&a);
    return ok;
}

/* The error type that answers a packet of type t: messageError for a
 * message, queryError for queryGet/querySet, presenceError for presence
 * 6..12; -1 for results and errors, which are never answered with an error
 * (that could loop between two parties). */
static int32_t reply_error_type_for(int32_t t)
{
    switch (t) {
    case HMTP_MESSAGE:
        return HMTP_MESSAGE_ERROR;
    case HMTP_QUERY_GET:
    case HMTP_QUERY_SET:
        return HMTP_QUERY_ERROR;
    case HMTP_PRESENCE:
    case HMTP_PRESENCE_UNAVAILABLE:
    case HMTP_PRESENCE_PROBE:
    case HMTP_PRESENCE_SUBSCRIBE:
    case HMTP_PRESENCE_SUBSCRIBED:
    case HMTP_PRESENCE_UNSUBSCRIBE:
    case HMTP_PRESENCE_UNSUBSCRIBED:
        return HMTP_PRESENCE_ERROR;
    default:
        return -1;
    }
}

bool reply_error(conn *c, hmtp_packet *p, const char *etype, const char *group, const char *text)
{
    int32_t et = reply_error_type_for(p->type);
    if (et < 0) {
        if (broker_log_packets())
            broker_log("conn %llu dropped %s to=%s: %s/%s "
                       "(an error never answers a result or error)",
                       (unsigned long long)c->id, hmtp_type_name(p->type), jid_or_null(p->to),
                       etype, group);
        return false;
    }
    hessian_value *err = hmtp_new_bam_error(&p->arena, etype, group, text);
    if (!err) {
        conn_close(c, "out of memory building an error reply");
        return false;
    }
    /* The offending payload goes back as the error's value; one the broker
     * cannot write again (unknown class) goes back as null. */
    const hessian_value *value = hessian_value_writable(p->value) ? p->value : NULL;
    hessian_value *null_value = NULL;
    if (!value) {
        null_value = hessian_new_null(&p->arena);
        value = null_value;
    }
    return reply_send(c, et, c->jid, p->to, hmtp_type_has_id(et), p->id, value, err);
}

