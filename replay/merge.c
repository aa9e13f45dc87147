/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "merge.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_parse.h"
#include "report.h"
#include "report_read.h"
#include "results.h"

static int refuse(const char *why)
{
    fprintf(stderr, "hmtp-replay merge: %s\n", why);
    return 2;
}

static bool same_capture(const read_report *a, const read_report *b)
{
    return strcmp(a->id.name, b->id.name) == 0 && a->id.bytes == b->id.bytes && a->id.sessions == b->id.sessions &&
           strcmp(a->id.fingerprint, b->id.fingerprint) == 0;
}

/* The shards fit together: one capture, one N, each K once, each session of
 * the capture in exactly one shard, and each replayed session in its own
 * shard's list. false with why filled otherwise. */
static bool check_shards(read_report *const *r, unsigned count, hmtp_tool_error *why)
{
    for (unsigned i = 0; i < count; i++) {
        if (!r[i]->has_shard || !r[i]->has_id) {
            hmtp_tool_fail(why, "%s: not a shard report (written without --shard K/N)", r[i]->file);
            return false;
        }
    }
    const read_report *first = r[0];
    for (unsigned i = 1; i < count; i++) {
        if (!same_capture(first, r[i])) {
            hmtp_tool_fail(why, "%s and %s are reports of different captures: %s (%" G_GUINT64_FORMAT
                     " bytes, %u sessions, %s) and %s (%" G_GUINT64_FORMAT " bytes, %u sessions, %s)",
                     first->file, r[i]->file, first->id.name, first->id.bytes, first->id.sessions,
                     first->id.fingerprint, r[i]->id.name, r[i]->id.bytes, r[i]->id.sessions, r[i]->id.fingerprint);
            return false;
        }
        if (r[i]->n != first->n) {
            hmtp_tool_fail(why, "%s is shard %u of %u but %s is shard %u of %u: shards of different splits",
                     first->file, first->k, first->n, r[i]->file, r[i]->k, r[i]->n);
            return false;
        }
    }
    unsigned n = first->n, sessions = first->id.sessions;
    if (n == 0 || count > n) {
        hmtp_tool_fail(why, "%u reports given for %u shards", count, n);
        return false;
    }
    const read_report **by_k = g_new0(const read_report *, n);
    const read_report **owner = g_new0(const read_report *, sessions ? sessions : 1);
    bool ok = true;
    for (unsigned i = 0; i < count && ok; i++) {
        if (r[i]->k >= n) {
            hmtp_tool_fail(why, "%s: shard %u of %u does not exist", r[i]->file, r[i]->k, n);
            ok = false;
        } else if (by_k[r[i]->k]) {
            hmtp_tool_fail(why, "shard %u/%u given twice: %s and %s", r[i]->k, n, by_k[r[i]->k]->file, r[i]->file);
            ok = false;
        } else {
            by_k[r[i]->k] = r[i];
        }
        for (guint s = 0; ok && s < r[i]->sessions->len; s++) {
            unsigned id = g_array_index(r[i]->sessions, unsigned, s);
            if (id >= sessions) {
                hmtp_tool_fail(why, "%s: session %u is beyond the capture's %u sessions", r[i]->file, id, sessions);
                ok = false;
            } else if (owner[id]) {
                hmtp_tool_fail(why, "session %u is in two shards: %u/%u (%s) and %u/%u (%s)", id, owner[id]->k, n,
                         owner[id]->file, r[i]->k, n, r[i]->file);
                ok = false;
            } else {
                owner[id] = r[i];
            }
        }
        for (guint j = 0; ok && j < r[i]->jobs->len; j++) {
            const job_result *jr = g_ptr_array_index(r[i]->jobs, j);
            if (jr->session >= sessions || owner[jr->session] != r[i]) {
                hmtp_tool_fail(why, "%s: session %u was replayed but is not in shard %u/%u's list", r[i]->file,
                         jr->session, r[i]->k, n);
                ok = false;
            }
        }
    }
    for (unsigned k = 0; k < n && ok; k++) {
        if (!by_k[k]) {
            GString *given = g_string_new(NULL);
            for (unsigned i = 0; i < count; i++)
                g_string_append_printf(given, "%s%u/%u (%s)", i ? ", " : "", r[i]->k, n, r[i]->file);
            hmtp_tool_fail(why, "shard %u/%u is missing: given %s", k, n, given->str);
            g_string_free(given, TRUE);
            ok = false;
        }
    }
    for (unsigned s = 0; s < sessions && ok; s++) {
        if (!owner[s]) {
            hmtp_tool_fail(why, "session %u of the capture's %u is in no shard: the shards were split differently",
                     s, sessions);
            ok = false;
        }
    }
    g_free(by_k);
    g_free(owner);
    return ok;
}

static gint by_run(gconstpointer a, gconstpointer b)
{
    const job_result *x = *(const job_result *const *)a, *y = *(const job_result *const *)b;
    /* the order of an unsharded run: round, then session, then copy */
    if (x->loop != y->loop)
        return x->loop < y->loop ? -1 : 1;
    if (x->session != y->session)
        return x->session < y->session ? -1 : 1;
    return x->copy < y->copy ? -1 : x->copy > y->copy;
}

/* "a" when every report says a, else "a, b" (each once, in order). */
static gchar *joined(const char *const *values, unsigned count)
{
    GPtrArray *seen = g_ptr_array_new();
    for (unsigned i = 0; i < count; i++) {
        bool dup = !values[i];
        for (guint k = 0; k < seen->len && !dup; k++)
            dup = strcmp(g_ptr_array_index(seen, k), values[i]) == 0;
        if (!dup)
            g_ptr_array_add(seen, (gpointer)values[i]);
    }
    g_ptr_array_add(seen, NULL);
    gchar *out = g_strjoinv(", ", (gchar **)seen->pdata);
    g_ptr_array_free(seen, TRUE);
    return out;
}

/* Moves every job of the shards into one result, in the unsharded order. */
static void join(read_report *const *r, unsigned count, replay_results *out, latency_hist *lat)
{
    double slowest = 0;
    GPtrArray *jobs = g_ptr_array_new();
    for (unsigned i = 0; i < count; i++) {
        for (guint j = 0; j < r[i]->jobs->len; j++)
            g_ptr_array_add(jobs, g_ptr_array_index(r[i]->jobs, j));
        g_ptr_array_set_size(r[i]->jobs, 0); /* out owns them now */
        for (unsigned b = 0; b < LATENCY_BUCKETS; b++)
            lat->count[b] += r[i]->latency->count[b];
        lat->total += r[i]->latency->total;
        if (r[i]->latency->max_ms > lat->max_ms)
            lat->max_ms = r[i]->latency->max_ms;
        if (r[i]->elapsed_s > slowest)
            slowest = r[i]->elapsed_s;
    }
    g_ptr_array_sort(jobs, by_run);
    /* settled into out in the unsharded order (results.h), each freed then */
    bool written = true;
    for (guint j = 0; j < jobs->len; j++) {
        job_result *jr = g_ptr_array_index(jobs, j);
        if (written)
            written = replay_results_take(out, jr);
        else
            job_result_clear(jr), g_free(jr);
    }
    g_ptr_array_free(jobs, TRUE);
    /* the shards ran side by side: the merged run took as long as the slowest */
    out->t0_us = 0;
    out->t1_us = (gint64)(slowest * 1e6 + 0.5);
    out->latency_merged = lat;
}

/* Each shard checked its own sessions before it ran: the merged preflight
 * is the worst of their verdicts (unusable, then needs, then replayable),
 * with every shard's words. false when no shard report carries one. */
static bool join_preflights(read_report *const *r, unsigned count, report_preflight *out, GString *verdict,
                            GString *text)
{
    static const int rank[] = {[0] = 0, [4] = 1, [2] = 2};
    bool any = false;
    out->exit_status = 0;
    for (unsigned i = 0; i < count; i++) {
        if (!r[i]->has_preflight)
            continue;
        int st = r[i]->preflight.exit_status;
        if (st == 0 || st == 2 || st == 4) {
            if (rank[st] > rank[out->exit_status])
                out->exit_status = st;
        }
        g_string_append_printf(verdict, "%sshard %u/%u: %s", verdict->len ? "; " : "", r[i]->k, r[i]->n,
                               r[i]->preflight.verdict ? r[i]->preflight.verdict : "?");
        g_string_append_printf(text, "shard %u/%u:\n%s", r[i]->k, r[i]->n,
                               r[i]->preflight.text ? r[i]->preflight.text : "");
        any = true;
    }
    out->verdict = verdict->str;
    out->text = text->str;
    return any;
}

int replay_merge_main(int argc, char **argv)
{
    gchar *json_out = NULL, *junit_out = NULL;
    GOptionEntry entries[] = {
        {"report-json", 0, 0, G_OPTION_ARG_FILENAME, &json_out, "write the merged report as JSON", "FILE"},
        {"junit", 0, 0, G_OPTION_ARG_FILENAME, &junit_out, "write the merged report as JUnit XML", "FILE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GError *error = NULL;
    gboolean parsed = replay_options_parse(
        entries, "REPORT.json... - join the JSON reports of the shards of one replay (--shard K/N)",
        "Every shard 0..N-1 of the same capture must be given once. Exit status as for a replay (0, 1, 3, 4, 5) of "
        "the joined sessions; 2 when the reports cannot be read or do not fit together.",
        &argc, &argv, &error);
    int status = 0;
    hmtp_tool_error why;
    if (!parsed) {
        status = refuse(error->message);
        g_error_free(error);
    } else if (argc < 2) {
        status = refuse("expected the JSON reports of the shards after the options");
    }
    unsigned count = status ? 0 : (unsigned)argc - 1;
    read_report **reports = g_new0(read_report *, count ? count : 1);
    for (unsigned i = 0; i < count && !status; i++) {
        reports[i] = g_new0(read_report, 1);
        if (!report_read(argv[i + 1], reports[i], &why))
            status = refuse(why.msg);
    }
    if (!status && !check_shards(reports, count, &why))
        status = refuse(why.msg);
    if (!status) {
        replay_results res;
        replay_results_init(&res, &reports[0]->stats);
        latency_hist *lat = g_new0(latency_hist, 1);
        join(reports, count, &res, lat);
        const char **targets = g_new(const char *, count), **paces = g_new(const char *, count);
        for (unsigned i = 0; i < count; i++)
            targets[i] = reports[i]->target, paces[i] = reports[i]->pace;
        gchar *target = joined(targets, count), *pace = joined(paces, count);
        g_free(targets);
        g_free(paces);
        report_preflight pf;
        GString *pf_verdict = g_string_new(NULL), *pf_text = g_string_new(NULL);
        bool has_pf = join_preflights(reports, count, &pf, pf_verdict, pf_text);
        report_context rc = {reports[0]->capture, target, pace, &reports[0]->id, NULL, count, has_pf ? &pf : NULL};
        if (replay_results_error(&res)) { /* the joined results could not be written out */
            status = refuse(replay_results_error(&res));
        } else {
            report_text(&res, &rc, stdout);
            status = results_exit_status(&res);
            if (json_out && !report_json(&res, &rc, json_out)) {
                fprintf(stderr, "hmtp-replay merge: cannot write %s: %s\n", json_out, strerror(errno));
                status = status ? status : 2;
            }
            if (junit_out && !report_junit(&res, &rc, junit_out)) {
                fprintf(stderr, "hmtp-replay merge: cannot write %s: %s\n", junit_out, strerror(errno));
                status = status ? status : 2;
            }
            if (replay_results_error(&res)) /* reading them back */
                status = refuse(replay_results_error(&res));
        }
        g_free(target);
        g_free(pace);
        g_string_free(pf_verdict, TRUE);
        g_string_free(pf_text, TRUE);
        replay_results_free(&res);
        g_free(lat);
    }
    for (unsigned i = 0; i < count; i++) {
        if (reports[i])
            read_report_free(reports[i]);
        g_free(reports[i]);
    }
    g_free(reports);
    g_free(json_out);
    g_free(junit_out);
    return status;
}
