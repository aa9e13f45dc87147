/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "broker_login.h"

#include <string.h>

#include "jid.h"
#include "log.h"
#include "login_guard.h"
#include "reply.h"
#include "router.h"

typedef enum credentials_status {
    CREDENTIALS_OK,
    CREDENTIALS_BAD,           /* not a form any client sends */
    CREDENTIALS_PLAIN_REFUSED, /* --require-encrypted and a plain (or no) password */
    CREDENTIALS_UNREADABLE,    /* an EncryptedObject that does not decrypt to a string */
} credentials_status;

/* The one place that turns AuthQuery._credentials into a password: the
 * password string of the early 2009 client, or the EncryptedObject of the
 * late-January client (an AES key wrapped with the broker's RSA key, the
 * Hessian-encoded password encrypted with it). A decrypted password lives in
 * the packet's arena; why is set for CREDENTIALS_UNREADABLE (the crypto
 * module's reason, which never contains the secrets). */
static credentials_status credentials_password(conn *c, hmtp_packet *p, const hessian_value *cred,
                                               char **password, hmtp_tool_error *why)
{
    const broker_config *cfg = c->b->cfg;
    *password = NULL;
    if (hmtp_value_is_object(cred, HMTP_ENCRYPTED_OBJECT_CLASS)) {
        *password = hmtp_credentials_decrypt_password(cfg->key.rsa, cred, &p->arena, why);
        return *password ? CREDENTIALS_OK : CREDENTIALS_UNREADABLE;
    }
    bool plain = !cred || cred->kind == HESSIAN_NULL || cred->kind == HESSIAN_STRING;
    if (!plain)
        return CREDENTIALS_BAD;
    if (cfg->require_encrypted)
        return CREDENTIALS_PLAIN_REFUSED;
    if (cred && cred->kind == HESSIAN_STRING)
        *password = (char *)cred->v.str.data;
    return CREDENTIALS_OK;
}

/* The password must not outlive the check in memory the broker controls
 * (the arena is freed with the packet, but freed memory keeps its bytes). */
static void wipe(char *s)
{
    if (!s)
        return;
    volatile char *v = s;
    while (*v)
        *v++ = '\0';
}

/* Resin's HempBroker.generateJid: 64 random bits written as 11 Base64
 * characters, six bits each from bit 60 down (the first from an arithmetic
 * shift, so it carries the sign), in the standard alphabet whose '+' and
 * '/' stay as they are: a resource may hold, and start with, '/'. */
static char *random_resource(void)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int64_t v = (int64_t)(((uint64_t)g_random_int() << 32) | g_random_int());
    char *out = g_malloc(12);
    for (int i = 0; i < 11; i++) {
        int shift = 60 - 6 * i;
        out[i] = alphabet[(v >> shift) & 63];
    }
    out[11] = '\0';
    return out;
}

static char *full_jid(conn *c, const char *uid, const char *resource)
{
    /* A resource the client leaves null is made from the connection number,
     * which depends only on the order of connections: replays stay equal.
     * --random-resources makes it as Resin does, for testing replayers
     * against a target that names links its own way. */
    char *made = resource                     ? NULL
                 : c->b->cfg->random_resources ? random_resource()
                                               : g_strdup_printf("hmtp-%llu", (unsigned long long)c->id);
    const char *res = resource ? resource : made;
    char *jid = strchr(uid, '@') ? g_strdup_printf("%s/%s", uid, res)
                                 : g_strdup_printf("%s@%s/%s", uid, c->b->cfg->domain, res);
    g_free(made);
    return jid;
}

/* One log line per refusal; log_reason (when not NULL) says more than the
 * client is told. */
static void refuse_logged(conn *c, hmtp_packet *p, const char *uid, const char *etype,
                          const char *group, const char *text, const char *log_reason)
{
    broker_log("conn %llu login refused for '%s': %s", (unsigned long long)c->id,
               uid ? uid : "(none)", log_reason ? log_reason : text);
    reply_error(c, p, etype, group, text);
    if (strcmp(group, "conflict") != 0) /* a conflict is no guess */
        login_guard_failed(c, uid);
}

static void refuse(conn *c, hmtp_packet *p, const char *uid, const char *etype,
                   const char *group, const char *text)
{
    refuse_logged(c, p, uid, etype, group, text, NULL);
}

/* A login field as exact text: NULL with err set (its offset the byte of
 * the field that is wrong) when it is absent or not a string (when
 * required), or holds a character a JID forbids (U+0000 above all: C code
 * would read "alice\0zz" as "alice"). */
static bool login_text(const hessian_value *v, const char *name, bool required, const char **out, hmtp_error *err)
{
    *out = NULL;
    if (!v || v->kind == HESSIAN_NULL) {
        if (required)
            hmtp_fail(err, HMTP_ERR_BAD_VALUE, 0, "AuthQuery.%s must be a non-empty string without '/'", name);
        return !required;
    }
    if (v->kind != HESSIAN_STRING) {
        hmtp_fail(err, HMTP_ERR_BAD_VALUE, 0, "AuthQuery.%s must be a string%s", name, required ? "" : " or null");
        return false;
    }
    size_t at;
    const char *bad = hmtp_jid_check(v->v.str.data, v->v.str.len, &at);
    if (bad) {
        hmtp_fail(err, HMTP_ERR_BAD_STRING, at, "AuthQuery.%s holds %s at byte %zu of %zu", name, bad, at,
                  v->v.str.len);
        return false;
    }
    *out = v->v.str.data;
    return true;
}

void login_handle_auth(conn *c, hmtp_packet *p)
{
    const broker_config *cfg = c->b->cfg;
    const char *uid, *resource;
    hmtp_error err;
    hmtp_error_clear(&err);
    if (!login_text(hessian_object_field(p->value, "_uid"), "_uid", true, &uid, &err) ||
        !login_text(hessian_object_field(p->value, "_resource"), "_resource", false, &resource, &err)) {
        refuse(c, p, uid, "modify", "bad-request", err.msg);
        return;
    }
    if (!uid[0] || strchr(uid, '/')) {
        refuse(c, p, uid, "modify", "bad-request", "AuthQuery._uid must be a non-empty string without '/'");
        return;
    }
    const hessian_value *cred_v = hessian_object_field(p->value, "_credentials");
    if (cred_v && cred_v->kind == HESSIAN_STRING && memchr(cred_v->v.str.data, '\0', cred_v->v.str.len)) {
        /* "secret\0junk" is not "secret"; say so rather than compare either */
        refuse(c, p, uid, "modify", "bad-request", "AuthQuery._credentials holds U+0000");
        return;
    }
    if (resource && !resource[0])
        resource = NULL; /* an empty resource is as good as none */
    char *password = NULL;
    hmtp_tool_error why = {0};
    switch (credentials_password(c, p, hessian_object_field(p->value, "_credentials"), &password, &why)) {
    case CREDENTIALS_OK:
        break;
    case CREDENTIALS_BAD:
        refuse(c, p, uid, "modify", "bad-request",
               "AuthQuery._credentials must be a password string or an EncryptedObject");
        return;
    case CREDENTIALS_PLAIN_REFUSED:
        refuse(c, p, uid, "auth", "forbidden", "passwords must be encrypted");
        return;
    case CREDENTIALS_UNREADABLE: {
        /* The reason goes to the log only: telling the client which step
         * failed (RSA padding, AES padding...) would make the broker an
         * oracle for attacks on the key. */
        hmtp_tool_error reason;
        hmtp_tool_fail(&reason, "bad encrypted credentials: %s", why.msg);
        refuse_logged(c, p, uid, "auth", "forbidden", "unknown user or wrong password", reason.msg);
        return;
    }
    }
    bool accepted = cfg->allow_any_user;
    if (!accepted) {
        const char *expected = broker_config_password(cfg, uid);
        accepted = expected && password && strcmp(expected, password) == 0;
    }
    /* A plain password is the caller's packet value: only a decrypted one is
     * ours to wipe. */
    if (password && password != hessian_value_string(hessian_object_field(p->value, "_credentials")))
        wipe(password);
    if (!accepted) {
        refuse(c, p, uid, "auth", "forbidden", "unknown user or wrong password");
        return;
    }
    char *jid = full_jid(c, uid, resource);
    hmtp_jid parts;
    if (!hmtp_jid_parse(jid, strlen(jid), &parts) || (parts.user && parts.user_len == 0)) {
        g_free(jid);
        refuse(c, p, uid, "modify", "bad-request", "AuthQuery._uid does not make a JID (empty user or domain)");
        return;
    }
    c->jid = jid;
    if (!router_add(c->b, c)) {
        c->jid = NULL;
        g_free(jid);
        refuse(c, p, uid, "cancel", "conflict", "that full JID is already logged in");
        return;
    }
    hessian_value *result = hmtp_new_auth_result(&p->arena, jid);
    if (!result) {
        conn_close(c, "out of memory answering the login");
        return;
    }
    login_guard_succeeded(c, uid);
    broker_log("conn %llu logged in as %s", (unsigned long long)c->id, jid);
    reply_send(c, HMTP_QUERY_RESULT, jid, NULL, true, p->id, result, NULL);
}

void login_handle_public_key(conn *c, hmtp_packet *p)
{
    const server_key *k = &c->b->cfg->key;
    hessian_value *answer =
        hmtp_new_public_key_query(&p->arena, "RSA", "X.509", k->spki.data, k->spki.len);
    if (!answer) {
        conn_close(c, "out of memory answering the public key query");
        return;
    }
    /* Like the login's answer: to the link itself (null before login),
     * from the address the query went to, the same id. */
    reply_send(c, HMTP_QUERY_RESULT, c->jid, p->to, true, p->id, answer, NULL);
}
