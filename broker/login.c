/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "login.h"

#include <string.h>

#include "dispatch.h"
#include "log.h"
#include "reply.h"
#include "router.h"

typedef enum credentials_status {
    CREDENTIALS_OK,
    CREDENTIALS_UNSUPPORTED, /* a form the broker cannot read (yet) */
    CREDENTIALS_BAD,         /* not a form any client sends */
} credentials_status;

/* The one place that turns AuthQuery._credentials into a password. The
 * encrypted login of late January 2009 sends an EncryptedObject {AES key
 * wrapped with the broker's RSA key, password encrypted with it}: decrypting
 * it belongs here, next to the key pair login_handle_public_key would hand
 * out. */
static credentials_status credentials_password(const hessian_value *cred, const char **password)
{
    *password = NULL;
    if (!cred || cred->kind == HESSIAN_NULL)
        return CREDENTIALS_OK;
    if (cred->kind == HESSIAN_STRING) {
        *password = cred->v.str.data;
        return CREDENTIALS_OK;
    }
    const char *cls = dispatch_class_of(cred);
    if (cls && strcmp(cls, HMTP_ENCRYPTED_OBJECT_CLASS) == 0)
        return CREDENTIALS_UNSUPPORTED;
    return CREDENTIALS_BAD;
}

static char *full_jid(conn *c, const char *uid, const char *resource)
{
    /* A resource the client leaves null is made from the connection number,
     * which depends only on the order of connections: replays stay equal. */
    char *made = resource ? NULL : g_strdup_printf("hmtp-%llu", (unsigned long long)c->id);
    const char *res = resource ? resource : made;
    char *jid = strchr(uid, '@') ? g_strdup_printf("%s/%s", uid, res)
                                 : g_strdup_printf("%s@%s/%s", uid, c->b->cfg->domain, res);
    g_free(made);
    return jid;
}

static void refuse(conn *c, hmtp_packet *p, const char *uid, const char *etype,
                   const char *group, const char *text)
{
    broker_log("conn %llu login refused for '%s': %s", (unsigned long long)c->id,
               uid ? uid : "(none)", text);
    reply_error(c, p, etype, group, text);
}

void login_handle_auth(conn *c, hmtp_packet *p)
{
    const broker_config *cfg = c->b->cfg;
    const char *uid = hessian_value_string(hessian_object_field(p->value, "_uid"));
    const hessian_value *res_v = hessian_object_field(p->value, "_resource");
    const char *resource = hessian_value_string(res_v);
    if (!uid || !uid[0] || strchr(uid, '/')) {
        refuse(c, p, uid, "modify", "bad-request",
               "AuthQuery._uid must be a non-empty string without '/'");
        return;
    }
    if (res_v && res_v->kind != HESSIAN_NULL && !resource) {
        refuse(c, p, uid, "modify", "bad-request", "AuthQuery._resource must be a string or null");
        return;
    }
    if (resource && !resource[0])
        resource = NULL; /* an empty resource is as good as none */
    const char *password = NULL;
    switch (credentials_password(hessian_object_field(p->value, "_credentials"), &password)) {
    case CREDENTIALS_OK:
        break;
    case CREDENTIALS_UNSUPPORTED:
        refuse(c, p, uid, "cancel", "feature-not-implemented",
               "encrypted credentials are not supported yet; send the password as a string");
        return;
    case CREDENTIALS_BAD:
        refuse(c, p, uid, "modify", "bad-request",
               "AuthQuery._credentials must be a password string");
        return;
    }
    if (!cfg->allow_any_user) {
        const char *expected = broker_config_password(cfg, uid);
        if (!expected || !password || strcmp(expected, password) != 0) {
            refuse(c, p, uid, "auth", "not-authorized", "unknown user or wrong password");
            return;
        }
    }
    char *jid = full_jid(c, uid, resource);
    c->jid = jid;
    if (!router_add(c->b, c)) {
        c->jid = NULL;
        g_free(jid);
        refuse(c, p, uid, "cancel", "conflict", "that full JID is already logged in");
        return;
    }
    static const char *const fields[] = {"_jid"};
    hessian_value *result = hessian_new_object(&p->arena, HMTP_AUTH_RESULT_CLASS, 1, fields);
    hessian_value *jid_v = hessian_new_string(&p->arena, jid, strlen(jid));
    if (!result || !jid_v || !hessian_object_set(result, "_jid", jid_v)) {
        conn_close(c, "out of memory answering the login");
        return;
    }
    broker_log("conn %llu logged in as %s", (unsigned long long)c->id, jid);
    reply_send(c, HMTP_QUERY_RESULT, jid, NULL, true, p->id, result, NULL);
}

void login_handle_public_key(conn *c, hmtp_packet *p)
{
    reply_error(c, p, "cancel", "feature-not-implemented",
                "encrypted login is not offered; log in with a password string");
}
