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
    memset(&j->reply_frames, 0, sizeof j->reply_frames);
    j->reason = j->partial = NULL;
}

void job_result_clear(job_result *j)
{
    verify_result_free(&j->verdict);
    reply_frames_free(&j->reply_frames);
    g_free(j->reason);
    g_free(j->partial);
    j->reason = j->partial = NULL;
}

/* ------------------------------------------------------------ reply frames */

/* zigzag: a frame before the last one (not expected, but kept right) is a
 * small number too */
static uint64_t zigzag(uint64_t from, uint64_t to)
{
    int64_t d = (int64_t)(to - from);
    return ((uint64_t)d << 1) ^ (uint64_t)(d >> 63);
}

static uint64_t unzigzag(uint64_t from, uint64_t z)
{
    return from + (uint64_t)((int64_t)(z >> 1) ^ -(int64_t)(z & 1));
}

void reply_frames_append(reply_frames *rf, uint64_t frame)
{
    uint8_t bytes[10];
    unsigned n = 0;
    for (uint64_t z = zigzag(rf->last, frame);; z >>= 7) {
        bytes[n++] = (uint8_t)(z & 0x7f) | (z > 0x7f ? 0x80 : 0);
        if (z <= 0x7f)
            break;
    }
    if (rf->len + n > rf->cap) {
        /* half as much again: the room left over is at most a third */
        uint32_t cap = rf->cap < 16 ? 16 : rf->cap + rf->cap / 2;
        while (cap < rf->len + n)
            cap += cap / 2;
        rf->data = g_realloc(rf->data, cap);
        rf->cap = cap;
    }
    memcpy(rf->data + rf->len, bytes, n);
    rf->len += n;
    rf->count++;
    rf->last = frame;
}

void reply_frames_trim(reply_frames *rf)
{
    if (rf->cap > rf->len) {
        rf->data = g_realloc(rf->data, rf->len); /* g_realloc(p, 0) frees p, gives NULL */
        rf->cap = rf->len;
    }
}

void reply_frames_free(reply_frames *rf)
{
    g_free(rf->data);
    memset(rf, 0, sizeof *rf);
}

void reply_frames_begin(const reply_frames *rf, reply_frames_cursor *c)
{
    c->rf = rf;
    c->pos = c->k = 0;
    c->last = 0;
}

bool reply_frames_next(reply_frames_cursor *c, uint64_t *frame)
{
    const reply_frames *rf = c->rf;
    if (c->k >= rf->count)
        return false;
    uint64_t z = 0;
    for (unsigned shift = 0; c->pos < rf->len && shift < 64; shift += 7) {
        uint8_t b = rf->data[c->pos++];
        z |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    c->last = unzigzag(c->last, z);
    c->k++;
    *frame = c->last;
    return true;
}

uint64_t reply_frames_nth(reply_frames_cursor *c, uint32_t k)
{
    if (c->k > 0 && k == c->k - 1)
        return c->last;
    if (k < c->k)
        reply_frames_begin(c->rf, c);
    uint64_t f = c->last;
    while (c->k <= k && reply_frames_next(c, &f))
        ;
    return f;
}

/* Where an unexpected reply stands in the recording: the recorded reply
 * whose place (by arrival order) it took, or the last one. */
static uint64_t unexpected_at(reply_frames_cursor *c, uint64_t received)
{
    uint32_t n = c->rf->count;
    if (n == 0)
        return UINT64_MAX;
    return reply_frames_nth(c, received < n ? (uint32_t)received : n - 1);
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
    reply_frames_cursor c; /* unexpected replies come in arrival order: one pass */
    reply_frames_begin(&j->reply_frames, &c);
    for (guint k = 0; diffs && k < diffs->len; k++) {
        const verify_diff *d = g_ptr_array_index(diffs, k);
        uint64_t at = d->kind == DIFF_UNEXPECTED ? unexpected_at(&c, d->received) : d->frame;
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

/* NULL for an empty text: "none" has one spelling */
static void set_text(char **to, gchar *text)
{
    g_free(*to);
    *to = text && text[0] ? text : NULL;
    if (!*to)
        g_free(text);
}

void job_result_set_reasonv(job_result *j, const char *fmt, va_list ap)
{
    set_text(&j->reason, g_strdup_vprintf(fmt, ap));
}

void job_result_set_reason(job_result *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    job_result_set_reasonv(j, fmt, ap);
    va_end(ap);
}

void job_result_set_partial(job_result *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_text(&j->partial, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

void job_result_append_partial(job_result *j, const char *fmt, ...)
{
    if (!j->partial)
        return;
    va_list ap;
    va_start(ap, fmt);
    gchar *more = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    set_text(&j->partial, g_strconcat(j->partial, more, NULL));
    g_free(more);
}

bool job_result_differs(const job_result *j)
{
    return j->outcome == JOB_DONE && j->verdict.different + j->verdict.missing + j->verdict.unexpected > 0;
}

bool job_result_partial(const job_result *j)
{
    return j->partial && (j->outcome == JOB_DONE || j->outcome == JOB_FAILED);
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
