/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "verdict.h"

#include <string.h>

#include "verify.h"

static void expected_free(gpointer p)
{
    expected_reply *x = p;
    hmtp_packet_free(&x->pkt);
    g_free(x);
}

/* A session replayed in part: the answers to its last packets, and fan-out
 * then, were recorded after the break, so replies that arrive after its
 * last client packet have nothing to be compared with. They are counted in
 * the note, not called unexpected; earlier surprises still are. */
static void excuse_lost_tail(replay_job *j)
{
    job_result *res = j->res;
    if (!res->partial[0])
        return;
    unsigned n = verify_drop_unexpected_from(&res->verdict, j->tail_from);
    size_t len = strlen(res->partial);
    if (n)
        snprintf(res->partial + len, sizeof res->partial - len, "; %u repl%s after its last client packet not compared",
                 n, n == 1 ? "y" : "ies");
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
    verify_config vc = {cfg->ignore, cfg->window, {0}};
    for (int t = 0; t < HMTP_TYPE_COUNT; t++)
        vc.types[t] = config_type_compared(cfg, t);
    GPtrArray *expected = g_ptr_array_new_with_free_func(expected_free);
    for (guint n = 0; n < j->plan.expected->len; n++) {
        const rec_packet *r = g_ptr_array_index(j->plan.expected, n);
        expected_reply *x = g_new0(expected_reply, 1);
        x->frame = r->frame;
        g_array_append_val(j->res->reply_frames, r->frame); /* for the report: which packets were compared */
        x->status = rec_packet_decode(j->rec, r, &x->pkt, &x->err);
        if (x->status == HMTP_OK)
            login_edit_expect_echo(&j->login, &j->rewrite, &x->pkt);
        g_ptr_array_add(expected, x);
    }
    GPtrArray *actual = j->replies.actual;
    for (guint n = 0; n < actual->len; n++) {
        actual_reply *a = g_ptr_array_index(actual, n);
        a->status = hmtp_packet_decode(&a->pkt, &j->replies.stream, a->mark, a->body, a->body_len, &a->err);
    }
    verify_session(&vc, &j->rewrite, expected, actual, &j->res->verdict);
    excuse_lost_tail(j);
    g_ptr_array_free(expected, TRUE);
    for (guint n = 0; n < actual->len; n++) {
        actual_reply *a = g_ptr_array_index(actual, n);
        hmtp_packet_free(&a->pkt);
        hmtp_packet_init(&a->pkt);
    }
}
