/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hmtp-replay's command line turned into what a replay is asked to do: the
 * options every subcommand shares (replay, learn, check), the session
 * selection, the passwords and keys, and the engine_config they make. */
#ifndef REPLAY_CLI_CONFIG_H
#define REPLAY_CLI_CONFIG_H

#include <glib.h>
#include <stdbool.h>

#include "engine.h"
#include "error.h"
#include "jidmap.h"
#include "store.h"

typedef struct cli_options {
    gchar *target, *path, *host_header, *pace, *types, *sessions, *login_user, *login_password;
    gchar *login_file, *recorded_key, *login_mode;
    gchar *report_json, *junit, *shard;
    gchar *ignore_file, *reference, *ignore_out; /* the last two: hmtp-replay learn */
    bool learn;
    GArray *rules; /* verify_rule, from --ignore-file */
    gchar **map_jid, **session_jid, **ignore, **logins;
    gint port, max_open, loops, scale, timeout_ms, settle_ms, window;
    gdouble speed;
    gboolean serial, top_speed, replay_incomplete, no_progress;
} cli_options;

void cli_options_free(cli_options *o);
/* Prints "hmtp-replay: " and fmt with what; returns 2 (bad usage). */
int cli_bad_usage(const char *fmt, const char *what);
/* 0, or cli_bad_usage's 2 when a number option is out of range. */
int cli_check_ranges(const cli_options *o);
/* The sessions --session and --session-jid select (selected: one per
 * session of the store); false with why filled when a list is malformed. */
bool cli_select_sessions(const cli_options *o, replay_store *store, bool *selected, hmtp_tool_error *why);
/* Fills cfg (and map, which cfg points to) from the options; -1 with why
 * filled on a bad value, a password file or a key that cannot be read. */
int cli_configure(cli_options *o, engine_config *cfg, jid_map *map, hmtp_tool_error *why);
void cli_config_free(engine_config *cfg);

#endif
