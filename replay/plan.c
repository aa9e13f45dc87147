/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "plan.h"

static void send_item_free(gpointer p)
{
    send_item *s = p;
    hmtp_buf_free(&s->rewritten);
    g_free(s);
}

void job_plan_init(job_plan *p)
{
    p->sends = g_ptr_array_new_with_free_func(send_item_free);
    p->expected = g_ptr_array_new();
    p->server_queries = g_ptr_array_new();
}

void job_plan_free(job_plan *p)
{
    g_ptr_array_free(p->sends, TRUE);
    g_ptr_array_free(p->expected, TRUE);
    g_ptr_array_free(p->server_queries, TRUE);
}

static send_item *add_send(job_plan *p, const rec_packet *r, uint64_t wait_for)
{
    send_item *s = g_new0(send_item, 1);
    s->rec = r;
    s->wait_for = wait_for;
    hmtp_buf_init(&s->rewritten);
    g_ptr_array_add(p->sends, s);
    return s;
}

static bool answers_dropped(const GArray *ids, int64_t id)
{
    for (guint i = 0; i < ids->len; i++)
        if (g_array_index(ids, int64_t, i) == id)
            return true;
    return false;
}

void job_plan_build(job_plan *p, const engine_config *cfg, const rec_session *rec, bool insert_key_query)
{
    /* Packets recorded after the point where an incomplete session broke
       would only be half a conversation. */
    uint64_t last_frame = rec->info.incomplete ? rec->info.broken_frame : UINT64_MAX;
    uint64_t compared = 0;
    /* --login-mode plain sends an encrypted login's password as a string: the
       recorded key query is not sent (a target without encryption, such as
       Resin's early server, would refuse it), nor its answer expected. */
    bool drop_key_query = cfg->login_plain && rec->login_encrypted;
    GArray *dropped_ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
    for (guint i = 0; i < rec->packets->len; i++) {
        const rec_packet *r = g_ptr_array_index(rec->packets, i);
        if (r->frame >= last_frame)
            break; /* the frame that revealed the hole may already hold answers to lost packets */
        if (drop_key_query && r->dir == REPLAY_C2S && r->key_query && r->status == HMTP_OK && r->has_id) {
            g_array_append_val(dropped_ids, r->id);
            continue;
        }
        if (r->dir == REPLAY_S2C && r->status == HMTP_OK && r->has_id && dropped_ids->len &&
            (r->type == HMTP_QUERY_RESULT || r->type == HMTP_QUERY_ERROR) && r->frame < rec->login_frame &&
            answers_dropped(dropped_ids, r->id))
            continue;
        if (r->dir == REPLAY_S2C) {
            if (r->status == HMTP_OK && (r->type == HMTP_QUERY_GET || r->type == HMTP_QUERY_SET))
                g_ptr_array_add(p->server_queries, (gpointer)r);
            if (r->status != HMTP_OK || config_type_compared(cfg, r->type)) {
                g_ptr_array_add(p->expected, (gpointer)r);
                compared++;
            }
            continue;
        }
        /* The login (and the key query an encrypted one needs) is always
           sent: without it the target refuses the rest. */
        if (r->status == HMTP_OK && !config_type_compared(cfg, r->type) && !rec_is_login(r) && !r->key_query)
            continue;
        if (insert_key_query && rec_is_login(r) && r->frame == rec->login_frame) {
            /* the key query goes just before the login, in its place in the
               recorded order and waiting for what the login waited for */
            add_send(p, r, compared)->inserted_key_query = true;
        }
        send_item *s = add_send(p, r, compared);
        s->wire = r->wire;
        s->wire_len = r->wire_len;
    }
    g_array_free(dropped_ids, TRUE);
}

double job_plan_first_ts(const job_plan *p)
{
    return p->sends->len ? ((const send_item *)g_ptr_array_index(p->sends, 0))->rec->ts : 0;
}

bool plan_first_send_ts(const engine_config *cfg, rec_session *rec, double *ts)
{
    hmtp_tool_error why;
    if (!rec_session_acquire(rec, &why))
        return false; /* its job fails with the reason when it starts */
    job_plan p;
    job_plan_init(&p);
    job_plan_build(&p, cfg, rec, false); /* an inserted key query goes at the login's time */
    bool any = p.sends->len > 0;
    *ts = job_plan_first_ts(&p);
    job_plan_free(&p);
    rec_session_release(rec);
    return any;
}

shard_plan *plan_shards(replay_store *st, unsigned n)
{
    shard_plan *sp = shard_plan_new(st->sessions->len);
    for (guint s = 0; s < st->sessions->len; s++) {
        rec_session *rec = g_ptr_array_index(st->sessions, s);
        shard_plan_jid(sp, s, rec->login_jid);
        /* one session's packets in memory at a time */
        hmtp_tool_error why;
        if (!rec_session_acquire(rec, &why)) {
            /* its job fails with the same reason when it starts */
            g_printerr("hmtp-replay: session %u is split without its packets: %s\n", s, why.msg);
            continue;
        }
        for (guint i = 0; i < rec->packets->len; i++) {
            const rec_packet *r = g_ptr_array_index(rec->packets, i);
            hmtp_packet pkt;
            hmtp_error err;
            hmtp_packet_init(&pkt);
            /* a packet that does not decode still counts as work; it ties nobody */
            bool ok = r->status == HMTP_OK && rec_packet_decode(rec, r, &pkt, &err) == HMTP_OK;
            shard_plan_packet(sp, s, r->dir, r->type, ok ? pkt.to : NULL, ok ? pkt.from : NULL);
            hmtp_packet_free(&pkt);
        }
        rec_session_release(rec);
    }
    shard_plan_split(sp, n);
    return sp;
}
