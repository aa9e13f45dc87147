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
#include <stdio.h>

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
/* A report file written as it is made: the writers print into b, and
 * report_file_spill() hands it to the file whenever it has grown past
 * REPORT_SPILL, so that a report of many sessions is never held whole. */
#define REPORT_SPILL (64 * 1024)

typedef struct report_file {
    hmtp_buf b;     /* printed, not yet written */
    FILE *f;
    int err;        /* the first error (errno), 0 while all went well */
} report_file;

/* false with errno set when path cannot be created. */
bool report_file_open(report_file *o, const char *path);
/* Writes b once it is past REPORT_SPILL (after an error: drops it). */
void report_file_spill(report_file *o);
/* Writes the rest and closes; false with errno set when anything could not
 * be written (the caller says so, naming the file): a full disk is an
 * error, never a report silently cut short. */
bool report_file_close(report_file *o);

#endif
