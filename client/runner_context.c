/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "runner_context.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int runner_fail(runner *r, const scn_stmt *st, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(r->opt->err, "%s:%u: %s%s%s: ", r->sc->file, st->line, scn_op_name(st->op), st->conn ? " " : "",
            st->conn ? st->conn : "");
    vfprintf(r->opt->err, fmt, ap);
    fputc('\n', r->opt->err);
    va_end(ap);
    return code;
}

int64_t runner_timeout(const runner *r, const scn_stmt *st)
{
    return st->ms > 0 ? st->ms : r->timeout_ms;
}

client_conn *runner_conn(runner *r, const scn_stmt *st, bool need_open, int *code)
{
    client_conn *c = session_find(&r->session, st->conn);
    if (!c) {
        *code = runner_fail(r, st, RUN_SCENARIO_ERROR, "no connection named '%s'", st->conn);
        return NULL;
    }
    if (need_open && c->error.msg[0]) {
        *code = runner_fail(r, st, RUN_EXPECTATION_FAILED, "the connection failed earlier: %s", c->error.msg);
        return NULL;
    }
    if (need_open && c->fd < 0) {
        *code = runner_fail(r, st, RUN_SCENARIO_ERROR, "the connection is closed");
        return NULL;
    }
    if (need_open && c->eof) {
        *code = runner_fail(r, st, RUN_EXPECTATION_FAILED, "the server has closed the connection");
        return NULL;
    }
    return c;
}

bool runner_resolve_jid(runner *r, const char *text, char *out, size_t size, hmtp_tool_error *err)
{
    size_t at = 0;
    out[0] = '\0';
    for (const char *p = text; *p;) {
        const char *open = strstr(p, "${");
        size_t plain = open ? (size_t)(open - p) : strlen(p);
        at += (size_t)snprintf(out + at, at < size ? size - at : 0, "%.*s", (int)plain, p);
        if (!open)
            break;
        const char *dot = strchr(open, '.');
        const char *close = strchr(open, '}');
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(dot - open - 2), open + 2);
        client_conn *c = session_find(&r->session, name);
        if (!c || !c->jid)
            return hmtp_tool_fail(err, "${%s.jid}: connection %s has not logged in", name, name);
        at += (size_t)snprintf(out + at, at < size ? size - at : 0, "%s", c->jid);
        p = close + 1;
    }
    if (at >= size)
        return hmtp_tool_fail(err, "JID too long");
    return true;
}
