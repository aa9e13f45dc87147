/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "report_parts.h"


/* Every job is counted and listed, those never connected included: a
 * report never leaves out work that was not done. */
void report_sum_up(const replay_results *r, totals *t)
{
    memset(t, 0, sizeof *t);
    /* counted as they settled (results.h) */
    const results_counts *c = &r->sum;
    t->jobs = c->jobs + r->unsettled;
    t->ok = c->ok, t->differs = c->differs, t->failed = c->failed, t->unreachable = c->unreachable;
    t->not_replayable = c->not_replayable, t->skipped = c->skipped, t->incomplete = c->incomplete;
    t->not_run = c->not_run + r->unsettled;
    t->sent = c->sent, t->bytes = c->bytes, t->received = c->received;
    t->matched = c->matched, t->different = c->different, t->missing = c->missing, t->unexpected = c->unexpected;
    t->elapsed_s = (double)(r->t1_us - r->t0_us) / 1e6;
    /* a merge of shards: their histograms; a replay: its own */
    const latency_hist *h = r->latency_merged ? r->latency_merged : &r->latency;
    t->latencies = (size_t)h->total;
    t->p50 = latency_hist_percentile(h, 50);
    t->p90 = latency_hist_percentile(h, 90);
    t->p99 = latency_hist_percentile(h, 99);
    t->max = h->max_ms;
}

/* The latencies as the histogram a merge adds up (latency.h); the caller
 * frees it. */
static latency_hist *latency_histogram(const replay_results *r)
{
    latency_hist *h = g_new0(latency_hist, 1);
    *h = r->latency_merged ? *r->latency_merged : r->latency;
    return h;
}

bool report_capture_identify(const char *path, unsigned sessions, report_capture_id *out, hmtp_tool_error *why)
{
    memset(out, 0, sizeof *out);
    gchar *base = g_path_get_basename(path);
    g_strlcpy(out->name, base, sizeof out->name);
    g_free(base);
    out->sessions = sessions;
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        hmtp_tool_fail(why, "cannot read capture %s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return false;
    }
    out->bytes = (uint64_t)st.st_size;
    enum { PART = 1 << 20 };
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    char size_text[32];
    snprintf(size_text, sizeof size_text, "%" PRIu64 "\n", out->bytes);
    g_checksum_update(sum, (const guchar *)size_text, (gssize)strlen(size_text));
    guchar *buf = g_malloc(PART);
    bool ok = true;
    /* the first MiB, then the last one (the same bytes when the file is small) */
    for (int part = 0; part < 2 && ok; part++) {
        uint64_t from = part == 0 || out->bytes <= PART ? 0 : out->bytes - PART;
        ok = fseeko(f, (off_t)from, SEEK_SET) == 0;
        size_t got = ok ? fread(buf, 1, PART, f) : 0;
        ok = ok && !ferror(f);
        g_checksum_update(sum, buf, (gssize)got);
    }
    if (!ok)
        hmtp_tool_fail(why, "cannot read capture %s: %s", path, strerror(errno));
    else
        snprintf(out->fingerprint, sizeof out->fingerprint, "sha256:%s", g_checksum_get_string(sum));
    g_free(buf);
    g_checksum_free(sum);
    fclose(f);
    return ok;
}

/* "0,2,5-7" */
gchar *report_session_ranges(const unsigned *ids, unsigned n)
{
    GString *out = g_string_new(NULL);
    for (unsigned i = 0; i < n;) {
        unsigned j = i;
        while (j + 1 < n && ids[j + 1] == ids[j] + 1)
            j++;
        g_string_append_printf(out, "%s%u", i ? "," : "", ids[i]);
        if (j > i)
            g_string_append_printf(out, "%s%u", j == i + 1 ? "," : "-", ids[j]);
        i = j + 1;
    }
    return g_string_free(out, FALSE);
}

/* What of the file itself could not be read, one line each (none: an
 * empty list); the caller frees it with g_strfreev. */
gchar **report_capture_problems(const replay_results *r)
{
    const replay_capture_stats *st = r->capture;
    GPtrArray *lines = g_ptr_array_new();
    if (st->truncated)
        g_ptr_array_add(lines, g_strdup(st->truncated_msg));
    if (st->malformed_frames)
        g_ptr_array_add(lines, g_strdup_printf("%" PRIu64 " frame(s) could not be parsed, first at frame %" PRIu64
                                               ": %s",
                                               st->malformed_frames, st->first_malformed_frame, st->first_malformed));
    g_ptr_array_add(lines, NULL);
    return (gchar **)g_ptr_array_free(lines, FALSE);
}

const char *report_outcome_name(const job_result *j)
{
    switch (j->outcome) {
    case JOB_DONE:
        return job_result_differs(j) ? "differs" : j->partial ? "incomplete" : "ok";
    case JOB_FAILED: return "failed";
    case JOB_UNREACHABLE: return "unreachable";
    case JOB_NOT_REPLAYABLE: return "not-replayable";
    case JOB_SKIPPED: return "skipped";
    default: return "not-run";
    }
}

/* Why the job did not simply pass, or NULL. */
const char *report_job_reason(const job_result *j)
{
    if (j->reason)
        return j->reason;
    return job_result_partial(j) ? j->partial : NULL;
}

void report_job_label(const job_result *j, char *out, size_t len)
{
    int n = snprintf(out, len, "%u", j->session);
    if (j->copy && n > 0 && (size_t)n < len)
        n += snprintf(out + n, len - (size_t)n, ".c%u", j->copy);
    if (j->loop && n > 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n, ".l%u", j->loop);
}

static void text_details(const replay_results *r, FILE *out)
{
    bool header = false;
    results_cursor c;
    results_cursor_begin(r, &c);
    for (const job_result *j; (j = results_cursor_next(&c));) {
        char label[32];
        report_job_label(j, label, sizeof label);
        const char *why = report_job_reason(j);
        if (!why && verify_diff_count(&j->verdict) == 0)
            continue;
        if (!header) {
            fprintf(out, "differences:\n");
            header = true;
        }
        if (why)
            fprintf(out, "  session %s: %s: %s\n", label, report_outcome_name(j), why);
        if (job_result_partial(j) && j->reason)
            fprintf(out, "  session %s: %s\n", label, j->partial);
        divergence dv;
        job_result_divergence(j, &dv);
        char *first = divergence_text(&dv);
        if (first)
            fprintf(out, "  session %s: first divergence: %s\n", label, first);
        g_free(first);
        for (guint k = 0; k < verify_diff_count(&j->verdict); k++) {
            const verify_diff *d = verify_diff_at(&j->verdict, k);
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
    results_cursor_end(&c);
}

void report_text(const replay_results *r, const report_context *ctx, FILE *out)
{
    totals t;
    report_sum_up(r, &t);
    fprintf(out, "hmtp-replay: %u session run(s) of %s against %s, %s pace\n", t.jobs, ctx->capture, ctx->target,
            ctx->pace);
    if (ctx->shard) {
        const report_shard *sh = ctx->shard;
        gchar *ids = report_session_ranges(sh->sessions, sh->n_sessions);
        if (sh->n_sessions)
            fprintf(out, "shard %u/%u: %u of the capture's %u sessions: %s\n", sh->k, sh->n, sh->n_sessions,
                    ctx->id ? ctx->id->sessions : 0, ids);
        else
            fprintf(out, "shard %u/%u: no session of the capture's %u falls in this shard: nothing to replay\n",
                    sh->k, sh->n, ctx->id ? ctx->id->sessions : 0);
        g_free(ids);
    }
    if (ctx->merged)
        fprintf(out, "merged from %u shard reports (elapsed: the slowest shard; latency percentiles within 1%%)\n",
                ctx->merged);
    gchar **problems = report_capture_problems(r);
    for (gchar **l = problems; *l; l++)
        fprintf(out, "capture damaged: %s\n", *l);
    g_strfreev(problems);
    fprintf(out, "%-10s %-24s %6s %7s %7s %9s %7s %10s  %s\n", "session", "recorded client", "sent", "replies",
            "matched", "different", "missing", "unexpected", "result");
    results_cursor c;
    results_cursor_begin(r, &c);
    for (const job_result *j; (j = results_cursor_next(&c));) {
        char label[32];
        report_job_label(j, label, sizeof label);
        fprintf(out, "%-10s %-24s %6" PRIu64 " %7" PRIu64 " %7u %9u %7u %10u  %s\n", label, j->client,
                j->packets_sent, j->received, j->verdict.matched, j->verdict.different, j->verdict.missing,
                j->verdict.unexpected, report_outcome_name(j));
    }
    results_cursor_end(&c);
    fprintf(out, "%-10s %-24s %6" PRIu64 " %7" PRIu64 " %7u %9u %7u %10u  %u/%u ok\n", "total", "", t.sent, t.received,
            t.matched, t.different, t.missing, t.unexpected, t.ok, t.jobs);
    fprintf(out, "latency ms (reply after the last packet sent): p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  (%zu replies)\n",
            t.p50, t.p90, t.p99, t.max, t.latencies);
    double secs = t.elapsed_s > 0 ? t.elapsed_s : 1e-9;
    fprintf(out, "sent %" PRIu64 " packets, %" PRIu64 " bytes in %.3f s: %.0f packets/s, %.2f MB/s\n", t.sent, t.bytes,
            t.elapsed_s, (double)t.sent / secs, (double)t.bytes / secs / 1e6);
    text_details(r, out);
}

static void json_str(hmtp_buf *b, const char *s)
{
    if (s)
        hmtp_json_string(b, s, strlen(s));
    else
        hmtp_buf_printf(b, "null");
}

bool report_file_open(report_file *o, const char *path)
{
    hmtp_buf_init(&o->b);
    o->err = 0;
    o->f = fopen(path, "w");
    return o->f != NULL;
}

static void report_file_write(report_file *o)
{
    if (!o->err && o->b.failed)
        o->err = ENOMEM;
    if (!o->err && o->b.len && fwrite(o->b.data, 1, o->b.len, o->f) != o->b.len)
        o->err = errno ? errno : EIO;
    hmtp_buf_reset(&o->b);
}

void report_file_spill(report_file *o)
{
    if (o->b.len >= REPORT_SPILL || o->b.failed)
        report_file_write(o);
}

bool report_file_close(report_file *o)
{
    errno = 0;
    report_file_write(o);
    if (fclose(o->f) != 0 && !o->err)
        o->err = errno ? errno : EIO;
    hmtp_buf_free(&o->b);
    errno = o->err;
    return o->err == 0;
}

static void json_diffs(hmtp_buf *b, const job_result *j)
{
    static const char *const kinds[] = {"different", "missing", "unexpected"};
    for (guint k = 0; k < verify_diff_count(&j->verdict); k++) {
        const verify_diff *d = verify_diff_at(&j->verdict, k);
        hmtp_buf_printf(b, "%s{\"kind\":\"%s\",\"frame\":%" PRIu64 ",\"received\":%" PRIu64 ",\"packet\":",
                        k ? "," : "", kinds[d->kind], d->frame, d->received);
        json_str(b, d->packet);
        hmtp_buf_printf(b, ",\"path\":");
        json_str(b, d->path);
        /* expected/actual are JSON already */
        hmtp_buf_printf(b, ",\"expected\":%s,\"actual\":%s}", d->expected ? d->expected : "null",
                        d->actual ? d->actual : "null");
    }
}

/* The first difference in capture order (results.h), or null: what a
 * person, a CI and the Wireshark plugin look at first. */
static void json_divergence(hmtp_buf *b, const job_result *j)
{
    static const char *const kinds[] = {"different", "missing", "unexpected"};
    divergence dv;
    job_result_divergence(j, &dv);
    const verify_diff *d = dv.first;
    if (!d) {
        hmtp_buf_printf(b, "null");
        return;
    }
    bool reordered = d->kind == DIFF_DIFFERENT && d->path && strcmp(d->path, "order") == 0;
    hmtp_buf_printf(b, "{\"kind\":\"%s\",\"frame\":", reordered ? "reordered" : kinds[d->kind]);
    if (d->kind == DIFF_UNEXPECTED)
        hmtp_buf_printf(b, "null");
    else
        hmtp_buf_printf(b, "%" PRIu64, d->frame);
    /* where it stands in the capture: an unexpected reply takes the place of a recorded one */
    if (dv.at == UINT64_MAX)
        hmtp_buf_printf(b, ",\"at_frame\":null");
    else
        hmtp_buf_printf(b, ",\"at_frame\":%" PRIu64, dv.at);
    hmtp_buf_printf(b, ",\"received\":%" PRIu64 ",\"type\":", d->received);
    /* the packet text starts with the type name, unless it did not decode */
    const char *sp = d->packet ? strchr(d->packet, ' ') : NULL;
    gchar *type = d->packet && !g_str_has_prefix(d->packet, "undecodable")
                      ? g_strndup(d->packet, sp ? (gsize)(sp - d->packet) : strlen(d->packet))
                      : NULL;
    json_str(b, type);
    g_free(type);
    hmtp_buf_printf(b, ",\"packet\":");
    json_str(b, d->packet);
    hmtp_buf_printf(b, ",\"path\":");
    json_str(b, d->path);
    hmtp_buf_printf(b, ",\"expected\":%s,\"actual\":%s,\"text\":", d->expected ? d->expected : "null",
                    d->actual ? d->actual : "null");
    char *text = divergence_text(&dv);
    json_str(b, text);
    g_free(text);
    hmtp_buf_printf(b, ",\"after\":{\"different\":%u,\"missing\":%u,\"unexpected\":%u,\"reordered\":%u}}",
                    dv.different, dv.missing, dv.unexpected, dv.reordered);
}

bool report_json(const replay_results *r, const report_context *ctx, const char *path)
{
    totals t;
    report_sum_up(r, &t);
    report_file out;
    if (!report_file_open(&out, path))
        return false;
    hmtp_buf *b = &out.b;
    hmtp_buf_printf(b, "{\"capture\":");
    json_str(b, ctx->capture);
    hmtp_buf_printf(b, ",\"target\":");
    json_str(b, ctx->target);
    hmtp_buf_printf(b, ",\"pace\":");
    json_str(b, ctx->pace);
    if (ctx->id) {
        hmtp_buf_printf(b, ",\"capture_id\":{\"name\":");
        json_str(b, ctx->id->name);
        hmtp_buf_printf(b, ",\"bytes\":%" PRIu64 ",\"sessions\":%u,\"fingerprint\":", ctx->id->bytes,
                        ctx->id->sessions);
        json_str(b, ctx->id->fingerprint);
        hmtp_buf_printf(b, "}");
    }
    if (ctx->shard) {
        const report_shard *sh = ctx->shard;
        hmtp_buf_printf(b, ",\"shard\":{\"k\":%u,\"n\":%u,\"sessions\":[", sh->k, sh->n);
        for (unsigned i = 0; i < sh->n_sessions; i++)
            hmtp_buf_printf(b, "%s%u", i ? "," : "", sh->sessions[i]);
        hmtp_buf_printf(b, "],\"notes\":[");
        for (const char *const *l = sh->notes; l && *l; l++) {
            hmtp_buf_printf(b, "%s", l == sh->notes ? "" : ",");
            json_str(b, *l);
        }
        hmtp_buf_printf(b, "]}");
    }
    if (ctx->merged)
        hmtp_buf_printf(b, ",\"merged_shards\":%u", ctx->merged);
    if (ctx->preflight) {
        hmtp_buf_printf(b, ",\"preflight\":{\"exit_status\":%d,\"verdict\":", ctx->preflight->exit_status);
        json_str(b, ctx->preflight->verdict);
        hmtp_buf_printf(b, ",\"text\":");
        json_str(b, ctx->preflight->text);
        hmtp_buf_printf(b, "}");
    }
    /* the reader's own account, so that a merge reports the same problems */
    const replay_capture_stats *st = r->capture;
    hmtp_buf_printf(b, ",\"capture_read\":{\"truncated\":");
    json_str(b, st->truncated ? st->truncated_msg : NULL);
    hmtp_buf_printf(b, ",\"malformed_frames\":%" PRIu64 ",\"first_malformed_frame\":%" PRIu64
                        ",\"first_malformed\":", st->malformed_frames, st->first_malformed_frame);
    json_str(b, st->malformed_frames ? st->first_malformed : NULL);
    hmtp_buf_printf(b, "}");
    hmtp_buf_printf(b, ",\"capture_problems\":[");
    gchar **problems = report_capture_problems(r);
    for (gchar **l = problems; *l; l++) {
        hmtp_buf_printf(b, "%s", l == problems ? "" : ",");
        json_str(b, *l);
    }
    g_strfreev(problems);
    double secs = t.elapsed_s > 0 ? t.elapsed_s : 1e-9;
    hmtp_buf_printf(b,
                    "],\"summary\":{\"sessions\":%u,\"ok\":%u,\"differs\":%u,\"failed\":%u,\"unreachable\":%u,"
                    "\"not_replayable\":%u,\"skipped\":%u,\"incomplete\":%u,\"not_run\":%u,\"capture_damaged\":%s,"
                    "\"packets_sent\":%" PRIu64 ",\"bytes_sent\":%" PRIu64 ",\"replies\":%" PRIu64
                    ",\"matched\":%u,\"different\":%u,\"missing\":%u,\"unexpected\":%u,"
                    "\"latency_ms\":{\"p50\":%.6f,\"p90\":%.6f,\"p99\":%.6f,\"max\":%.6f,\"count\":%zu,",
                    t.jobs, t.ok, t.differs, t.failed, t.unreachable, t.not_replayable, t.skipped, t.incomplete,
                    t.not_run, results_capture_damaged(r) ? "true" : "false", t.sent, t.bytes, t.received, t.matched,
                    t.different, t.missing, t.unexpected, t.p50, t.p90, t.p99, t.max, t.latencies);
    /* the histogram a merge adds up: [bucket, count] where count > 0 */
    latency_hist *h = latency_histogram(r);
    hmtp_buf_printf(b, "\"histogram\":{\"base_ms\":%g,\"growth\":%g,\"max_ms\":%.17g,\"buckets\":[",
                    LATENCY_BASE_MS, LATENCY_GROWTH, h->max_ms);
    bool first = true;
    for (unsigned i = 0; i < LATENCY_BUCKETS; i++) {
        if (!h->count[i])
            continue;
        hmtp_buf_printf(b, "%s[%u,%" PRIu64 "]", first ? "" : ",", i, h->count[i]);
        first = false;
    }
    g_free(h);
    hmtp_buf_printf(b, "]}},\"elapsed_s\":%.6f,\"packets_per_s\":%.3f,\"mb_per_s\":%.6f,\"exit_status\":%d},"
                        "\"sessions\":[",
                    t.elapsed_s, (double)t.sent / secs, (double)t.bytes / secs / 1e6, results_exit_status(r));
    results_cursor runs;
    results_cursor_begin(r, &runs);
    for (const job_result *j; (j = results_cursor_next(&runs));) {
        hmtp_buf_printf(b, "%s{\"session\":%u,\"copy\":%u,\"loop\":%u,\"client\":", j->run ? "," : "", j->session,
                        j->copy, j->loop);
        json_str(b, j->client);
        hmtp_buf_printf(b, ",\"jid\":");
        json_str(b, j->jid);
        hmtp_buf_printf(b, ",\"result\":\"%s\",\"reason\":", report_outcome_name(j));
        json_str(b, report_job_reason(j));
        hmtp_buf_printf(b, ",\"incomplete\":");
        json_str(b, job_result_partial(j) ? j->partial : NULL);
        hmtp_buf_printf(b,
                        ",\"sent\":%" PRIu64 ",\"bytes_sent\":%" PRIu64 ",\"replies\":%" PRIu64
                        ",\"matched\":%u,\"different\":%u,\"missing\":%u,\"unexpected\":%u,\"differences\":[",
                        j->packets_sent, j->bytes_sent, j->received, j->verdict.matched, j->verdict.different, j->verdict.missing,
                        j->verdict.unexpected);
        json_diffs(b, j);
        hmtp_buf_printf(b, "],\"reply_frames\":[");
        reply_frames_cursor c;
        reply_frames_begin(&j->reply_frames, &c);
        uint64_t frame;
        for (unsigned k = 0; reply_frames_next(&c, &frame); k++)
            hmtp_buf_printf(b, "%s%" PRIu64, k ? "," : "", frame);
        hmtp_buf_printf(b, "],\"first_divergence\":");
        json_divergence(b, j);
        hmtp_buf_printf(b, "}");
        report_file_spill(&out);
    }
    results_cursor_end(&runs);
    hmtp_buf_printf(b, "]}\n");
    return report_file_close(&out);
}
