/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "engine.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>

#include "verdict.h"

/* The engine that holds this job_shared (jobs see only the latter). */
static replay_engine *engine_of(job_shared *s)
{
    return (replay_engine *)((char *)s - G_STRUCT_OFFSET(replay_engine, shared));
}

/* ---------------------------------------------------------------- the queue */

/* Every "look again" (a reply, a write done, a timer, the order moving on)
 * queues the job; the queue is run from the main loop, so no job runs inside
 * another's step or inside the order's advance. */
/* An ended job is verified at once (replies are decoded again, one job at a
 * time) and freed (its result stays). JIDs the target assigned are learned
 * at login, before any fan-out that names them can reach another session,
 * so verifying now sees what verifying after the run would. */
static void retire(replay_engine *e, engine_slot *sl)
{
    replay_job *j = sl->job;
    if (!j || j->let_go)
        return;
    if (j->res->outcome == JOB_DONE || j->res->outcome == JOB_FAILED)
        verdict_job(j, &e->shared.learned);
    job_let_go(j);
    if (j->queued)
        g_queue_remove(&e->ready, j);
    job_free(j);
    sl->job = NULL;
}

static void retire_ended(replay_engine *e)
{
    replay_job *j;
    while ((j = g_queue_pop_head(&e->ended)))
        retire(e, j->slot);
}

static void run_ready(void *data)
{
    replay_engine *e = data;
    e->ready_timer = NULL;
    replay_job *j;
    while ((j = g_queue_pop_head(&e->ready))) {
        j->queued = false;
        job_step(j);
    }
    retire_ended(e);
}

static void on_wake(job_shared *s, replay_job *j)
{
    replay_engine *e = engine_of(s);
    if (j->queued || j->res->done)
        return;
    j->queued = true;
    g_queue_push_tail(&e->ready, j);
    if (!e->ready_timer)
        e->ready_timer = hmtp_loop_timer(e->loop, 0, run_ready, e);
}

static void maybe_quit(replay_engine *e)
{
    if (e->finished_in_round == e->per_round)
        hmtp_loop_quit(e->loop);
}

/* ---------------------------------------------------------------- building */

/* Copy k of every session in one round is one replay of the capture: they
 * keep the recorded order among themselves (order.h). Other copies and
 * rounds are independent replays. */
static order_group *group_of(replay_engine *e, const engine_slot *sl)
{
    unsigned scale = e->cfg->scale ? e->cfg->scale : 1;
    unsigned k = sl->loop * scale + sl->copy;
    order_group *g = g_ptr_array_index(e->groups, k);
    if (!g) {
        g = order_group_new(&job_order_ops, e->cfg->timeout_ms);
        g->loop = e->loop;
        e->groups->pdata[k] = g;
    }
    return g;
}

static void on_ended(job_shared *s, replay_job *j);

void replay_engine_init(replay_engine *e, const engine_config *cfg, replay_store *store, const bool *selected)
{
    memset(e, 0, sizeof *e);
    e->cfg = cfg;
    e->store = store;
    e->sessions = g_array_new(FALSE, TRUE, sizeof(engine_session));
    e->groups = g_ptr_array_new();
    g_queue_init(&e->ready);
    g_queue_init(&e->ended);
    /* made here, before the jobs, whose timers and sockets it holds */
    e->loop = hmtp_loop_new();
    if (!e->loop)
        snprintf(e->loop_error, sizeof e->loop_error, "cannot create the event loop: %s", g_strerror(errno));
    replay_results_init(&e->results, &store->stats);
    job_shared *sh = &e->shared;
    sh->cfg = cfg;
    sh->capture = &store->stats;
    sh->latency_ms = e->results.latency_ms;
    sh->latency = &e->results.latency;
    sh->loop = e->loop;
    sh->not_replayable = g_string_new(NULL);
    jid_map_init(&sh->learned);
    sh->wake = on_wake;
    sh->ended = on_ended;
    unsigned loops = cfg->loops ? cfg->loops : 1, scale = cfg->scale ? cfg->scale : 1;
    if (cfg->pace == PACE_CONVERSATION)
        g_ptr_array_set_size(e->groups, (guint)(loops * scale)); /* made when their first job starts */
    /* A job is made only when it starts and freed after its verdict (store.h:
       memory follows the sessions running at once), its slot when its round
       starts. What is known of a session before that is here: when its
       first packet is due (PACE_ORIGINAL's round clock: the same in every
       round). */
    for (guint i = 0; i < store->sessions->len; i++) {
        if (!selected[i])
            continue;
        engine_session es = {g_ptr_array_index(store->sessions, i), 0, false};
        if (cfg->pace == PACE_ORIGINAL && !job_skips(cfg, es.rec, NULL))
            es.has_sends = plan_first_send_ts(cfg, es.rec, &es.first_ts);
        g_array_append_val(e->sessions, es);
    }
    e->per_round = e->sessions->len * scale;
    e->runs = e->per_round * loops;
    for (unsigned loop = 0; loop < loops; loop++) {
        for (guint i = 0; i < e->sessions->len; i++) {
            rec_session *rec = g_array_index(e->sessions, engine_session, i).rec;
            for (unsigned copy = 0; copy < scale; copy++) {
                job_result *res = replay_results_add(&e->results, rec->info.id, rec->info.client, copy, loop);
                /* whether a session whose login is redone can run at all
                   is known only by planning it (login_edit.h): its job is
                   made once now for that, so that a run with nothing
                   runnable says so before connecting */
                if (!job_skips(cfg, rec, res) && !login_edit_is_plain(cfg, rec))
                    job_free(job_new(sh, rec, copy, loop, res));
            }
        }
    }
}

/* The round's slots go with it (their jobs have had their verdict). */
static void free_round(replay_engine *e)
{
    for (guint i = 0; e->slots && i < e->per_round; i++)
        if (e->slots[i].job)
            job_free(e->slots[i].job);
    g_free(e->slots);
    e->slots = NULL;
}

void replay_engine_free(replay_engine *e)
{
    free_round(e);
    for (guint i = 0; i < e->groups->len; i++) /* after the jobs: members leave nothing behind */
        order_group_free(g_ptr_array_index(e->groups, i));
    g_ptr_array_free(e->groups, TRUE);
    g_array_free(e->sessions, TRUE);
    g_queue_clear(&e->ready);
    g_queue_clear(&e->ended);
    if (e->ready_timer)
        hmtp_loop_cancel(e->loop, e->ready_timer);
    if (e->progress_timer)
        hmtp_loop_cancel(e->loop, e->progress_timer);
    replay_results_free(&e->results);
    g_string_free(e->shared.not_replayable, TRUE);
    jid_map_free(&e->shared.learned);
    link_target_free(e->shared.target);
    if (e->loop)
        hmtp_loop_free(e->loop); /* after the jobs: their links and paces cancel timers in it */
}

/* ---------------------------------------------------------------- starting and ending */

static void start_jobs(replay_engine *e)
{
    unsigned max_open = e->cfg->max_open ? e->cfg->max_open : 1;
    while (e->next_start < e->per_round && e->running < max_open) {
        engine_slot *sl = &e->slots[e->next_start++];
        job_result *res = sl->res;
        sl->settled = true;
        if (res->outcome == JOB_PENDING && !sl->job) {
            /* made even when the target is down: it says whether it could
               have been replayed at all */
            sl->job = job_new(&e->shared, sl->s->rec, sl->copy, sl->loop, res);
            sl->job->slot = sl;
            if (e->cfg->pace == PACE_CONVERSATION)
                job_join_group(sl->job, group_of(e, sl), sl->s->rec->info.id);
        }
        if (res->outcome != JOB_PENDING || e->shared.target_down[0]) { /* not replayable, skipped, unreadable */
            /* reported, never connected: counts as ended for the round */
            if (res->outcome == JOB_PENDING) {
                res->outcome = JOB_NOT_RUN;
                job_result_set_reason(res, "the target was unreachable (%.270s)", e->shared.target_down);
            }
            res->done = true;
            if (sl->job)
                sl->job->started = true;
            e->finished_in_round++;
            retire(e, sl);
            continue;
        }
        e->running++;
        job_start(sl->job, e->round_t0_us, e->round_ts0);
    }
}

/* Sessions of the round that wait for their turn to connect, once the
 * target is known to be unreachable. */
static void cancel_unconnected(replay_engine *e)
{
    for (guint i = 0; i < e->per_round; i++) {
        replay_job *j = e->slots[i].job;
        if (j && j->started && !j->res->done && !j->link.requested)
            job_finish(j, JOB_NOT_RUN, "the target was unreachable (%.270s)", e->shared.target_down);
    }
}

static void on_ended(job_shared *s, replay_job *j)
{
    replay_engine *e = engine_of(s);
    e->running--;
    e->finished_in_round++;
    g_queue_push_tail(&e->ended, j);
    if (!e->ready_timer && e->loop)
        e->ready_timer = hmtp_loop_timer(e->loop, 0, run_ready, e);
    progress_update(&e->progress);
    if (j->res->outcome == JOB_UNREACHABLE && !s->target_down[0]) {
        /* Later sessions would only wait for the same deadline again: the
           run ends with the sessions already connected. */
        snprintf(s->target_down, sizeof s->target_down, "session %u: %s", j->rec->info.id,
                 j->res->reason ? j->res->reason : "");
        cancel_unconnected(e);
    }
    start_jobs(e);
    maybe_quit(e);
}

/* The round's clock for PACE_ORIGINAL: its first recorded client packet is
 * due now. */
static void start_round_clock(replay_engine *e)
{
    e->round_t0_us = g_get_monotonic_time();
    bool any = false;
    for (guint i = 0; i < e->sessions->len; i++) {
        const engine_session *es = &g_array_index(e->sessions, engine_session, i);
        if (!es->has_sends)
            continue;
        if (!any || es->first_ts < e->round_ts0)
            e->round_ts0 = es->first_ts;
        any = true;
    }
}

/* Round `round`'s slots: every selected session, copy by copy. */
static void make_round(replay_engine *e, unsigned round)
{
    unsigned scale = e->cfg->scale ? e->cfg->scale : 1;
    e->slots = g_new0(engine_slot, e->per_round ? e->per_round : 1);
    for (guint i = 0, k = 0; i < e->sessions->len; i++) {
        for (unsigned copy = 0; copy < scale; copy++, k++) {
            engine_slot *sl = &e->slots[k];
            sl->s = &g_array_index(e->sessions, engine_session, i);
            sl->copy = copy;
            sl->loop = round;
            sl->res = g_ptr_array_index(e->results.jobs, round * e->per_round + k);
        }
    }
}

/* ---------------------------------------------------------------- running */

/* progress.c ticks on GLib's main loop, which no longer runs: the engine
 * ticks it on its own. */
static void on_progress_tick(void *data)
{
    replay_engine *e = data;
    progress_update(&e->progress);
    e->progress_timer = hmtp_loop_timer(e->loop, 200, on_progress_tick, e);
}

void replay_engine_run(replay_engine *e)
{
    e->results.t0_us = g_get_monotonic_time();
    if (!e->loop) {
        /* nothing can run: every session says why, and the run does not pass */
        snprintf(e->shared.target_down, sizeof e->shared.target_down, "%s", e->loop_error);
        for (guint i = 0; i < e->results.jobs->len; i++) {
            job_result *res = g_ptr_array_index(e->results.jobs, i);
            if (res->outcome == JOB_PENDING) {
                res->outcome = JOB_NOT_RUN;
                job_result_set_reason(res, "%s", e->loop_error);
            }
        }
        e->results.t1_us = g_get_monotonic_time();
        return;
    }
    /* Verification decodes every reply again into short-lived memory. With
       glibc's default trim threshold (128 KiB) each job's frees hand the
       heap's top back to the kernel and the next job faults it in again:
       measured at 100 sessions x 1,000 pings, 2.8k brk calls and twice the
       system time of the whole run (GIO's leftovers used to fill that gap
       by chance). 64 MiB kept costs little beside what a run holds. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    e->shared.target = link_target_resolve(e->cfg->target); /* once per run */
    progress_start(&e->progress, &e->results, e->cfg->progress);
    if (e->cfg->progress)
        e->progress_timer = hmtp_loop_timer(e->loop, 200, on_progress_tick, e);
    unsigned loops = e->cfg->loops ? e->cfg->loops : 1;
    start_round_clock(e); /* the same sessions every round: only its start moves */
    /* Rounds run one after the other: --loop N replays the capture N times. */
    for (unsigned round = 0; round < loops && e->per_round > 0; round++) {
        make_round(e, round);
        e->next_start = 0;
        e->finished_in_round = 0;
        e->round_t0_us = g_get_monotonic_time();
        start_jobs(e);
        bool broke = false;
        if (e->finished_in_round < e->per_round && !hmtp_loop_run(e->loop)) {
            /* epoll_wait failed: the sessions still running end here, said so */
            char why[200];
            snprintf(why, sizeof why, "the event loop failed: %s", g_strerror(errno));
            for (guint i = 0; i < e->per_round; i++) {
                replay_job *j = e->slots[i].job;
                if (j && j->started && !j->res->done)
                    job_finish(j, JOB_FAILED, "%s", why);
            }
            snprintf(e->shared.target_down, sizeof e->shared.target_down, "%s", why);
            broke = true;
        }
        retire_ended(e);
        /* A round whose targets were unreachable will not do better next time. */
        bool unreachable = false;
        for (guint i = 0; i < e->per_round; i++)
            unreachable |= e->slots[i].res->outcome == JOB_UNREACHABLE;
        /* sessions the round never started (the loop failed), then its jobs */
        for (guint i = 0; i < e->per_round; i++) {
            job_result *res = e->slots[i].res;
            if (res->outcome == JOB_PENDING) {
                res->outcome = JOB_NOT_RUN;
                job_result_set_reason(res, "the target was unreachable in an earlier round (%.255s)",
                                      e->shared.target_down);
            }
            retire(e, &e->slots[i]);
        }
        free_round(e);
        if (unreachable || broke)
            break;
    }
    if (e->progress_timer)
        hmtp_loop_cancel(e->loop, e->progress_timer);
    e->progress_timer = NULL;
    progress_stop(&e->progress);
    e->results.t1_us = g_get_monotonic_time();
    for (guint i = 0; i < e->results.jobs->len; i++) {
        job_result *res = g_ptr_array_index(e->results.jobs, i);
        if (res->outcome == JOB_PENDING) { /* rounds after one whose target was unreachable */
            res->outcome = JOB_NOT_RUN;
            job_result_set_reason(res, "the target was unreachable in an earlier round (%.255s)",
                                  e->shared.target_down);
        }
    }
}
