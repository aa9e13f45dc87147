/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "results.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void replay_results_init(replay_results *r, const replay_capture_stats *capture)
{
    r->jobs = g_ptr_array_new();
    r->latency_ms = g_array_new(FALSE, FALSE, sizeof(double));
    memset(&r->latency, 0, sizeof r->latency);
    r->latency_merged = NULL;
    r->t0_us = r->t1_us = 0;
    r->capture = capture;
}

void replay_results_free(replay_results *r)
{
    for (guint i = 0; i < r->jobs->len; i++) {
        job_result *j = g_ptr_array_index(r->jobs, i);
        job_result_clear(j);
        g_free(j);
    }
    g_ptr_array_free(r->jobs, TRUE);
    g_array_free(r->latency_ms, TRUE);
}

job_result *replay_results_add(replay_results *r, unsigned session, const char *client, unsigned copy, unsigned loop)
{
    job_result *j = g_new0(job_result, 1);
    j->session = session;
    j->client = client;
    j->copy = copy;
    j->loop = loop;
    job_result_init(j);
    g_ptr_array_add(r->jobs, j);
    return j;
}

void job_result_init(job_result *j)
{
    verify_result_init(&j->verdict);
    j->reply_frames = g_array_new(FALSE, FALSE, sizeof(uint64_t));
}

void job_result_clear(job_result *j)
{
    verify_result_free(&j->verdict);
    if (j->reply_frames)
        g_array_free(j->reply_frames, TRUE);
    j->reply_frames = NULL;
}

/* Where an unexpected reply stands in the recording: the recorded reply
 * whose place (by arrival order) it took, or the last one. */
static uint64_t unexpected_at(const job_result *j, uint64_t received)
{
    guint n = j->reply_frames ? j->reply_frames->len : 0;
    if (n == 0)
        return UINT64_MAX;
    return g_array_index(j->reply_frames, uint64_t, received < n ? received : n - 1);
}

static bool is_reorder(const verify_diff *d) { return d->kind == DIFF_DIFFERENT && d->path && strcmp(d->path, "order") == 0; }

static bool same_reply(const verify_diff *a, const verify_diff *b)
{
    return a == b || (a->kind == DIFF_DIFFERENT && b->kind == DIFF_DIFFERENT && a->frame == b->frame &&
                      a->received == b->received);
}

void job_result_divergence(const job_result *j, divergence *out)
{
    memset(out, 0, sizeof *out);
    const GPtrArray *diffs = j->verdict.diffs;
    for (guint k = 0; diffs && k < diffs->len; k++) {
        const verify_diff *d = g_ptr_array_index(diffs, k);
        uint64_t at = d->kind == DIFF_UNEXPECTED ? unexpected_at(j, d->received) : d->frame;
        /* on a tie the recorded reply goes first: it is what the target did not give */
        if (!out->first || at < out->at || (at == out->at && out->first->kind == DIFF_UNEXPECTED && d->kind != DIFF_UNEXPECTED)) {
            out->first = d;
            out->at = at;
        }
    }
    if (!out->first)
        return;
    /* replies, not fields: the differing fields of one reply are listed
       one after the other, and those of the first reply are part of it */
    for (guint k = 0; k < diffs->len; k++) {
        const verify_diff *d = g_ptr_array_index(diffs, k);
        if (same_reply(d, out->first) || (k > 0 && same_reply(d, g_ptr_array_index(diffs, k - 1))))
            continue;
        if (is_reorder(d))
            out->reordered++;
        else if (d->kind == DIFF_DIFFERENT)
            out->different++;
        else if (d->kind == DIFF_MISSING)
            out->missing++;
        else
            out->unexpected++;
    }
}

char *divergence_text(const divergence *dv)
{
    const verify_diff *d = dv->first;
    if (!d)
        return NULL;
    GString *s = g_string_new(NULL);
    if (d->kind == DIFF_DIFFERENT && is_reorder(d))
        g_string_append_printf(s, "frame %" PRIu64 " %s: reordered: recorded as %s, %s", d->frame, d->packet, d->expected,
                               d->actual);
    else if (d->kind == DIFF_DIFFERENT)
        g_string_append_printf(s, "frame %" PRIu64 " %s: %s: expected %s, actual %s", d->frame, d->packet, d->path,
                               d->expected, d->actual);
    else if (d->kind == DIFF_MISSING)
        g_string_append_printf(s, "frame %" PRIu64 " %s: missing (no such reply)", d->frame, d->packet);
    else if (dv->at != UINT64_MAX)
        g_string_append_printf(s, "unexpected reply #%" PRIu64 " (where the recording has frame %" PRIu64 "): %s",
                               d->received, dv->at, d->packet);
    else
        g_string_append_printf(s, "unexpected reply #%" PRIu64 ": %s", d->received, d->packet);
    unsigned after = dv->different + dv->missing + dv->unexpected + dv->reordered;
    if (after)
        g_string_append_printf(s, "; after it: %u different, %u missing, %u unexpected, %u reordered", dv->different,
                               dv->missing, dv->unexpected, dv->reordered);
    return g_string_free(s, FALSE);
}

void job_result_set_reason(job_result *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->reason, sizeof j->reason, fmt, ap);
    va_end(ap);
}

bool job_result_differs(const job_result *j)
{
    return j->outcome == JOB_DONE && j->verdict.different + j->verdict.missing + j->verdict.unexpected > 0;
}

bool job_result_partial(const job_result *j)
{
    return j->partial[0] && (j->outcome == JOB_DONE || j->outcome == JOB_FAILED);
}

bool results_capture_damaged(const replay_results *r)
{
    return r->capture && (r->capture->truncated || r->capture->malformed_frames);
}

int results_exit_status(const replay_results *r)
{
    bool unreachable = false, failed = false, damaged = results_capture_damaged(r), not_replayable = false;
    for (guint i = 0; i < r->jobs->len; i++) {
        const job_result *j = g_ptr_array_index(r->jobs, i);
        unreachable |= j->outcome == JOB_UNREACHABLE || j->outcome == JOB_NOT_RUN || j->outcome == JOB_PENDING;
        failed |= j->outcome == JOB_FAILED || job_result_differs(j);
        damaged |= j->outcome == JOB_SKIPPED || job_result_partial(j);
        not_replayable |= j->outcome == JOB_NOT_REPLAYABLE;
    }
    if (unreachable)
        return 3;
    if (failed)
        return 1;
    /* What the capture did not hold was not tested: never a pass. */
    if (damaged)
        return 5;
    /* Sessions the replayer could not run say nothing about the server:
       told apart from differences so CI can decide. */
    return not_replayable ? 4 : 0;
}
