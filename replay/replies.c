/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "replies.h"

#include <inttypes.h>
#include <stdalign.h>
#include <string.h>

/* Kept replies go into blocks that double from the first size up to the
 * last, so a session with a few replies costs little and a long one few
 * mallocs. */
#define FIRST_BLOCK 1024
#define LAST_BLOCK (64 * 1024)

struct kept_block {
    kept_block *next;
    size_t size, used;
    alignas(max_align_t) uint8_t data[];
};

/* A kept reply's room in a block: its record, its bytes, the padding that
 * keeps the next record aligned. */
static size_t entry_size(size_t body_len)
{
    const size_t align = alignof(kept_reply);
    return (sizeof(kept_reply) + body_len + align - 1) & ~(align - 1);
}

void replies_init(job_replies *r, const engine_config *cfg, const rec_session *rec, const GPtrArray *server_queries,
                  jid_map *shared_learned)
{
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->rec = rec;
    hessian_stream_init(&r->stream, NULL);
    hmtp_packet_init(&r->scratch);
    r->next_block = FIRST_BLOCK;
    jid_map_init(&r->learned);
    r->shared_learned = shared_learned;
    r->server_queries = server_queries;
    r->server_ids = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
}

static void drop_kept(job_replies *r)
{
    for (kept_block *b = r->first, *next; b; b = next) {
        next = b->next;
        g_free(b);
    }
    r->first = r->last = NULL;
}

void replies_free(job_replies *r)
{
    hessian_stream_free(&r->stream);
    hessian_decoder_free(&r->decoder);
    hmtp_packet_free(&r->scratch);
    drop_kept(r);
    jid_map_free(&r->learned);
    g_hash_table_destroy(r->server_ids);
}

/* What the scratch packet keeps between replies: enough for the usual small
 * reply (a 1 KiB body asks for about 2.7 KiB), not a large one's block for
 * the rest of the session, which 10,000 sessions would each hold. */
#define SCRATCH_KEEP 4096

/* Empties the scratch packet for the next reply, keeping its arena's block
 * when small (hmtp_packet_free would hand it back to malloc, once per
 * reply). */
static void scratch_reset(hmtp_packet *p)
{
    hmtp_arena arena = p->arena;
    hmtp_arena_reset(&arena);
    if (hmtp_arena_room(&arena) > SCRATCH_KEEP)
        hmtp_arena_free(&arena);
    hmtp_packet_init(p);
    p->arena = arena;
}

/* Keeps a compared reply's bytes (and what decodes them again) until
 * replies_free. */
static void keep(job_replies *r, const uint8_t *body, size_t body_len, hessian_mark mark, uint64_t index)
{
    size_t need = entry_size(body_len);
    kept_block *b = r->last;
    if (!b || b->size - b->used < need) {
        size_t size = r->next_block > need ? r->next_block : need; /* a large reply gets a block of its own */
        if (r->next_block < LAST_BLOCK)
            r->next_block *= 2;
        b = g_malloc(sizeof *b + size);
        b->next = NULL;
        b->size = size;
        b->used = 0;
        if (r->last)
            r->last->next = b;
        else
            r->first = b;
        r->last = b;
    }
    kept_reply *k = (kept_reply *)(b->data + b->used);
    k->body_len = body_len;
    k->mark = mark;
    k->index = index;
    memcpy(k + 1, body, body_len);
    b->used += need;
}

void replies_kept_begin(const job_replies *r, kept_cursor *c)
{
    c->block = r->first;
    c->at = 0;
}

const kept_reply *replies_kept_next(kept_cursor *c)
{
    while (c->block && c->at >= c->block->used) {
        c->block = c->block->next;
        c->at = 0;
    }
    if (!c->block)
        return NULL;
    const kept_reply *k = (const kept_reply *)(c->block->data + c->at);
    c->at += entry_size(k->body_len);
    return k;
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
                        GArray *latencies, hmtp_tool_error *why)
{
    hmtp_packet *p = &r->scratch;
    scratch_reset(p);
    hessian_mark mark = hessian_stream_mark(&r->stream);
    hmtp_error err;
    if (hmtp_packet_decode_with(p, &r->decoder, &r->stream, mark, f->body, f->body_len, &err) != HMTP_OK) {
        hmtp_tool_fail(why, "the target sent a malformed packet (#%" PRIu64 "): %s at body offset %zu", index, err.msg,
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
    keep(r, f->body, f->body_len, mark, index);
    r->compared++;
    return REPLY_COMPARED;
}
