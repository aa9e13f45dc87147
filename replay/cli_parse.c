/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli_parse.h"

bool replay_options_parse(const GOptionEntry *entries, const char *summary, const char *description, int *argc,
                          char ***argv, GError **error)
{
    GOptionContext *ctx = g_option_context_new(summary);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (description)
        g_option_context_set_description(ctx, description);
    gboolean parsed = g_option_context_parse(ctx, argc, argv, error);
    g_option_context_free(ctx);
    return parsed;
}

gchar **replay_option_file_lines(const char *option, const char *path, hmtp_tool_error *why)
{
    gchar *text = NULL;
    GError *error = NULL;
    if (!g_file_get_contents(path, &text, NULL, &error)) {
        hmtp_tool_fail(why, "%s: %s", option, error->message);
        g_error_free(error);
        return NULL;
    }
    gchar **lines = g_strsplit(text, "\n", -1);
    g_free(text);
    return lines;
}
