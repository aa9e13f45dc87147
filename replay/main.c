/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hmtp-replay: rebuilds the HMTP sessions of a capture and either prints
 * them (dump) or plays their client side against a live server and checks
 * the answers (replay). */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "cli_parse.h"
#include "dump.h"
#include "merge.h"
#include "replay_cli.h"

static int usage(FILE *to)
{
    fprintf(to, "usage: hmtp-replay dump [--json] [--port PORT] CAPTURE\n"
                "       hmtp-replay check [--port PORT] [--login UID:PASSWORD] [--recorded-key PEM] [options] CAPTURE\n"
                "       hmtp-replay [replay] --target HOST:PORT [--shard K/N] [options] CAPTURE\n"
                "       hmtp-replay learn --target HOST:PORT [--reference HOST:PORT] --ignore-out FILE [options] CAPTURE\n"
                "       hmtp-replay merge [--report-json FILE] [--junit FILE] REPORT.json...\n"
                "       hmtp-replay dump --help\n"
                "       hmtp-replay check --help\n"
                "       hmtp-replay learn --help\n");
    return 2;
}

static int run_dump(int argc, char **argv)
{
    gboolean json = FALSE;
    gint port = 0;
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "one JSON object per packet", NULL},
        {"port", 0, 0, G_OPTION_ARG_INT, &port, "server port of sessions whose upgrade is not in the capture", "PORT"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GError *error = NULL;
    gboolean ok = replay_options_parse(entries, "CAPTURE - print every HMTP packet of every session", NULL, &argc,
                                       &argv, &error);
    if (!ok) {
        fprintf(stderr, "hmtp-replay dump: %s\n", error->message);
        g_error_free(error);
        return 2;
    }
    if (argc != 2) {
        fprintf(stderr, "hmtp-replay dump: expected one capture file, got %d arguments\n", argc - 1);
        return 2;
    }
    if (port < 0 || port > 65535) {
        fprintf(stderr, "hmtp-replay dump: --port %d is not a TCP port\n", port);
        return 2;
    }
    replay_dump_options opt = {.json = json, .capture = {.port = (uint16_t)port}};
    return replay_dump(argv[1], &opt, stdout, stderr);
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (strcmp(argv[1], "dump") == 0)
        return run_dump(argc - 1, argv + 1);
    if (strcmp(argv[1], "check") == 0)
        return replay_check_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "learn") == 0)
        return replay_learn_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "merge") == 0)
        return replay_merge_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "replay") == 0)
        return replay_cli_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        fflush(stdout);
        return replay_cli_main(argc, argv); /* GLib prints the replay options and exits 0 */
    }
    return replay_cli_main(argc, argv);
}

int main(int argc, char **argv)
{
    int rc = dispatch(argc, argv);
    /* A full disk or a closed pipe must not pass for complete output. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "hmtp-replay: writing the output failed: %s\n", strerror(errno));
        return 2;
    }
    return rc;
}
