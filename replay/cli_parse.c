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
