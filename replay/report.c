/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

typedef struct totals {
    unsigned jobs, ok, failed, unreachable, not_replayable;
    uint64_t sent, bytes, received;
    unsigned matched, different, missing, unexpected;
    double p50, p90, p99, max;
    size_t latencies;
    double elapsed_s;
} totals;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)ceil(p / 100.0 * (double)n);
    return sorted[i == 0 ? 0 : i - 1];
}

static void sum_up(const replay_engine *e, totals *t)
{
    memset(t, 0, sizeof *t);
    for (guint i = 0; i < e->jobs->len; i++) {
        const replay_job *j = g_ptr_array_index(e->jobs, i);
        if (!j->started)
            continue;
        t->jobs++;
        t->failed += j->outcome == JOB_FAILED;
        t->unreachable += j->outcome == JOB_UNREACHABLE;
        t->not_replayable += j->outcome == JOB_NOT_REPLAYABLE;
        t->sent += j->packets_sent;
        t->bytes += j->bytes_sent;
        t->received += j->received_all;
        t->matched += j->result.matched;
        t->different += j->result.different;
        t->missing += j->result.missing;
        t->unexpected += j->result.unexpected;
        t->ok += j->outcome == JOB_DONE && j->result.different + j->result.missing + j->result.unexpected == 0;
    }
    size_t n = e->latency_ms->len;
    double *sorted = g_memdup2(e->latency_ms->data, n * sizeof(double));
    if (n)
        qsort(sorted, n, sizeof(double), cmp_double);
    t->latencies = n;
    t->p50 = percentile(sorted, n, 50);
    t->p90 = percentile(sorted, n, 90);
    t->p99 = percentile(sorted, n, 99);
    t->max = n ? sorted[n - 1] : 0;
    g_free(sorted);
    t->elapsed_s = (double)(e->t1_us - e->t0_us) / 1e6;
}

int report_exit_status(const replay_engine *e)
{
    totals t;
    sum_up(e, &t);
    if (t.unreachable)
        return 3;
    if (t.ok + t.not_replayable < t.jobs)
        return 1;
    /* Sessions the replayer could not run say nothing about the server:
       told apart from differences so CI can decide. */
    return t.not_replayable ? 4 : 0;
}

static const char *outcome_name(const replay_job *j)
{
    switch (j->outcome) {
    case JOB_DONE:
        return j->result.different + j->result.missing + j->result.unexpected ? "differs" : "ok";
    case JOB_FAILED: return "failed";
    case JOB_UNREACHABLE: return "unreachable";
    case JOB_NOT_REPLAYABLE: return "not-replayable";
    default: return "not-run";
    }
}

static void job_label(const replay_job *j, char *out, size_t len)
{
    int n = snprintf(out, len, "%u", j->rec->info.id);
    if (j->copy && n > 0 && (size_t)n < len)
        n += snprintf(out + n, len - (size_t)n, ".c%u", j->copy);
    if (j->loop && n > 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n, ".l%u", j->loop);
}

void report_text(const replay_engine *e, const report_context *ctx, FILE *out)
{
    totals t;
    sum_up(e, &t);
    fprintf(out, "hmtp-replay: %u session run(s) of %s against %s, %s pace\n", t.jobs, ctx->capture, ctx->target,
            ctx->pace);
    if (e->notes->len)
        fprintf(out, "%s", e->notes->str);
    fprintf(out, "%-10s %-24s %6s %7s %7s %9s %7s %10s  %s\n", "session", "recorded client", "sent", "replies",
            "matched", "different", "missing", "unexpected", "result");
    for (guint i = 0; i < e->jobs->len; i++) {
        const replay_job *j = g_ptr_array_index(e->jobs, i);
        if (!j->started)
            continue;
        char label[32];
        job_label(j, label, sizeof label);
        fprintf(out, "%-10s %-24s %6" PRIu64 " %7" PRIu64 " %7u %9u %7u %10u  %s\n", label, j->rec->info.client,
                j->packets_sent, j->received_all, j->result.matched, j->result.different, j->result.missing,
                j->result.unexpected, outcome_name(j));
    }
    fprintf(out, "%-10s %-24s %6" PRIu64 " %7" PRIu64 " %7u %9u %7u %10u  %u/%u ok\n", "total", "", t.sent, t.received,
            t.matched, t.different, t.missing, t.unexpected, t.ok, t.jobs);
    fprintf(out, "latency ms (reply after the last packet sent): p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  (%zu replies)\n",
            t.p50, t.p90, t.p99, t.max, t.latencies);
    double secs = t.elapsed_s > 0 ? t.elapsed_s : 1e-9;
    fprintf(out, "sent %" PRIu64 " packets, %" PRIu64 " bytes in %.3f s: %.0f packets/s, %.2f MB/s\n", t.sent, t.bytes,
            t.elapsed_s, (double)t.sent / secs, (double)t.bytes / secs / 1e6);
    bool header = false;
    for (guint i = 0; i < e->jobs->len; i++) {
        const replay_job *j = g_ptr_array_index(e->jobs, i);
        char label[32];
        job_label(j, label, sizeof label);
        if (!j->started || (j->outcome == JOB_DONE && j->result.diffs->len == 0))
            continue;
        if (!header) {
            fprintf(out, "differences:\n");
            header = true;
        }
        if (j->outcome == JOB_FAILED || j->outcome == JOB_UNREACHABLE)
            fprintf(out, "  session %s: %s: %s\n", label, outcome_name(j), j->reason);
        for (guint k = 0; k < j->result.diffs->len; k++) {
            const verify_diff *d = g_ptr_array_index(j->result.diffs, k);
            switch (d->kind) {
            case DIFF_DIFFERENT:
                fprintf(out, "  session %s frame %" PRIu64 " %s: %s: expected %s, actual %s\n", label, d->frame,
                        d->packet, d->path, d->expected, d->actual);
                break;
            case DIFF_MISSING:
                fprintf(out, "  session %s frame %" PRIu64 " %s: missing (no such reply)\n", label, d->frame, d->packet);
                break;
            case DIFF_UNEXPECTED:
                fprintf(out, "  session %s: unexpected reply #%" PRIu64 ": %s\n", label, d->received, d->packet);
                break;
            }
        }
    }
}

static void json_str(hmtp_buf *b, const char *s)
{
    if (s)
        hmtp_json_string(b, s, strlen(s));
    else
        hmtp_buf_printf(b, "null");
}

static bool write_file(const char *path, const hmtp_buf *b)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    bool ok = fwrite(b->data, 1, b->len, f) == b->len;
    return (fclose(f) == 0) && ok;
}

bool report_json(const replay_engine *e, const report_context *ctx, const char *path)
{
    totals t;
    sum_up(e, &t);
    hmtp_buf b;
    hmtp_buf_init(&b);
    hmtp_buf_printf(&b, "{\"capture\":");
    json_str(&b, ctx->capture);
    hmtp_buf_printf(&b, ",\"target\":");
    json_str(&b, ctx->target);
    hmtp_buf_printf(&b, ",\"pace\":");
    json_str(&b, ctx->pace);
    double secs = t.elapsed_s > 0 ? t.elapsed_s : 1e-9;
    hmtp_buf_printf(&b,
                    ",\"summary\":{\"sessions\":%u,\"ok\":%u,\"failed\":%u,\"unreachable\":%u,\"not_replayable\":%u,\"skipped\":%u,"
                    "\"packets_sent\":%" PRIu64 ",\"bytes_sent\":%" PRIu64 ",\"replies\":%" PRIu64
                    ",\"matched\":%u,\"different\":%u,\"missing\":%u,\"unexpected\":%u,"
                    "\"latency_ms\":{\"p50\":%.6f,\"p90\":%.6f,\"p99\":%.6f,\"max\":%.6f,\"count\":%zu},"
                    "\"elapsed_s\":%.6f,\"packets_per_s\":%.3f,\"mb_per_s\":%.6f,\"exit_status\":%d},\"sessions\":[",
                    t.jobs, t.ok, t.failed, t.unreachable, t.not_replayable, e->skipped, t.sent, t.bytes, t.received, t.matched,
                    t.different, t.missing, t.unexpected, t.p50, t.p90, t.p99, t.max, t.latencies, t.elapsed_s,
                    (double)t.sent / secs, (double)t.bytes / secs / 1e6, report_exit_status(e));
    bool first = true;
    for (guint i = 0; i < e->jobs->len; i++) {
        const replay_job *j = g_ptr_array_index(e->jobs, i);
        if (!j->started)
            continue;
        hmtp_buf_printf(&b, "%s{\"session\":%u,\"copy\":%u,\"loop\":%u,\"client\":", first ? "" : ",", j->rec->info.id,
                        j->copy, j->loop);
        first = false;
        json_str(&b, j->rec->info.client);
        hmtp_buf_printf(&b, ",\"result\":\"%s\",\"reason\":", outcome_name(j));
        json_str(&b, j->reason[0] ? j->reason : NULL);
        hmtp_buf_printf(&b,
                        ",\"sent\":%" PRIu64 ",\"replies\":%" PRIu64
                        ",\"matched\":%u,\"different\":%u,\"missing\":%u,\"unexpected\":%u,\"differences\":[",
                        j->packets_sent, j->received_all, j->result.matched, j->result.different, j->result.missing,
                        j->result.unexpected);
        for (guint k = 0; k < j->result.diffs->len; k++) {
            const verify_diff *d = g_ptr_array_index(j->result.diffs, k);
            static const char *const kinds[] = {"different", "missing", "unexpected"};
            hmtp_buf_printf(&b, "%s{\"kind\":\"%s\",\"frame\":%" PRIu64 ",\"packet\":", k ? "," : "", kinds[d->kind],
                            d->frame);
            json_str(&b, d->packet);
            hmtp_buf_printf(&b, ",\"path\":");
            json_str(&b, d->path);
            /* expected/actual are JSON already */
            hmtp_buf_printf(&b, ",\"expected\":%s,\"actual\":%s}", d->expected ? d->expected : "null",
                            d->actual ? d->actual : "null");
        }
        hmtp_buf_printf(&b, "]}");
    }
    hmtp_buf_printf(&b, "]}\n");
    bool ok = !b.failed && write_file(path, &b);
    hmtp_buf_free(&b);
    return ok;
}

static void xml_text(hmtp_buf *b, const char *s)
{
    for (; s && *s; s++) {
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
}

bool report_junit(const replay_engine *e, const report_context *ctx, const char *path)
{
    totals t;
    sum_up(e, &t);
    hmtp_buf b;
    hmtp_buf_init(&b);
    hmtp_buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"hmtp-replay ");
    xml_text(&b, ctx->capture);
    hmtp_buf_printf(&b, "\" tests=\"%u\" failures=\"%u\" errors=\"%u\" skipped=\"%u\" time=\"%.3f\">\n", t.jobs,
                    t.jobs - t.ok - t.failed - t.unreachable - t.not_replayable, t.failed + t.unreachable,
                    t.not_replayable, t.elapsed_s);
    for (guint i = 0; i < e->jobs->len; i++) {
        const replay_job *j = g_ptr_array_index(e->jobs, i);
        if (!j->started)
            continue;
        char label[32];
        job_label(j, label, sizeof label);
        hmtp_buf_printf(&b, "  <testcase classname=\"hmtp-replay\" name=\"session %s (", label);
        xml_text(&b, j->rec->info.client);
        hmtp_buf_printf(&b, ")\">");
        const char *name = outcome_name(j);
        if (j->outcome == JOB_NOT_REPLAYABLE) {
            hmtp_buf_printf(&b, "\n    <skipped message=\"not replayable: ");
            xml_text(&b, j->reason);
            hmtp_buf_printf(&b, "\"/>\n  ");
        } else if (strcmp(name, "ok") != 0) {
            bool error = j->outcome != JOB_DONE;
            hmtp_buf_printf(&b, "\n    <%s message=\"", error ? "error" : "failure");
            if (error)
                xml_text(&b, j->reason);
            else
                hmtp_buf_printf(&b, "%u different, %u missing, %u unexpected", j->result.different,
                                j->result.missing, j->result.unexpected);
            hmtp_buf_printf(&b, "\">");
            for (guint k = 0; k < j->result.diffs->len; k++) {
                const verify_diff *d = g_ptr_array_index(j->result.diffs, k);
                char line[1024];
                if (d->kind == DIFF_DIFFERENT)
                    snprintf(line, sizeof line, "frame %" PRIu64 " %s: %s: expected %s, actual %s\n", d->frame,
                             d->packet, d->path, d->expected, d->actual);
                else if (d->kind == DIFF_MISSING)
                    snprintf(line, sizeof line, "frame %" PRIu64 " %s: missing\n", d->frame, d->packet);
                else
                    snprintf(line, sizeof line, "unexpected: %s\n", d->packet);
                xml_text(&b, line);
            }
            hmtp_buf_printf(&b, "</%s>\n  ", error ? "error" : "failure");
        }
        hmtp_buf_printf(&b, "</testcase>\n");
    }
    hmtp_buf_printf(&b, "</testsuite>\n");
    bool ok = !b.failed && write_file(path, &b);
    hmtp_buf_free(&b);
    return ok;
}
