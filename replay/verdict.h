/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Verification of a session run once every run has ended: the recorded
 * replies and the received ones are decoded again, one run at a time, and
 * compared (verify.c); the verdict goes into the run's result. */
#ifndef REPLAY_VERDICT_H
#define REPLAY_VERDICT_H

#include "job.h"

/* learned: what every run learned of the target's JIDs (fan-out from
 * session A seen in session B names A's assigned JID). */
void verdict_job(replay_job *j, const jid_map *learned);

#endif
