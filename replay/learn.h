/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Learned noise (hmtp-replay learn): the same capture replayed twice (or
 * against two targets running the same build) gives two sets of
 * differences from the recording. A field whose value is not the same in
 * the two runs is noise (a clock, a generated id); one that both runs
 * changed the same way is a real change and is never learned. The result
 * is an ignore file a person can review, read back by --ignore-file:
 *
 *   # comment
 *   TYPE CLASS PATH  # "value of run A" | "value of run B"
 *
 * TYPE a packet type name (queryResult), CLASS the payload's class or "-"
 * when the payload is not an object, PATH a field path as --ignore takes. */
#ifndef REPLAY_LEARN_H
#define REPLAY_LEARN_H

#include <glib.h>
#include <stdio.h>

#include "error.h"
#include "results.h"
#include "verify.h"

typedef struct learn_result {
    GTree *lines;        /* "TYPE CLASS PATH" -> GPtrArray of the values seen (char*) */
    unsigned noisy;      /* differing fields seen, counted per reply */
    unsigned real;       /* fields both runs changed the same way: not learned */
    unsigned unjudged;   /* fields whose reply one run did not answer, or answered with more
                            differences than verify lists: not learned from */
    unsigned unexpected; /* replies of a run that no recorded one was paired with */
} learn_result;

/* Compares the differences of run a and run b, job by job (same capture,
 * same selection: the jobs are in the same order). */
void learn_collect(const replay_results *a, const replay_results *b, learn_result *out);
/* Writes the ignore file; header: lines of comment put first. false: errno. */
bool learn_write(const learn_result *r, const char *header, const char *file);
void learn_result_free(learn_result *r);

/* Reads an ignore file into rules (verify_rule, which the caller frees with
 * learn_rules_free). false: why names the file and line. */
bool learn_rules_load(const char *file, GArray *rules, hmtp_tool_error *why);
void learn_rules_free(GArray *rules);

#endif
