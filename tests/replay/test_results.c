/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Settled results (replay/results.c): written out as each session run ends,
 * in any order, read back whole and in run order; counted as they settle;
 * a results file that cannot be written is said, not dropped. Run twice by
 * ctest: with a temporary file, and with TMPDIR unusable (in memory). */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "results.h"

static const char *const clients[] = {"10.0.0.1:4000", "10.0.0.2:4001", "10.0.0.3:4002"};

/* Run k's result, filled with what k says: every kind of member. */
static void fill(job_result *j, guint k)
{
    j->done = true;
    j->outcome = k % 5 == 0 ? JOB_FAILED : k % 7 == 0 ? JOB_SKIPPED : JOB_DONE;
    j->packets_sent = k * 3, j->bytes_sent = k * 100, j->received = k * 2;
    j->verdict.matched = k;
    if (k % 2)
        job_result_set_reason(j, "reason of run %u", k);
    if (k % 3 == 0)
        job_result_set_partial(j, "replayed up to frame %u only", k);
    for (guint d = 0; d < k % 4; d++) {
        verify_diff *v = g_new0(verify_diff, 1);
        v->kind = d == 0 ? DIFF_DIFFERENT : d == 1 ? DIFF_MISSING : DIFF_UNEXPECTED;
        v->frame = 10 * k + d, v->received = d, v->type = (int32_t)d;
        v->packet = g_strdup_printf("queryResult id=%u", k);
        v->path = d == 0 ? g_strdup("value.server") : NULL;
        v->expected = d == 0 ? g_strdup("\"a\"") : NULL;
        v->actual = d == 0 ? g_strdup_printf("\"b%u\"", k) : NULL;
        v->cls = d == 0 ? g_strdup("com.example.Status") : NULL;
        verify_result_add(&j->verdict, v);
    }
    for (guint f = 0; f < k % 6; f++)
        reply_frames_append(&j->reply_frames, 5 + f * (k + 1));
    reply_frames_trim(&j->reply_frames);
}

/* What fill(k) made, read back. */
static bool same(const job_result *j, guint k, guint copy)
{
    job_result want;
    memset(&want, 0, sizeof want);
    job_result_init(&want);
    fill(&want, k);
    bool ok = j->run == k && j->session == k / 2 && j->copy == copy && j->loop == k % 2 &&
              j->client == clients[k % 3] && j->jid == (k % 2 ? clients[0] : NULL) && j->done &&
              j->outcome == want.outcome && j->packets_sent == want.packets_sent && j->bytes_sent == want.bytes_sent &&
              j->received == want.received && j->verdict.matched == want.verdict.matched &&
              g_strcmp0(j->reason, want.reason) == 0 && g_strcmp0(j->partial, want.partial) == 0 &&
              verify_diff_count(&j->verdict) == verify_diff_count(&want.verdict) &&
              j->reply_frames.count == want.reply_frames.count && j->reply_frames.len == want.reply_frames.len &&
              (!want.reply_frames.len || memcmp(j->reply_frames.data, want.reply_frames.data, want.reply_frames.len) == 0);
    for (guint d = 0; ok && d < verify_diff_count(&want.verdict); d++) {
        const verify_diff *a = verify_diff_at(&j->verdict, d), *b = verify_diff_at(&want.verdict, d);
        ok = a->kind == b->kind && a->frame == b->frame && a->received == b->received && a->type == b->type &&
             g_strcmp0(a->packet, b->packet) == 0 && g_strcmp0(a->path, b->path) == 0 &&
             g_strcmp0(a->expected, b->expected) == 0 && g_strcmp0(a->actual, b->actual) == 0 &&
             g_strcmp0(a->cls, b->cls) == 0;
    }
    job_result_clear(&want);
    return ok;
}

/* n runs opened in run order, settled in a shuffled order (sessions end as
 * they end), read back in run order, each once, whole. n large enough that
 * most records are in the file and the last ones still in its buffer. */
static void test_out_of_order(guint n, bool want_file)
{
    replay_results r;
    replay_results_init(&r, NULL);
    job_result **open = g_new(job_result *, n);
    for (guint k = 0; k < n; k++) {
        open[k] = replay_results_open(&r, k / 2, clients[k % 3], k % 2 ? clients[0] : NULL, k % 3 == 1, k % 2);
        CHECK(open[k]->run == k);
    }
    CHECK(replay_results_count(&r) == n && r.unsettled == n);
    CHECK(results_exit_status(&r) == 3, "runs never settled do not pass");
    GRand *rng = g_rand_new_with_seed(14);
    guint *order = g_new(guint, n);
    for (guint k = 0; k < n; k++)
        order[k] = k;
    for (guint k = n; k > 1; k--) {
        guint i = (guint)g_rand_int_range(rng, 0, (gint32)k), t = order[i];
        order[i] = order[k - 1], order[k - 1] = t;
    }
    results_counts want;
    memset(&want, 0, sizeof want);
    for (guint i = 0; i < n; i++) {
        guint k = order[i];
        fill(open[k], k);
        want.jobs++;
        want.sent += open[k]->packets_sent;
        want.failed += open[k]->outcome == JOB_FAILED;
        want.skipped += open[k]->outcome == JOB_SKIPPED;
        want.incomplete += job_result_partial(open[k]);
        want.matched += open[k]->verdict.matched;
        CHECK(replay_results_settle(&r, open[k]));
    }
    CHECK(r.unsettled == 0 && r.sum.jobs == want.jobs && r.sum.sent == want.sent && r.sum.failed == want.failed &&
          r.sum.skipped == want.skipped && r.sum.incomplete == want.incomplete && r.sum.matched == want.matched);
    CHECK(results_exit_status(&r) == 1, "failed runs: %d", results_exit_status(&r));
    CHECK((r.fd >= 0) == want_file, "fd %d (%s)", r.fd, r.path);
    if (want_file && n > 1000)
        CHECK(r.written > 0 && r.buf->len > 0, "written %" PRIu64 ", buffered %u", r.written, r.buf->len);
    /* read twice: the reports read them once each */
    for (int pass = 0; pass < 2; pass++) {
        results_cursor c;
        results_cursor_begin(&r, &c);
        guint k = 0;
        bool all_same = true;
        for (const job_result *j; (j = results_cursor_next(&c)); k++)
            all_same &= same(j, k, k % 3 == 1);
        results_cursor_end(&c);
        CHECK(k == n && all_same, "pass %d: %u of %u read back, all the same: %d", pass, k, n, all_same);
    }
    CHECK(replay_results_error(&r) == NULL);
    g_rand_free(rng);
    g_free(order);
    g_free(open);
    replay_results_free(&r);
}

/* A run opened and never settled: the reading back says so, not a report
 * with a run left out. */
static void test_unsettled(void)
{
    replay_results r;
    replay_results_init(&r, NULL);
    job_result *a = replay_results_open(&r, 0, clients[0], NULL, 0, 0);
    job_result *b = replay_results_open(&r, 1, clients[1], NULL, 0, 0);
    CHECK(replay_results_settle(&r, b));
    results_cursor c;
    results_cursor_begin(&r, &c);
    CHECK(results_cursor_next(&c) == NULL);
    results_cursor_end(&c);
    CHECK(replay_results_error(&r) && strstr(replay_results_error(&r), "never settled"));
    job_result_clear(a);
    g_free(a);
    replay_results_free(&r);
}

/* A full disk: the settle that cannot write says so, naming the file, and
 * every later one too; the results are freed all the same. */
static void test_full_disk(void)
{
    int fd = open("/dev/full", O_RDWR);
    if (fd < 0) {
        printf("no /dev/full: the full-disk case is not run\n");
        return;
    }
    replay_results r;
    replay_results_init(&r, NULL);
    replay_results_use_fd(&r, fd, "/dev/full");
    bool failed = false;
    guint k = 0;
    for (; k < 5000 && !failed; k++) {
        job_result *j = replay_results_open(&r, k, clients[0], NULL, 0, 0);
        fill(j, k);
        failed = !replay_results_settle(&r, j);
    }
    CHECK(failed, "5000 results written to /dev/full");
    const char *why = replay_results_error(&r);
    CHECK(why && strstr(why, "/dev/full") && strstr(why, g_strerror(ENOSPC)), "%s", why ? why : "(none)");
    job_result *j = replay_results_open(&r, k, clients[0], NULL, 0, 0);
    CHECK(!replay_results_settle(&r, j), "a later result is not taken silently");
    replay_results_free(&r); /* closes fd */
}

int main(int argc, char **argv)
{
    /* "memory": TMPDIR cannot hold the file, the records stay in memory */
    bool memory = argc > 1 && strcmp(argv[1], "memory") == 0;
    test_out_of_order(7, !memory);
    test_out_of_order(3000, !memory);
    test_unsettled();
    if (!memory)
        test_full_disk();
    return check_summary(memory ? "replay results (in memory)" : "replay results");
}
