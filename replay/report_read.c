/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report_read.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct reader {
    const char *file;
    hmtp_tool_error *why;
    bool failed;
} reader;

static G_GNUC_PRINTF(2, 3) void fail(reader *rd, const char *fmt, ...)
{
    if (rd->failed)
        return;
    rd->failed = true;
    char detail[HMTP_TOOL_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    hmtp_tool_fail(rd->why, "%s: not a report of hmtp-replay: %s", rd->file, detail);
}

static JsonNode *member(reader *rd, JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    if (!n)
        fail(rd, "no member \"%s\"", name);
    return n;
}

/* The member if it is of `type` (else NULL, after failing). */
static JsonNode *member_of(reader *rd, JsonObject *o, const char *name, JsonNodeType type, const char *what)
{
    JsonNode *n = member(rd, o, name);
    if (n && JSON_NODE_TYPE(n) != type) {
        fail(rd, "\"%s\" is not %s", name, what);
        return NULL;
    }
    return n;
}

static JsonObject *get_object(reader *rd, JsonObject *o, const char *name)
{
    JsonNode *n = member_of(rd, o, name, JSON_NODE_OBJECT, "an object");
    return n ? json_node_get_object(n) : NULL;
}

static JsonArray *get_array(reader *rd, JsonObject *o, const char *name)
{
    JsonNode *n = member_of(rd, o, name, JSON_NODE_ARRAY, "an array");
    return n ? json_node_get_array(n) : NULL;
}

/* A string or null (NULL); "" when missing, after failing. */
static const char *get_str(reader *rd, JsonObject *o, const char *name)
{
    JsonNode *n = member(rd, o, name);
    if (!n || JSON_NODE_HOLDS_NULL(n))
        return NULL;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        fail(rd, "\"%s\" is not a string", name);
        return NULL;
    }
    return json_node_get_string(n);
}

static uint64_t node_uint(reader *rd, JsonNode *n, const char *name)
{
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 || json_node_get_int(n) < 0) {
        fail(rd, "\"%s\" is not a count", name);
        return 0;
    }
    return (uint64_t)json_node_get_int(n);
}

static uint64_t get_uint(reader *rd, JsonObject *o, const char *name)
{
    JsonNode *n = member(rd, o, name);
    return n ? node_uint(rd, n, name) : 0;
}

static double get_double(reader *rd, JsonObject *o, const char *name)
{
    JsonNode *n = member(rd, o, name);
    if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_DOUBLE)
        return json_node_get_double(n);
    if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64)
        return (double)json_node_get_int(n);
    if (n)
        fail(rd, "\"%s\" is not a number", name);
    return 0;
}

static void copy_str(char *dst, size_t len, const char *src) { g_strlcpy(dst, src ? src : "", len); }

static job_outcome outcome_from(reader *rd, const char *name)
{
    static const struct { const char *name; job_outcome o; } names[] = {
        {"ok", JOB_DONE}, {"differs", JOB_DONE}, {"incomplete", JOB_DONE}, {"failed", JOB_FAILED},
        {"unreachable", JOB_UNREACHABLE}, {"not-replayable", JOB_NOT_REPLAYABLE}, {"skipped", JOB_SKIPPED},
        {"not-run", JOB_NOT_RUN},
    };
    for (size_t i = 0; name && i < G_N_ELEMENTS(names); i++)
        if (strcmp(name, names[i].name) == 0)
            return names[i].o;
    fail(rd, "a session's result \"%s\" is not one hmtp-replay writes", name ? name : "null");
    return JOB_NOT_RUN;
}

static char *json_text_or_null(JsonNode *n)
{
    return n && !JSON_NODE_HOLDS_NULL(n) ? json_to_string(n, FALSE) : NULL;
}

static void read_diff(reader *rd, JsonObject *o, verify_result *v)
{
    static const char *const kinds[] = {"different", "missing", "unexpected"};
    const char *kind = get_str(rd, o, "kind");
    verify_diff *d = g_new0(verify_diff, 1);
    d->kind = DIFF_DIFFERENT;
    bool known = false;
    for (int k = 0; kind && k < 3; k++)
        if (strcmp(kind, kinds[k]) == 0)
            d->kind = (diff_kind)k, known = true;
    if (!known)
        fail(rd, "a difference of kind \"%s\"", kind ? kind : "null");
    d->frame = get_uint(rd, o, "frame");
    d->received = get_uint(rd, o, "received");
    d->packet = g_strdup(get_str(rd, o, "packet"));
    d->path = g_strdup(get_str(rd, o, "path"));
    d->expected = json_text_or_null(member(rd, o, "expected"));
    d->actual = json_text_or_null(member(rd, o, "actual"));
    verify_result_add(v, d);
}

static void read_job(reader *rd, read_report *out, JsonObject *o)
{
    job_result *j = g_new0(job_result, 1);
    job_result_init(j);
    g_ptr_array_add(out->jobs, j);
    j->session = (unsigned)get_uint(rd, o, "session");
    j->copy = (unsigned)get_uint(rd, o, "copy");
    j->loop = (unsigned)get_uint(rd, o, "loop");
    char *client = g_strdup(get_str(rd, o, "client"));
    g_ptr_array_add(out->strings, client);
    j->client = client ? client : "";
    /* younger members: a report without them still merges */
    if (json_object_has_member(o, "jid")) {
        char *jid = g_strdup(get_str(rd, o, "jid"));
        g_ptr_array_add(out->strings, jid);
        j->jid = jid;
    }
    JsonArray *frames = json_object_has_member(o, "reply_frames") ? get_array(rd, o, "reply_frames") : NULL;
    for (guint i = 0; frames && i < json_array_get_length(frames); i++) {
        uint64_t f = node_uint(rd, json_array_get_element(frames, i), "reply_frames");
        reply_frames_append(&j->reply_frames, f);
    }
    reply_frames_trim(&j->reply_frames);
    j->done = true;
    j->outcome = outcome_from(rd, get_str(rd, o, "result"));
    const char *reason = get_str(rd, o, "reason"), *partial = get_str(rd, o, "incomplete");
    if (partial)
        job_result_set_partial(j, "%s", partial);
    /* the writer names a partial run's reason after the partial text when
       there is no other: that is no reason of its own */
    if (reason && !(partial && strcmp(reason, partial) == 0))
        job_result_set_reason(j, "%s", reason);
    j->packets_sent = get_uint(rd, o, "sent");
    j->bytes_sent = get_uint(rd, o, "bytes_sent");
    j->received = get_uint(rd, o, "replies");
    j->verdict.matched = (unsigned)get_uint(rd, o, "matched");
    j->verdict.different = (unsigned)get_uint(rd, o, "different");
    j->verdict.missing = (unsigned)get_uint(rd, o, "missing");
    j->verdict.unexpected = (unsigned)get_uint(rd, o, "unexpected");
    JsonArray *diffs = get_array(rd, o, "differences");
    for (guint i = 0; diffs && i < json_array_get_length(diffs) && !rd->failed; i++) {
        JsonNode *n = json_array_get_element(diffs, i);
        if (!JSON_NODE_HOLDS_OBJECT(n))
            fail(rd, "%s", "a difference is not an object");
        else
            read_diff(rd, json_node_get_object(n), &j->verdict);
    }
}

static void read_latency(reader *rd, read_report *out, JsonObject *summary)
{
    JsonObject *lat = get_object(rd, summary, "latency_ms");
    JsonObject *h = get_object(rd, lat, "histogram");
    if (rd->failed)
        return;
    if (fabs(get_double(rd, h, "base_ms") - LATENCY_BASE_MS) > 1e-12 ||
        fabs(get_double(rd, h, "growth") - LATENCY_GROWTH) > 1e-12) {
        fail(rd, "%s", "its latency histogram has other buckets than this hmtp-replay's");
        return;
    }
    out->latency->max_ms = get_double(rd, h, "max_ms");
    JsonArray *buckets = get_array(rd, h, "buckets");
    for (guint i = 0; buckets && i < json_array_get_length(buckets) && !rd->failed; i++) {
        JsonNode *n = json_array_get_element(buckets, i);
        JsonArray *pair = JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
        if (!pair || json_array_get_length(pair) != 2) {
            fail(rd, "%s", "a latency bucket is not [bucket, count]");
            return;
        }
        uint64_t b = node_uint(rd, json_array_get_element(pair, 0), "bucket");
        uint64_t c = node_uint(rd, json_array_get_element(pair, 1), "count");
        if (b >= LATENCY_BUCKETS) {
            fail(rd, "%s", "a latency bucket is out of range");
            return;
        }
        out->latency->count[b] += c;
        out->latency->total += c;
    }
    if (!rd->failed && out->latency->total != get_uint(rd, lat, "count"))
        fail(rd, "%s", "its latency histogram does not hold \"count\" replies");
}

static void read_root(reader *rd, read_report *out, JsonObject *root)
{
    out->capture = g_strdup(get_str(rd, root, "capture"));
    out->target = g_strdup(get_str(rd, root, "target"));
    out->pace = g_strdup(get_str(rd, root, "pace"));
    JsonObject *id = json_object_has_member(root, "capture_id") ? get_object(rd, root, "capture_id") : NULL;
    if (id) {
        out->has_id = true;
        copy_str(out->id.name, sizeof out->id.name, get_str(rd, id, "name"));
        out->id.bytes = get_uint(rd, id, "bytes");
        out->id.sessions = (unsigned)get_uint(rd, id, "sessions");
        copy_str(out->id.fingerprint, sizeof out->id.fingerprint, get_str(rd, id, "fingerprint"));
    }
    JsonObject *sh = json_object_has_member(root, "shard") ? get_object(rd, root, "shard") : NULL;
    if (sh) {
        out->has_shard = true;
        out->k = (unsigned)get_uint(rd, sh, "k");
        out->n = (unsigned)get_uint(rd, sh, "n");
        JsonArray *ids = get_array(rd, sh, "sessions");
        for (guint i = 0; ids && i < json_array_get_length(ids); i++) {
            unsigned v = (unsigned)node_uint(rd, json_array_get_element(ids, i), "sessions");
            g_array_append_val(out->sessions, v);
        }
        JsonArray *notes = get_array(rd, sh, "notes");
        GPtrArray *lines = g_ptr_array_new();
        for (guint i = 0; notes && i < json_array_get_length(notes); i++) {
            JsonNode *n = json_array_get_element(notes, i);
            if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
                g_ptr_array_add(lines, g_strdup(json_node_get_string(n)));
        }
        g_ptr_array_add(lines, NULL);
        out->notes = (gchar **)g_ptr_array_free(lines, FALSE);
    }
    JsonObject *pf = json_object_has_member(root, "preflight") ? get_object(rd, root, "preflight") : NULL;
    if (pf) {
        out->has_preflight = true;
        out->preflight.exit_status = (int)get_uint(rd, pf, "exit_status");
        char *verdict = g_strdup(get_str(rd, pf, "verdict")), *text = g_strdup(get_str(rd, pf, "text"));
        g_ptr_array_add(out->strings, verdict);
        g_ptr_array_add(out->strings, text);
        out->preflight.verdict = verdict;
        out->preflight.text = text;
    }
    JsonObject *cr = get_object(rd, root, "capture_read");
    if (cr) {
        const char *t = get_str(rd, cr, "truncated");
        out->stats.truncated = t != NULL;
        copy_str(out->stats.truncated_msg, sizeof out->stats.truncated_msg, t);
        out->stats.malformed_frames = get_uint(rd, cr, "malformed_frames");
        out->stats.first_malformed_frame = get_uint(rd, cr, "first_malformed_frame");
        copy_str(out->stats.first_malformed, sizeof out->stats.first_malformed, get_str(rd, cr, "first_malformed"));
    }
    JsonObject *summary = get_object(rd, root, "summary");
    out->elapsed_s = get_double(rd, summary, "elapsed_s");
    read_latency(rd, out, summary);
    JsonArray *jobs = get_array(rd, root, "sessions");
    for (guint i = 0; jobs && i < json_array_get_length(jobs) && !rd->failed; i++) {
        JsonNode *n = json_array_get_element(jobs, i);
        if (!JSON_NODE_HOLDS_OBJECT(n))
            fail(rd, "%s", "a session is not an object");
        else
            read_job(rd, out, json_node_get_object(n));
    }
}

bool report_read(const char *path, read_report *out, hmtp_tool_error *why)
{
    memset(out, 0, sizeof *out);
    out->file = g_strdup(path);
    out->sessions = g_array_new(FALSE, FALSE, sizeof(unsigned));
    out->latency = g_new0(latency_hist, 1);
    out->jobs = g_ptr_array_new();
    out->strings = g_ptr_array_new_with_free_func(g_free);
    reader rd = {path, why, false};
    JsonParser *parser = json_parser_new();
    GError *error = NULL;
    if (!json_parser_load_from_file(parser, path, &error)) {
        hmtp_tool_fail(why, "%s: not a JSON report: %s", path, error->message);
        g_error_free(error);
        g_object_unref(parser);
        return false;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        fail(&rd, "%s", "it is not a JSON object");
    else
        read_root(&rd, out, json_node_get_object(root));
    g_object_unref(parser);
    return !rd.failed;
}

void read_report_free(read_report *r)
{
    g_free(r->file), g_free(r->capture), g_free(r->target), g_free(r->pace);
    if (r->sessions)
        g_array_free(r->sessions, TRUE);
    g_strfreev(r->notes);
    g_free(r->latency);
    for (guint i = 0; r->jobs && i < r->jobs->len; i++) {
        job_result *j = g_ptr_array_index(r->jobs, i);
        job_result_clear(j);
        g_free(j);
    }
    if (r->jobs)
        g_ptr_array_free(r->jobs, TRUE);
    if (r->strings)
        g_ptr_array_free(r->strings, TRUE);
    memset(r, 0, sizeof *r);
}
