/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "rewrite.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "framing.h"
#include "hessian.h"
#include "hmtp.h"
#include "writer.h"

/* The Hessian encoding of one string (or, with s NULL, one long), made by the
 * core writer so the replayer never encodes values itself. */
static bool encode_value(const char *s, int64_t l, const hessian_value *v, hmtp_buf *out)
{
    /* Outside a packet the writer buffers bare values; flushing writes them
       unframed. */
    hessian_writer w;
    hessian_writer_init(&w, out);
    if (v)
        hessian_write_value(&w, v); /* strings and binaries only: no class state */
    else if (s)
        hessian_write_string(&w, s, strlen(s));
    else
        hessian_write_long(&w, l);
    hessian_writer_flush(&w);
    bool ok = !w.failed && !out->failed;
    hessian_writer_free(&w);
    return ok;
}

char *rewrite_map_jid(const rewrite_config *cfg, const char *jid)
{
    char *mapped = cfg->map ? jid_map_apply(cfg->map, jid) : NULL;
    /* A target that picks its own resources (Resin: random ones) names every
       link differently from the recording: a session's own name, and the
       names of the peers it writes to, come from their login answers. */
    const jid_map *learned[] = {cfg->learned, cfg->shared_learned};
    for (size_t i = 0; i < G_N_ELEMENTS(learned); i++) {
        if (!learned[i])
            continue;
        char *again = jid_map_apply(learned[i], mapped ? mapped : jid);
        if (again) {
            g_free(mapped);
            return again;
        }
    }
    return mapped;
}

typedef struct edit {
    size_t offset, length;
    char *text;    /* replacement string, or NULL for a long */
    int64_t number;
    const hessian_value *value; /* or a whole value (credentials fields) */
} edit;

static void add_edit(GArray *edits, size_t offset, size_t length, char *text)
{
    edit e = {offset, length, text, 0, NULL};
    g_array_append_val(edits, e);
}

/* The answer (queryResult/queryError) to a query the server sent carries the
 * server's id: when the target chose another id than the recorded server,
 * the answer must carry the new one. */
static void maybe_remap_id(GArray *edits, const rewrite_config *cfg, int32_t type, const hessian_event *ev)
{
    if (!cfg->server_query_ids || (type != HMTP_QUERY_RESULT && type != HMTP_QUERY_ERROR))
        return;
    int64_t recorded = ev->kind == HESSIAN_LONG ? ev->v.l : ev->v.i;
    const gint64 *now = g_hash_table_lookup(cfg->server_query_ids, &recorded);
    if (now && *now != recorded) {
        edit e = {ev->offset, ev->length, NULL, *now, NULL};
        g_array_append_val(edits, e);
    }
}

/* Strings inside the value are mapped only when they look like JIDs, so an
 * ordinary word that happens to equal a domain is left alone. */
static bool looks_like_jid(const char *s, size_t len)
{
    if (!len)
        return false;
    const char *nul = memchr(s, '\0', len); /* the string as C sees it */
    return memchr(s, '@', nul ? (size_t)(nul - s) : len) != NULL;
}

static bool map_empty(const jid_map *m) { return !m || jid_map_empty(m); }

/* True when no edit can apply to any packet now: no JID is mapped, no
 * login field replaced, no server query renumbered. At --top-speed against
 * a target that names every link as recorded this is every packet, which
 * then goes out as recorded without being read again. */
static bool nothing_to_edit(const rewrite_config *cfg)
{
    return map_empty(cfg->map) && map_empty(cfg->learned) && map_empty(cfg->shared_learned) && !cfg->login_user &&
           !cfg->login_password && !cfg->login_credentials && !cfg->login_resource &&
           (!cfg->server_query_ids || !g_hash_table_size(cfg->server_query_ids));
}

int rewrite_client_body(const rec_packet *r, hessian_stream *stream, const rewrite_config *cfg, hmtp_buf *out,
                        hmtp_tool_error *why)
{
    if (nothing_to_edit(cfg))
        return 0;
    hessian_decoder d;
    hessian_decoder_init(&d, stream, r->mark, r->body, r->body_len);
    GArray *edits = g_array_new(FALSE, FALSE, sizeof(edit));
    int32_t type = -1;
    bool in_auth = false; /* inside the top-level AuthQuery object */
    bool in_creds = false; /* inside its recorded EncryptedObject, being replaced */
    hessian_event ev;
    int rc;
    while ((rc = hessian_next(&d, &ev)) == 1) {
        if (in_creds && ev.depth == 2 && ev.role == HESSIAN_ROLE_FIELD && ev.field_name) {
            char *name = g_strndup(ev.field_name, ev.field_name_len);
            const hessian_value *nv = hessian_object_field(cfg->login_credentials, name);
            g_free(name);
            size_t start = ev.offset;
            if (nv) {
                if (ev.kind == HESSIAN_LIST || ev.kind == HESSIAN_MAP || ev.kind == HESSIAN_OBJECT) {
                    if (hessian_skip_value(&d, &ev) < 0)
                        break;
                    edit e = {start, hessian_decoder_offset(&d) - start, NULL, 0, nv};
                    g_array_append_val(edits, e);
                } else {
                    edit e = {start, ev.length, NULL, 0, nv};
                    g_array_append_val(edits, e);
                }
            }
            continue;
        }
        if (ev.depth < 2)
            in_creds = false;
        if (ev.depth == 0 && ev.top_index == 0 && ev.kind == HESSIAN_INT)
            type = ev.v.i;
        hmtp_field field = type >= 0 ? hmtp_field_at(type, ev.top_index) : HMTP_FIELD_EXTRA;
        if (ev.depth == 0 && ev.kind == HESSIAN_OBJECT)
            in_auth = field == HMTP_FIELD_VALUE && ev.v.object.cls && strcmp(ev.v.object.cls->name, HMTP_AUTH_QUERY_CLASS) == 0;
        const char *replacement = NULL;
        if (in_auth && ev.depth == 1 && ev.role == HESSIAN_ROLE_FIELD && ev.field_name) {
            if (strcmp(ev.field_name, "_uid") == 0)
                replacement = cfg->login_user;
            else if (strcmp(ev.field_name, "_credentials") == 0) {
                if (cfg->login_credentials && ev.kind == HESSIAN_OBJECT && ev.v.object.cls &&
                    strcmp(ev.v.object.cls->name, HMTP_ENCRYPTED_OBJECT_CLASS) == 0) {
                    in_creds = true;
                    continue;
                }
                replacement = cfg->login_password;
            }
            else if (strcmp(ev.field_name, "_resource") == 0)
                replacement = cfg->login_resource;
        }
        if (replacement) {
            size_t start = ev.offset;
            if (ev.kind == HESSIAN_LIST || ev.kind == HESSIAN_MAP || ev.kind == HESSIAN_OBJECT) {
                if (hessian_skip_value(&d, &ev) < 0)
                    break;
                add_edit(edits, start, hessian_decoder_offset(&d) - start, g_strdup(replacement));
            } else {
                add_edit(edits, start, ev.length, g_strdup(replacement));
            }
            continue;
        }
        if (ev.depth == 0 && field == HMTP_FIELD_ID && (ev.kind == HESSIAN_LONG || ev.kind == HESSIAN_INT)) {
            maybe_remap_id(edits, cfg, type, &ev);
            continue;
        }
        if (ev.kind != HESSIAN_STRING)
            continue;
        bool header = ev.depth == 0 && (field == HMTP_FIELD_TO || field == HMTP_FIELD_FROM);
        bool in_value = field == HMTP_FIELD_VALUE;
        if (!header && !in_value)
            continue;
        if (!header && !looks_like_jid(ev.v.str.data, ev.v.str.len))
            continue;
        char *text = g_strndup(ev.v.str.data, ev.v.str.len);
        char *mapped = rewrite_map_jid(cfg, text);
        if (mapped)
            add_edit(edits, ev.offset, ev.length, mapped);
        g_free(text);
    }
    int result = 0;
    if (rc < 0) {
        const hmtp_error *e = hessian_decoder_error(&d);
        hmtp_tool_fail(why, "cannot re-read the recorded packet to rewrite it: %s (body offset %zu)", e->msg, e->offset);
        result = -1;
    } else if (edits->len > 0) {
        hmtp_buf body;
        hmtp_buf_init(&body);
        size_t pos = 0;
        bool ok = true;
        for (guint i = 0; i < edits->len && ok; i++) {
            edit *e = &g_array_index(edits, edit, i);
            ok = hmtp_buf_append(&body, r->body + pos, e->offset - pos) && encode_value(e->text, e->number, e->value, &body);
            pos = e->offset + e->length;
        }
        ok = ok && hmtp_buf_append(&body, r->body + pos, r->body_len - pos) && hmtp_buf_append(out, body.data, body.len);
        hmtp_buf_free(&body);
        if (ok) {
            result = 1;
        } else {
            hmtp_tool_fail(why, "out of memory rewriting a packet");
            result = -1;
        }
    }
    for (guint i = 0; i < edits->len; i++)
        g_free(g_array_index(edits, edit, i).text);
    g_array_free(edits, TRUE);
    hessian_decoder_free(&d);
    return result;
}

int rewrite_client_packet(const rec_packet *r, hessian_stream *stream, const rewrite_config *cfg, hmtp_buf *out,
                          hmtp_tool_error *why)
{
    hmtp_buf body;
    hmtp_buf_init(&body);
    int result = rewrite_client_body(r, stream, cfg, &body, why);
    if (result > 0 && !hmtp_frame_write(out, body.data, body.len)) {
        hmtp_tool_fail(why, "out of memory rewriting a packet");
        result = -1;
    }
    hmtp_buf_free(&body);
    return result;
}
