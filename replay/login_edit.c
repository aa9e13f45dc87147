/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "login_edit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hmtp_crypto.h"

void login_edit_init(login_edit *le)
{
    memset(le, 0, sizeof *le);
    hmtp_buf_init(&le->target_spki);
    hmtp_arena_init(&le->cred_arena);
    hmtp_buf_init(&le->written);
    hessian_writer_init(&le->writer, &le->written);
}

void login_edit_free(login_edit *le)
{
    if (le->password)
        memset(le->password, 0, strlen(le->password)); /* no secrets left in freed memory */
    g_free(le->password);
    hmtp_buf_free(&le->target_spki);
    hmtp_arena_free(&le->cred_arena);
    hessian_writer_free(&le->writer);
    hmtp_buf_free(&le->written);
}

/* The session's recorded login (AuthQuery) packet, or NULL. */
static rec_packet *recorded_login(rec_session *rec)
{
    for (guint i = 0; i < rec->packets->len; i++) {
        rec_packet *r = g_ptr_array_index(rec->packets, i);
        if (rec_is_login(r))
            return r;
    }
    return NULL;
}

/* The recorded password of an encrypted login, decrypted with the recording
 * server's key (--recorded-key); NULL with why filled when that fails. */
static char *recorded_password(const engine_config *cfg, rec_session *rec, hmtp_tool_error *why)
{
    rec_packet *r = recorded_login(rec);
    if (!r) {
        hmtp_tool_fail(why, "no login packet recorded");
        return NULL;
    }
    hmtp_packet p;
    hmtp_error err;
    char *out = NULL;
    if (rec_packet_decode(rec, r, &p, &err) == HMTP_OK) {
        hmtp_arena a;
        hmtp_arena_init(&a);
        hmtp_tool_error cerr = {0};
        char *pw = hmtp_credentials_decrypt_password(cfg->recorded_key, hessian_object_field(p.value, "_credentials"),
                                                     &a, &cerr);
        if (pw)
            out = g_strdup(pw);
        else
            hmtp_tool_fail(why, "--recorded-key does not decrypt the login of frame %" PRIu64 ": %s", r->frame, cerr.msg);
        hmtp_arena_free(&a);
    } else {
        hmtp_tool_fail(why, "the login of frame %" PRIu64 " does not decode: %s", r->frame, err.msg);
    }
    hmtp_packet_free(&p);
    return out;
}

/* The recorded plain password (AuthQuery._credentials a string), or NULL. */
static char *recorded_plain_password(rec_session *rec)
{
    rec_packet *r = recorded_login(rec);
    if (!r)
        return NULL;
    hmtp_packet p;
    hmtp_error err;
    char *out = NULL;
    if (rec_packet_decode(rec, r, &p, &err) == HMTP_OK) {
        const char *pw = hessian_value_string(hessian_object_field(p.value, "_credentials"));
        if (pw)
            out = g_strdup(pw);
    }
    hmtp_packet_free(&p);
    return out;
}

/* A query id the recorded session never used, in either direction: the
 * target's answer to the inserted key query is then told apart from every
 * recorded exchange by its id alone. */
static int64_t unused_query_id(const rec_session *rec)
{
    bool any = false;
    int64_t lo = 0, hi = 0;
    for (guint i = 0; i < rec->packets->len; i++) {
        const rec_packet *r = g_ptr_array_index(rec->packets, i);
        if (r->status != HMTP_OK || !r->has_id)
            continue;
        if (!any || r->id < lo)
            lo = r->id;
        if (!any || r->id > hi)
            hi = r->id;
        any = true;
    }
    if (!any)
        return 1;
    return hi < INT64_MAX ? hi + 1 : lo - 1; /* lo > INT64_MIN unless every id is used, which cannot be recorded */
}

/* --login-mode encrypted on a recorded plain login: the session does the
 * encrypted login against the target (key query, EncryptedObject) with the
 * given password, or else the recorded one. */
static bool plan_upgrade(login_edit *le, rec_session *rec, rewrite_config *rw, hmtp_tool_error *why)
{
    if (!le->password)
        le->password = recorded_plain_password(rec);
    if (!le->password)
        return hmtp_tool_fail(why,
                           "its login (frame %" PRIu64 ", user %s) carries no password to encrypt for --login-mode "
                           "encrypted: give it with --login UID:PASSWORD, --login-file FILE or --login-password PASSWORD",
                           rec->login_frame, rec->login_uid ? rec->login_uid : "?");
    le->upgrade = true;
    le->encrypt = true; /* the key answer and the credentials as for a recorded encrypted login */
    le->key_query_id = unused_query_id(rec);
    /* the recorded string stays for the byte edits; the tree gets the
       EncryptedObject (login_edit_prepare) */
    rw->login_password = NULL;
    return true;
}

bool login_edit_is_plain(const engine_config *cfg, const rec_session *rec)
{
    return !rec->login_frame || (!rec->login_encrypted && !cfg->login_encrypt);
}

bool login_edit_plan(login_edit *le, const engine_config *cfg, rec_session *rec, rewrite_config *rw, hmtp_tool_error *why)
{
    const char *given = NULL;
    if (cfg->passwords && rec->login_uid)
        given = g_hash_table_lookup(cfg->passwords, rec->login_uid);
    if (!given)
        given = cfg->login_password;
    hmtp_tool_error key_why = {0};
    if (given)
        le->password = g_strdup(given);
    else if (rec->login_encrypted && cfg->recorded_key)
        le->password = recorded_password(cfg, rec, &key_why);
    if (!rec->login_encrypted && cfg->login_encrypt && rec->login_frame)
        return plan_upgrade(le, rec, rw, why);
    if (!rec->login_encrypted) {
        rw->login_password = le->password; /* NULL: the recorded string */
        return true;
    }
    if (!le->password)
        return hmtp_tool_fail(why,
                           "its login (frame %" PRIu64 ", user %s) is encrypted%s%s: give the password with --login "
                           "UID:PASSWORD, --login-file FILE, --login-password PASSWORD or --recorded-key PEM",
                           rec->login_frame, rec->login_uid ? rec->login_uid : "?", key_why.msg[0] ? " and " : "",
                           key_why.msg);
    if (cfg->login_plain) {
        rw->login_password = le->password;
        le->rewrite_all = true;
    } else
        le->encrypt = true;
    return true;
}

/* A client packet of an upgraded session: the recorded bytes with the usual
 * edits (JIDs, ids, uid, resource) decoded into a tree at the recorded
 * decoder state, the login's password swapped for the EncryptedObject, and
 * the tree written by the session's writer (class indexes by first use).
 * The inserted key query is built from nothing. */
bool login_edit_prepare(login_edit *le, rec_session *rec, const rewrite_config *rw, const rec_packet *r, bool inserted,
                        hmtp_buf *out, hmtp_tool_error *why)
{
    hmtp_packet p;
    hmtp_packet_init(&p);
    hmtp_buf body;
    hmtp_buf_init(&body);
    bool failed = false, ok = false;
    if (inserted) {
        p.type = HMTP_QUERY_GET;
        p.has_id = true;
        p.id = le->key_query_id;
        p.value = hmtp_new_public_key_query(&p.arena, NULL, NULL, NULL, 0);
        if (!p.value)
            failed = !hmtp_tool_fail(why, "out of memory building the key query");
    } else if (r->status != HMTP_OK) {
        /* its class definitions, if any, cannot be carried over to the new
           numbering */
        failed = !hmtp_tool_fail(why, "it does not decode, so it cannot be written again for --login-mode encrypted");
    } else {
        int rw_status = rewrite_client_body(r, &rec->stream[REPLAY_C2S], rw, &body, why);
        hmtp_error err;
        hmtp_error_clear(&err);
        failed = rw_status < 0;
        if (!failed && hmtp_packet_decode(&p, &rec->stream[REPLAY_C2S], r->mark, rw_status > 0 ? body.data : r->body,
                                          rw_status > 0 ? body.len : r->body_len, &err) != HMTP_OK)
            failed = !hmtp_tool_fail(why, "the rewritten packet does not decode: %s (body offset %zu)", err.msg, err.offset);
        else if (!failed && le->upgrade && rec_is_login(r) &&
                 hessian_value_string(hessian_object_field(p.value, "_credentials")) &&
                 !hessian_object_set(p.value, "_credentials", (hessian_value *)rw->login_credentials))
            failed = !hmtp_tool_fail(why, "cannot put the encrypted credentials into the login");
    }
    if (!failed) {
        if (!hessian_value_writable(p.value) || (p.error_value && !hessian_value_writable(p.error_value)))
            hmtp_tool_fail(why, "it holds an object whose class definition was never captured: it cannot be written again "
                             "for --login-mode encrypted");
        else if (!hmtp_packet_write(&le->writer, &p))
            hmtp_tool_fail(why, "writing it again failed (out of memory)");
        else
            ok = true;
    }
    if (ok) {
        /* the writer's output becomes the item's bytes; the buffer is the
           writer's sink, so it is emptied for the next packet */
        hmtp_buf_reset(out);
        ok = hmtp_buf_append(out, le->written.data, le->written.len);
        hmtp_buf_reset(&le->written);
        if (!ok)
            hmtp_tool_fail(why, "out of memory");
    }
    hmtp_buf_free(&body);
    hmtp_packet_free(&p);
    return ok;
}

int login_edit_credentials(login_edit *le, rewrite_config *rw, uint64_t frame, hmtp_tool_error *why)
{
    if (le->key_problem[0]) {
        hmtp_tool_fail(why, "cannot redo the encrypted login of frame %" PRIu64 ": the target refused the key query: %s",
                    frame, le->key_problem);
        return -1;
    }
    if (!le->key_seen)
        return 0;
    hmtp_tool_error err = {0};
    hessian_value *creds = hmtp_credentials_encrypt(&le->cred_arena, le->target_spki.data, le->target_spki.len,
                                                    le->password, &err);
    if (!creds) {
        hmtp_tool_fail(why, "cannot encrypt the login of frame %" PRIu64 " for the target's key: %s", frame, err.msg);
        return -1;
    }
    rw->login_credentials = creds;
    le->creds_ready = true;
    return 1;
}

/* The target refused the key query (a queryError): why, as the error the
 * core read from the packet says. */
static void key_refused(login_edit *le, const hmtp_packet *p)
{
    const char *text = p->error.text, *group = p->error.group;
    snprintf(le->key_problem, sizeof le->key_problem, "%s%s%s", group ? group : "queryError", text ? ": " : "",
             text ? text : "");
}

/* The target's answer to the key query: its key for the encrypted login,
 * or (a queryError echoing the query) the reason it offers none. */
static void learn_key(login_edit *le, const hmtp_packet *p)
{
    /* every reply passes here: only one about the key query counts */
    if (!le->encrypt || le->key_seen || !hmtp_value_is_object(p->value, HMTP_GET_PUBLIC_KEY_QUERY_CLASS))
        return;
    const uint8_t *der;
    size_t der_len;
    switch (hmtp_public_key_answer_read(p, &der, &der_len)) {
    case HMTP_PUBLIC_KEY_REFUSED:
        key_refused(le, p);
        break;
    case HMTP_PUBLIC_KEY_MISSING:
        snprintf(le->key_problem, sizeof le->key_problem, "its answer carries no _encoded key");
        break;
    case HMTP_PUBLIC_KEY_FOUND:
        hmtp_buf_reset(&le->target_spki);
        hmtp_buf_append(&le->target_spki, der, der_len);
        le->key_seen = true;
        break;
    }
}

bool login_edit_take_reply(login_edit *le, const hmtp_packet *p)
{
    if (!(le->upgrade && p->has_id && p->id == le->key_query_id &&
          (p->type == HMTP_QUERY_RESULT || p->type == HMTP_QUERY_ERROR))) {
        learn_key(le, p);
        return false;
    }
    /* the answer to the inserted key query, known by its id: a key, or the
       reason there is none (whatever the error echoes) */
    if (le->key_seen || le->key_problem[0])
        return true;
    if (p->type == HMTP_QUERY_ERROR) {
        key_refused(le, p);
        return true;
    }
    learn_key(le, p);
    if (!le->key_seen && !le->key_problem[0])
        snprintf(le->key_problem, sizeof le->key_problem, "its answer is not a %s", HMTP_GET_PUBLIC_KEY_QUERY_CLASS);
    return true;
}

void login_edit_expect_echo(const login_edit *le, const rewrite_config *rw, hmtp_packet *p)
{
    if (!le->upgrade || !rw->login_credentials)
        return;
    /* key material is compared by shape (verify.c) */
    hessian_value *v = p->value;
    if (p->type != HMTP_QUERY_ERROR || !hmtp_value_is_object(v, HMTP_AUTH_QUERY_CLASS) ||
        !hessian_value_string(hessian_object_field(v, "_credentials")))
        return;
    hessian_object_set(v, "_credentials", (hessian_value *)rw->login_credentials);
}
