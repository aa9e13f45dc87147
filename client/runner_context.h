/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every statement handler shares: the running scenario, its options and
 * connections, and the few helpers that name a statement's connection,
 * its timeout and its failure. The runner (runner.c) drives the handlers;
 * they call only down into this file and the connection layer. */
#ifndef HMTP_CLIENT_RUNNER_CONTEXT_H
#define HMTP_CLIENT_RUNNER_CONTEXT_H

#include "connection.h"
#include "runner_options.h"
#include "scenario.h"

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

/* ${name.jid} replaced by that connection's JID; false (err set) when the
 * connection has none. Result in out. */
bool runner_resolve_jid(runner *r, const char *text, char *out, size_t size, hmtp_tool_error *err);

int64_t runner_timeout(const runner *r, const scn_stmt *st);

#endif
