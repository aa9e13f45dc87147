/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the report writers share (report.c: table and JSON; report_junit.c:
 * JUnit): the run's totals and the words for a session's outcome. Not for
 * use outside the writers. */
#ifndef REPLAY_REPORT_PARTS_H
#define REPLAY_REPORT_PARTS_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "results.h"

typedef struct totals {
    unsigned jobs, ok, differs, failed, unreachable, not_replayable, skipped, incomplete, not_run;
    uint64_t sent, bytes, received;
    unsigned matched, different, missing, unexpected;
    double p50, p90, p99, max;
    size_t latencies;
    double elapsed_s;
} totals;

/* Every job is counted, those never connected included. */
void report_sum_up(const replay_results *r, totals *t);
/* "0-2,5" */
gchar *report_session_ranges(const unsigned *ids, unsigned n);
/* The capture's problems, one line each (g_strfreev). */
gchar **report_capture_problems(const replay_results *r);
const char *report_outcome_name(const job_result *j);
const char *report_job_reason(const job_result *j);
/* "session N (CLIENT JID)" */
void report_job_label(const job_result *j, char *out, size_t len);
/* Writes b (unless building it failed) to path and frees it; false when
 * either went wrong (the caller says so). */
bool report_write_file(const char *path, hmtp_buf *b);

#endif
