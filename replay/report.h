/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a replay found, for people (a table and one line per difference) and
 * for CI (JSON, JUnit XML), written from the results (results.h, which also
 * decides the exit status). */
#ifndef REPLAY_REPORT_H
#define REPLAY_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "results.h"

typedef struct report_context {
    const char *capture;
    const char *target;
    const char *pace; /* "conversation", "original x2", "top-speed" */
} report_context;

void report_text(const replay_results *r, const report_context *ctx, FILE *out);
/* false with errno set when the file cannot be written. */
bool report_json(const replay_results *r, const report_context *ctx, const char *path);
bool report_junit(const replay_results *r, const report_context *ctx, const char *path);

#endif
