/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "results.h"

#include <stdarg.h>
#include <stdio.h>

void replay_results_init(replay_results *r, const replay_capture_stats *capture)
{
    r->jobs = g_ptr_array_new();
    r->latency_ms = g_array_new(FALSE, FALSE, sizeof(double));
    r->latency_merged = NULL;
    r->t0_us = r->t1_us = 0;
    r->capture = capture;
}

void replay_results_free(replay_results *r)
{
    for (guint i = 0; i < r->jobs->len; i++) {
        job_result *j = g_ptr_array_index(r->jobs, i);
        verify_result_free(&j->verdict);
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
    verify_result_init(&j->verdict);
    g_ptr_array_add(r->jobs, j);
    return j;
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
