/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "verdict.h"

#include <stdio.h>
#include <string.h>

#include "replies.h"
#include "verify.h"

/* The recorded and the received replies of a job are decoded into one
 * arena, in blocks of at least this size, by one decoder: per reply, the
 * decoder asks for about twice the body's length and would otherwise get a
 * block of just that (a malloc per reply), and a decoder of its own. */
#define TREE_BLOCK (64 * 1024)

/* Room in arena for the tree of a body of len bytes: the packet borrows
 * the arena for the decode and gives every block back, so it owns nothing
 * and the job frees all its trees at once. */
static void borrow_arena(hmtp_arena *arena, size_t len, hmtp_packet *p)
{
    size_t want = 2 * len + 4096;
    if (hmtp_arena_room(arena) < want)
        hmtp_arena_reserve(arena, want > TREE_BLOCK ? want : TREE_BLOCK);
    hmtp_packet_init(p);
    p->arena = *arena;
}

static void give_back(hmtp_arena *arena, hmtp_packet *p)
{
    *arena = p->arena;
    hmtp_arena_init(&p->arena);
}

static void decode_expected(hmtp_arena *arena, hessian_decoder *d, rec_session *rec, const rec_packet *r,
                            expected_reply *x)
{
    borrow_arena(arena, r->body_len, &x->pkt);
    x->status = rec_packet_decode_with(rec, r, &x->pkt, d, &x->err);
    give_back(arena, &x->pkt);
}

static void decode_actual(hmtp_arena *arena, hessian_decoder *d, hessian_stream *s, const kept_reply *k,
                          actual_reply *a)
{
    borrow_arena(arena, k->body_len, &a->pkt);
    a->status = hmtp_packet_decode_with(&a->pkt, d, s, k->mark, kept_body(k), k->body_len, &a->err);
    give_back(arena, &a->pkt);
    a->index = k->index;
}

/* A session replayed in part: the answers to its last packets, and fan-out
 * then, were recorded after the break, so replies that arrive after its
 * last client packet have nothing to be compared with. They are counted in
 * the note, not called unexpected; earlier surprises still are. */
static void excuse_lost_tail(replay_job *j)
{
    job_result *res = j->res;
    if (!res->partial)
        return;
    unsigned n = verify_drop_unexpected_from(&res->verdict, j->tail_from);
    if (n)
        job_result_append_partial(res, "; %u repl%s after its last client packet not compared", n,
                                  n == 1 ? "y" : "ies");
}

void verdict_job(replay_job *j, const jid_map *learned)
{
    const engine_config *cfg = j->shared->cfg;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, learned->full);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (!g_hash_table_contains(j->replies.learned.full, k))
            jid_map_add_full(&j->replies.learned, k, v);
    verify_config vc = {cfg->ignore, cfg->rules, cfg->n_rules, cfg->window, {0}};
    for (int t = 0; t < HMTP_TYPE_COUNT; t++)
        vc.types[t] = config_type_compared(cfg, t);
    guint n = j->plan.expected->len;
    expected_reply *expected = g_new(expected_reply, n ? n : 1);
    hmtp_arena trees;
    hmtp_arena_init(&trees);
    hessian_decoder d = {0};
    for (guint i = 0; i < n; i++) {
        const rec_packet *r = g_ptr_array_index(j->plan.expected, i);
        expected_reply *x = &expected[i];
        x->frame = r->frame;
        reply_frames_append(&j->res->reply_frames, r->frame); /* for the report: which packets were compared */
        decode_expected(&trees, &d, j->rec, r, x);
        if (x->status == HMTP_OK)
            login_edit_expect_echo(&j->login, &j->rewrite, &x->pkt);
    }
    guint m = (guint)j->replies.compared;
    actual_reply *actual = g_new(actual_reply, m ? m : 1);
    kept_cursor c;
    replies_kept_begin(&j->replies, &c);
    for (guint i = 0; i < m; i++)
        decode_actual(&trees, &d, &j->replies.stream, replies_kept_next(&c), &actual[i]);
    hessian_decoder_free(&d);
    reply_frames_trim(&j->res->reply_frames); /* kept to the end of the run */
    verify_session(&vc, &j->rewrite, expected, n, actual, m, &j->res->verdict);
    excuse_lost_tail(j);
    for (guint i = 0; i < n; i++)
        hmtp_packet_free(&expected[i].pkt); /* what expect_echo may have added */
    g_free(expected);
    hmtp_arena_free(&trees);
    g_free(actual);
}
