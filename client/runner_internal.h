/* SPDX-License-Identifier: GPL-2.0-or-later */
/* State shared by the runner's statement handlers. */
#ifndef HMTP_CLIENT_RUNNER_INTERNAL_H
#define HMTP_CLIENT_RUNNER_INTERNAL_H

#include "connection.h"
#include "runner.h"

typedef struct runner {
    const scenario *sc;
    const runner_options *opt;
    client_session session;
    int64_t timeout_ms; /* current default, changed by set timeout */
} runner;

/* Prints "file:line: command conn: message" and returns code. */
int runner_fail(runner *r, const scn_stmt *st, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The connection a statement names, open and healthy, or NULL after
 * reporting why (*code set). */
client_conn *runner_conn(runner *r, const scn_stmt *st, bool need_open, int *code);

/* ${name.jid} replaced by that connection's JID; false (msg set) when the
 * connection has none. Result in out. */
bool runner_resolve_jid(runner *r, const char *text, char *out, size_t size, char *msg, size_t msg_size);

int64_t runner_timeout(const runner *r, const scn_stmt *st);

/* runner_packets.c */
int run_send(runner *r, const scn_stmt *st);
int run_reply(runner *r, const scn_stmt *st);
int run_expect(runner *r, const scn_stmt *st);
int run_expect_nothing(runner *r, const scn_stmt *st);
int run_auto_answer(runner *r, const scn_stmt *st);
void runner_on_packet(client_session *s, client_conn *c, hmtp_packet *p);
void runner_on_send(client_session *s, client_conn *c, const hmtp_packet *p, size_t wire_len, size_t sent_len);
/* Checks a received packet against an expect/login pattern. */
bool runner_packet_matches(runner *r, client_conn *c, const scn_packet *want, const hmtp_packet *p, char *why,
                           size_t why_size);

#endif
