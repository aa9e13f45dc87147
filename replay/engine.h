/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The replay engine: one job per recorded session (times --loop and
 * --sessions-scale), driven by one hmtp_loop (epoll and a timer heap: GLib's
 * main loop cost 35% of the run at 10,000 sessions). It runs the rounds one
 * after the other, starts at most --max-connections jobs at once, lets each
 * job look again from one queue (so nothing is entered again while it runs),
 * and verifies each job from the same queue once it has ended, letting go of
 * its session's packets and its replies then: memory follows the jobs
 * running at once (store.h). What it found is in results. */
#ifndef REPLAY_ENGINE_H
#define REPLAY_ENGINE_H

#include <glib.h>
#include <stdbool.h>

#include "hmtp_loop.h"
#include "job.h"
#include "progress.h"
#include "replay_config.h"
#include "results.h"
#include "store.h"

/* A selected session: what every round needs of it, found once. */
typedef struct engine_session {
    rec_session *rec;
    double first_ts;      /* its plan's first client packet (PACE_ORIGINAL's round clock) */
    bool has_sends;
} engine_session;

/* A job's place in its round. The slots of a round are made when it starts
 * and freed when it ends (--loop 1000 of 30,000 sessions would otherwise
 * be 30 million of them before anything is sent). Its replay_job exists
 * only from its start to its verdict: 5 KB a job (most of it the login's
 * writer) for tens of thousands of sessions would be most of the run's
 * memory. */
typedef struct engine_slot {
    const engine_session *s;
    unsigned copy, loop;
    job_result *res;      /* from its start to its settling (results.h) */
    bool settled;         /* its result opened: started, or decided without starting */
    replay_job *job;      /* NULL while not made */
} engine_slot;

typedef struct replay_engine {
    const engine_config *cfg;
    replay_store *store;
    job_shared shared;
    hmtp_loop *loop;      /* NULL when the kernel refused one: loop_error says why */
    char loop_error[160];
    GArray *sessions;     /* engine_session: the selected ones, in capture order */
    guint runs;           /* session runs of all rounds: sessions x copies x rounds */
    engine_slot *slots;   /* the running round's, per_round of them; NULL between rounds */
    guint per_round;      /* sessions x copies */
    GPtrArray *groups;    /* order_group* (NULL until used): one per round and copy, PACE_CONVERSATION */
    gint64 round_t0_us;   /* PACE_ORIGINAL: the round's start ... */
    double round_ts0;     /* ... stands for this capture time (its first client packet) */
    guint next_start, running, finished_in_round;
    GQueue ready;         /* replay_job* to look again */
    GQueue ended;         /* replay_job* to verify and let go of their packets */
    hmtp_timer *ready_timer; /* a 0 ms timer: the queue runs from the loop */
    hmtp_timer *progress_timer;
    bool stopping;        /* the results could not be written: the run ends */
    char why_not_run[320];
    replay_results results;
    replay_progress progress;
} replay_engine;

/* Builds the jobs for the selected sessions (selected[i] for session i). */
void replay_engine_init(replay_engine *e, const engine_config *cfg, replay_store *store, const bool *selected);
/* Runs every round and verifies every job; each run's result is settled
 * (results.h) as it ends. replay_results_error(&e->results) set: the
 * results could not be written, the run stopped. */
void replay_engine_run(replay_engine *e);
/* Instead of running: every run's result as decided before connecting
 * (skipped, not replayable, else pending), for a run stopped before it. */
void replay_engine_settle_unrun(replay_engine *e);
void replay_engine_free(replay_engine *e);

#endif
