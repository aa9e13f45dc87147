/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a replay found, session run by session run: filled by the engine
 * while it runs, read by the progress bar and the report writers, which
 * know nothing of the engine. The exit status is decided here, once.
 *
 * A run's job_result lives only while its job runs: once settled (its
 * verdict given) it is counted into the totals and written out as one
 * compact record to a temporary file, unlinked at once, and freed; the
 * writers read the records back one at a time, in run order. --loop 1000
 * of 30,000 sessions is 30 million results: kept in memory they would be
 * gigabytes (what stays is 8 bytes a run: where its record is). */
#ifndef REPLAY_RESULTS_H
#define REPLAY_RESULTS_H

#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "latency.h"
#include "verify.h"

typedef enum job_outcome {
    JOB_PENDING,
    JOB_DONE,        /* ran to the end: verification decides */
    JOB_FAILED,      /* the session broke (closed early, malformed bytes) */
    JOB_UNREACHABLE, /* no connection, no answer to the upgrade within --timeout, or a refusal */
    JOB_NOT_REPLAYABLE, /* an encrypted login without its password: never started */
    JOB_SKIPPED,     /* incomplete in the capture, without --replay-incomplete: never started */
    JOB_NOT_RUN,     /* never started because the target was unreachable */
} job_outcome;

/* The capture frames of the recorded replies a job compared, in order: a
 * session run keeps them for the report (and the first divergence), in its
 * settled record until the reports are written, so they are kept small:
 * each as the zigzag varint of its difference to the one before (a
 * session's replies are a few frames apart: one byte each), not 8 bytes in
 * a growing array. */
typedef struct reply_frames {
    uint8_t *data;        /* owned; NULL when empty */
    uint32_t len, cap;    /* bytes */
    uint32_t count;       /* frames */
    uint64_t last;        /* the last frame appended */
} reply_frames;

/* Reads reply_frames forward; reply_frames_nth() on a cursor is cheap
 * when the k asked for do not go down. */
typedef struct reply_frames_cursor {
    const reply_frames *rf;
    uint32_t pos;         /* byte offset of the next frame */
    uint32_t k;           /* its index */
    uint64_t last;        /* the frame before it (0 at the start) */
} reply_frames_cursor;

void reply_frames_append(reply_frames *rf, uint64_t frame);
/* Gives back the room appending left unused (once all are in). */
void reply_frames_trim(reply_frames *rf);
void reply_frames_free(reply_frames *rf);
void reply_frames_begin(const reply_frames *rf, reply_frames_cursor *c);
/* false at the end */
bool reply_frames_next(reply_frames_cursor *c, uint64_t *frame);
/* The k-th frame (k < count) */
uint64_t reply_frames_nth(reply_frames_cursor *c, uint32_t k);

/* One run of one recorded session (one copy of --sessions-scale, one round
 * of --loop). */
typedef struct job_result {
    guint run;            /* its place in the run order (replay_results_open) */
    unsigned session;     /* the recorded session's id */
    const char *client;   /* its recorded client "addr:port" (the store owns it) */
    const char *jid;      /* its recorded login JID (or user), NULL when none; not owned */
    unsigned copy, loop;
    bool done;            /* ended, or never to start */
    job_outcome outcome;
    char *reason;         /* owned; NULL when none (job_result_set_reason) */
    char *partial;        /* owned: why only part of the recorded session was replayed; NULL when it all was */
    uint64_t packets_sent, bytes_sent;
    uint64_t received;    /* replies that arrived, compared or not */
    verify_result verdict;
    reply_frames reply_frames; /* capture frame of every recorded reply compared, in order */
} job_result;

/* The settled results, counted: everything the totals of the reports,
 * the progress bar and the exit status need, without reading them back. */
typedef struct results_counts {
    unsigned jobs, ok, differs, failed, unreachable, not_replayable, skipped, incomplete;
    unsigned not_run;     /* not run, or never settled (pending) */
    uint64_t sent, bytes, received;
    unsigned matched, different, missing, unexpected;
} results_counts;

typedef struct replay_results {
    results_counts sum;   /* of the settled results */
    guint planned;        /* runs the engine means to make (the progress bar's 100%) */
    GArray *at;           /* uint64_t per run, in run order: where its record is; RESULTS_UNSETTLED until then */
    guint unsettled;      /* opened, not yet settled */
    /* The records: a file of them (fd >= 0, path its name, unlinked; buf
       holds what is not yet written, from offset `written`), or, when no
       temporary file could be made, all of them in buf. */
    int fd;
    char *path;
    GByteArray *buf;
    uint64_t written;
    GByteArray *scratch;  /* one record being made */
    char *error;          /* why the records could not be written or read back; NULL while all went well */
    /* double: a reply's latency between replies_take() and
       latency_hist_take(), which moves it into `latency`: a long
       run keeps a fixed-size histogram (<= 1% error), not every sample */
    GArray *latency_ms;
    latency_hist latency; /* every compared reply, since the last client packet */
    /* merge: the shards' latencies joined (`latency` is empty then); NULL
       in a replay */
    const latency_hist *latency_merged;
    gint64 t0_us, t1_us;  /* the engine's clock */
    const replay_capture_stats *capture; /* what of the file could not be read */
} replay_results;

#define RESULTS_UNSETTLED UINT64_MAX

void replay_results_init(replay_results *r, const replay_capture_stats *capture);
void replay_results_free(replay_results *r);
/* The next run's result, to be filled and handed to replay_results_settle
 * (the caller holds it until then). Runs are opened in run order; they may
 * settle in any order. */
job_result *replay_results_open(replay_results *r, unsigned session, const char *client, const char *jid,
                                unsigned copy, unsigned loop);
/* Counts j, writes it out and frees it. false when it could not be written
 * (replay_results_error says why; j is freed all the same): the run is to
 * end, its reports unwritten. */
bool replay_results_settle(replay_results *r, job_result *j);
/* Opens and settles j at once (a merge's results, read from the shards'
 * reports); j is heap memory, freed here. */
bool replay_results_take(replay_results *r, job_result *j);
/* Runs opened so far. */
static inline guint replay_results_count(const replay_results *r) { return r->at->len; }
/* "cannot write the results to FILE: No space left on device", or NULL. */
const char *replay_results_error(const replay_results *r);
/* Tests: the records go to fd (named name in messages), not to a
 * temporary file; before anything is settled. */
void replay_results_use_fd(replay_results *r, int fd, const char *name);

/* Reads the settled results back in run order, one at a time, into a
 * job_result of its own (valid until the next call). A run that was never
 * settled, or a record that cannot be read back, ends the reading early
 * with replay_results_error() set. */
typedef struct results_cursor {
    replay_results *r;
    guint next;
    job_result cur;
    GByteArray *rec;
} results_cursor;

void results_cursor_begin(const replay_results *r, results_cursor *c);
const job_result *results_cursor_next(results_cursor *c);
void results_cursor_end(results_cursor *c);

/* A job_result's own members (a merge reads them back into its own). */
void job_result_init(job_result *j);
void job_result_clear(job_result *j);

/* Replace the reason (or partial text); an empty text is none. */
void job_result_set_reason(job_result *j, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void job_result_set_reasonv(job_result *j, const char *fmt, va_list ap) G_GNUC_PRINTF(2, 0);
void job_result_set_partial(job_result *j, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Adds to the partial text (none yet: nothing is added). */
void job_result_append_partial(job_result *j, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* The first thing that went wrong, in capture order: the difference or
 * missing reply with the lowest recorded frame, or an unexpected reply
 * that arrived where the recording had an earlier reply (its `at`: the
 * recorded frame at its arrival place). What came after it is counted by
 * kind, a reply that only moved ("order") as reordered. */
typedef struct divergence {
    const verify_diff *first; /* NULL: no difference */
    uint64_t at;              /* capture frame it is placed at */
    unsigned different, missing, unexpected, reordered; /* after it */
} divergence;

void job_result_divergence(const job_result *j, divergence *out);
/* "frame 12 queryResult id=1 ...: value.server: expected "a", actual "b"". */
char *divergence_text(const divergence *d);
/* Ran to the end, and the replies differ from the recording. */
bool job_result_differs(const job_result *j);
/* Ran, but only up to where the capture broke: not a pass. */
bool job_result_partial(const job_result *j);
/* The file itself could not be read whole. */
bool results_capture_damaged(const replay_results *r);

/* 0 all matched, 1 differences or failed sessions, 3 target unreachable,
 * 5 the capture is damaged (a session skipped or replayed in part, frames
 * or a tail that could not be read) and nothing worse, 4 only sessions that
 * could not be replayed (encrypted login, no password). */
int results_exit_status(const replay_results *r);

#endif
