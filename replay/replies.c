/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "replies.h"

#include <inttypes.h>
#include <string.h>

#include "verify.h"

static void actual_free(gpointer p)
{
    actual_reply *a = p;
    hmtp_packet_free(&a->pkt);
    g_free(a->body);
    g_free(a);
}

void replies_init(job_replies *r, const engine_config *cfg, const rec_session *rec, const GPtrArray *server_queries,
                  jid_map *shared_learned)
{
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->rec = rec;
    hessian_stream_init(&r->stream, NULL);
    r->actual = g_ptr_array_new_with_free_func(actual_free);
    jid_map_init(&r->learned);
    r->shared_learned = shared_learned;
    r->server_queries = server_queries;
    r->server_ids = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
}

void replies_free(job_replies *r)
{
    hessian_stream_free(&r->stream);
    g_ptr_array_free(r->actual, TRUE);
    jid_map_free(&r->learned);
    g_hash_table_destroy(r->server_ids);
}

static void learn_jid(job_replies *r, const hmtp_packet *p)
{
    if (p->type != HMTP_QUERY_RESULT || !hmtp_value_is_object(p->value, HMTP_AUTH_RESULT_CLASS) || !r->rec->login_jid)
        return;
    const char *jid = hessian_value_string(hessian_object_field(p->value, "_jid"));
    if (!jid || strcmp(jid, r->rec->login_jid) == 0)
        return;
    /* The target named this link differently (a resource of its own, a
       mapped user): expect that name wherever the recording had the old one. */
    const jid_map *map = r->cfg->map;
    char *mapped = map ? jid_map_apply(map, r->rec->login_jid) : NULL;
    jid_map_add_full(&r->learned, mapped ? mapped : r->rec->login_jid, jid);
    if (r->shared_learned)
        jid_map_add_full(r->shared_learned, mapped ? mapped : r->rec->login_jid, jid);
    g_free(mapped);
}

/* The n-th query the target sends stands for the n-th one recorded: its id
 * is the one the client's answer must carry. */
static void learn_query_id(job_replies *r, const hmtp_packet *p)
{
    if ((p->type != HMTP_QUERY_GET && p->type != HMTP_QUERY_SET) || !p->has_id)
        return;
    guint n = r->server_queries_seen++;
    if (n >= r->server_queries->len)
        return;
    const rec_packet *q = g_ptr_array_index(r->server_queries, n);
    if (!q->has_id)
        return;
    gint64 *from = g_new(gint64, 1), *to = g_new(gint64, 1);
    *from = q->id;
    *to = p->id;
    g_hash_table_replace(r->server_ids, from, to);
}

reply_kind replies_take(job_replies *r, login_edit *le, const hmtp_frame *f, uint64_t index, double latency_ms,
                        GArray *latencies, replay_error *why)
{
    actual_reply *a = g_new0(actual_reply, 1);
    hmtp_packet_init(&a->pkt);
    hmtp_error_clear(&a->err);
    a->mark = hessian_stream_mark(&r->stream);
    a->status = hmtp_packet_decode(&a->pkt, &r->stream, a->mark, f->body, f->body_len, &a->err);
    a->index = index;
    a->latency_ms = latency_ms;
    if (a->status != HMTP_OK) {
        replay_fail(why, "the target sent a malformed packet (#%" PRIu64 "): %s at body offset %zu", a->index,
                    a->err.msg, a->err.offset);
        actual_free(a);
        return REPLY_MALFORMED;
    }
    if (login_edit_take_reply(le, &a->pkt)) {
        actual_free(a);
        return REPLY_OTHER;
    }
    learn_jid(r, &a->pkt);
    learn_query_id(r, &a->pkt);
    if (!config_type_compared(r->cfg, a->pkt.type)) {
        actual_free(a);
        return REPLY_OTHER;
    }
    g_array_append_val(latencies, a->latency_ms);
    a->body = g_memdup2(f->body, f->body_len);
    a->body_len = f->body_len;
    hmtp_packet_free(&a->pkt); /* decoded again for the comparison */
    hmtp_packet_init(&a->pkt);
    g_ptr_array_add(r->actual, a);
    r->compared++;
    return REPLY_COMPARED;
}
