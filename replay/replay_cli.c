/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "replay_cli.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli_parse.h"
#include "engine.h"
#include "hmtp_crypto.h"
#include "jidmap.h"
#include "learn.h"
#include "plan.h"
#include "preflight.h"
#include "report.h"
#include "shard.h"
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

static void free_options(cli_options *o)
{
    g_free(o->target), g_free(o->path), g_free(o->host_header), g_free(o->pace), g_free(o->types);
    g_free(o->sessions), g_free(o->login_user), g_free(o->login_password), g_free(o->report_json), g_free(o->junit);
    g_free(o->shard), g_free(o->ignore_file), g_free(o->reference), g_free(o->ignore_out);
    learn_rules_free(o->rules);
    g_strfreev(o->map_jid), g_strfreev(o->session_jid), g_strfreev(o->ignore);
    g_free(o->login_file), g_free(o->recorded_key), g_free(o->login_mode), g_strfreev(o->logins);
}

static int bad_usage(const char *fmt, const char *what)
{
    fprintf(stderr, "hmtp-replay: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n");
    return 2;
}

/* "presence" (the family 6..13), "message" (0, 1), "query" (2..5), a type
 * name such as presenceSubscribe, or a number. */
static bool parse_types(const char *list, bool *types, hmtp_tool_error *why)
{
    memset(types, 0, sizeof(bool) * HMTP_TYPE_COUNT);
    gchar **parts = g_strsplit(list, ",", -1);
    bool ok = true;
    for (gchar **p = parts; *p && ok; p++) {
        char *name = g_strstrip(*p);
        int lo = -1, hi = -1;
        if (strcmp(name, "presence-family") == 0 || strcmp(name, "presences") == 0 || strcmp(name, "presence") == 0)
            lo = HMTP_PRESENCE, hi = HMTP_PRESENCE_ERROR;
        else if (strcmp(name, "messages") == 0)
            lo = HMTP_MESSAGE, hi = HMTP_MESSAGE_ERROR;
        else if (strcmp(name, "query") == 0 || strcmp(name, "queries") == 0)
            lo = HMTP_QUERY_GET, hi = HMTP_QUERY_ERROR;
        else if (hmtp_type_from_name(name) >= 0)
            lo = hi = hmtp_type_from_name(name);
        else {
            char *end;
            long v = strtol(name, &end, 10);
            if (*name && !*end && hmtp_type_valid((int32_t)v))
                lo = hi = (int)v;
        }
        if (lo < 0) {
            hmtp_tool_fail(why, "--types: '%s' is not a packet type, a type number 0-13, or one of presence, messages, query", name);
            ok = false;
        }
        for (int t = lo; ok && t <= hi; t++)
            types[t] = true;
    }
    g_strfreev(parts);
    return ok;
}

/* "0,2,5-7" */
static bool parse_session_list(const char *list, bool *selected, unsigned n, hmtp_tool_error *why)
{
    gchar **parts = g_strsplit(list, ",", -1);
    bool ok = true;
    for (gchar **p = parts; *p && ok; p++) {
        char *s = g_strstrip(*p), *end;
        unsigned long lo = strtoul(s, &end, 10), hi = lo;
        if (end != s && *end == '-')
            hi = strtoul(end + 1, &end, 10);
        if (end == s || *end || hi < lo) {
            hmtp_tool_fail(why, "--session: '%s' is not an index or a range such as 2-5", s);
            ok = false;
            break;
        }
        if (hi >= n) {
            hmtp_tool_fail(why, "--session: index %lu is beyond the capture's %u sessions", hi, n);
            ok = false;
            break;
        }
        for (unsigned long i = lo; i <= hi; i++)
            selected[i] = true;
    }
    g_strfreev(parts);
    return ok;
}

static bool jid_matches(const char *pattern, const char *jid)
{
    if (!jid)
        return false;
    if (strcmp(pattern, jid) == 0)
        return true;
    size_t n = strlen(pattern);
    return strncmp(pattern, jid, n) == 0 && jid[n] == '/'; /* a bare pattern covers every resource */
}

static bool session_has_jid(const rec_session *s, char **jids)
{
    for (char **p = jids; *p; p++)
        if (jid_matches(*p, s->login_uid) || jid_matches(*p, s->login_jid))
            return true;
    return false;
}

/* --session and --session-jid: selected[i] for session i. */
static bool select_sessions(const cli_options *o, replay_store *store, bool *selected, hmtp_tool_error *why)
{
    unsigned n = store->sessions->len;
    if (o->sessions && !parse_session_list(o->sessions, selected, n, why))
        return false;
    for (unsigned i = 0; i < n; i++) {
        if (!o->sessions)
            selected[i] = true;
        if (o->session_jid && !session_has_jid(g_ptr_array_index(store->sessions, i), o->session_jid))
            selected[i] = false;
    }
    return true;
}

static int check_ranges(const cli_options *o)
{
    if (o->port < 0 || o->port > 65535)
        return bad_usage("%s", "--port: not a TCP port (0-65535)");
    if (o->max_open < 1 || o->loops < 1 || o->scale < 1 || o->timeout_ms < 1 || o->settle_ms < 0 || o->window < 0)
        return bad_usage("%s", "--max-connections, --loop, --sessions-scale and --timeout must be at least 1; --settle and --window not negative");
    if (o->speed <= 0)
        return bad_usage("%s", "--speed must be greater than 0");
    return 0;
}

static GOptionContext *make_context(cli_options *o)
{
    GOptionEntry learn_entries[] = {
        {"reference", 0, 0, G_OPTION_ARG_STRING, &o->reference, "second run against this server (same build as the target) instead of the target again", "HOST:PORT"},
        {"ignore-out", 0, 0, G_OPTION_ARG_FILENAME, &o->ignore_out, "write the learned ignore file here (required)", "FILE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionEntry entries[] = {
        {"target", 't', 0, G_OPTION_ARG_STRING, &o->target, "server to replay against", "HOST:PORT"},
        {"path", 0, 0, G_OPTION_ARG_STRING, &o->path, "upgrade path (default: as recorded, else /hmtp)", "PATH"},
        {"host-header", 0, 0, G_OPTION_ARG_STRING, &o->host_header, "Host header of the upgrade (default: the target)", "HOST"},
        {"port", 0, 0, G_OPTION_ARG_INT, &o->port, "server port of recorded sessions whose upgrade is not in the capture", "PORT"},
        {"serial", 0, 0, G_OPTION_ARG_NONE, &o->serial, "replay one session at a time", NULL},
        {"max-connections", 0, 0, G_OPTION_ARG_INT, &o->max_open, "connections open at once (default 64)", "N"},
        {"pace", 0, 0, G_OPTION_ARG_STRING, &o->pace, "conversation (default: the recorded order across sessions), session (each session's own order only), original or top-speed", "MODE"},
        {"speed", 0, 0, G_OPTION_ARG_DOUBLE, &o->speed, "with --pace original: play X times faster", "X"},
        {"top-speed", 0, 0, G_OPTION_ARG_NONE, &o->top_speed, "same as --pace top-speed", NULL},
        {"types", 0, 0, G_OPTION_ARG_STRING, &o->types, "send and compare only these packet types (the login is always sent)", "LIST"},
        {"session", 0, 0, G_OPTION_ARG_STRING, &o->sessions, "replay only these sessions", "0,2,5-7"},
        {"session-jid", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->session_jid, "replay only sessions that logged in as JID (repeatable)", "JID"},
        {"map-jid", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->map_jid, "rewrite JIDs: full, bare or domain form (repeatable)", "OLD=NEW"},
        {"login-user", 0, 0, G_OPTION_ARG_STRING, &o->login_user, "replace the recorded login user", "UID"},
        {"login-password", 0, 0, G_OPTION_ARG_STRING, &o->login_password, "password of every session not named by --login/--login-file", "PASSWORD"},
        {"login", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->logins, "password of the sessions whose recorded login user is UID (repeatable)", "UID:PASSWORD"},
        {"login-file", 0, 0, G_OPTION_ARG_FILENAME, &o->login_file, "UID:PASSWORD lines, as --login (# comments)", "FILE"},
        {"recorded-key", 0, 0, G_OPTION_ARG_FILENAME, &o->recorded_key, "the recording server's RSA private key (PEM): recorded encrypted passwords are decrypted with it", "PEM"},
        {"login-mode", 0, 0, G_OPTION_ARG_STRING, &o->login_mode, "recorded (default: an encrypted login is redone with the target's key, a plain one sent as recorded), plain (send every password as a string) or encrypted (every login encrypted with the target's key, plain ones upgraded)", "MODE"},
        {"loop", 0, 0, G_OPTION_ARG_INT, &o->loops, "replay the capture N times", "N"},
        {"sessions-scale", 0, 0, G_OPTION_ARG_INT, &o->scale, "run N copies of each session with distinct resources", "N"},
        {"timeout", 0, 0, G_OPTION_ARG_INT, &o->timeout_ms, "longest wait for a reply, for the connection and its upgrade answer, and for the target to take written bytes, ms (default 5000)", "MS"},
        {"settle", 0, 0, G_OPTION_ARG_INT, &o->settle_ms, "wait after the last expected reply for extra ones, ms (default 100)", "MS"},
        {"window", 0, 0, G_OPTION_ARG_INT, &o->window, "how far a reply may move from its recorded place (default 8)", "N"},
        {"ignore", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->ignore, "do not compare this field path, e.g. value.published (repeatable)", "PATH"},
        {"ignore-file", 0, 0, G_OPTION_ARG_FILENAME, &o->ignore_file, "do not compare the paths this file lists per packet type and payload class (as hmtp-replay learn writes it)", "FILE"},
        {"replay-incomplete", 0, 0, G_OPTION_ARG_NONE, &o->replay_incomplete, "replay sessions with a capture gap up to the gap", NULL},
        {"shard", 0, 0, G_OPTION_ARG_STRING, &o->shard, "replay only shard K of N (0 <= K < N; auto: K from JOB_COMPLETION_INDEX); sessions that reach each other stay in one shard. Join the reports with: hmtp-replay merge", "K/N"},
        {"report-json", 0, 0, G_OPTION_ARG_FILENAME, &o->report_json, "write the report as JSON", "FILE"},
        {"junit", 0, 0, G_OPTION_ARG_FILENAME, &o->junit, "write the report as JUnit XML", "FILE"},
        {"no-progress", 0, 0, G_OPTION_ARG_NONE, &o->no_progress, "no progress bar even on a terminal", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx = g_option_context_new(o->learn ? "CAPTURE - replay the capture twice and write the fields whose values differ between the runs as an ignore file"
                                                        : "CAPTURE - replay the client side of recorded HMTP sessions and verify the answers");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (o->learn)
        g_option_context_add_main_entries(ctx, learn_entries, NULL);
    if (o->learn) {
        g_option_context_set_description(ctx, "A field whose value differs between the two runs (a clock, a generated id) is written "
                                              "as TYPE CLASS PATH with the values seen; a field both runs changed the same way from the "
                                              "recording is a real change and is not written. Replay with --ignore-file FILE. "
                                              "Exit status: 0 the file was written, 2 bad usage, unreadable capture or unwritable file, "
                                              "3 a target unreachable or silent, 1 a run failed otherwise (sessions broke).");
        return ctx;
    }
    g_option_context_set_description(ctx, "Exit status: 0 all replies matched, 1 differences or failed sessions, 2 bad usage, unreadable capture or unwritable output, "
                                        "3 target unreachable or silent (no connection or no upgrade answer within --timeout), "
                                        "4 nothing differed but some sessions could not be replayed (an encrypted login without its password), "
                                        "5 nothing differed but the capture is damaged: a session skipped or replayed only up to "
                                        "where it breaks, or frames that could not be read. 3 wins over 1, 1 over 5, 5 over 4. "
                                        "The checks of hmtp-replay check run first: when no session could be replayed, the run "
                                        "stops before connecting, with their verdict.");
    return ctx;
}

/* "uid:password"; the password may itself hold ':'. */
static bool add_login(GHashTable *passwords, const char *entry, const char *where, hmtp_tool_error *why)
{
    const char *colon = strchr(entry, ':');
    if (!colon || colon == entry) {
        hmtp_tool_fail(why, "%s: '%.60s' is not UID:PASSWORD", where, entry);
        return false;
    }
    g_hash_table_replace(passwords, g_strndup(entry, (gsize)(colon - entry)), g_strdup(colon + 1));
    return true;
}

static bool read_login_file(GHashTable *passwords, const char *path, hmtp_tool_error *why)
{
    gchar *text = NULL;
    GError *error = NULL;
    if (!g_file_get_contents(path, &text, NULL, &error)) {
        hmtp_tool_fail(why, "--login-file: %s", error->message);
        g_error_free(error);
        return false;
    }
    gchar **lines = g_strsplit(text, "\n", -1);
    bool ok = true;
    for (guint i = 0; lines[i] && ok; i++) {
        char *line = lines[i];
        size_t n = strlen(line);
        if (n && line[n - 1] == '\r')
            line[n - 1] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char where[600];
        snprintf(where, sizeof where, "--login-file %s line %u", path, i + 1);
        ok = add_login(passwords, line, where, why);
    }
    g_strfreev(lines);
    g_free(text);
    return ok;
}

static int configure(cli_options *o, engine_config *cfg, jid_map *map, hmtp_tool_error *why)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->target = o->target;
    cfg->path = o->path;
    cfg->host_header = o->host_header;
    cfg->pace = PACE_CONVERSATION;
    cfg->speed = o->speed;
    if (o->top_speed || (o->pace && strcmp(o->pace, "top-speed") == 0))
        cfg->pace = PACE_TOP_SPEED;
    else if ((o->pace && strcmp(o->pace, "original") == 0) || o->speed != 1.0)
        cfg->pace = PACE_ORIGINAL;
    else if (o->pace && strcmp(o->pace, "session") == 0)
        cfg->pace = PACE_SESSION;
    else if (o->pace && strcmp(o->pace, "conversation") != 0) {
        hmtp_tool_fail(why, "--pace '%s': expected conversation, session, original or top-speed", o->pace);
        return -1;
    }
    cfg->max_open = o->serial ? 1 : (unsigned)o->max_open;
    cfg->timeout_ms = (unsigned)o->timeout_ms;
    cfg->settle_ms = (unsigned)o->settle_ms;
    cfg->window = (unsigned)o->window;
    cfg->ignore = o->ignore;
    if (o->ignore_file) {
        o->rules = g_array_new(FALSE, FALSE, sizeof(verify_rule));
        if (!learn_rules_load(o->ignore_file, o->rules, why))
            return -1;
        cfg->rules = (const verify_rule *)(void *)o->rules->data;
        cfg->n_rules = o->rules->len;
    }
    cfg->loops = (unsigned)o->loops;
    cfg->scale = (unsigned)o->scale;
    cfg->replay_incomplete = o->replay_incomplete;
    cfg->login_user = o->login_user;
    cfg->login_password = o->login_password;
    if (o->login_mode && strcmp(o->login_mode, "plain") == 0)
        cfg->login_plain = true;
    else if (o->login_mode && strcmp(o->login_mode, "encrypted") == 0)
        cfg->login_encrypt = true;
    else if (o->login_mode && strcmp(o->login_mode, "recorded") != 0) {
        hmtp_tool_fail(why, "--login-mode '%s': expected recorded, plain or encrypted", o->login_mode);
        return -1;
    }
    if (o->logins || o->login_file) {
        cfg->passwords = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        for (gchar **l = o->logins; l && *l; l++)
            if (!add_login(cfg->passwords, *l, "--login", why))
                return -1;
        if (o->login_file && !read_login_file(cfg->passwords, o->login_file, why))
            return -1;
    }
    if (o->recorded_key) {
        hmtp_tool_error err = {0};
        hmtp_rsa *key = hmtp_rsa_load_private_pem(o->recorded_key, &err);
        if (!key) {
            hmtp_tool_fail(why, "--recorded-key %s: %s", o->recorded_key, err.msg);
            return -1;
        }
        cfg->recorded_key = key;
    }
    cfg->progress = !o->no_progress && isatty(STDERR_FILENO);
    if (o->types) {
        cfg->type_filter = true;
        if (!parse_types(o->types, cfg->types, why))
            return -1;
    }
    for (gchar **m = o->map_jid; m && *m; m++)
        if (!jid_map_add_rule(map, *m, why))
            return -1;
    cfg->map = map;
    return 0;
}

static void config_free(engine_config *cfg)
{
    if (cfg->passwords)
        g_hash_table_destroy(cfg->passwords);
    if (cfg->recorded_key)
        hmtp_rsa_free((hmtp_rsa *)cfg->recorded_key);
    cfg->passwords = NULL;
    cfg->recorded_key = NULL;
}

/* Sessions the capture holds only in part, once each (not per copy). */
static void print_skipped(const replay_results *r)
{
    for (guint i = 0; i < r->jobs->len; i++) {
        const job_result *j = g_ptr_array_index(r->jobs, i);
        if (j->outcome == JOB_SKIPPED && j->copy == 0 && j->loop == 0)
            fprintf(stderr, "hmtp-replay: session %u skipped: %s\n", j->session, j->reason);
    }
}

/* --shard: keeps in selected only the sessions of shard k and lists them
 * in ids; says on stderr which sessions had to stay together, and returns
 * those lines for the report (the caller frees them with g_strfreev). */
static gchar **select_shard(replay_store *store, const shard_spec *spec, bool *selected, GArray *ids)
{
    shard_plan *sp = plan_shards(store, spec->n);
    for (unsigned i = 0; i < store->sessions->len; i++) {
        if (shard_of(sp, i) == spec->k)
            g_array_append_val(ids, i);
        else
            selected[i] = false;
    }
    for (const char *const *l = shard_plan_notes(sp); *l; l++)
        fprintf(stderr, "hmtp-replay: shard %u/%u: %s\n", spec->k, spec->n, *l);
    gchar **notes = g_strdupv((gchar **)shard_plan_notes(sp));
    shard_plan_free(sp);
    return notes;
}

/* Descriptors the process holds besides its connections: stdio, the
 * capture, the event loop, report files, the resolver. */
#define FD_MARGIN 64

/* Every connection open at once is a descriptor: the soft limit (often
 * 1024) is raised to what the run needs. When the hard limit is lower and
 * cannot be raised (no privilege), the run fails before connecting, naming
 * the limit and the option: capping silently would make 10,000 sessions
 * fail one by one with "Too many open files", and a quiet lower
 * --max-connections would change the load asked for. false: why says it. */
static bool raise_fd_limit(unsigned connections, hmtp_tool_error *why)
{
    rlim_t need = (rlim_t)connections + FD_MARGIN;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return true;
    struct rlimit want = {need, rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? rl.rlim_max : need};
    if (setrlimit(RLIMIT_NOFILE, &want) == 0)
        return true;
    int err = errno;
    unsigned most = rl.rlim_max > FD_MARGIN ? (unsigned)(rl.rlim_max - FD_MARGIN) : 1;
    snprintf(why->msg, sizeof why->msg,
             "%u connections at once (--max-connections) need %llu open files, but the limit on open files (RLIMIT_NOFILE, ulimit -n) "
             "is %llu and cannot be raised (%s): use --max-connections %u or less, or raise the hard limit (ulimit -Hn)",
             connections, (unsigned long long)need, (unsigned long long)rl.rlim_max, g_strerror(err), most);
    return false;
}

static void write_reports(cli_options *o, const replay_results *res, const report_context *rc, int *status)
{
    report_text(res, rc, stdout);
    *status = results_exit_status(res);
    if (o->report_json && !report_json(res, rc, o->report_json)) {
        fprintf(stderr, "hmtp-replay: cannot write %s: %s\n", o->report_json, strerror(errno));
        *status = *status ? *status : 2;
    }
    if (o->junit && !report_junit(res, rc, o->junit)) {
        fprintf(stderr, "hmtp-replay: cannot write %s: %s\n", o->junit, strerror(errno));
        *status = *status ? *status : 2;
    }
}

/* Each run's recorded JID (the login's answer, else its user), for the
 * reports' names. */
static void name_jobs(replay_results *res, const replay_store *store)
{
    for (guint i = 0; i < res->jobs->len; i++) {
        job_result *j = g_ptr_array_index(res->jobs, i);
        const rec_session *s = g_ptr_array_index(store->sessions, j->session);
        j->jid = s->login_jid ? s->login_jid : s->login_uid;
    }
}

/* A learn run that could not compare: why, in the words of a replay. */
static int learn_run_failed(const replay_results *r, const char *target, const char *which)
{
    int st = results_exit_status(r);
    if (st != 3 && st != 1)
        return 0;
    for (guint i = 0; i < r->jobs->len; i++) {
        const job_result *j = g_ptr_array_index(r->jobs, i);
        if (j->outcome == JOB_UNREACHABLE || j->outcome == JOB_FAILED) {
            fprintf(stderr, "hmtp-replay learn: %s run against %s: session %u %s: %s\n", which, target, j->session,
                    j->outcome == JOB_UNREACHABLE ? "unreachable" : "failed", j->reason);
            return j->outcome == JOB_UNREACHABLE ? 3 : 1;
        }
    }
    return 0;
}

/* hmtp-replay learn, once run A (against the target) has ended: run B
 * against the reference (or the target again), then the fields that differ
 * between the two runs, written to --ignore-out. */
static int learn_second_run(cli_options *o, const engine_config *cfg, replay_store *store, const bool *selected,
                            const replay_results *a, const char *capture)
{
    int st = learn_run_failed(a, cfg->target, "first");
    if (st)
        return st;
    engine_config cfg_b = *cfg;
    if (o->reference)
        cfg_b.target = o->reference;
    replay_engine eng;
    replay_engine_init(&eng, &cfg_b, store, selected);
    replay_engine_run(&eng);
    st = learn_run_failed(&eng.results, cfg_b.target, "second");
    if (!st) {
        learn_result lr;
        learn_collect(a, &eng.results, &lr);
        char *header = g_strdup_printf("# hmtp-replay learn %s: fields whose values differed between a run against %s "
                                       "and one against %s\n# TYPE CLASS PATH  # values seen (recorded value where a run "
                                       "answered as recorded); review, then: hmtp-replay --ignore-file\n",
                                       capture, cfg->target, cfg_b.target);
        if (!learn_write(&lr, header, o->ignore_out)) {
            fprintf(stderr, "hmtp-replay learn: cannot write %s: %s\n", o->ignore_out, strerror(errno));
            st = 2;
        } else {
            printf("hmtp-replay learn: %u path(s) differ between the runs, written to %s; %u field(s) changed the same "
                   "way in both runs (real changes, not written)",
                   (unsigned)g_tree_nnodes(lr.lines), o->ignore_out, lr.real);
            if (lr.unjudged)
                printf("; %u field(s) not judged (their reply was missing in a run, or had more than %d differences)",
                       lr.unjudged, VERIFY_MAX_DIFFS);
            if (lr.unexpected)
                printf("; %u unexpected repl%s (not learned from)", lr.unexpected, lr.unexpected == 1 ? "y" : "ies");
            printf("\n");
        }
        g_free(header);
        learn_result_free(&lr);
    }
    replay_engine_free(&eng);
    return st;
}

static int run(cli_options *o, const char *capture)
{
    engine_config cfg;
    jid_map map;
    jid_map_init(&map);
    hmtp_tool_error why;
    shard_spec spec = {0, 0};
    if (o->shard && !shard_spec_parse(o->shard, &spec, &why)) {
        jid_map_free(&map);
        return bad_usage("%s", why.msg);
    }
    if (configure(o, &cfg, &map, &why) < 0) {
        config_free(&cfg);
        jid_map_free(&map);
        return bad_usage("%s", why.msg);
    }
    replay_store store;
    replay_capture_options copt = {.port = (uint16_t)o->port};
    if (replay_store_load(&store, capture, &copt, &why) < 0) {
        replay_store_free(&store);
        config_free(&cfg);
        jid_map_free(&map);
        return bad_usage("%s", why.msg);
    }
    int status = 0;
    unsigned n = store.sessions->len;
    bool *selected = g_new0(bool, n ? n : 1);
    if (store.stats.truncated && n > 0)
        fprintf(stderr, "hmtp-replay: %s: %s (sessions before that point are replayed; exit status 5 at best)\n",
                capture, store.stats.truncated_msg);
    if (store.notes->len)
        fprintf(stderr, "%s", store.notes->str);
    if (store.stats.malformed_frames)
        fprintf(stderr, "hmtp-replay: %s: %llu frame(s) could not be parsed, first at frame %llu: %s\n", capture,
                (unsigned long long)store.stats.malformed_frames, (unsigned long long)store.stats.first_malformed_frame,
                store.stats.first_malformed);
    if (n == 0 && store.stats.truncated) {
        /* nothing readable before the damage: an unreadable capture */
        fprintf(stderr, "hmtp-replay: cannot read capture %s: %s\n", capture, store.stats.truncated_msg);
        status = 2;
    } else if (n == 0) {
        status = bad_usage("%s: no HMTP session found (a capture that starts after the upgrade needs --port)", capture);
    } else if (!select_sessions(o, &store, selected, &why)) {
        status = bad_usage("%s", why.msg);
    } else {
        /* The split is of the whole capture, whatever --session selects:
           every shard computes the same one. */
        GArray *shard_ids = g_array_new(FALSE, FALSE, sizeof(unsigned));
        gchar **notes = NULL;
        if (spec.n)
            notes = select_shard(&store, &spec, selected, shard_ids);
        report_shard shard = {spec.k, spec.n, (const unsigned *)(void *)shard_ids->data, shard_ids->len,
                              (const char *const *)notes};
        report_capture_id id;
        bool have_id = report_capture_identify(capture, n, &id, &why);
        if (!have_id)
            fprintf(stderr, "hmtp-replay: %s\n", why.msg);
        char pace[64];
        if (cfg.pace == PACE_ORIGINAL)
            snprintf(pace, sizeof pace, "original x%g", cfg.speed);
        else
            snprintf(pace, sizeof pace, "%s",
                     cfg.pace == PACE_TOP_SPEED ? "top-speed" : cfg.pace == PACE_SESSION ? "session" : "conversation");
        /* the same checks as hmtp-replay check, before anything is sent */
        preflight_report pf;
        /* a replay's reports list only what stands in the way (10,000 fine sessions are a count) */
        preflight_options po = {&cfg, (uint16_t)o->port, selected, false, true};
        preflight_run(&store, &po, &pf);
        report_preflight rp = {(int)pf.verdict, pf.verdict_line, pf.text->str};
        /* an empty shard has nothing the preflight could judge */
        report_context rc = {capture, cfg.target, pace, have_id ? &id : NULL, spec.n ? &shard : NULL, 0,
                             pf.sessions ? &rp : NULL};
        replay_engine eng;
        replay_engine_init(&eng, &cfg, &store, selected);
        name_jobs(&eng.results, &store);
        if (eng.jobs->len == 0 && spec.n) {
            /* the other shards have the sessions: a valid, empty part */
            eng.results.t0_us = eng.results.t1_us = g_get_monotonic_time();
            write_reports(o, &eng.results, &rc, &status);
        } else if (eng.jobs->len == 0) {
            status = bad_usage("%s", "no session left to replay after the selection");
        } else {
            if (eng.shared.not_replayable->len)
                fprintf(stderr, "%s", eng.shared.not_replayable->str);
            print_skipped(&eng.results);
            /* connections open at once: --max-connections, or fewer sessions */
            unsigned at_once = eng.jobs->len < cfg.max_open ? eng.jobs->len : cfg.max_open;
            if (!pf.runnable) {
                /* nothing would connect: stop here, in check's words; every session is reported */
                fprintf(stderr, "hmtp-replay: nothing to replay: %s\n", pf.verdict_line);
                eng.results.t0_us = eng.results.t1_us = g_get_monotonic_time();
                write_reports(o, &eng.results, &rc, &status);
            } else if (!raise_fd_limit(at_once, &why)) {
                status = bad_usage("%s", why.msg);
            } else if (o->learn) {
                replay_engine_run(&eng);
                status = learn_second_run(o, &cfg, &store, selected, &eng.results, capture);
            } else {
                replay_engine_run(&eng);
                write_reports(o, &eng.results, &rc, &status);
                if (status == 3)
                    fprintf(stderr, "hmtp-replay: target %s unreachable or refusing the upgrade (see the report)\n",
                            cfg.target);
            }
            if (status == 5)
                fprintf(stderr, "hmtp-replay: %s is damaged: part of it was not replayed (see the report)\n", capture);
        }
        replay_engine_free(&eng);
        preflight_report_free(&pf);
        g_strfreev(notes);
        g_array_free(shard_ids, TRUE);
    }
    g_free(selected);
    replay_store_free(&store);
    config_free(&cfg);
    jid_map_free(&map);
    return status;
}

static int replay_main(int argc, char **argv, bool learn)
{
    cli_options o = {.max_open = 64, .loops = 1, .scale = 1, .timeout_ms = 5000, .settle_ms = 100, .window = 8, .speed = 1.0,
                     .learn = learn};
    GOptionContext *ctx = make_context(&o);
    GError *error = NULL;
    gboolean ok = g_option_context_parse(ctx, &argc, &argv, &error);
    g_option_context_free(ctx);
    int status;
    if (!ok) {
        status = bad_usage("%s", error->message);
        g_error_free(error);
    } else if (!o.target) {
        status = bad_usage("%s", "--target HOST:PORT is required (or use: hmtp-replay dump CAPTURE)");
    } else if (learn && !o.ignore_out) {
        status = bad_usage("%s", "learn: --ignore-out FILE is required");
    } else if (learn && (o.shard || o.report_json || o.junit || o.loops > 1 || o.scale > 1)) {
        status = bad_usage("%s", "learn: --shard, --report-json, --junit, --loop and --sessions-scale are for a replay");
    } else if (argc != 2) {
        status = bad_usage("expected one capture file after the options%s", argc > 2 ? ", got several" : "");
    } else if ((status = check_ranges(&o)) == 0) {
        status = run(&o, argv[1]);
    }
    free_options(&o);
    return status;
}

int replay_cli_main(int argc, char **argv) { return replay_main(argc, argv, false); }

int replay_learn_main(int argc, char **argv) { return replay_main(argc, argv, true); }

int replay_check_main(int argc, char **argv)
{
    cli_options o = {0};
    GOptionEntry entries[] = {
        {"port", 0, 0, G_OPTION_ARG_INT, &o.port, "server port of recorded sessions whose upgrade is not in the capture", "PORT"},
        {"session", 0, 0, G_OPTION_ARG_STRING, &o.sessions, "judge only these sessions", "0,2,5-7"},
        {"session-jid", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.session_jid, "judge only sessions that logged in as JID (repeatable)", "JID"},
        {"login-password", 0, 0, G_OPTION_ARG_STRING, &o.login_password, "password of every session not named by --login/--login-file", "PASSWORD"},
        {"login", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.logins, "password of the sessions whose recorded login user is UID (repeatable)", "UID:PASSWORD"},
        {"login-file", 0, 0, G_OPTION_ARG_FILENAME, &o.login_file, "UID:PASSWORD lines, as --login (# comments)", "FILE"},
        {"recorded-key", 0, 0, G_OPTION_ARG_FILENAME, &o.recorded_key, "the recording server's RSA private key (PEM)", "PEM"},
        {"login-mode", 0, 0, G_OPTION_ARG_STRING, &o.login_mode, "recorded, plain or encrypted, as for a replay", "MODE"},
        {"replay-incomplete", 0, 0, G_OPTION_ARG_NONE, &o.replay_incomplete, "judge as a replay that replays sessions with a gap up to the gap", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GError *error = NULL;
    gboolean parsed = replay_options_parse(
        entries, "CAPTURE - say what a replay of the capture can and cannot do, before anything is sent",
        "Exit status: 0 every session can be replayed in full, 4 something is needed first (named on the verdict "
        "line: a password or key, --replay-incomplete, an undamaged copy), 2 unusable (unreadable, no HMTP session) "
        "or bad usage.",
        &argc, &argv, &error);
    o.max_open = o.loops = o.scale = o.timeout_ms = 1;
    o.speed = 1.0;
    int status = 0;
    engine_config cfg;
    jid_map map;
    jid_map_init(&map);
    memset(&cfg, 0, sizeof cfg);
    hmtp_tool_error why;
    if (!parsed) {
        status = bad_usage("check: %s", error->message);
        g_error_free(error);
    } else if (argc != 2) {
        status = bad_usage("check: expected one capture file after the options%s", argc > 2 ? ", got several" : "");
    } else if ((status = check_ranges(&o)) == 0 && configure(&o, &cfg, &map, &why) < 0) {
        status = bad_usage("check: %s", why.msg);
    }
    if (status) {
        config_free(&cfg);
        jid_map_free(&map);
        free_options(&o);
        return status;
    }
    replay_store store;
    replay_capture_options copt = {.port = (uint16_t)o.port};
    preflight_report pf;
    bool *selected = NULL;
    if (replay_store_load(&store, argv[1], &copt, &why) < 0) {
        preflight_unreadable(why.msg, &pf);
    } else if (store.sessions->len == 0 && store.stats.truncated) {
        /* nothing readable before the damage: an unreadable capture, as for a replay */
        hmtp_tool_fail(&why, "cannot read capture %s: %s", argv[1], store.stats.truncated_msg);
        preflight_unreadable(why.msg, &pf);
    } else {
        selected = g_new0(bool, store.sessions->len ? store.sessions->len : 1);
        if (!select_sessions(&o, &store, selected, &why)) {
            status = bad_usage("check: %s", why.msg);
            memset(&pf, 0, sizeof pf);
        } else {
            preflight_options po = {&cfg, (uint16_t)o.port, selected, true, false};
            preflight_run(&store, &po, &pf);
        }
    }
    if (!status) {
        printf("hmtp-replay check %s\n%s", argv[1], pf.text->str);
        status = (int)pf.verdict;
    }
    preflight_report_free(&pf);
    g_free(selected);
    replay_store_free(&store);
    config_free(&cfg);
    jid_map_free(&map);
    free_options(&o);
    return status;
}
