/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a session run receives: every reply decoded once as it arrives, in
 * place from the link's read buffer (to learn what the target named
 * differently: the JID it assigned at login, the ids of the queries it
 * sends, its key), then only the bytes of the compared ones kept until
 * verification (a decoded tree costs far more memory). This runs for every
 * reply at --top-speed, so it allocates nothing per reply once warm: one
 * scratch packet whose arena is emptied, not freed, before each decode; each
 * kept reply (a small record and its bytes) appended to a few growing
 * blocks. */
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
#include "error.h"
#include "store.h"

/* A compared reply between its arrival and the verdict; its bytes follow
 * it in the same block. */
typedef struct kept_reply {
    size_t body_len;
    hessian_mark mark;   /* the session's decoder state before it */
    uint64_t index;      /* arrival order in the session */
} kept_reply;

static inline const uint8_t *kept_body(const kept_reply *k) { return (const uint8_t *)(k + 1); }

typedef struct kept_block kept_block; /* replies.c */

typedef struct job_replies {
    const engine_config *cfg;
    const rec_session *rec;
    hessian_stream stream;       /* the target's direction */
    hmtp_packet scratch;         /* the reply being looked at; its arena is reused */
    hessian_decoder decoder;     /* kept from reply to reply: its stack and scratch too */
    kept_block *first, *last;    /* the compared replies in arrival order, each with its bytes */
    size_t next_block;           /* the next block's size: small sessions stay small */
    uint64_t compared;           /* how many are kept, as a count that pacing reads */
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
 * last client packet. f's bytes are only read during the call. */
reply_kind replies_take(job_replies *r, login_edit *le, const hmtp_frame *f, uint64_t index, double latency_ms,
                        GArray *latencies, hmtp_tool_error *why);

/* The kept replies in arrival order: start with replies_kept_begin, then
 * replies_kept_next until it returns NULL. */
typedef struct kept_cursor {
    const kept_block *block;
    size_t at;
} kept_cursor;

void replies_kept_begin(const job_replies *r, kept_cursor *c);
const kept_reply *replies_kept_next(kept_cursor *c);

#endif
