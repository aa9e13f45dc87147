/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Standing orders of a connection: "answer every presenceProbe with this
 * presence". The statement that set one up describes the reply. */
#ifndef HMTP_CLIENT_AUTO_ANSWER_H
#define HMTP_CLIENT_AUTO_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct scn_stmt;

typedef struct auto_answer {
    int32_t trigger;              /* packet type answered */
    const struct scn_stmt *stmt;  /* the auto-answer statement (reply type, value, error) */
} auto_answer;

/* Sets the standing order for trigger (replacing one already set), or with
 * stmt NULL ends it. False when out of memory (the order is then gone). */
bool auto_answer_set(auto_answer **list, size_t *n, int32_t trigger, const struct scn_stmt *stmt);
void auto_answers_free(auto_answer *a, size_t n);

#endif
