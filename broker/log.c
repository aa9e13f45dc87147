/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static int verbosity;

void broker_log_set_verbosity(int level)
{
    verbosity = level;
}

bool broker_log_packets(void)
{
    return verbosity > 0;
}

void broker_log(const char *fmt, ...)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "hmtp-broker: ");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2; /* truncated: still end the line */
    line[len++] = '\n';
    /* A single write(2) keeps the line whole; a short write to stderr is not
     * worth retrying for a log. */
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored;
}
