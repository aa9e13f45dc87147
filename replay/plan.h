/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The plan of one session run, made before anything is sent: which recorded
 * client packets go (in order, each with the replies to await first) and
 * which recorded server packets are compared. */
#ifndef REPLAY_PLAN_H
#define REPLAY_PLAN_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "replay_config.h"
#include "shard.h"
#include "store.h"

typedef struct send_item {
    const rec_packet *rec;
    const uint8_t *wire; /* rec->wire, or rewritten */
    size_t wire_len;
    hmtp_buf rewritten;
    uint64_t wait_for;   /* conversation pacing: replies to have seen first */
    /* the key query put before an upgraded login (rec is that login: the
       query takes its place in the recorded order, just before it) */
    bool inserted_key_query;
} send_item;

typedef struct job_plan {
    GPtrArray *sends;          /* send_item* */
    GPtrArray *expected;       /* rec_packet* (server packets compared) */
    GPtrArray *server_queries; /* rec_packet*: queries the recorded server sent */
} job_plan;

void job_plan_init(job_plan *p);
/* Fills the plan from the recorded session (its packets held:
 * rec_session_acquire); insert_key_query puts a key
 * query before the login (--login-mode encrypted on a plain login). */
void job_plan_build(job_plan *p, const engine_config *cfg, const rec_session *rec, bool insert_key_query);
void job_plan_free(job_plan *p);

/* Capture time of the first client packet, 0 when there is none. */
double job_plan_first_ts(const job_plan *p);
/* PACE_ORIGINAL's round clock before any job is made: the capture time of
 * the session's first client packet to send (*ts), false when it sends
 * nothing or its packets cannot be read back. */
bool plan_first_send_ts(const engine_config *cfg, rec_session *rec, double *ts);

/* --shard: the split of the recorded sessions into n shards (shard.h),
 * from each session's recorded login JID and every packet's direction, type,
 * to and from (packets are decoded again here, one at a time). */
shard_plan *plan_shards(replay_store *st, unsigned n);

#endif
