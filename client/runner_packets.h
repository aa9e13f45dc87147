/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Statements that send and expect packets, and the per-packet hooks. */
#ifndef HMTP_CLIENT_RUNNER_PACKETS_H
#define HMTP_CLIENT_RUNNER_PACKETS_H

#include "runner_context.h"

int run_send(runner *r, const scn_stmt *st);
int run_reply(runner *r, const scn_stmt *st);
int run_expect(runner *r, const scn_stmt *st);
int run_expect_nothing(runner *r, const scn_stmt *st);
int run_auto_answer(runner *r, const scn_stmt *st);
void runner_on_packet(client_session *s, client_conn *c, hmtp_packet *p);
void runner_on_send(client_session *s, client_conn *c, const hmtp_packet *p, size_t wire_len, size_t sent_len);
/* Checks a received packet against an expect/login pattern. */
bool runner_packet_matches(runner *r, client_conn *c, const scn_packet *want, const hmtp_packet *p, hmtp_tool_error *why);

#endif
