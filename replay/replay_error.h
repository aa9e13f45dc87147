/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one error value of hmtp-replay above the core: the message a user
 * reads, whole. The core's hmtp_error holds 200 characters, too few for
 * messages that quote a path and a reason; GError stays at the GLib calls. */
#ifndef REPLAY_ERROR_H
#define REPLAY_ERROR_H

#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct replay_error {
    char msg[512];
} replay_error;

/* Fills err (if non-NULL); returns false so callers can `return replay_fail(...)`. */
static inline G_GNUC_PRINTF(2, 3) bool replay_fail(replay_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return false;
}

#endif
