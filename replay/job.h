/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One run of one recorded session (one copy of --sessions-scale, one round
 * of --loop): its plan, its login edit, its link to the target, its pace and
 * the replies it collects, each owned by the part that uses it. The job ties
 * them together; what is shared by all jobs, and the engine's side of a
 * job's life (queueing it to look again, its end), comes through job_shared. */
#ifndef REPLAY_JOB_H
#define REPLAY_JOB_H

#include <glib.h>
#include <stdbool.h>

#include "capture.h"
#include "jidmap.h"
#include "latency.h"
#include "link.h"
#include "login_edit.h"
#include "order.h"
#include "pace.h"
#include "plan.h"
#include "replay_config.h"
#include "replies.h"
#include "results.h"
#include "rewrite.h"
#include "store.h"

struct replay_job;

typedef struct job_shared {
    const engine_config *cfg;
    const replay_capture_stats *capture;
    hmtp_loop *loop;       /* the engine's: every socket and timer of the run */
    link_target *target;   /* resolved once per run (engine_run) */
    char target_down[400]; /* why the target was found unreachable: no session starts after that */
    jid_map learned;       /* from copy 0 of each session, for fan-out */
    GArray *latency_ms;    /* the results' scratch: replies_take() appends, job.c empties it into */
    latency_hist *latency; /* the results' */
    /* the engine's side, set by the engine */
    void (*wake)(struct job_shared *s, struct replay_job *j);  /* queue j to look again (never runs it at once) */
    void (*ended)(struct job_shared *s, struct replay_job *j); /* j has ended */
} job_shared;

typedef struct replay_job {
    job_shared *shared;
    rec_session *rec;
    unsigned copy, loop;
    job_plan plan;
    rewrite_config rewrite;
    char *resource;        /* login resource of a scaled copy */
    login_edit login;
    job_replies replies;
    replay_link link;
    job_pace pace;
    order_group *group;    /* PACE_CONVERSATION: the sessions replayed together */
    order_member member;   /* its place in the group */
    uint64_t excused;      /* replies the group declared missing (order.c) */
    uint64_t tail_from;    /* arrival number of the first reply after the last client packet */
    bool started;
    bool queued;           /* waiting in the engine's queue to look again */
    /* Its session's packets (store.h), held while the plan points into
       them: from job_new to job_free (after its verdict). */
    bool holds;
    void *slot;            /* the engine's record of it */
    job_result *res;       /* the results' */
} replay_job;

/* A job for the recorded session; res is filled as it runs. */
replay_job *job_new(job_shared *sh, rec_session *rec, unsigned copy, unsigned loop, job_result *res);
void job_free(replay_job *j);

/* A member of the group from its start (member_seq: its place in the
 * group, in recorded order). */
void job_join_group(replay_job *j, order_group *g, guint member_seq);
extern const order_member_ops job_order_ops;
/* Incomplete in the capture and not to be replayed (no --replay-incomplete):
 * res (unless NULL) says so, and the job is never made. */
bool job_skips(const engine_config *cfg, const rec_session *rec, job_result *res);

/* Started by the engine (a connection slot is free). */
void job_start(replay_job *j, gint64 round_t0_us, double round_ts0);
/* Does what the pace allows now; only the engine's queue calls it. */
void job_step(replay_job *j);
void job_finish(replay_job *j, job_outcome outcome, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

#endif
