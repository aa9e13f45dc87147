/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "results.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

void replay_results_init(replay_results *r, const replay_capture_stats *capture)
{
    memset(r, 0, sizeof *r);
    r->at = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    r->fd = -1;
    r->buf = g_byte_array_new();
    r->scratch = g_byte_array_new();
    r->latency_ms = g_array_new(FALSE, FALSE, sizeof(double));
    r->capture = capture;
}

void replay_results_free(replay_results *r)
{
    if (r->fd >= 0)
        close(r->fd);
    g_free(r->path);
    g_free(r->error);
    g_array_free(r->at, TRUE);
    g_byte_array_free(r->buf, TRUE);
    g_byte_array_free(r->scratch, TRUE);
    g_array_free(r->latency_ms, TRUE);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

job_result *replay_results_open(replay_results *r, unsigned session, const char *client, const char *jid,
                                unsigned copy, unsigned loop)
{
    job_result *j = g_new0(job_result, 1);
    job_result_init(j);
    j->run = r->at->len;
    j->session = session;
    j->client = client;
    j->jid = jid;
    j->copy = copy;
    j->loop = loop;
    uint64_t none = RESULTS_UNSETTLED;
    g_array_append_val(r->at, none);
    r->unsettled++;
    return j;
}

const char *replay_results_error(const replay_results *r)
{
    return r->error;
}

void replay_results_use_fd(replay_results *r, int fd, const char *name)
{
    r->fd = fd;
    g_free(r->path);
    r->path = g_strdup(name);
}

static void fail(replay_results *r, const char *what, int err)
{
    if (!r->error)
        r->error = g_strdup_printf("cannot %s the session results %s %s: %s", what,
                                   strcmp(what, "write") == 0 ? "to" : "from", r->path, g_strerror(err));
}

/* ------------------------------------------------------------ counting */

static void count(results_counts *t, const job_result *j)
{
    t->jobs++;
    t->differs += job_result_differs(j);
    t->failed += j->outcome == JOB_FAILED;
    t->unreachable += j->outcome == JOB_UNREACHABLE;
    t->not_replayable += j->outcome == JOB_NOT_REPLAYABLE;
    t->skipped += j->outcome == JOB_SKIPPED;
    t->not_run += j->outcome == JOB_NOT_RUN || j->outcome == JOB_PENDING;
    t->incomplete += job_result_partial(j);
    t->sent += j->packets_sent;
    t->bytes += j->bytes_sent;
    t->received += j->received;
    t->matched += j->verdict.matched;
    t->different += j->verdict.different;
    t->missing += j->verdict.missing;
    t->unexpected += j->verdict.unexpected;
    t->ok += j->outcome == JOB_DONE && !job_result_differs(j) && !job_result_partial(j);
}

/* ------------------------------------------------------------ records */

/* A record, in this process's own layout (the file is private to it and
 * gone with it): the head, then the texts (a length + 1, 0 for none, and
 * the bytes), the differences, the reply frames' bytes. The client and
 * JID are the store's (or a merge's reports'), which outlive the results:
 * their pointers are kept, not their text. */
typedef struct record_head {
    uint32_t len;         /* the whole record's bytes */
    uint32_t session, copy, loop;
    uint8_t done, outcome;
    uint32_t matched, different, missing, unexpected, n_diffs;
    uint32_t rf_len, rf_count;
    uint64_t rf_last;
    uint64_t packets_sent, bytes_sent, received;
    const char *client, *jid;
} record_head;

static void put(GByteArray *b, const void *p, size_t n)
{
    g_byte_array_append(b, p, (guint)n);
}

static void put_text(GByteArray *b, const char *text)
{
    uint32_t n = text ? (uint32_t)strlen(text) + 1 : 0;
    put(b, &n, sizeof n);
    if (n)
        put(b, text, n - 1);
}

static void encode(GByteArray *b, const job_result *j)
{
    g_byte_array_set_size(b, 0);
    record_head h;
    memset(&h, 0, sizeof h); /* its padding too: the bytes written are all defined */
    h.session = j->session, h.copy = j->copy, h.loop = j->loop;
    h.done = j->done, h.outcome = (uint8_t)j->outcome;
    h.matched = j->verdict.matched, h.different = j->verdict.different;
    h.missing = j->verdict.missing, h.unexpected = j->verdict.unexpected;
    h.n_diffs = verify_diff_count(&j->verdict);
    h.rf_len = j->reply_frames.len, h.rf_count = j->reply_frames.count, h.rf_last = j->reply_frames.last;
    h.packets_sent = j->packets_sent, h.bytes_sent = j->bytes_sent, h.received = j->received;
    h.client = j->client, h.jid = j->jid;
    put(b, &h, sizeof h);
    put_text(b, j->reason);
    put_text(b, j->partial);
    for (guint k = 0; k < h.n_diffs; k++) {
        const verify_diff *d = verify_diff_at(&j->verdict, k);
        uint32_t kind = d->kind;
        int32_t type = d->type;
        put(b, &kind, sizeof kind);
        put(b, &d->frame, sizeof d->frame);
        put(b, &d->received, sizeof d->received);
        put(b, &type, sizeof type);
        put_text(b, d->packet);
        put_text(b, d->path);
        put_text(b, d->expected);
        put_text(b, d->actual);
        put_text(b, d->cls);
    }
    if (h.rf_len)
        put(b, j->reply_frames.data, h.rf_len);
    uint32_t len = b->len;
    memcpy(b->data + G_STRUCT_OFFSET(record_head, len), &len, sizeof len);
}

typedef struct record_reader {
    const uint8_t *p, *end;
    bool bad;
} record_reader;

static void get(record_reader *rd, void *to, size_t n)
{
    if ((size_t)(rd->end - rd->p) < n) {
        rd->bad = true;
        memset(to, 0, n);
        return;
    }
    memcpy(to, rd->p, n);
    rd->p += n;
}

static char *get_text(record_reader *rd)
{
    uint32_t n;
    get(rd, &n, sizeof n);
    if (n == 0 || rd->bad)
        return NULL;
    if ((size_t)(rd->end - rd->p) < n - 1) {
        rd->bad = true;
        return NULL;
    }
    char *t = g_strndup((const char *)rd->p, n - 1);
    rd->p += n - 1;
    return t;
}

/* false when the bytes are not a whole record */
static bool decode(const uint8_t *data, size_t len, job_result *j)
{
    record_reader rd = {data, data + len, false};
    record_head h;
    get(&rd, &h, sizeof h);
    j->session = h.session, j->copy = h.copy, j->loop = h.loop;
    j->done = h.done, j->outcome = (job_outcome)h.outcome;
    j->verdict.matched = h.matched, j->verdict.different = h.different;
    j->verdict.missing = h.missing, j->verdict.unexpected = h.unexpected;
    j->packets_sent = h.packets_sent, j->bytes_sent = h.bytes_sent, j->received = h.received;
    j->client = h.client, j->jid = h.jid;
    j->reason = get_text(&rd);
    j->partial = get_text(&rd);
    for (uint32_t k = 0; k < h.n_diffs && !rd.bad; k++) {
        verify_diff *d = g_new0(verify_diff, 1);
        uint32_t kind;
        get(&rd, &kind, sizeof kind);
        d->kind = (diff_kind)kind;
        get(&rd, &d->frame, sizeof d->frame);
        get(&rd, &d->received, sizeof d->received);
        get(&rd, &d->type, sizeof d->type);
        d->packet = get_text(&rd);
        d->path = get_text(&rd);
        d->expected = get_text(&rd);
        d->actual = get_text(&rd);
        d->cls = get_text(&rd);
        verify_result_add(&j->verdict, d);
    }
    if (h.rf_len && !rd.bad && (size_t)(rd.end - rd.p) >= h.rf_len) {
        j->reply_frames.data = g_memdup2(rd.p, h.rf_len);
        rd.p += h.rf_len;
    } else if (h.rf_len) {
        rd.bad = true;
    }
    j->reply_frames.len = j->reply_frames.cap = j->reply_frames.data ? h.rf_len : 0;
    j->reply_frames.count = j->reply_frames.data ? h.rf_count : 0;
    j->reply_frames.last = h.rf_last;
    return !rd.bad && rd.p == rd.end && h.len == len;
}

/* ------------------------------------------------------------ the file */

/* Written in blocks of this size: one write per block of records. */
#define RESULTS_BLOCK (64 * 1024)

/* The temporary file, made at the first record; in TMPDIR like the store's
 * spill file, unlinked at once so nothing is left behind. */
static void open_file(replay_results *r)
{
    if (r->fd >= 0 || r->path)
        return;
    GError *err = NULL;
    gchar *path = NULL;
    int fd = g_file_open_tmp("hmtp-replay-results-XXXXXX", &path, &err);
    if (fd < 0) {
        /* no room for the file: the records stay in memory */
        g_clear_error(&err);
        r->path = g_strdup("(memory)");
        return;
    }
    unlink(path);
    r->fd = fd;
    r->path = path;
}

static bool write_all(replay_results *r)
{
    const uint8_t *p = r->buf->data;
    size_t left = r->buf->len;
    while (left > 0) {
        ssize_t n = write(r->fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fail(r, "write", n < 0 ? errno : ENOSPC);
            g_byte_array_set_size(r->buf, 0);
            return false;
        }
        p += n;
        left -= (size_t)n;
        r->written += (uint64_t)n;
    }
    g_byte_array_set_size(r->buf, 0);
    return true;
}

bool replay_results_settle(replay_results *r, job_result *j)
{
    count(&r->sum, j);
    r->unsettled--;
    bool ok = !r->error;
    if (ok) {
        open_file(r);
        encode(r->scratch, j);
        g_array_index(r->at, uint64_t, j->run) = r->written + r->buf->len;
        put(r->buf, r->scratch->data, r->scratch->len);
        if (r->fd >= 0 && r->buf->len >= RESULTS_BLOCK)
            ok = write_all(r);
    }
    job_result_clear(j);
    g_free(j);
    return ok;
}

bool replay_results_take(replay_results *r, job_result *j)
{
    j->run = r->at->len;
    uint64_t none = RESULTS_UNSETTLED;
    g_array_append_val(r->at, none);
    r->unsettled++;
    return replay_results_settle(r, j);
}

/* ------------------------------------------------------------ reading back */

void results_cursor_begin(const replay_results *r, results_cursor *c)
{
    c->r = (replay_results *)r; /* its error, should reading back fail */
    c->next = 0;
    memset(&c->cur, 0, sizeof c->cur);
    job_result_init(&c->cur);
    c->rec = g_byte_array_new();
}

static bool read_at(replay_results *r, uint64_t off, GByteArray *to)
{
    if (off >= r->written) { /* not yet written, or all in memory */
        uint64_t at = off - r->written;
        uint32_t len;
        if (at + sizeof len > r->buf->len)
            return false;
        memcpy(&len, r->buf->data + at, sizeof len);
        if (len < sizeof len || at + len > r->buf->len)
            return false;
        g_byte_array_set_size(to, len);
        memcpy(to->data, r->buf->data + at, len);
        return true;
    }
    uint32_t len;
    ssize_t n = pread(r->fd, &len, sizeof len, (off_t)off);
    if (n != (ssize_t)sizeof len || len < sizeof len || off + len > r->written) {
        fail(r, "read back", n < 0 ? errno : EIO);
        return false;
    }
    g_byte_array_set_size(to, len);
    for (uint32_t got = 0; got < len;) {
        n = pread(r->fd, to->data + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fail(r, "read back", n < 0 ? errno : EIO);
            return false;
        }
        got += (uint32_t)n;
    }
    return true;
}

const job_result *results_cursor_next(results_cursor *c)
{
    replay_results *r = c->r;
    job_result_clear(&c->cur);
    if (c->next >= r->at->len || r->error)
        return NULL;
    uint64_t off = g_array_index(r->at, uint64_t, c->next);
    if (off == RESULTS_UNSETTLED) {
        if (!r->error)
            r->error = g_strdup_printf("session run %u was never settled: the results are incomplete", c->next);
        return NULL;
    }
    if (!read_at(r, off, c->rec) || !decode(c->rec->data, c->rec->len, &c->cur)) {
        fail(r, "read back", EIO);
        return NULL;
    }
    c->cur.run = c->next++;
    return &c->cur;
}

void results_cursor_end(results_cursor *c)
{
    job_result_clear(&c->cur);
    g_byte_array_free(c->rec, TRUE);
    c->rec = NULL;
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
    const results_counts *t = &r->sum;
    /* a run opened and never settled did not happen: not a pass */
    if (t->unreachable || t->not_run || r->unsettled)
        return 3;
    if (t->failed || t->differs)
        return 1;
    /* What the capture did not hold was not tested: never a pass. */
    if (results_capture_damaged(r) || t->skipped || t->incomplete)
        return 5;
    /* Sessions the replayer could not run say nothing about the server:
       told apart from differences so CI can decide. */
    return t->not_replayable ? 4 : 0;
}
