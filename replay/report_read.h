/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reads back a JSON report that report_json() wrote (json-glib), for
 * hmtp-replay merge: every member the writers need to write it again. */
#ifndef REPLAY_REPORT_READ_H
#define REPLAY_REPORT_READ_H

#include <glib.h>
#include <stdbool.h>

#include "latency.h"
#include "report.h"
#include "results.h"

typedef struct read_report {
    char *file;
    char *capture, *target, *pace;
    bool has_id;
    report_capture_id id;
    bool has_shard;
    unsigned k, n;
    GArray *sessions;         /* unsigned: the shard's sessions */
    gchar **notes;
    replay_capture_stats stats;
    double elapsed_s;
    latency_hist *latency;
    bool has_preflight;       /* the checks the replay ran first */
    report_preflight preflight; /* its strings are in strings */
    GPtrArray *jobs;          /* job_result*, owned; their client strings are in strings */
    GPtrArray *strings;
} read_report;

/* false with why filled ("FILE: what is wrong") when the file is not a
 * report of hmtp-replay; out is to be freed either way. */
bool report_read(const char *path, read_report *out, hmtp_tool_error *why);
void read_report_free(read_report *r);

#endif
