/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "job.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void wake(replay_job *j) { j->shared->wake(j->shared, j); }

/* Replies counted as there for pacing: arrived, or declared missing. */
static uint64_t job_reply_credit(const replay_job *j)
{
    return j->replies.compared > j->excused ? j->replies.compared : j->excused;
}

/* ---------------------------------------------------------------- building */

/* A session replayed only in part (a gap with --replay-incomplete, or open
 * where the file itself breaks) passes for nothing more: the report says so. */
static void note_partial(replay_job *j)
{
    const rec_info *info = &j->rec->info;
    const replay_capture_stats *st = j->shared->capture;
    if (info->incomplete)
        job_result_set_partial(j->res, "replayed up to frame %" PRIu64 " only: %s", info->broken_frame,
                               info->broken_reason);
    else if (st->truncated && info->end == REPLAY_END_CAPTURE)
        job_result_set_partial(j->res, "still open where %s: replayed up to there only", st->truncated_msg);
}

static const link_events job_link_events;
static void on_pace_due(void *ctx) { wake(ctx); }

bool job_skips(const engine_config *cfg, const rec_session *rec, job_result *res)
{
    if (!rec->info.incomplete || cfg->replay_incomplete)
        return false;
    if (!res)
        return true;
    /* never connected, but reported: a run that skips work does not pass */
    res->outcome = JOB_SKIPPED;
    job_result_set_reason(res, "incomplete in the capture: %.240s (--replay-incomplete replays it up to there)",
                          rec->info.broken_reason);
    return true;
}

replay_job *job_new(job_shared *sh, rec_session *rec, unsigned copy, unsigned loop, job_result *res)
{
    const engine_config *cfg = sh->cfg;
    replay_job *j = g_new0(replay_job, 1);
    j->shared = sh;
    j->rec = rec;
    j->copy = copy;
    j->loop = loop;
    j->res = res;
    j->tail_from = UINT64_MAX;
    job_plan_init(&j->plan);
    login_edit_init(&j->login);
    replies_init(&j->replies, cfg, rec, j->plan.server_queries, copy == 0 ? &sh->learned : NULL);
    link_init(&j->link, &job_link_events, j, sh->loop, cfg->timeout_ms);
    pace_init(&j->pace, cfg, sh->loop, on_pace_due, j);
    if (copy > 0)
        j->resource = g_strdup_printf("replay-copy-%u", copy);
    j->rewrite = (rewrite_config){.map = cfg->map,
                                  .learned = &j->replies.learned,
                                  .shared_learned = j->replies.shared_learned,
                                  .login_user = cfg->login_user,
                                  .login_resource = j->resource,
                                  .server_query_ids = j->replies.server_ids};
    if (job_skips(cfg, rec, res))
        return j; /* with an empty plan */
    note_partial(j);
    hmtp_tool_error why;
    if (!rec_session_acquire(rec, &why)) {
        res->outcome = JOB_NOT_RUN;
        job_result_set_reason(res, "%.300s", why.msg);
        return j;
    }
    j->holds = true;
    if (!login_edit_plan(&j->login, cfg, rec, &j->rewrite, &why)) {
        /* stderr said so before the run (preflight.c) */
        res->outcome = JOB_NOT_REPLAYABLE;
        job_result_set_reason(res, "%s", why.msg);
    }
    job_plan_build(&j->plan, cfg, rec, j->login.upgrade);
    return j;
}

void job_free(replay_job *j)
{
    if (j->holds)
        rec_session_release(j->rec);
    pace_stop(&j->pace);
    link_free(&j->link);
    replies_free(&j->replies);
    login_edit_free(&j->login);
    job_plan_free(&j->plan);
    g_free(j->resource);
    g_free(j);
}

/* ---------------------------------------------------------------- the order's view */

static guint member_n_sends(const void *m) { return ((const replay_job *)m)->plan.sends->len; }
static uint64_t member_send_frame(const void *m, guint i)
{
    return ((const send_item *)g_ptr_array_index(((const replay_job *)m)->plan.sends, i))->rec->frame;
}
static guint member_n_replies(const void *m) { return ((const replay_job *)m)->plan.expected->len; }
static uint64_t member_reply_frame(const void *m, guint i)
{
    return ((const rec_packet *)g_ptr_array_index(((const replay_job *)m)->plan.expected, i))->frame;
}
static guint member_sent(const void *m) { return ((const replay_job *)m)->pace.next; }
static uint64_t member_credit(const void *m) { return job_reply_credit(m); }

static void member_excuse(void *m, uint64_t replies)
{
    replay_job *j = m;
    if (j->excused < replies)
        j->excused = replies;
}

static void member_wake(void *m) { wake(m); }

const order_member_ops job_order_ops = {member_n_sends, member_send_frame, member_n_replies, member_reply_frame,
                                        member_sent,    member_credit,     member_excuse,    member_wake};

void job_join_group(replay_job *j, order_group *g, guint member_seq)
{
    j->group = g;
    order_member_init(&j->member, j, member_seq);
}

/* ---------------------------------------------------------------- ending */

void job_finish(replay_job *j, job_outcome outcome, const char *fmt, ...)
{
    if (j->res->done)
        return;
    j->res->done = true;
    j->res->outcome = outcome;
    /* the peers' JIDs of this round, before a later round overwrites them */
    if (j->replies.shared_learned)
        jid_map_add_missing(&j->replies.learned, j->replies.shared_learned);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        job_result_set_reasonv(j->res, fmt, ap);
        va_end(ap);
    }
    pace_stop(&j->pace);
    link_close(&j->link);
    if (j->group)
        order_group_leave(j->group, &j->member); /* an ended session holds nobody back */
    j->shared->ended(j->shared, j);
    if (j->group)
        order_group_advance(j->group);
}

/* ---------------------------------------------------------------- the link's events */

static void on_frame(void *ctx, const hmtp_frame *f)
{
    replay_job *j = ctx;
    uint64_t index = j->res->received++;
    gint64 now = g_get_monotonic_time();
    double latency_ms = j->pace.last_send_us ? (double)(now - j->pace.last_send_us) / 1000.0 : 0;
    hmtp_tool_error why;
    reply_kind k = replies_take(&j->replies, &j->login, f, index, latency_ms, j->shared->latency_ms, &why);
    latency_hist_take(j->shared->latency, j->shared->latency_ms);
    if (k == REPLY_MALFORMED)
        job_finish(j, JOB_FAILED, "%s", why.msg);
    else if (k == REPLY_COMPARED && j->group)
        order_group_advance(j->group);
}

static void on_wrote(void *ctx, size_t n)
{
    replay_job *j = ctx;
    j->res->bytes_sent += n;
    wake(j);
}

static void on_progressed(void *ctx) { wake(ctx); }

static void on_closed(void *ctx)
{
    replay_job *j = ctx;
    if (j->pace.next < j->plan.sends->len)
        job_finish(j, JOB_FAILED, "the target closed the connection after %u of %u client packets", j->pace.next,
                   j->plan.sends->len);
    else
        job_finish(j, JOB_DONE, NULL);
}

static void on_failed(void *ctx, link_failure why, const char *detail)
{
    replay_job *j = ctx;
    const engine_config *cfg = j->shared->cfg;
    guint next = j->pace.next, total = j->plan.sends->len;
    switch (why) {
    case LINK_CONNECT_ERROR:
        job_finish(j, JOB_UNREACHABLE, "cannot connect to %s: %s", cfg->target, detail);
        break;
    case LINK_CONNECT_TIMEOUT:
        job_finish(j, JOB_UNREACHABLE, "cannot connect to %s within --timeout (%u ms)", cfg->target, cfg->timeout_ms);
        break;
    case LINK_UPGRADE_TIMEOUT:
        job_finish(j, JOB_UNREACHABLE,
                   "the target accepted the connection but did not answer the upgrade within --timeout (%u ms)",
                   cfg->timeout_ms);
        break;
    case LINK_NOT_HTTP:
        job_finish(j, JOB_UNREACHABLE, "the target's answer to the upgrade is not HTTP");
        break;
    case LINK_REFUSED:
        job_finish(j, JOB_UNREACHABLE, "the target refused the upgrade: %s", detail);
        break;
    case LINK_UPGRADE_CLOSED:
        job_finish(j, JOB_UNREACHABLE, "the target closed the connection during the upgrade");
        break;
    case LINK_READ_ERROR:
        job_finish(j, j->link.upgraded ? JOB_FAILED : JOB_UNREACHABLE, "reading from the target failed: %s", detail);
        break;
    case LINK_WRITE_ERROR:
        job_finish(j, JOB_FAILED, "writing to the target failed after %" PRIu64 " client packets: %s",
                   j->res->packets_sent, detail);
        break;
    case LINK_PEER_CLOSED:
        job_finish(j, JOB_FAILED, "the target closed the connection (%s) after %u of %u client packets", detail, next,
                   total);
        break;
    case LINK_WRITE_STALLED:
        job_finish(j, JOB_FAILED,
                   "the target took none of the bytes sent for --timeout (%u ms), after %u of %u client packets",
                   cfg->timeout_ms, next, total);
        break;
    case LINK_BAD_FRAMING:
        job_finish(j, JOB_FAILED, "%s", detail);
        break;
    }
}

static const link_events job_link_events = {on_frame, on_wrote, on_progressed, on_closed, on_failed};

/* ---------------------------------------------------------------- running */

void job_start(replay_job *j, gint64 round_t0_us, double round_ts0)
{
    j->started = true;
    if (j->group)
        order_group_join(j->group, &j->member);
    pace_start(&j->pace, round_t0_us, round_ts0, job_plan_first_ts(&j->plan));
    wake(j);
}

/* A session connects only shortly before its first packet is due, so that
 * a target which closes connections that do not log in soon (hmtp-broker's
 * login deadline) does not close it while it waits for its turn: with the
 * original pace at its recorded time less a lead (pace.c), with the
 * conversation pace when the recorded order reaches its first packet, with
 * the others at once. */
static void job_connect_when_due(replay_job *j, gint64 now)
{
    const job_shared *sh = j->shared;
    if (sh->target_down[0]) {
        job_finish(j, JOB_NOT_RUN, "the target was unreachable (%.270s)", sh->target_down);
        return;
    }
    if (!pace_connect_due(&j->pace, now))
        return;
    if (j->group && !order_reached_first(j->group, &j->member))
        return; /* the group wakes the job when the order gets there */
    const engine_config *cfg = sh->cfg;
    const char *path = cfg->path ? cfg->path : j->rec->info.path[0] ? j->rec->info.path : "/hmtp";
    const char *host = cfg->host_header ? cfg->host_header : cfg->target;
    link_connect(&j->link, sh->target, path, host);
}

static bool prepare_send(replay_job *j, send_item *s)
{
    hmtp_tool_error why;
    if (j->login.upgrade || j->login.rewrite_all) {
        if (!login_edit_prepare(&j->login, j->rec, &j->rewrite, s->rec, s->inserted_key_query, &s->rewritten, &why)) {
            job_finish(j, JOB_FAILED, "client packet of frame %" PRIu64 "%s: %s", s->rec->frame,
                       s->inserted_key_query ? " (the inserted key query)" : "", why.msg);
            return false;
        }
        s->wire = s->rewritten.data;
        s->wire_len = s->rewritten.len;
        return true;
    }
    if (s->rec->status != HMTP_OK)
        return true; /* undecodable when recorded: sent as recorded */
    hmtp_buf_reset(&s->rewritten);
    int r = rewrite_client_packet(s->rec, &j->rec->stream[REPLAY_C2S], &j->rewrite, &s->rewritten, &why);
    if (r < 0) {
        job_finish(j, JOB_FAILED, "client packet of frame %" PRIu64 ": %s", s->rec->frame, why.msg);
        return false;
    }
    if (r > 0) {
        s->wire = s->rewritten.data;
        s->wire_len = s->rewritten.len;
    }
    return true;
}

/* The credentials of an encrypted login, made for the target's key: true
 * when ready; false when the key has not come yet (a timer is armed) or the
 * job failed. The key is awaited whatever the pace: without it there is
 * nothing to send. */
static bool make_credentials(replay_job *j, const send_item *s, gint64 now)
{
    hmtp_tool_error why;
    int k = login_edit_credentials(&j->login, &j->rewrite, s->rec->frame, &why);
    if (k < 0)
        job_finish(j, JOB_FAILED, "%s", why.msg);
    else if (k == 0 && !pace_wait(&j->pace, now))
        job_finish(j, JOB_FAILED,
                   "cannot redo the encrypted login of frame %" PRIu64 ": no public key from the target within --timeout",
                   s->rec->frame);
    return k > 0;
}

void job_step(replay_job *j)
{
    if (j->res->done)
        return;
    gint64 now = g_get_monotonic_time();
    if (j->group)
        order_group_advance(j->group); /* sessions that never ran or ended hold nobody back */
    if (j->res->done)
        return;
    if (!j->link.upgraded) {
        if (!j->link.requested)
            job_connect_when_due(j, now);
        return;
    }
    double first_ts = job_plan_first_ts(&j->plan);
    GPtrArray *sends = j->plan.sends;
    while (j->pace.next < sends->len) {
        send_item *s = g_ptr_array_index(sends, j->pace.next);
        bool order_ok = !j->group || order_reached(j->group, &j->member, true, j->pace.next);
        if (!pace_may_send(&j->pace, s->rec->ts, first_ts, job_reply_credit(j), s->wait_for, order_ok, now))
            break;
        if (rec_is_login(s->rec) && !s->inserted_key_query && j->login.encrypt && !j->login.creds_ready &&
            !make_credentials(j, s, now)) {
            if (j->res->done)
                return;
            break; /* waiting for the target's key */
        }
        if (!prepare_send(j, s))
            return;
        link_queue(&j->link, s->wire, s->wire_len);
        pace_sent(&j->pace, now);
        j->res->packets_sent++;
        if (j->pace.next == sends->len)
            j->tail_from = j->res->received;
        if (j->group) {
            /* the next packet, of this session or another, may go now */
            order_group_advance(j->group);
            if (j->res->done)
                return;
        }
    }
    link_flush(&j->link);
    if (j->pace.next < sends->len || j->link.writing)
        return; /* the drain clock starts once everything is on its way */
    uint64_t credit = job_reply_credit(j);
    bool next_ok = !j->group || credit >= j->plan.expected->len || order_reached(j->group, &j->member, false, (guint)credit);
    if (pace_drained(&j->pace, credit, j->plan.expected->len, next_ok, now))
        job_finish(j, JOB_DONE, NULL);
}
