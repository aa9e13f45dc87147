/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "replay_cli.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli_config.h"
#include "cli_parse.h"
#include "engine.h"
#include "learn.h"
#include "plan.h"
#include "preflight.h"
#include "report.h"
#include "shard.h"
#include "store.h"


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
                                        "stops before connecting, with their verdict. The capture's packets and the finished "
                                        "sessions' results wait in unlinked temporary files in TMPDIR (room for up to about twice the "
                                        "capture's size): a disk that fills stops the run with exit status 2, naming the file.");
    return ctx;
}


/* Sessions the capture holds only in part, once each (not per copy or
 * round), before anything runs. */
static void print_skipped(const engine_config *cfg, const replay_store *store, const bool *selected)
{
    for (guint i = 0; i < store->sessions->len; i++) {
        const rec_session *rec = g_ptr_array_index(store->sessions, i);
        job_result why = {0};
        job_result_init(&why);
        if (selected[i] && job_skips(cfg, rec, &why))
            fprintf(stderr, "hmtp-replay: session %u skipped: %s\n", rec->info.id, why.reason ? why.reason : "");
        job_result_clear(&why);
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

/* The results that could not be written or read back: the run is not
 * reported as if it were whole (results.h). */
static bool results_lost(const replay_results *res, int *status)
{
    if (!replay_results_error(res))
        return false;
    fprintf(stderr, "hmtp-replay: %s\n", replay_results_error(res));
    *status = 2;
    return true;
}

static void write_reports(cli_options *o, const replay_results *res, const report_context *rc, int *status)
{
    if (results_lost(res, status))
        return;
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
    results_lost(res, status);
}

/* A learn run that could not compare: why, in the words of a replay. */
static int learn_run_failed(const replay_results *r, const char *target, const char *which)
{
    int st = 0;
    if (results_lost(r, &st))
        return st;
    st = results_exit_status(r);
    if (st != 3 && st != 1)
        return 0;
    int found = 0;
    results_cursor c;
    results_cursor_begin(r, &c);
    for (const job_result *j; !found && (j = results_cursor_next(&c));) {
        if (j->outcome == JOB_UNREACHABLE || j->outcome == JOB_FAILED) {
            fprintf(stderr, "hmtp-replay learn: %s run against %s: session %u %s: %s\n", which, target, j->session,
                    j->outcome == JOB_UNREACHABLE ? "unreachable" : "failed", j->reason ? j->reason : "");
            found = j->outcome == JOB_UNREACHABLE ? 3 : 1;
        }
    }
    results_cursor_end(&c);
    return found;
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
        if (results_lost(a, &st) || results_lost(&eng.results, &st)) {
            learn_result_free(&lr);
            replay_engine_free(&eng);
            return st;
        }
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
        return cli_bad_usage("%s", why.msg);
    }
    if (cli_configure(o, &cfg, &map, &why) < 0) {
        cli_config_free(&cfg);
        jid_map_free(&map);
        return cli_bad_usage("%s", why.msg);
    }
    replay_store store;
    replay_capture_options copt = {.port = (uint16_t)o->port};
    if (replay_store_load(&store, capture, &copt, &why) < 0) {
        replay_store_free(&store);
        cli_config_free(&cfg);
        jid_map_free(&map);
        return cli_bad_usage("%s", why.msg);
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
        status = cli_bad_usage("%s: no HMTP session found (a capture that starts after the upgrade needs --port)", capture);
    } else if (!cli_select_sessions(o, &store, selected, &why)) {
        status = cli_bad_usage("%s", why.msg);
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
        if (eng.runs == 0 && spec.n) {
            /* the other shards have the sessions: a valid, empty part */
            eng.results.t0_us = eng.results.t1_us = g_get_monotonic_time();
            write_reports(o, &eng.results, &rc, &status);
        } else if (eng.runs == 0) {
            status = cli_bad_usage("%s", "no session left to replay after the selection");
        } else {
            fputs(pf.not_replayable->str, stderr);
            print_skipped(&cfg, &store, selected);
            /* connections open at once: --max-connections, or fewer sessions */
            unsigned at_once = eng.runs < cfg.max_open ? eng.runs : cfg.max_open;
            if (!pf.runnable) {
                /* nothing would connect: stop here, in check's words; every session is reported */
                fprintf(stderr, "hmtp-replay: nothing to replay: %s\n", pf.verdict_line);
                replay_engine_settle_unrun(&eng);
                eng.results.t0_us = eng.results.t1_us = g_get_monotonic_time();
                write_reports(o, &eng.results, &rc, &status);
            } else if (!raise_fd_limit(at_once, &why)) {
                status = cli_bad_usage("%s", why.msg);
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
    cli_config_free(&cfg);
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
        status = cli_bad_usage("%s", error->message);
        g_error_free(error);
    } else if (!o.target) {
        status = cli_bad_usage("%s", "--target HOST:PORT is required (or use: hmtp-replay dump CAPTURE)");
    } else if (learn && !o.ignore_out) {
        status = cli_bad_usage("%s", "learn: --ignore-out FILE is required");
    } else if (learn && (o.shard || o.report_json || o.junit || o.loops > 1 || o.scale > 1)) {
        status = cli_bad_usage("%s", "learn: --shard, --report-json, --junit, --loop and --sessions-scale are for a replay");
    } else if (argc != 2) {
        status = cli_bad_usage("expected one capture file after the options%s", argc > 2 ? ", got several" : "");
    } else if ((status = cli_check_ranges(&o)) == 0) {
        status = run(&o, argv[1]);
    }
    cli_options_free(&o);
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
        status = cli_bad_usage("check: %s", error->message);
        g_error_free(error);
    } else if (argc != 2) {
        status = cli_bad_usage("check: expected one capture file after the options%s", argc > 2 ? ", got several" : "");
    } else if ((status = cli_check_ranges(&o)) == 0 && cli_configure(&o, &cfg, &map, &why) < 0) {
        status = cli_bad_usage("check: %s", why.msg);
    }
    if (status) {
        cli_config_free(&cfg);
        jid_map_free(&map);
        cli_options_free(&o);
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
        if (!cli_select_sessions(&o, &store, selected, &why)) {
            status = cli_bad_usage("check: %s", why.msg);
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
    cli_config_free(&cfg);
    jid_map_free(&map);
    cli_options_free(&o);
    return status;
}
