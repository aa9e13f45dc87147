/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dispatch.h"

#include <string.h>

#include "log.h"
#include "pending.h"
#include "broker_login.h"
#include "presence.h"
#include "pubsub.h"
#include "queries.h"
#include "reply.h"
#include "router.h"

static const char *jid_or_null(const char *s)
{
    return s ? s : "null";
}

static bool is_query_request(int32_t t)
{
    return t == HMTP_QUERY_GET || t == HMTP_QUERY_SET;
}

/* Before login only the login itself (and the key query that precedes an
 * encrypted login) is accepted, and the rest is answered as Resin's
 * AuthBrokerStream does, so that sessions recorded against Resin replay
 * without differences: other queries get cancel/forbidden, everything else
 * (messages, presence, results, errors) is dropped. */
static void before_login(conn *c, hmtp_packet *p)
{
    if (!p->to && p->type == HMTP_QUERY_SET && hmtp_value_is_object(p->value, HMTP_AUTH_QUERY_CLASS)) {
        login_handle_auth(c, p);
        return;
    }
    if (!p->to && p->type == HMTP_QUERY_GET &&
        hmtp_value_is_object(p->value, HMTP_GET_PUBLIC_KEY_QUERY_CLASS)) {
        login_handle_public_key(c, p);
        return;
    }
    if (is_query_request(p->type)) {
        reply_error(c, p, "cancel", "forbidden",
                    "log in first: querySet to=null carrying com.caucho.bam.hmtp.AuthQuery");
        return;
    }
    if (broker_log_packets())
        broker_log("conn %llu dropped %s to=%s: not logged in", (unsigned long long)c->id,
                   hmtp_type_name(p->type), jid_or_null(p->to));
}

/* Packets addressed to the broker itself (to = null or the bare domain). */
static void to_broker(conn *c, hmtp_packet *p)
{
    if (is_query_request(p->type)) {
        if (hmtp_value_is_object(p->value, HMTP_AUTH_QUERY_CLASS)) {
            reply_error(c, p, "modify", "bad-request", "this link is already logged in");
        } else if (p->type == HMTP_QUERY_GET &&
                   hmtp_value_is_object(p->value, HMTP_GET_PUBLIC_KEY_QUERY_CLASS)) {
            login_handle_public_key(c, p);
        } else {
            reply_error(c, p, "cancel", "feature-not-implemented",
                        "the broker itself answers only the login query");
        }
    } else if (p->type == HMTP_MESSAGE) {
        reply_error(c, p, "cancel", "feature-not-implemented",
                    "the broker itself takes no messages");
    } else if ((p->type == HMTP_PRESENCE || p->type == HMTP_PRESENCE_UNAVAILABLE) &&
             hessian_value_writable(p->value))
        presence_broadcast(c, p);
    /* Results and errors to the broker end here. */
}

static void to_query_service(conn *c, hmtp_packet *p)
{
    broker *b = c->b;
    if (is_query_request(p->type)) {
        pubsub_service *dflt = b->services->len ? g_ptr_array_index(b->services, 0) : NULL;
        queries_answer(c, p, b->query_jid, dflt);
    } else if (p->type == HMTP_PRESENCE_PROBE) {
        reply_presence(c, HMTP_PRESENCE, b->query_jid, NULL);
    } else if (p->type == HMTP_MESSAGE || p->type == HMTP_PRESENCE_SUBSCRIBE) {
        reply_error(c, p, "cancel", "feature-not-implemented",
                    "the query service takes queries only");
    }
}

static void forward(conn *c, conn *target, hmtp_packet *p)
{
    if (!hessian_value_writable(p->value) ||
        (p->error_value && !hessian_value_writable(p->error_value))) {
        reply_error(c, p, "modify", "bad-request",
                    "the payload holds an object whose class was never defined");
        return;
    }
    if (p->type == HMTP_PRESENCE_SUBSCRIBE &&
        conn_subscription_count(c) >= c->b->cfg->max_subscriptions) {
        reply_error(c, p, "wait", "resource-constraint",
                    "this link holds the maximum number of subscriptions");
        return;
    }
    bool query = is_query_request(p->type);
    if (query && !pending_add(target, c, p)) { /* a query to itself too: its answer must match */
        reply_error(c, p, "wait", "resource-constraint",
                    "the recipient has too many unanswered queries");
        return;
    }
    /* The from a client writes is ignored: the link's own JID is the truth. */
    if (reply_send(target, p->type, p->to, c->jid, p->has_id, p->id, p->value, p->error_value))
        presence_track(c, target, p);
}

/* A packet to a JID that is no link and no service. As Resin's HempBroker
 * does (and as XMPP does for presence, RFC 6121 section 8.5.2): a query is
 * answered cancel/service-unavailable with Resin's text, so that a session
 * recorded against Resin replays here unchanged; everything else (messages,
 * presence, errors) is dropped silently, which also keeps two parties from
 * trading errors about each other. */
static void to_nobody(conn *c, hmtp_packet *p)
{
    if (is_query_request(p->type)) {
        char *text = g_strdup_printf("'%s' is an unknown service for %s", p->to, hmtp_type_name(p->type));
        reply_error(c, p, "cancel", "service-unavailable", text);
        g_free(text);
        return;
    }
    if (broker_log_packets())
        broker_log("conn %llu dropped %s to=%s: no such JID", (unsigned long long)c->id, hmtp_type_name(p->type),
                   p->to);
}

void dispatch_packet(conn *c, hmtp_packet *p, bool *taken)
{
    broker *b = c->b;
    *taken = false;
    if (broker_log_packets())
        broker_log("conn %llu in %s from=%s to=%s", (unsigned long long)c->id,
                   hmtp_type_name(p->type), jid_or_null(c->jid), jid_or_null(p->to));
    if (!c->jid) {
        before_login(c, p);
        return;
    }
    if ((p->type == HMTP_QUERY_RESULT || p->type == HMTP_QUERY_ERROR) && !pending_answered(c, p)) {
        /* Only the party that was asked answers, and only to the asker: an
         * answer to no query forwarded to this link (a forgery with another
         * link's id, a second answer, one to the broker or its services,
         * which ask nothing) is dropped, never answered with an error (two
         * parties could then trade errors for ever). */
        if (broker_log_packets())
            broker_log("conn %llu dropped %s id=%lld to=%s: answers no query sent to this link",
                       (unsigned long long)c->id, hmtp_type_name(p->type), (long long)p->id, jid_or_null(p->to));
        return;
    }
    if (!p->to || strcmp(p->to, b->cfg->domain) == 0) {
        to_broker(c, p);
        return;
    }
    pubsub_service *s = pubsub_find(b, p->to);
    if (s) {
        if (is_query_request(p->type)) /* a service answers the broker's queries too */
            queries_answer(c, p, s->jid, s);
        else
            pubsub_handle(s, c, p, taken);
        return;
    }
    char *bare = router_bare_of(p->to);
    bool query_service = bare && strcmp(bare, b->query_jid) == 0;
    g_free(bare);
    if (query_service) {
        to_query_service(c, p);
        return;
    }
    conn *target = router_lookup(b, p->to);
    if (target) {
        forward(c, target, p);
        return;
    }
    to_nobody(c, p);
}
