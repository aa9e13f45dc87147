/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The JUnit report: one test case per session run (its first divergence as
 * the failure message, every difference in system-out) and one for the
 * preflight, for CI systems that read JUnit. */
#include "report.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report_parts.h"

/* Escaped for XML text and attributes; bytes that are not UTF-8 (names
 * from a damaged capture) become U+FFFD, so the file stays well-formed. */
static void xml_text(hmtp_buf *b, const char *raw)
{
    if (!raw)
        return;
    gchar *valid = g_utf8_make_valid(raw, -1);
    for (const char *s = valid; *s; s++) {
        switch (*s) {
        case '<': hmtp_buf_printf(b, "&lt;"); break;
        case '>': hmtp_buf_printf(b, "&gt;"); break;
        case '&': hmtp_buf_printf(b, "&amp;"); break;
        case '"': hmtp_buf_printf(b, "&quot;"); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                hmtp_buf_append_byte(b, (uint8_t)*s);
        }
    }
    g_free(valid);
}

/* The session's full difference list, one line each, for <system-out>. */
static void junit_diffs(hmtp_buf *b, const job_result *j)
{
    if (verify_diff_count(&j->verdict) == 0)
        return;
    hmtp_buf_printf(b, "\n    <system-out>");
    for (guint k = 0; k < verify_diff_count(&j->verdict); k++) {
        const verify_diff *d = verify_diff_at(&j->verdict, k);
        char line[1024];
        if (d->kind == DIFF_DIFFERENT)
            snprintf(line, sizeof line, "frame %" PRIu64 " %s: %s: expected %s, actual %s\n", d->frame, d->packet,
                     d->path, d->expected, d->actual);
        else if (d->kind == DIFF_MISSING)
            snprintf(line, sizeof line, "frame %" PRIu64 " %s: missing\n", d->frame, d->packet);
        else
            snprintf(line, sizeof line, "unexpected reply #%" PRIu64 ": %s\n", d->received, d->packet);
        xml_text(b, line);
    }
    hmtp_buf_printf(b, "</system-out>\n  ");
}

/* A testcase that did not pass has one element: <skipped> for a session
 * never connected (on purpose, or for want of a reachable target),
 * <failure> for differences, <error> for a broken or partial run. */
typedef enum junit_kind { JUNIT_PASS, JUNIT_SKIPPED, JUNIT_FAILURE, JUNIT_ERROR } junit_kind;

static junit_kind junit_kind_of(const job_result *j)
{
    if (j->outcome == JOB_NOT_REPLAYABLE || j->outcome == JOB_SKIPPED || j->outcome == JOB_NOT_RUN ||
        j->outcome == JOB_PENDING)
        return JUNIT_SKIPPED;
    if (job_result_differs(j))
        return JUNIT_FAILURE;
    return strcmp(report_outcome_name(j), "ok") == 0 ? JUNIT_PASS : JUNIT_ERROR;
}

static void junit_verdict(hmtp_buf *b, const job_result *j)
{
    const char *name = report_outcome_name(j);
    junit_kind kind = junit_kind_of(j);
    if (kind == JUNIT_PASS)
        return;
    if (kind == JUNIT_SKIPPED) {
        hmtp_buf_printf(b, "\n    <skipped message=\"%s: ", name);
        xml_text(b, report_job_reason(j));
        hmtp_buf_printf(b, "\"/>\n  ");
        return;
    }
    const char *tag = kind == JUNIT_FAILURE ? "failure" : "error";
    hmtp_buf_printf(b, "\n    <%s message=\"", tag);
    divergence dv;
    job_result_divergence(j, &dv);
    char *first = divergence_text(&dv);
    /* what a CI shows first: the first thing that went wrong */
    if (job_result_differs(j))
        xml_text(b, first);
    else
        xml_text(b, report_job_reason(j));
    if (job_result_partial(j) && (job_result_differs(j) || j->reason)) {
        hmtp_buf_printf(b, "; ");
        xml_text(b, j->partial);
    }
    hmtp_buf_printf(b, "\">");
    if (job_result_differs(j))
        hmtp_buf_printf(b, "%u different, %u missing, %u unexpected", j->verdict.different, j->verdict.missing,
                        j->verdict.unexpected);
    else if (first) {
        xml_text(b, "first divergence: ");
        xml_text(b, first);
    }
    g_free(first);
    hmtp_buf_printf(b, "</%s>", tag);
    junit_diffs(b, j);
    if (!verify_diff_count(&j->verdict))
        hmtp_buf_printf(b, "\n  ");
}

/* The checks run before anything was sent (preflight.h): passed when every
 * session could be replayed in full, skipped (with what was needed) when
 * not, an error when nothing could. */
static void junit_preflight(hmtp_buf *b, const report_preflight *pf)
{
    hmtp_buf_printf(b, "  <testcase classname=\"hmtp-replay\" name=\"preflight\">");
    if (pf->exit_status == 4 || pf->exit_status == 2) {
        hmtp_buf_printf(b, "\n    <%s message=\"", pf->exit_status == 4 ? "skipped" : "error");
        xml_text(b, pf->verdict);
        hmtp_buf_printf(b, "\"/>");
    }
    hmtp_buf_printf(b, "\n    <system-out>");
    xml_text(b, pf->text);
    hmtp_buf_printf(b, "</system-out>\n  </testcase>\n");
}

bool report_junit(const replay_results *r, const report_context *ctx, const char *path)
{
    totals t;
    report_sum_up(r, &t);
    gchar **problems = report_capture_problems(r);
    unsigned file_cases = problems[0] ? 1 : 0;
    unsigned pf_cases = ctx->preflight ? 1 : 0;
    /* junit_kind_of(), from the totals: the results are read once, below */
    unsigned count[4] = {0};
    count[JUNIT_SKIPPED] = t.not_replayable + t.skipped + t.not_run;
    count[JUNIT_FAILURE] = t.differs;
    count[JUNIT_PASS] = t.ok;
    count[JUNIT_ERROR] = t.jobs - count[JUNIT_SKIPPED] - count[JUNIT_FAILURE] - count[JUNIT_PASS];
    if (ctx->preflight && ctx->preflight->exit_status == 4)
        count[JUNIT_SKIPPED]++;
    else if (ctx->preflight && ctx->preflight->exit_status == 2)
        count[JUNIT_ERROR]++;
    report_file out;
    if (!report_file_open(&out, path)) {
        g_strfreev(problems);
        return false;
    }
    hmtp_buf *b = &out.b;
    hmtp_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"hmtp-replay ");
    xml_text(b, ctx->capture);
    if (ctx->shard)
        hmtp_buf_printf(b, " shard %u/%u", ctx->shard->k, ctx->shard->n);
    hmtp_buf_printf(b, "\" tests=\"%u\" failures=\"%u\" errors=\"%u\" skipped=\"%u\" time=\"%.3f\">\n",
                    t.jobs + file_cases + pf_cases, count[JUNIT_FAILURE], count[JUNIT_ERROR] + file_cases,
                    count[JUNIT_SKIPPED], t.elapsed_s);
    if (ctx->shard) {
        gchar *ids = report_session_ranges(ctx->shard->sessions, ctx->shard->n_sessions);
        hmtp_buf_printf(b, "  <properties>\n    <property name=\"shard\" value=\"%u/%u\"/>\n"
                            "    <property name=\"shard sessions\" value=\"%s\"/>\n  </properties>\n",
                        ctx->shard->k, ctx->shard->n, ids);
        g_free(ids);
    } else if (ctx->merged) {
        hmtp_buf_printf(b, "  <properties>\n    <property name=\"merged shards\" value=\"%u\"/>\n  </properties>\n",
                        ctx->merged);
    }
    if (ctx->preflight)
        junit_preflight(b, ctx->preflight);
    if (file_cases) {
        /* the file itself: damage no session row can show */
        hmtp_buf_printf(b, "  <testcase classname=\"hmtp-replay\" name=\"capture file\">\n    <error message=\"capture damaged: ");
        for (gchar **l = problems; *l; l++) {
            xml_text(b, *l);
            xml_text(b, "\n");
        }
        hmtp_buf_printf(b, "\"/>\n  </testcase>\n");
    }
    g_strfreev(problems);
    results_cursor c;
    results_cursor_begin(r, &c);
    for (const job_result *j; (j = results_cursor_next(&c));) {
        char label[32];
        report_job_label(j, label, sizeof label);
        /* who it was: the recorded client and the JID it logged in as */
        hmtp_buf_printf(b, "  <testcase classname=\"hmtp-replay\" name=\"session %s (", label);
        xml_text(b, j->client);
        if (j->jid) {
            hmtp_buf_printf(b, " ");
            xml_text(b, j->jid);
        }
        hmtp_buf_printf(b, ")\">");
        junit_verdict(b, j);
        hmtp_buf_printf(b, "</testcase>\n");
        report_file_spill(&out);
    }
    results_cursor_end(&c);
    hmtp_buf_printf(b, "</testsuite>\n");
    return report_file_close(&out);
}
