/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a replay found, for people (a table and one line per difference) and
 * for CI (JSON, JUnit XML), written from the results (results.h, which also
 * decides the exit status). A merge of shard reports (merge.h) writes its
 * joined results with the same writers. */
#ifndef REPLAY_REPORT_H
#define REPLAY_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "results.h"

/* Which capture a report is of, so that shard reports of different captures
 * are not merged: its file name, size, the sessions read from it and a
 * SHA-256 of its size, first and last MiB (reading a multi-GB capture a
 * second time only to name it would cost more than it tells). */
typedef struct report_capture_id {
    char name[256];        /* the file name without its folder */
    uint64_t bytes;
    unsigned sessions;     /* HMTP sessions found in it */
    char fingerprint[72];  /* "sha256:" and 64 hex digits */
} report_capture_id;

/* false with why filled when the file cannot be read. */
bool report_capture_identify(const char *path, unsigned sessions, report_capture_id *out, hmtp_tool_error *why);

/* --shard K/N: which part of the capture this report covers. */
typedef struct report_shard {
    unsigned k, n;
    const unsigned *sessions;  /* the capture's sessions in this shard, ascending */
    unsigned n_sessions;
    const char *const *notes;  /* NULL-terminated: why sessions were kept together */
} report_shard;

/* The preflight (preflight.h) a replay ran first: for the JSON and a
 * JUnit testcase of its own. */
typedef struct report_preflight {
    int exit_status;       /* what hmtp-replay check would exit with: 0, 4, 2 */
    const char *verdict;   /* its one line */
    const char *text;      /* every line */
} report_preflight;

typedef struct report_context {
    const char *capture;
    const char *target;
    const char *pace; /* "conversation", "original x2", "top-speed" */
    const report_capture_id *id;  /* may be NULL */
    const report_shard *shard;    /* NULL: not a shard */
    unsigned merged;              /* a merge: how many shard reports were joined */
    const report_preflight *preflight; /* may be NULL */
} report_context;

void report_text(const replay_results *r, const report_context *ctx, FILE *out);
/* false with errno set when the file cannot be written. */
bool report_json(const replay_results *r, const report_context *ctx, const char *path);
bool report_junit(const replay_results *r, const report_context *ctx, const char *path);

#endif
