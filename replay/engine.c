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
/* The settled result leaves memory (results.h). When it cannot be written
 * the run ends: nothing more starts, the loop stops, and the caller says
 * why instead of writing reports with runs missing. */
static void settle(replay_engine *e, job_result *res)
{
    if (replay_results_settle(&e->results, res) || e->stopping)
        return;
    e->stopping = true;
    snprintf(e->shared.target_down, sizeof e->shared.target_down, "%s", replay_results_error(&e->results));
    if (e->loop)
        hmtp_loop_quit(e->loop);
}

/* An ended job is verified at once (replies are decoded again, one job at a
 * time) and freed, its result settled. JIDs the target assigned are learned
 * at login, before any fan-out that names them can reach another session,
 * so verifying now sees what verifying after the run would. */
static void retire(replay_engine *e, engine_slot *sl)
{
    replay_job *j = sl->job;
    if (j) {
        if (j->res->outcome == JOB_DONE || j->res->outcome == JOB_FAILED)
            verdict_job(j, &e->shared.learned);
        if (j->queued)
            g_queue_remove(&e->ready, j);
        job_free(j);
        sl->job = NULL;
    }
    if (sl->res) {
        job_result *res = sl->res;
        sl->res = NULL;
        settle(e, res);
    }
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

/* A run's result, opened in run order. */
static job_result *open_result(replay_engine *e, const engine_session *es, unsigned copy, unsigned loop)
{
    const rec_session *rec = es->rec;
    /* named in the reports by its recorded JID (the login's answer, else its user) */
    return replay_results_open(&e->results, rec->info.id, rec->info.client,
                               rec->login_jid ? rec->login_jid : rec->login_uid, copy, loop);
}

/* A run decided without starting it, settled at once: skipped, not
 * replayable (planning its redone login says so), else not run because of
 * why (NULL: left pending, a run stopped before connecting). */
static void settle_unstarted(replay_engine *e, const engine_session *es, unsigned copy, unsigned loop, const char *why)
{
    job_result *res = open_result(e, es, copy, loop);
    if (!job_skips(e->cfg, es->rec, res) && !login_edit_is_plain(e->cfg, es->rec))
        job_free(job_new(&e->shared, es->rec, copy, loop, res));
    if (why && res->outcome == JOB_PENDING) {
        res->outcome = JOB_NOT_RUN;
        job_result_set_reason(res, "%s", why);
    }
    settle(e, res);
}

/* Every run of rounds from..loops-1, settled without starting. */
static void settle_rounds(replay_engine *e, unsigned from, const char *why)
{
    unsigned loops = e->cfg->loops ? e->cfg->loops : 1, scale = e->cfg->scale ? e->cfg->scale : 1;
    for (unsigned loop = from; loop < loops && !e->stopping; loop++)
        for (guint i = 0; i < e->sessions->len && !e->stopping; i++)
            for (unsigned copy = 0; copy < scale && !e->stopping; copy++)
                settle_unstarted(e, &g_array_index(e->sessions, engine_session, i), copy, loop, why);
}

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
    jid_map_init(&sh->learned);
    sh->wake = on_wake;
    sh->ended = on_ended;
    unsigned loops = cfg->loops ? cfg->loops : 1, scale = cfg->scale ? cfg->scale : 1;
    if (cfg->pace == PACE_CONVERSATION)
        g_ptr_array_set_size(e->groups, (guint)(loops * scale)); /* made when their first job starts */
    /* A job is made only when it starts and freed after its verdict (store.h:
       memory follows the sessions running at once), its slot when its round
       starts, its result when it starts (results.h). What is known of a
       session before that is here, the same in every round: when its first
       packet is due (PACE_ORIGINAL's round clock). */
    for (guint i = 0; i < store->sessions->len; i++) {
        if (!selected[i])
            continue;
        engine_session es = {g_ptr_array_index(store->sessions, i), 0, false};
        bool skips = job_skips(cfg, es.rec, NULL);
        if (cfg->pace == PACE_ORIGINAL && !skips)
            es.has_sends = plan_first_send_ts(cfg, es.rec, &es.first_ts);
        g_array_append_val(e->sessions, es);
    }
    e->per_round = e->sessions->len * scale;
    e->runs = e->per_round * loops;
    e->results.planned = e->runs;
}

void replay_engine_settle_unrun(replay_engine *e)
{
    settle_rounds(e, 0, NULL);
}

/* The round's slots go with it (their jobs have had their verdict). */
static void free_round(replay_engine *e)
{
    for (guint i = 0; e->slots && i < e->per_round; i++) {
        replay_job *j = e->slots[i].job;
        if (j && j->queued)
            g_queue_remove(&e->ready, j);
        if (j)
            job_free(j);
        if (e->slots[i].res) { /* not reached here unless the run was stopped */
            job_result_clear(e->slots[i].res);
            g_free(e->slots[i].res);
        }
    }
    /* and its order groups (PACE_CONVERSATION), after their members */
    unsigned scale = e->cfg->scale ? e->cfg->scale : 1;
    for (unsigned copy = 0; e->slots && e->per_round && copy < scale; copy++) {
        guint k = e->slots[0].loop * scale + copy;
        if (k < e->groups->len) {
            order_group_free(g_ptr_array_index(e->groups, k));
            e->groups->pdata[k] = NULL;
        }
    }
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
    jid_map_free(&e->shared.learned);
    link_target_free(e->shared.target);
    if (e->loop)
        hmtp_loop_free(e->loop); /* after the jobs: their links and paces cancel timers in it */
}

/* ---------------------------------------------------------------- starting and ending */

static void start_jobs(replay_engine *e)
{
    unsigned max_open = e->cfg->max_open ? e->cfg->max_open : 1;
    while (e->next_start < e->per_round && e->running < max_open && !e->stopping) {
        engine_slot *sl = &e->slots[e->next_start++];
        job_result *res = sl->res = open_result(e, sl->s, sl->copy, sl->loop);
        sl->settled = true;
        if (!job_skips(e->cfg, sl->s->rec, res)) {
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

/* Why a run after the target went down was not started. */
static const char *why_not_run(replay_engine *e)
{
    snprintf(e->why_not_run, sizeof e->why_not_run, "the target was unreachable in an earlier round (%.255s)",
             e->shared.target_down);
    return e->why_not_run;
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
        settle_rounds(e, 0, e->loop_error);
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
    unsigned round = 0;
    /* Rounds run one after the other: --loop N replays the capture N times. */
    for (; round < loops && e->per_round > 0 && !e->stopping; round++) {
        make_round(e, round);
        e->next_start = 0;
        e->finished_in_round = 0;
        e->round_t0_us = g_get_monotonic_time();
        unsigned unreachable_before = e->results.sum.unreachable;
        start_jobs(e);
        bool broke = false;
        if (e->finished_in_round < e->per_round && !e->stopping && !hmtp_loop_run(e->loop)) {
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
        /* sessions the round never started (the loop failed), in run order */
        for (guint i = 0; i < e->per_round && !e->stopping; i++) {
            engine_slot *sl = &e->slots[i];
            if (!sl->settled)
                settle_unstarted(e, sl->s, sl->copy, sl->loop, why_not_run(e));
        }
        for (guint i = 0; i < e->per_round && !e->stopping; i++)
            retire(e, &e->slots[i]);
        free_round(e);
        /* A round whose targets were unreachable will not do better next time. */
        if (broke || e->results.sum.unreachable > unreachable_before) {
            round++;
            break;
        }
    }
    if (e->progress_timer)
        hmtp_loop_cancel(e->loop, e->progress_timer);
    e->progress_timer = NULL;
    progress_stop(&e->progress);
    e->results.t1_us = g_get_monotonic_time();
    /* rounds after one whose target was unreachable: reported, not run */
    settle_rounds(e, round, why_not_run(e));
}
