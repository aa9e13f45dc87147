/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a replay found, for people (a table and one line per difference) and
 * for CI (JSON, JUnit XML), and the exit status it implies. */
#ifndef REPLAY_REPORT_H
#define REPLAY_REPORT_H

#include <stdio.h>

#include "engine.h"

typedef struct report_context {
    const char *capture;
    const char *target;
    const char *pace; /* "conversation", "original x2", "top-speed" */
} report_context;

/* 0 all matched, 1 differences or failed sessions, 3 target unreachable,
 * 5 the capture is damaged (a session skipped or replayed in part, frames
 * or a tail that could not be read) and nothing worse, 4 only sessions that
 * could not be replayed (encrypted login, no password). */
int report_exit_status(const replay_engine *e);

void report_text(const replay_engine *e, const report_context *ctx, FILE *out);
/* false with errno set when the file cannot be written. */
bool report_json(const replay_engine *e, const report_context *ctx, const char *path);
bool report_junit(const replay_engine *e, const report_context *ctx, const char *path);

#endif
