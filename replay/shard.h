/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --shard K/N: which sessions one of N replayers (N processes, N pods of a
 * Kubernetes Indexed Job) replays, so that together they replay each session
 * exactly once and every shard computes the same split from the same
 * capture, with no coordination.
 *
 * Sessions that reach each other must stay in one shard, or the order that
 * conversation pacing keeps (a subscription before the publication that it
 * receives) would be lost between machines. Two sessions are tied when one
 * addressed a packet to the other's JID or received one from it (bare JIDs:
 * any resource of a user ties all its sessions), and when one sent a message
 * to a JID that is no session's (a service such as news@localhost) from which
 * the other received a message: a publication and its subscribers. Queries
 * to a service tie nobody (their answers go back to the asker only).
 *
 * Tied sessions form groups; groups go to shards largest first, each to the
 * shard with the fewest client packets so far (ties: the lower shard): the
 * same answer in every process, and shards balanced by work, not by count. */
#ifndef REPLAY_SHARD_H
#define REPLAY_SHARD_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "session.h"

typedef struct shard_spec {
    unsigned k, n; /* shard k of n, 0 <= k < n; n == 0: no sharding */
} shard_spec;

/* Parses "K/N" or "auto/N" (K from the environment variable
 * JOB_COMPLETION_INDEX, which a Kubernetes Indexed Job sets in each pod).
 * false with why filled when malformed, K >= N, or auto without the
 * variable. */
bool shard_spec_parse(const char *text, shard_spec *out, hmtp_tool_error *why);

typedef struct shard_plan shard_plan;

shard_plan *shard_plan_new(unsigned sessions);
void shard_plan_free(shard_plan *p);

/* What the capture shows, session by session, in any order: the JID the
 * session logged in as (recorded AuthResult), and each packet's type, to and
 * from (NULL when null) with its direction. */
void shard_plan_jid(shard_plan *p, unsigned session, const char *jid);
void shard_plan_packet(shard_plan *p, unsigned session, replay_dir dir, int32_t type, const char *to,
                       const char *from);

/* Splits into n shards (n >= 1). After this, shard_of and the notes. */
void shard_plan_split(shard_plan *p, unsigned n);
unsigned shard_of(const shard_plan *p, unsigned session);

/* One line per group of more than one session: its sessions, the shard it
 * went to and what tied it ("sessions 0,1,4 in shard 2: tied by
 * news@localhost, alice@localhost"). NULL-terminated; the plan owns it. */
const char *const *shard_plan_notes(const shard_plan *p);

#endif
