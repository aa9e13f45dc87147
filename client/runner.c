/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "runner.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "packet_log.h"
#include "runner_context.h"
#include "runner_packets.h"
#include "upgrade.h"

bool runner_split_server(const char *server, char *host, size_t host_size, char *port, size_t port_size)
{
    const char *colon = strrchr(server, ':');
    if (!colon || !colon[1])
        return false;
    const char *h = server;
    size_t hlen = (size_t)(colon - server);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= host_size || strlen(colon + 1) >= port_size)
        return false;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    strcpy(port, colon + 1);
    return true;
}

static int check_login_error(runner *r, const scn_stmt *st, client_conn *c, const hmtp_packet *p)
{
    hmtp_tool_error why;
    if (!runner_packet_matches(r, c, &st->packet, p, &why)) {
        char got[400];
        client_packet_summary(p, got, sizeof got);
        return runner_fail(r, st, RUN_EXPECTATION_FAILED, "the login failed, but not as expected: %s; got %s", why.msg,
                           got);
    }
    return RUN_PASSED;
}

/* The login a statement asks for: its login= or the command line's. */
static login_mode mode_of(const runner *r, const scn_stmt *st)
{
    switch (st->login_mode) {
    case SCN_LOGIN_PLAIN: return LOGIN_PLAIN;
    case SCN_LOGIN_ENCRYPTED: return LOGIN_ENCRYPTED;
    case SCN_LOGIN_DEFAULT: break;
    }
    return r->opt->mode;
}

static int do_login(runner *r, const scn_stmt *st, client_conn *c)
{
    /* Until the connection has sent a query, its ids can still count as the
     * client being imitated does (from 0 or from 1). */
    if (!c->has_last_sent)
        c->next_id = login_first_id(mode_of(r, st));
    login_request req = {.mode = mode_of(r, st), .user = st->user, .password = st->password, .resource = st->resource};
    hmtp_packet *answer = NULL;
    char *jid = NULL;
    hmtp_tool_error err;
    client_link link = client_conn_link(&r->session, c);
    login_outcome o = login_run(&link, &req, runner_timeout(r, st), &answer, &jid, &err);
    int code = RUN_PASSED;
    switch (o) {
    case LOGIN_ACCEPTED:
        free(c->jid);
        c->jid = jid;
        if (st->login_must_fail)
            code = runner_fail(r, st, RUN_EXPECTATION_FAILED,
                               "the login as %s was accepted (jid %s), but the scenario expects it to fail",
                               st->user, c->jid);
        break;
    case LOGIN_REJECTED:
        if (st->login_must_fail) {
            code = check_login_error(r, st, c, answer);
        } else {
            char got[400];
            client_packet_summary(answer, got, sizeof got);
            code = runner_fail(r, st, RUN_EXPECTATION_FAILED, "the login as %s was refused: %s", st->user, got);
        }
        hmtp_packet_free(answer);
        free(answer);
        break;
    case LOGIN_NO_ANSWER:
    case LOGIN_BAD_ANSWER:
        code = runner_fail(r, st, RUN_EXPECTATION_FAILED, "%s", err.msg);
        break;
    }
    return code;
}

static int run_connect(runner *r, const scn_stmt *st)
{
    client_conn *old = session_find(&r->session, st->conn);
    if (old && old->fd >= 0)
        return runner_fail(r, st, RUN_SCENARIO_ERROR, "%s is already connected (close it first)", st->conn);
    char host[256], port[32];
    if (st->server) {
        if (!runner_split_server(st->server, host, sizeof host, port, sizeof port))
            return runner_fail(r, st, RUN_SCENARIO_ERROR, "server=%s is not HOST:PORT", st->server);
    } else if (r->opt->host) {
        snprintf(host, sizeof host, "%s", r->opt->host);
        snprintf(port, sizeof port, "%s", r->opt->port);
    } else {
        return runner_fail(r, st, RUN_SCENARIO_ERROR, "no server to connect to: give --server HOST:PORT or server=");
    }
    client_conn *c = session_add(&r->session, st->conn);
    if (!c)
        return runner_fail(r, st, RUN_SCENARIO_ERROR, "out of memory");
    c->next_id = login_first_id(mode_of(r, st));
    hmtp_tool_error err;
    if (!conn_open(c, host, port, runner_timeout(r, st), &err))
        return runner_fail(r, st, RUN_UNREACHABLE, "%s", err.msg);
    char host_header[300];
    if (st->host_header)
        snprintf(host_header, sizeof host_header, "%s", st->host_header);
    else
        snprintf(host_header, sizeof host_header, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
    upgrade_result u = upgrade_perform(&r->session, c, st->method, st->path, host_header, runner_timeout(r, st), &err);
    if (u != UPGRADE_OK)
        return runner_fail(r, st, RUN_UNREACHABLE, "%s", err.msg);
    if (r->opt->verbose)
        fprintf(r->opt->log, "%s connected to %s:%s (%s %s)\n", st->conn, host, port, st->method, st->path);
    return st->login ? do_login(r, st, c) : RUN_PASSED;
}

static int run_login(runner *r, const scn_stmt *st)
{
    int code;
    client_conn *c = runner_conn(r, st, true, &code);
    return c ? do_login(r, st, c) : code;
}

static bool peer_closed(client_session *s, void *ctx)
{
    (void)s;
    client_conn *c = ctx;
    return c->eof || c->fd < 0;
}

static int run_expect_close(runner *r, const scn_stmt *st)
{
    int code;
    client_conn *c = runner_conn(r, st, false, &code);
    if (!c)
        return code;
    if (c->fd < 0)
        return runner_fail(r, st, RUN_SCENARIO_ERROR, "the connection was closed by the scenario itself");
    if (!session_pump(&r->session, now_ms() + runner_timeout(r, st), peer_closed, c))
        return runner_fail(r, st, RUN_EXPECTATION_FAILED, "the server did not close the connection within %lld ms%s%s",
                           (long long)runner_timeout(r, st), c->error.msg[0] ? ": " : "", c->error.msg);
    if (r->opt->verbose)
        fprintf(r->opt->log, "%s closed by the server\n", st->conn);
    client_conn_close(&r->session, c, false, 0);
    return RUN_PASSED;
}

static int run_close(runner *r, const scn_stmt *st)
{
    int code;
    client_conn *c = runner_conn(r, st, false, &code);
    if (!c)
        return code;
    if (c->fd < 0)
        return runner_fail(r, st, RUN_SCENARIO_ERROR, "the connection is already closed");
    client_conn_close(&r->session, c, st->abort, runner_timeout(r, st));
    if (r->opt->verbose)
        fprintf(r->opt->log, "%s %s\n", st->conn, st->abort ? "reset (RST)" : "closed");
    return RUN_PASSED;
}

static int run_raw(runner *r, const scn_stmt *st)
{
    int code;
    client_conn *c = runner_conn(r, st, true, &code);
    if (!c)
        return code;
    if (!conn_queue(c, st->raw, st->raw_len))
        return runner_fail(r, st, RUN_SCENARIO_ERROR, "out of memory");
    if (r->opt->verbose)
        fprintf(r->opt->log, "%s > %zu raw bytes\n", st->conn, st->raw_len);
    if (!session_flush(&r->session, c, now_ms() + r->timeout_ms))
        return runner_fail(r, st, RUN_EXPECTATION_FAILED, "could not send: %s",
                           c->error.msg[0] ? c->error.msg : "timed out");
    return RUN_PASSED;
}

static int run_discard(runner *r, const scn_stmt *st)
{
    int code;
    client_conn *c = runner_conn(r, st, false, &code);
    if (!c)
        return code;
    while (c->ninbox)
        conn_inbox_remove(c, 0);
    return RUN_PASSED;
}

static int run_stmt(runner *r, const scn_stmt *st)
{
    switch (st->op) {
    case SCN_CONNECT: return run_connect(r, st);
    case SCN_LOGIN: return run_login(r, st);
    case SCN_SEND: return run_send(r, st);
    case SCN_REPLY: return run_reply(r, st);
    case SCN_EXPECT: return run_expect(r, st);
    case SCN_EXPECT_NOTHING: return run_expect_nothing(r, st);
    case SCN_EXPECT_CLOSE: return run_expect_close(r, st);
    case SCN_DISCARD: return run_discard(r, st);
    case SCN_SLEEP:
        session_pump(&r->session, now_ms() + st->ms, NULL, NULL);
        return RUN_PASSED;
    case SCN_CLOSE: return run_close(r, st);
    case SCN_RAW: return run_raw(r, st);
    case SCN_AUTO_ANSWER: return run_auto_answer(r, st);
    case SCN_SET_TIMEOUT:
        r->timeout_ms = st->ms;
        return RUN_PASSED;
    case SCN_PRINT:
        fprintf(r->opt->out, "%s\n", st->text);
        fflush(r->opt->out);
        return RUN_PASSED;
    }
    return runner_fail(r, st, RUN_SCENARIO_ERROR, "unknown statement");
}

int runner_run(const scenario *sc, const runner_options *opt)
{
    runner r = {.sc = sc, .opt = opt, .timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : 5000};
    session_init(&r.session);
    r.session.user = &r;
    r.session.on_packet = runner_on_packet;
    r.session.on_send = runner_on_send;
    int code = RUN_PASSED;
    for (size_t i = 0; i < sc->n && code == RUN_PASSED; i++)
        code = run_stmt(&r, &sc->stmts[i]);
    /* what is still open ends with a clean close, never an accidental RST */
    for (size_t i = 0; i < r.session.nconns; i++) {
        client_conn *c = r.session.conns[i];
        if (opt->verbose && c->ninbox && code == RUN_PASSED)
            fprintf(opt->log, "%s: %zu received packet%s never expected\n", c->name, c->ninbox,
                    c->ninbox == 1 ? "" : "s");
        client_conn_close(&r.session, c, false, code == RUN_PASSED ? r.timeout_ms : 200);
    }
    session_free(&r.session);
    return code;
}
