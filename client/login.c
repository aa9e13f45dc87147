/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "login.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

/* The value of AuthQuery._credentials. This is the one place the encrypted
 * login of late January 2009 will change: it needs a GetPublicKeyQuery
 * exchange first (so it will send and wait here) and returns an
 * EncryptedObject instead of the bare password. */
static hessian_value *login_credentials(const login_request *req, hmtp_arena *a, char *msg, size_t msg_size)
{
    switch (req->mode) {
    case LOGIN_PLAIN:
        return hessian_new_string(a, req->password, strlen(req->password));
    }
    snprintf(msg, msg_size, "unknown login mode %d", (int)req->mode);
    return NULL;
}

typedef struct answer_wait {
    client_conn *c;
    int64_t id;
    size_t index; /* where in the inbox the answer is */
} answer_wait;

static bool answered(client_session *s, void *ctx)
{
    (void)s;
    answer_wait *w = ctx;
    for (size_t i = 0; i < w->c->ninbox; i++) {
        const hmtp_packet *p = w->c->inbox[i];
        if ((p->type == HMTP_QUERY_RESULT || p->type == HMTP_QUERY_ERROR) && p->has_id && p->id == w->id) {
            w->index = i;
            return true;
        }
    }
    return w->c->eof || w->c->error[0] || w->c->fd < 0;
}

static bool send_auth_query(client_session *s, client_conn *c, const login_request *req, int64_t id, char *msg,
                            size_t msg_size)
{
    hmtp_packet q;
    hmtp_packet_init(&q);
    hmtp_arena *a = &q.arena;
    bool ok = false;
    /* Field order as Resin's JavaSerializer writes AuthQuery: the java.lang
       fields (_uid, _resource) first, then _credentials. */
    hessian_value *cred = login_credentials(req, a, msg, msg_size);
    hessian_value *auth = cred ? hmtp_new_auth_query(a, req->user, req->resource, cred) : NULL;
    if (auth && cred) {
        /* to = null, from = null: the link has no JID before login */
        q.type = HMTP_QUERY_SET;
        q.has_id = true;
        q.id = id;
        q.value = auth;
        ok = conn_send_packet(s, c, &q, SIZE_MAX, msg, msg_size);
    } else if (!msg[0]) {
        snprintf(msg, msg_size, "%s: out of memory building the login query", c->name);
    }
    hmtp_packet_free(&q);
    return ok;
}

login_outcome login_run(client_session *s, client_conn *c, const login_request *req, int64_t timeout_ms,
                        hmtp_packet **answer, char *msg, size_t msg_size)
{
    msg[0] = '\0';
    *answer = NULL;
    int64_t id = c->next_id++;
    if (!send_auth_query(s, c, req, id, msg, msg_size))
        return LOGIN_NO_ANSWER;
    c->has_last_sent = true;
    c->last_sent_id = id;
    answer_wait w = {.c = c, .id = id, .index = SIZE_MAX};
    int64_t deadline = now_ms() + timeout_ms;
    if (!session_pump(s, deadline, answered, &w) || w.index == SIZE_MAX) {
        snprintf(msg, msg_size, "no answer to the login (querySet id=%lld) %s", (long long)id,
                 c->error[0] ? c->error
                 : c->eof   ? "before the server closed the connection"
                            : "in time");
        return LOGIN_NO_ANSWER;
    }
    hmtp_packet *p = c->inbox[w.index];
    if (p->type == HMTP_QUERY_ERROR) {
        *answer = p;
        memmove(&c->inbox[w.index], &c->inbox[w.index + 1], (c->ninbox - w.index - 1) * sizeof *c->inbox);
        c->ninbox--;
        return LOGIN_REJECTED;
    }
    const char *jid = hessian_value_string(hessian_object_field(p->value, "_jid"));
    if (!p->value || p->value->kind != HESSIAN_OBJECT || !p->value->v.object.cls ||
        strcmp(p->value->v.object.cls, HMTP_AUTH_RESULT_CLASS) != 0 || !jid) {
        snprintf(msg, msg_size, "the login's queryResult (id=%lld) holds no %s with a string _jid", (long long)id,
                 HMTP_AUTH_RESULT_CLASS);
        conn_inbox_remove(c, w.index);
        return LOGIN_BAD_ANSWER;
    }
    free(c->jid);
    c->jid = strdup(jid);
    conn_inbox_remove(c, w.index);
    if (!c->jid) {
        snprintf(msg, msg_size, "out of memory");
        return LOGIN_BAD_ANSWER;
    }
    return LOGIN_ACCEPTED;
}
