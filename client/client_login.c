/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "client_login.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "hmtp_crypto.h"

int64_t login_first_id(login_mode mode)
{
    return mode == LOGIN_PLAIN ? 0 : 1;
}

static void packet_dispose(hmtp_packet *p)
{
    if (p) {
        hmtp_packet_free(p);
        free(p);
    }
}

/* Sends q (its type, id and value set) and waits for the answer to its id;
 * q is freed either way. NULL with err set when it could not be sent or no
 * answer came in time. */
static hmtp_packet *ask(const client_link *l, hmtp_packet *q, const char *what, int64_t timeout_ms,
                        hmtp_tool_error *err)
{
    int64_t id = q->id;
    bool sent = l->send_query(l, q, err);
    hmtp_packet_free(q);
    return sent ? l->await_answer(l, id, what, timeout_ms, err) : NULL;
}

/* Step 1 of the encrypted login: asks for the server's public key and copies
 * its SubjectPublicKeyInfo DER into spki. On failure *why says whether no
 * answer came or a useless one. */
static bool fetch_public_key(const client_link *l, int64_t timeout_ms, hmtp_buf *spki, login_outcome *why,
                             hmtp_tool_error *err)
{
    *why = LOGIN_NO_ANSWER;
    hmtp_packet q;
    hmtp_packet_init(&q);
    q.type = HMTP_QUERY_GET;
    q.has_id = true;
    q.id = l->next_id(l);
    q.value = hmtp_new_public_key_query(&q.arena, NULL, NULL, NULL, 0);
    if (!q.value) {
        hmtp_packet_free(&q);
        return hmtp_tool_fail(err, "%s: out of memory building the public key query", l->name);
    }
    int64_t id = q.id;
    hmtp_packet *p = ask(l, &q, "public key query (queryGet GetPublicKeyQuery)", timeout_ms, err);
    if (!p)
        return false;
    *why = LOGIN_BAD_ANSWER;
    bool ok = false;
    const uint8_t *der;
    size_t der_len;
    switch (hmtp_public_key_answer_read(p, &der, &der_len)) {
    case HMTP_PUBLIC_KEY_REFUSED:
        hmtp_tool_fail(err, "the server refused the public key query (id=%lld) with %s/%s%s%s: it may not offer the "
                       "encrypted login (try --plain or login=plain)",
                       (long long)id, p->error.type ? p->error.type : "?", p->error.group ? p->error.group : "?",
                       p->error.text ? ": " : "", p->error.text ? p->error.text : "");
        break;
    case HMTP_PUBLIC_KEY_MISSING:
        hmtp_tool_fail(err, "the public key query's answer (id=%lld) holds no %s with a byte[] _encoded",
                       (long long)id, HMTP_GET_PUBLIC_KEY_QUERY_CLASS);
        break;
    case HMTP_PUBLIC_KEY_FOUND:
        ok = hmtp_buf_append(spki, der, der_len);
        if (!ok)
            hmtp_tool_fail(err, "out of memory");
        break;
    }
    packet_dispose(p);
    return ok;
}

/* The value of AuthQuery._credentials: the password string, or (encrypted)
 * an EncryptedObject for the server whose key is spki. */
static hessian_value *login_credentials(const login_request *req, const hmtp_buf *spki, hmtp_arena *a, hmtp_tool_error *err)
{
    if (req->mode == LOGIN_PLAIN)
        return hessian_new_string(a, req->password, strlen(req->password));
    hmtp_tool_error why;
    hessian_value *v = hmtp_credentials_encrypt(a, spki->data, spki->len, req->password, &why);
    if (!v)
        hmtp_tool_fail(err, "cannot encrypt the password with the server's public key: %s", why.msg);
    return v;
}

/* The querySet AuthQuery with id, in *q (freed again when false). */
static bool build_auth_query(const client_link *l, const login_request *req, const hmtp_buf *spki, int64_t id,
                             hmtp_packet *q, hmtp_tool_error *err)
{
    hmtp_packet_init(q);
    hmtp_arena *a = &q->arena;
    /* Field order as Resin's JavaSerializer writes AuthQuery: the java.lang
       fields (_uid, _resource) first, then _credentials. */
    hessian_value *cred = login_credentials(req, spki, a, err);
    hessian_value *auth = cred ? hmtp_new_auth_query(a, req->user, req->resource, cred) : NULL;
    if (!auth) {
        hmtp_packet_free(q);
        if (!err->msg[0]) /* not the credentials: building the query ran out of memory */
            hmtp_tool_fail(err, "%s: out of memory building the login query", l->name);
        return false;
    }
    /* to = null, from = null: the link has no JID before login */
    q->type = HMTP_QUERY_SET;
    q->has_id = true;
    q->id = id;
    q->value = auth;
    return true;
}

login_outcome login_run(const client_link *l, const login_request *req, int64_t timeout_ms, hmtp_packet **answer,
                        char **jid_out, hmtp_tool_error *err)
{
    err->msg[0] = '\0';
    *answer = NULL;
    *jid_out = NULL;
    hmtp_buf spki;
    hmtp_buf_init(&spki);
    login_outcome why;
    if (req->mode == LOGIN_ENCRYPTED && !fetch_public_key(l, timeout_ms, &spki, &why, err)) {
        hmtp_buf_free(&spki);
        return why;
    }
    int64_t id = l->next_id(l);
    hmtp_packet q;
    bool built = build_auth_query(l, req, &spki, id, &q, err);
    hmtp_buf_free(&spki);
    hmtp_packet *p = built ? ask(l, &q, "login (querySet AuthQuery)", timeout_ms, err) : NULL;
    if (!p)
        return LOGIN_NO_ANSWER;
    if (p->type == HMTP_QUERY_ERROR) {
        *answer = p;
        return LOGIN_REJECTED;
    }
    const char *jid = hessian_value_string(hessian_object_field(p->value, "_jid"));
    if (!hmtp_value_is_object(p->value, HMTP_AUTH_RESULT_CLASS) || !jid) {
        hmtp_tool_fail(err, "the login's queryResult (id=%lld) holds no %s with a string _jid", (long long)id,
                       HMTP_AUTH_RESULT_CLASS);
        packet_dispose(p);
        return LOGIN_BAD_ANSWER;
    }
    *jid_out = strdup(jid);
    packet_dispose(p);
    if (!*jid_out) {
        hmtp_tool_fail(err, "out of memory");
        return LOGIN_BAD_ANSWER;
    }
    return LOGIN_ACCEPTED;
}
