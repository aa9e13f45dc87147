/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Old names of the programs' one error value (core/error.h), kept only so
 * replay/ compiles while it is renamed; to be deleted with that rename. */
#ifndef REPLAY_ERROR_H
#define REPLAY_ERROR_H

#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "error.h"

typedef hmtp_tool_error replay_error;
#define replay_fail hmtp_tool_fail

#endif
