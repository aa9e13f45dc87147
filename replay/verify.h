/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Comparing the replies a target sent with the ones recorded: on decoded
 * values (type, to, from after mapping, id, payload tree, error), never on
 * bytes. Replies are paired in order, but a reply may arrive up to `window`
 * places away from where it was recorded (fan-out from other sessions
 * interleaves legitimately). Unpaired recorded replies are missing, unpaired
 * received ones unexpected, paired ones that differ are listed field by
 * field. */
#ifndef REPLAY_VERIFY_H
#define REPLAY_VERIFY_H

#include <glib.h>
#include <stdbool.h>

#include "hmtp.h"
#include "rewrite.h"
#include "store.h"

/* A received reply, decoded for the comparison (replies.h keeps only its
 * bytes until then). */
typedef struct actual_reply {
    hmtp_packet pkt;
    hmtp_status status; /* HMTP_OK, or why the received packet does not decode */
    hmtp_error err;
    uint64_t index;     /* arrival order in the session */
} actual_reply;

/* A recorded reply, decoded for the comparison. */
typedef struct expected_reply {
    uint64_t frame;
    hmtp_status status;
    hmtp_error err;
    hmtp_packet pkt;
} expected_reply;

/* Differences listed per reply pair at most: the rest are not (learn.c
 * then knows nothing of that reply's other fields). */
#define VERIFY_MAX_DIFFS 16

typedef enum diff_kind { DIFF_DIFFERENT, DIFF_MISSING, DIFF_UNEXPECTED } diff_kind;

typedef struct verify_diff {
    diff_kind kind;
    uint64_t frame;     /* recorded frame (0 for unexpected) */
    uint64_t received;  /* arrival number (DIFFERENT, UNEXPECTED) */
    char *packet;       /* "queryResult id=1 to=..." of the recorded (or received) packet */
    char *path;         /* DIFFERENT: field path such as value.server */
    char *expected;     /* JSON text */
    char *actual;
    int32_t type;       /* DIFFERENT: of the recorded packet ... */
    char *cls;          /* ... and the class of its payload, NULL when not an object */
} verify_diff;

typedef struct verify_result {
    unsigned matched, different, missing, unexpected;
    /* verify_diff*; NULL until the first one (most session runs have
       none; a merge holds every shard's results at once) */
    GPtrArray *diffs;
} verify_result;

static inline guint verify_diff_count(const verify_result *r) { return r->diffs ? r->diffs->len : 0; }
static inline const verify_diff *verify_diff_at(const verify_result *r, guint k)
{
    return g_ptr_array_index(r->diffs, k);
}
/* Takes d (the result owns it from then on). */
void verify_result_add(verify_result *r, verify_diff *d);

/* A path not compared in replies of one packet type whose payload is of
 * one class (hmtp-replay learn writes them, --ignore-file reads them). */
typedef struct verify_rule {
    int32_t type;
    char *cls;          /* NULL: a payload that is not an object */
    char *path;         /* covers what is under it, as --ignore */
} verify_rule;

typedef struct verify_config {
    char **ignore;      /* NULL-terminated field paths; a path also covers what is under it */
    const verify_rule *rules; /* n_rules of them, for one type and class each */
    unsigned n_rules;
    unsigned window;
    bool types[HMTP_TYPE_COUNT]; /* packet types compared */
} verify_config;

/* The class a rule names for this packet: its payload's, or NULL. */
const char *verify_payload_class(const hmtp_packet *p);

void verify_result_init(verify_result *r);
void verify_result_free(verify_result *r);
/* Takes back the unexpected replies that arrived as number `received` or
 * later (a session replayed in part: what the target answered after the
 * recording broke off cannot be compared); returns how many. */
unsigned verify_drop_unexpected_from(verify_result *r, uint64_t received);

/* expected: the n server packets of the recording, already filtered;
 * actual: the m received ones, filtered the same way. map turns recorded
 * JIDs into the ones the target should use. */
void verify_session(const verify_config *cfg, const rewrite_config *map, const expected_reply *expected, guint n,
                    const actual_reply *actual, guint m, verify_result *out);

#endif
