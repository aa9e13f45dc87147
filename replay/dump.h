/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `hmtp-replay dump`: every HMTP packet of every session, decoded. */
#ifndef REPLAY_DUMP_H
#define REPLAY_DUMP_H

#include <stdbool.h>
#include <stdio.h>

#include "capture.h"

typedef struct replay_dump_options {
    bool json;
    replay_capture_options capture;
} replay_dump_options;

/* Returns the exit status: 0 clean, 1 decoded with problems (each named on
 * stderr), 2 unreadable capture. */
int replay_dump(const char *path, const replay_dump_options *opt, FILE *out, FILE *diag);

#endif
