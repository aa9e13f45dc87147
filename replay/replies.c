/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "replies.h"

#include <inttypes.h>
#include <string.h>

/* Kept bytes go into blocks that double from the first size up to the last,
 * so a session with a few replies costs little and a long one few mallocs. */
#define FIRST_BLOCK 1024
#define LAST_BLOCK (64 * 1024)

void replies_init(job_replies *r, const engine_config *cfg, const rec_session *rec, const GPtrArray *server_queries,
                  jid_map *shared_learned)
{
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->rec = rec;
    hessian_stream_init(&r->stream, NULL);
    hmtp_packet_init(&r->scratch);
    r->kept = g_array_new(FALSE, FALSE, sizeof(kept_reply));
    r->blocks = g_ptr_array_new_with_free_func(g_free);
    r->next_block = FIRST_BLOCK;
    jid_map_init(&r->learned);
    r->shared_learned = shared_learned;
    r->server_queries = server_queries;
    r->server_ids = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
}

void replies_free(job_replies *r)
{
    hessian_stream_free(&r->stream);
    hmtp_packet_free(&r->scratch);
    g_array_free(r->kept, TRUE);
    g_ptr_array_free(r->blocks, TRUE);
    jid_map_free(&r->learned);
    g_hash_table_destroy(r->server_ids);
}

/* Empties the scratch packet for the next reply, keeping its arena's block
 * (hmtp_packet_free would hand it back to malloc, once per reply). */
static void scratch_reset(hmtp_packet *p)
{
    hmtp_arena arena = p->arena;
    hmtp_arena_reset(&arena);
    hmtp_packet_init(p);
    p->arena = arena;
}

/* A copy of a reply's bytes that lasts until replies_free. */
static const uint8_t *keep_bytes(job_replies *r, const uint8_t *data, size_t len)
{
    if (!r->room || len > r->room_len) {
        size_t size = r->next_block;
        if (r->next_block < LAST_BLOCK)
            r->next_block *= 2;
        if (size < len) {
            /* larger than a block: one of its own, the room left stays */
            uint8_t *own = g_memdup2(data, len);
            g_ptr_array_add(r->blocks, own);
            return own;
        }
        r->room = g_malloc(size);
        r->room_len = size;
        g_ptr_array_add(r->blocks, r->room);
    }
    uint8_t *at = r->room;
    memcpy(at, data, len);
    r->room += len;
    r->room_len -= len;
    return at;
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
    hmtp_packet *p = &r->scratch;
    scratch_reset(p);
    hessian_mark mark = hessian_stream_mark(&r->stream);
    hmtp_error err;
    if (hmtp_packet_decode(p, &r->stream, mark, f->body, f->body_len, &err) != HMTP_OK) {
        replay_fail(why, "the target sent a malformed packet (#%" PRIu64 "): %s at body offset %zu", index, err.msg,
                    err.offset);
        return REPLY_MALFORMED;
    }
    if (login_edit_take_reply(le, p))
        return REPLY_OTHER;
    learn_jid(r, p);
    learn_query_id(r, p);
    if (!config_type_compared(r->cfg, p->type))
        return REPLY_OTHER;
    g_array_append_val(latencies, latency_ms);
    /* decoded again for the comparison, from these bytes and this mark */
    kept_reply k = {keep_bytes(r, f->body, f->body_len), f->body_len, mark, index};
    g_array_append_val(r->kept, k);
    r->compared++;
    return REPLY_COMPARED;
}
