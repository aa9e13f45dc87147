/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A one-line progress bar on stderr while a replay runs (only when stderr is
 * a terminal: logs and CI output stay clean). It reads the results. */
#ifndef REPLAY_PROGRESS_H
#define REPLAY_PROGRESS_H

#include <glib.h>
#include <stdbool.h>

#include "results.h"

typedef struct replay_progress {
    const replay_results *results;
    bool on;
    guint timer;
} replay_progress;

void progress_start(replay_progress *p, const replay_results *r, bool on);
void progress_update(const replay_progress *p);
void progress_stop(replay_progress *p);

#endif
