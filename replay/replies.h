/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a session run receives: every reply decoded once as it arrives (to
 * learn what the target named differently: the JID it assigned at login,
 * the ids of the queries it sends, its key), then only the bytes of the
 * compared ones kept until verification (a decoded tree costs far more
 * memory). */
#ifndef REPLAY_REPLIES_H
#define REPLAY_REPLIES_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "framing.h"
#include "hmtp.h"
#include "jidmap.h"
#include "login_edit.h"
#include "replay_config.h"
#include "replay_error.h"
#include "store.h"

typedef struct job_replies {
    const engine_config *cfg;
    const rec_session *rec;
    hessian_stream stream;       /* the target's direction */
    GPtrArray *actual;           /* actual_reply* (verify.h): the compared replies */
    uint64_t compared;           /* actual->len, as a count that pacing reads */
    jid_map learned;             /* recorded JID -> JID the target assigned */
    jid_map *shared_learned;     /* the engine's, for fan-out: copy 0 only, else NULL */
    const GPtrArray *server_queries; /* rec_packet*: queries the recorded server sent (the plan's) */
    guint server_queries_seen;
    GHashTable *server_ids;      /* recorded id -> id of the target's query (gint64*) */
} job_replies;

void replies_init(job_replies *r, const engine_config *cfg, const rec_session *rec, const GPtrArray *server_queries,
                  jid_map *shared_learned);
void replies_free(job_replies *r);

typedef enum reply_kind {
    REPLY_MALFORMED, /* why says what and where */
    REPLY_OTHER,     /* learned from, not compared */
    REPLY_COMPARED,  /* kept for verification; latency_ms appended to latencies */
} reply_kind;

/* The reply that arrived as number `index` (from 0), latency_ms after the
 * last client packet. */
reply_kind replies_take(job_replies *r, login_edit *le, const hmtp_frame *f, uint64_t index, double latency_ms,
                        GArray *latencies, replay_error *why);

#endif
