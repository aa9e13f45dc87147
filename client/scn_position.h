/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where a scenario error is: every parser layer records only a byte offset
 * (hmtp_tool_error.offset) and scenario_locate_error() turns it into
 * file:line:column when the error is reported. */
#ifndef HMTP_CLIENT_SCN_POSITION_H
#define HMTP_CLIENT_SCN_POSITION_H

#include <stddef.h>

/* Line (1-based) and column (1-based, in bytes) of offset in text. */
void scn_position(const char *text, size_t len, size_t offset, unsigned *line, unsigned *column);

#endif
