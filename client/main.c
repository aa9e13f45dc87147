/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hmtp-client: connect, upgrade, log in and run a scenario of HMTP packets
 * against a server. README.md describes the scenario language. */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"
#include "scenario.h"

static gchar *opt_server, *opt_port_file, *opt_host = NULL, *opt_timeout;
static gchar **opt_defines;
static gboolean opt_verbose, opt_json, opt_plain, opt_check;

static const GOptionEntry entries[] = {
    {"server", 's', 0, G_OPTION_ARG_STRING, &opt_server, "Server to connect to (connect server= overrides)", "HOST:PORT"},
    {"port-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_port_file, "Read the server's port from FILE (as hmtp-broker --port-file writes it)", "FILE"},
    {"host", 0, 0, G_OPTION_ARG_STRING, &opt_host, "Host for --port-file (default 127.0.0.1)", "HOST"},
    {"define", 'D', 0, G_OPTION_ARG_STRING_ARRAY, &opt_defines, "Replace ${NAME} in the scenario by VALUE", "NAME=VALUE"},
    {"timeout", 't', 0, G_OPTION_ARG_STRING, &opt_timeout, "Default wait of expect, login and connect (default 5s)", "DURATION"},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose, "One line per packet sent (>) and received (<)", NULL},
    {"json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print every received packet as JSON on stdout (-v lines go to stderr)", NULL},
    {"plain", 0, 0, G_OPTION_ARG_NONE, &opt_plain, "Plain login of Resin's early 2009 client: the password as _credentials, ids from 0 (default: encrypted, ids from 1)", NULL},
    {"check", 0, 0, G_OPTION_ARG_NONE, &opt_check, "Only check the scenario's syntax", NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

static bool parse_timeout(const char *s, int64_t *ms)
{
    char *end;
    double v = strtod(s, &end);
    double scale = strcmp(end, "ms") == 0 ? 1 : strcmp(end, "s") == 0 ? 1000 : -1;
    if (end == s || scale < 0 || v <= 0)
        return false;
    *ms = (int64_t)(v * scale + 0.5);
    return true;
}

/* The port hmtp-broker wrote, possibly with a trailing newline. */
static bool read_port_file(const char *file, char *port, size_t size)
{
    gchar *text = NULL;
    GError *error = NULL;
    if (!g_file_get_contents(file, &text, NULL, &error)) {
        fprintf(stderr, "hmtp-client: --port-file: %s\n", error->message);
        g_error_free(error);
        return false;
    }
    g_strstrip(text);
    char *end;
    long v = strtol(text, &end, 10);
    bool ok = end != text && *end == '\0' && v > 0 && v < 65536;
    if (ok)
        snprintf(port, size, "%ld", v);
    else
        fprintf(stderr, "hmtp-client: --port-file %s: '%s' is not a port number\n", file, text);
    g_free(text);
    return ok;
}

static int run(const char *file, scn_define *defs, size_t ndefs)
{
    gchar *text = NULL;
    gsize len = 0;
    GError *error = NULL;
    bool from_stdin = strcmp(file, "-") == 0;
    if (from_stdin) {
        GString *all = g_string_new(NULL);
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
            g_string_append_len(all, buf, (gssize)n);
        len = all->len;
        text = g_string_free(all, FALSE);
    } else if (!g_file_get_contents(file, &text, &len, &error)) {
        fprintf(stderr, "hmtp-client: %s\n", error->message);
        g_error_free(error);
        return RUN_SCENARIO_ERROR;
    }
    scenario sc;
    hmtp_tool_error err = {0};
    int code;
    if (!scenario_parse(&sc, from_stdin ? "(stdin)" : file, text, len, defs, ndefs, &err)) {
        scenario_locate_error(&sc, &err);
        fprintf(stderr, "%s\n", err.msg);
        code = RUN_SCENARIO_ERROR;
    } else if (opt_check) {
        code = RUN_PASSED;
    } else {
        char host[256] = "", port[32] = "";
        runner_options o = {.timeout_ms = 5000,
                            .verbose = opt_verbose,
                            .json = opt_json,
                            .mode = opt_plain ? LOGIN_PLAIN : LOGIN_ENCRYPTED,
                            .out = stdout,
                            .log = opt_json ? stderr : stdout,
                            .err = stderr};
        code = RUN_PASSED;
        if (opt_timeout && !parse_timeout(opt_timeout, &o.timeout_ms)) {
            fprintf(stderr, "hmtp-client: --timeout %s: write e.g. 500ms or 5s\n", opt_timeout);
            code = RUN_SCENARIO_ERROR;
        } else if (opt_server) {
            if (!runner_split_server(opt_server, host, sizeof host, port, sizeof port)) {
                fprintf(stderr, "hmtp-client: --server %s: expected HOST:PORT\n", opt_server);
                code = RUN_SCENARIO_ERROR;
            }
        } else if (opt_port_file) {
            snprintf(host, sizeof host, "%s", opt_host ? opt_host : "127.0.0.1");
            if (!read_port_file(opt_port_file, port, sizeof port))
                code = RUN_SCENARIO_ERROR;
        }
        if (code == RUN_PASSED) {
            o.host = host[0] ? host : NULL;
            o.port = port;
            code = runner_run(&sc, &o);
        }
    }
    scenario_free(&sc);
    g_free(text);
    return code;
}

int main(int argc, char **argv)
{
    GOptionContext *ctx = g_option_context_new("SCENARIO - run an HMTP scenario against a server");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
                                     "SCENARIO is a file of statements (- for stdin); see client/README.md.\n"
                                     "Exit status: 0 passed, 1 an expectation failed, 2 usage or scenario error (or output\n"
                                     "that could not be written),\n"
                                     "3 server unreachable or upgrade refused.\n");
    GError *error = NULL;
    int code;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "hmtp-client: %s (try --help)\n", error->message);
        g_error_free(error);
        code = RUN_SCENARIO_ERROR;
    } else if (argc != 2) {
        fprintf(stderr, "hmtp-client: give exactly one scenario file (try --help)\n");
        code = RUN_SCENARIO_ERROR;
    } else if (opt_server && opt_port_file) {
        fprintf(stderr, "hmtp-client: --server and --port-file exclude each other\n");
        code = RUN_SCENARIO_ERROR;
    } else {
        size_t ndefs = opt_defines ? g_strv_length(opt_defines) : 0;
        scn_define *defs = calloc(ndefs ? ndefs : 1, sizeof *defs);
        code = RUN_PASSED;
        for (size_t i = 0; defs && i < ndefs; i++) {
            char *eq = strchr(opt_defines[i], '=');
            if (!eq || eq == opt_defines[i]) {
                fprintf(stderr, "hmtp-client: -D %s: expected NAME=VALUE\n", opt_defines[i]);
                code = RUN_SCENARIO_ERROR;
                break;
            }
            *eq = '\0';
            defs[i].name = opt_defines[i];
            defs[i].value = eq + 1;
        }
        if (!defs) {
            fprintf(stderr, "hmtp-client: out of memory\n");
            code = RUN_SCENARIO_ERROR;
        } else if (code == RUN_PASSED) {
            code = run(argv[1], defs, ndefs);
        }
        free(defs);
    }
    g_option_context_free(ctx);
    g_free(opt_server);
    g_free(opt_port_file);
    g_free(opt_host);
    g_free(opt_timeout);
    g_strfreev(opt_defines);
    /* --json on a full disk must not pass for a complete run. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "hmtp-client: writing the output failed: %s\n", strerror(errno));
        return RUN_SCENARIO_ERROR;
    }
    return code;
}
