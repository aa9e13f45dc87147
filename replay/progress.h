/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A one-line progress bar on stderr while a replay runs (only when stderr is
 * a terminal: logs and CI output stay clean). */
#ifndef REPLAY_PROGRESS_H
#define REPLAY_PROGRESS_H

struct replay_engine;

void progress_start(struct replay_engine *e);
void progress_update(struct replay_engine *e);
void progress_stop(struct replay_engine *e);

#endif
