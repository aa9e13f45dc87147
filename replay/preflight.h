/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hmtp-replay check, and the first step of every replay: what a replay of
 * this capture can and cannot do, said before anything is sent. It reads
 * only the store's per-session summary (how each session was found, its
 * packet counts, where it breaks, its login) and the capture's read
 * statistics; the cross-session ties come from shard.c's grouping, and the
 * login decision from login_edit.c, so that check and replay say the same
 * words. */
#ifndef REPLAY_PREFLIGHT_H
#define REPLAY_PREFLIGHT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "replay_config.h"
#include "store.h"

/* The exit status of hmtp-replay check. */
typedef enum preflight_verdict {
    PREFLIGHT_REPLAYABLE = 0, /* every session can be replayed in full as asked */
    PREFLIGHT_UNUSABLE = 2,   /* nothing in the file can be replayed */
    PREFLIGHT_NEEDS = 4,      /* something is needed first (named in the verdict) */
} preflight_verdict;

typedef struct preflight_options {
    const engine_config *cfg; /* passwords, --recorded-key, --login-mode, --replay-incomplete */
    uint16_t port;            /* --port, 0 when not given */
    const bool *selected;     /* sessions to judge (NULL: all) */
    bool dependencies;        /* name cross-session ties (decodes every message packet) */
    bool problems_only;       /* list only the sessions that cannot be replayed in full */
} preflight_options;

typedef struct preflight_report {
    preflight_verdict verdict;
    unsigned sessions;        /* judged */
    unsigned full;            /* replayable in full as asked */
    unsigned runnable;        /* a replay would connect them (in full or in part) */
    GString *text;            /* every line, each ending in '\n' */
    /* "hmtp-replay: session N not replayable: WHY\n" for each session whose
       login cannot be redone (no password): what a replay says on stderr
       before it starts */
    GString *not_replayable;
    char *verdict_line;       /* "replayable: ...", "needs ...: ...", "unusable: ..." (no newline) */
} preflight_report;

void preflight_run(replay_store *st, const preflight_options *o, preflight_report *out);
/* A capture that could not be read at all (the store's error). */
void preflight_unreadable(const char *why, preflight_report *out);
void preflight_report_free(preflight_report *r);

#endif
