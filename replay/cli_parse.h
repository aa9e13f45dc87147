/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The option parsing every subcommand of hmtp-replay does the same way:
 * GLib's option context with a one-line summary and the exit statuses as
 * its description. */
#ifndef REPLAY_CLI_PARSE_H
#define REPLAY_CLI_PARSE_H

#include <glib.h>
#include <stdbool.h>

#include "error.h"

/* Parses (and removes) the options in argv; description may be NULL.
 * false with *error set (GError: this is GLib's boundary). */
bool replay_options_parse(const GOptionEntry *entries, const char *summary, const char *description, int *argc,
                          char ***argv, GError **error);

/* The lines of the text file an option names (g_strfreev them), or NULL
 * with why filled ("OPTION: the reason"). */
gchar **replay_option_file_lines(const char *option, const char *path, hmtp_tool_error *why);

#endif
