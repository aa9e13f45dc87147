/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "store.h"

#include <inttypes.h>
#include <string.h>

static void rec_packet_free(gpointer p)
{
    rec_packet *r = p;
    g_free(r->wire);
    g_free(r->body);
    g_free(r);
}

static void rec_session_free(gpointer p)
{
    rec_session *s = p;
    g_ptr_array_free(s->packets, TRUE);
    hessian_stream_free(&s->stream[0]);
    hessian_stream_free(&s->stream[1]);
    g_free(s->login_uid);
    g_free(s->login_jid);
    g_free(s);
}

static void on_begin(void *ctx, const replay_session_info *info)
{
    replay_store *st = ctx;
    rec_session *s = g_new0(rec_session, 1);
    s->info = *info;
    s->packets = g_ptr_array_new_with_free_func(rec_packet_free);
    hessian_stream_init(&s->stream[0], NULL);
    hessian_stream_init(&s->stream[1], NULL);
    /* ids are handed out in order, so the array index is the id */
    g_ptr_array_add(st->sessions, s);
}

/* The login exchange tells who the session is: --session-jid selects by it
 * and the JID the target assigns is learned from the answer. */
static void note_login(rec_session *s, rec_packet *r, const hmtp_packet *p)
{
    if (r->status != HMTP_OK)
        return;
    const hessian_value *v = p->value;
    bool auth_query = hmtp_value_is_object(v, HMTP_AUTH_QUERY_CLASS);
    r->login = r->dir == REPLAY_C2S && p->type == HMTP_QUERY_SET && !p->to && auth_query;
    r->key_query = r->dir == REPLAY_C2S && p->type == HMTP_QUERY_GET && hmtp_value_is_object(v, HMTP_GET_PUBLIC_KEY_QUERY_CLASS);
    if (r->login && !s->login_frame) {
        /* An encrypted password can only be replayed by doing the login
           again against the target's own key (login_edit.c, rewrite.c). */
        s->login_encrypted = hmtp_value_is_object(hessian_object_field(v, "_credentials"), HMTP_ENCRYPTED_OBJECT_CLASS);
        s->login_frame = r->frame;
    }
    if (r->dir == REPLAY_C2S && p->type == HMTP_QUERY_SET && auth_query && !s->login_uid) {
        const char *uid = hessian_value_string(hessian_object_field(v, "_uid"));
        if (uid)
            s->login_uid = g_strdup(uid);
    } else if (r->dir == REPLAY_S2C && p->type == HMTP_QUERY_RESULT && hmtp_value_is_object(v, HMTP_AUTH_RESULT_CLASS) &&
               !s->login_jid) {
        const char *jid = hessian_value_string(hessian_object_field(v, "_jid"));
        if (jid)
            s->login_jid = g_strdup(jid);
    }
}

static void on_packet(void *ctx, const replay_session_info *info, const replay_wire_packet *w)
{
    replay_store *st = ctx;
    if (info->id >= st->sessions->len)
        return;
    rec_session *s = g_ptr_array_index(st->sessions, info->id);
    rec_packet *r = g_new0(rec_packet, 1);
    r->dir = w->dir;
    r->frame = w->frame;
    r->ts = w->ts;
    r->index = w->index;
    r->wire = g_memdup2(w->wire, w->wire_len);
    r->wire_len = w->wire_len;
    r->body = g_memdup2(w->body, w->body_len);
    r->body_len = w->body_len;
    hessian_stream *hs = &s->stream[w->dir];
    r->mark = hessian_stream_mark(hs);
    hmtp_packet pkt;
    hmtp_packet_init(&pkt);
    hmtp_error err;
    hmtp_error_clear(&err);
    r->status = hmtp_packet_decode(&pkt, hs, r->mark, r->body, r->body_len, &err);
    r->type = pkt.type;
    r->has_id = pkt.has_id;
    r->id = pkt.id;
    if (r->status != HMTP_OK)
        g_string_append_printf(st->notes, "session %u %s frame %" PRIu64 ": recorded packet cannot be decoded: %s (body offset %zu)\n",
                               info->id, replay_dir_name(w->dir), w->frame, err.msg, err.offset);
    if (w->dir == REPLAY_S2C)
        s->server_seen++;
    else
        r->server_before = s->server_seen;
    note_login(s, r, &pkt);
    hmtp_packet_free(&pkt);
    g_ptr_array_add(s->packets, r);
}

static void on_end(void *ctx, const replay_session_info *info)
{
    replay_store *st = ctx;
    if (info->id < st->sessions->len) {
        rec_session *s = g_ptr_array_index(st->sessions, info->id);
        s->info = *info;
    }
}

static void on_refused(void *ctx, const replay_session_info *info)
{
    replay_store *st = ctx;
    g_string_append_printf(st->notes, "%s -> %s: the recorded upgrade was refused with HTTP %d %s (frame %" PRIu64 "): not replayed\n",
                           info->client, info->server, info->status, info->reason, info->first_frame);
}

hmtp_status rec_packet_decode(rec_session *s, const rec_packet *r, hmtp_packet *out, hmtp_error *err)
{
    hmtp_packet_init(out);
    return hmtp_packet_decode(out, &s->stream[r->dir], r->mark, r->body, r->body_len, err);
}

int replay_store_load(replay_store *st, const char *path, const replay_capture_options *opt, replay_error *err)
{
    memset(st, 0, sizeof *st);
    st->sessions = g_ptr_array_new_with_free_func(rec_session_free);
    st->notes = g_string_new(NULL);
    replay_sink sink = {st, on_begin, on_packet, on_end, on_refused};
    return replay_capture_read(path, opt, &sink, &st->stats, err->msg, sizeof err->msg); /* capture.c writes text */
}

void replay_store_free(replay_store *st)
{
    if (st->sessions)
        g_ptr_array_free(st->sessions, TRUE);
    if (st->notes)
        g_string_free(st->notes, TRUE);
    memset(st, 0, sizeof *st);
}
