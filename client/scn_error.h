/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Errors of the scenario reader: a message and the byte offset in the
 * scenario text where the problem is, turned into file:line:column only when
 * printed (scn_error_print) so every parser layer just records an offset. */
#ifndef HMTP_CLIENT_SCN_ERROR_H
#define HMTP_CLIENT_SCN_ERROR_H

#include <stdbool.h>
#include <stddef.h>

typedef struct scn_error {
    size_t offset;
    char msg[256];
} scn_error;

/* Fills err and returns false, so parsers can `return scn_fail(...)`. */
bool scn_fail(scn_error *err, size_t offset, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Line (1-based) and column (1-based, in bytes) of offset in text. */
void scn_position(const char *text, size_t len, size_t offset, unsigned *line, unsigned *column);

#endif
