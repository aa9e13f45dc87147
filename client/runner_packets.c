/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "runner_packets.h"

#include <stdlib.h>
#include <string.h>

#include "auto_answer.h"
#include "json_value.h"
#include "packet_log.h"
#include "value_match.h"

/* A packet ready to be written: every field resolved. */
typedef struct outgoing {
    int32_t type;
    const char *to, *from;
    bool has_id;
    int64_t id;
    const json_node *value;
    const scn_packet *error; /* error, error_type/group/text */
    size_t truncate;
} outgoing;

static bool build_error(const scn_packet *spec, hmtp_arena *a, hessian_value **out, hmtp_tool_error *err)
{
    if (spec->error)
        return json_to_value(spec->error, a, out, err);
    *out = hmtp_new_bam_error(a, spec->error_type, spec->error_group, spec->error_text);
    return *out != NULL || hmtp_tool_fail(err, "out of memory");
}

/* Writes o on c; false with err on failure. */
static bool send_outgoing(runner *r, client_conn *c, const outgoing *o, hmtp_tool_error *err)
{
    hmtp_packet p;
    hmtp_packet_init(&p);
    p.type = o->type;
    p.to = o->to;
    p.from = o->from;
    p.has_id = o->has_id;
    p.id = o->id;
    hmtp_tool_error built = {0};
    bool ok = true;
    if (o->value)
        ok = json_to_value(o->value, &p.arena, &p.value, &built);
    else
        ok = (p.value = hessian_new_null(&p.arena)) != NULL || hmtp_tool_fail(&built, "out of memory");
    if (ok && hmtp_type_has_error(o->type)) {
        ok = build_error(o->error, &p.arena, &p.error_value, &built);
        if (ok)
            hmtp_packet_read_bam_error(&p); /* for the -v line */
    }
    if (!ok) {
        scenario_locate_error(r->sc, &built);
        hmtp_tool_fail(err, "building the packet: %s", built.msg);
    } else if (!conn_send_packet(&r->session, c, &p, o->truncate, err)) {
        ok = false;
    }
    hmtp_packet_free(&p);
    return ok;
}

static int flush_or_fail(runner *r, const scn_stmt *st, client_conn *c)
{
    if (!session_flush(&r->session, c, now_ms() + r->timeout_ms))
        return runner_fail(r, st, RUN_EXPECTATION_FAILED, "could not send: %s",
                           c->error.msg[0] ? c->error.msg : "the server did not read it in time");
    return RUN_PASSED;
}

/* Resin's client writes from = null on messages and presence, and its own
 * JID on queries (PROTOCOL.md section 7). */
static const char *default_from(const client_conn *c, int32_t type)
{
    return hmtp_type_has_id(type) ? c->jid : NULL;
}

static int resolve_jid_arg(runner *r, const scn_stmt *st, const scn_jid *j, const char *fallback, char *buf,
                           size_t size, const char **out)
{
    hmtp_tool_error err;
    if (!j->set) {
        *out = fallback;
    } else if (j->is_null) {
        *out = NULL;
    } else {
        if (!runner_resolve_jid(r, j->text, buf, size, &err))
            return runner_fail(r, st, RUN_SCENARIO_ERROR, "%s", err.msg);
        *out = buf;
    }
    return RUN_PASSED;
}

int run_send(runner *r, const scn_stmt *st)
{
    int code;
    client_conn *c = runner_conn(r, st, true, &code);
    if (!c)
        return code;
    const scn_packet *sp = &st->packet;
    outgoing o = {.type = sp->type, .value = sp->value, .error = sp, .truncate = sp->has_truncate ? sp->truncate : SIZE_MAX};
    char to[512], from[512];
    if ((code = resolve_jid_arg(r, st, &sp->to, NULL, to, sizeof to, &o.to)) ||
        (code = resolve_jid_arg(r, st, &sp->from, default_from(c, sp->type), from, sizeof from, &o.from)))
        return code;
    o.has_id = hmtp_type_has_id(sp->type);
    bool is_request = sp->type == HMTP_QUERY_GET || sp->type == HMTP_QUERY_SET;
    switch (sp->id_kind) {
    case SCN_ID_VALUE:
        o.id = sp->id;
        break;
    case SCN_ID_AUTO:
        if (is_request) {
            o.id = c->next_id++;
        } else if (o.has_id) {
            if (!c->has_last_query)
                return runner_fail(r, st, RUN_SCENARIO_ERROR,
                                   "no query received yet whose id this %s could carry: give id=",
                                   hmtp_type_name(sp->type));
            o.id = c->last_query_id;
        }
        break;
    case SCN_ID_LAST_SENT:
        if (!c->has_last_sent)
            return runner_fail(r, st, RUN_SCENARIO_ERROR, "id=last: this connection has sent no query yet");
        o.id = c->last_sent_id;
        break;
    case SCN_ID_LAST_RECEIVED:
        if (!c->has_last_query)
            return runner_fail(r, st, RUN_SCENARIO_ERROR, "id=received: this connection has received no query yet");
        o.id = c->last_query_id;
        break;
    }
    hmtp_tool_error err;
    if (!send_outgoing(r, c, &o, &err))
        return runner_fail(r, st, RUN_SCENARIO_ERROR, "%s", err.msg);
    if (is_request) {
        c->has_last_sent = true;
        c->last_sent_id = o.id;
    }
    return flush_or_fail(r, st, c);
}

int run_reply(runner *r, const scn_stmt *st)
{
    int code;
    client_conn *c = runner_conn(r, st, true, &code);
    if (!c)
        return code;
    const scn_packet *sp = &st->packet;
    bool query = hmtp_type_has_id(sp->type);
    if (query && !c->has_last_query)
        return runner_fail(r, st, RUN_EXPECTATION_FAILED, "no queryGet or querySet has arrived to reply to");
    if (!query && !c->last_from)
        return runner_fail(r, st, RUN_EXPECTATION_FAILED, "no packet with a from has arrived to reply to");
    outgoing o = {.type = sp->type,
                  .to = query ? c->last_query_from : c->last_from,
                  .has_id = query,
                  .id = c->last_query_id,
                  .value = sp->value,
                  .error = sp,
                  .truncate = SIZE_MAX};
    char from[512];
    if ((code = resolve_jid_arg(r, st, &sp->from, default_from(c, sp->type), from, sizeof from, &o.from)))
        return code;
    hmtp_tool_error err;
    if (!send_outgoing(r, c, &o, &err))
        return runner_fail(r, st, RUN_SCENARIO_ERROR, "%s", err.msg);
    return flush_or_fail(r, st, c);
}

static bool match_jid(runner *r, const scn_jid *want, const char *got, const char *field, hmtp_tool_error *why)
{
    if (!want->set)
        return true;
    if (want->is_null) {
        if (!got)
            return true;
        return hmtp_tool_fail(why, "%s is %s, expected null", field, got);
    }
    char resolved[512];
    if (!runner_resolve_jid(r, want->text, resolved, sizeof resolved, why))
        return false;
    if (got && strcmp(got, resolved) == 0)
        return true;
    return hmtp_tool_fail(why, "%s is %s, expected %s", field, got ? got : "null", resolved);
}

static bool match_error(const scn_packet *want, const hmtp_packet *p, hmtp_tool_error *why)
{
    if (!want->error && !want->error_type && !want->error_text)
        return true;
    if (!p->error_value)
        return hmtp_tool_fail(why, "no error in the packet");
    if (want->error) {
        hmtp_tool_error inner;
        if (value_match(want->error, p->error_value, why ? &inner : NULL))
            return true;
        return hmtp_tool_fail(why, "error %s", inner.msg);
    }
    const char *type = p->error.type ? p->error.type : "null", *group = p->error.group ? p->error.group : "null";
    if (want->error_type && (strcmp(type, want->error_type) != 0 || strcmp(group, want->error_group) != 0))
        return hmtp_tool_fail(why, "error is %s/%s, expected %s/%s", type, group, want->error_type, want->error_group);
    if (want->error_text && (!p->error.text || strcmp(p->error.text, want->error_text) != 0))
        return hmtp_tool_fail(why, "error text is %s%s%s, expected \"%s\"", p->error.text ? "\"" : "",
                              p->error.text ? p->error.text : "null", p->error.text ? "\"" : "", want->error_text);
    return true;
}

bool runner_packet_matches(runner *r, client_conn *c, const scn_packet *want, const hmtp_packet *p, hmtp_tool_error *why)
{
    if (want->type != SCN_TYPE_ANY && p->type != want->type)
        return hmtp_tool_fail(why, "type is %s", hmtp_type_name(p->type));
    if (!match_jid(r, &want->to, p->to, "to", why) || !match_jid(r, &want->from, p->from, "from", why))
        return false;
    bool check_id = true;
    int64_t id = 0;
    switch (want->id_kind) {
    case SCN_ID_AUTO: check_id = false; break;
    case SCN_ID_VALUE: id = want->id; break;
    case SCN_ID_LAST_SENT: id = c->last_sent_id; break;
    case SCN_ID_LAST_RECEIVED: id = c->last_query_id; break;
    }
    if (check_id && (!p->has_id || p->id != id)) {
        if (p->has_id)
            hmtp_tool_fail(why, "id is %lld, expected %lld", (long long)p->id, (long long)id);
        else
            return hmtp_tool_fail(why, "no id, expected %lld", (long long)id);
    }
    if (want->value && !value_match(want->value, p->value, why))
        return false;
    return match_error(want, p, why);
}

typedef struct expect_wait {
    runner *r;
    client_conn *c;
    const scn_packet *want;
    size_t found;
} expect_wait;

static bool expect_found(client_session *s, void *ctx)
{
    (void)s;
    expect_wait *w = ctx;
    for (size_t i = 0; i < w->c->ninbox; i++)
        if (runner_packet_matches(w->r, w->c, w->want, w->c->inbox[i], NULL)) {
            w->found = i;
            return true;
        }
    /* nothing more can arrive */
    return w->c->eof || w->c->error.msg[0] || w->c->fd < 0;
}

/* The statement as the user wrote it, for failure messages. */
static void describe_want(const scn_stmt *st, char *out, size_t size)
{
    const scn_packet *w = &st->packet;
    size_t at = (size_t)snprintf(out, size, "%s", w->type == SCN_TYPE_ANY ? "any packet" : hmtp_type_name(w->type));
    if (w->from.set && at < size)
        at += (size_t)snprintf(out + at, size - at, " from=%s", w->from.is_null ? "null" : w->from.text);
    if (w->to.set && at < size)
        at += (size_t)snprintf(out + at, size - at, " to=%s", w->to.is_null ? "null" : w->to.text);
    if (w->id_kind == SCN_ID_VALUE && at < size)
        at += (size_t)snprintf(out + at, size - at, " id=%lld", (long long)w->id);
    else if (w->id_kind == SCN_ID_LAST_SENT && at < size)
        at += (size_t)snprintf(out + at, size - at, " id=last");
    if (w->error_type && at < size)
        at += (size_t)snprintf(out + at, size - at, " error=%s/%s", w->error_type, w->error_group);
    if (w->value && at < size)
        snprintf(out + at, size - at, " value=...");
}

/* Lists what did arrive, each with the reason it is not what was wanted. */
static void report_inbox(runner *r, client_conn *c, const scn_packet *want)
{
    FILE *f = r->opt->err;
    if (c->ninbox == 0) {
        fprintf(f, "  nothing arrived on %s%s\n", c->name, c->eof ? "; the server closed the connection" : "");
        if (c->error.msg[0])
            fprintf(f, "  the connection failed: %s\n", c->error.msg);
        return;
    }
    fprintf(f, "  received on %s instead (%zu packet%s not yet expected):\n", c->name, c->ninbox,
            c->ninbox == 1 ? "" : "s");
    for (size_t i = 0; i < c->ninbox && i < 20; i++) {
        char line[600];
        hmtp_tool_error why;
        client_packet_summary(c->inbox[i], line, sizeof line);
        if (want)
            runner_packet_matches(r, c, want, c->inbox[i], &why);
        fprintf(f, "    %s%s%s\n", line, want ? "  <- " : "", want ? why.msg : "");
    }
    if (c->ninbox > 20)
        fprintf(f, "    ... and %zu more\n", c->ninbox - 20);
    if (c->eof)
        fprintf(f, "  then the server closed the connection\n");
    if (c->error.msg[0])
        fprintf(f, "  then the connection failed: %s\n", c->error.msg);
}

int run_expect(runner *r, const scn_stmt *st)
{
    int code;
    client_conn *c = runner_conn(r, st, false, &code);
    if (!c)
        return code;
    expect_wait w = {.r = r, .c = c, .want = &st->packet, .found = SIZE_MAX};
    int64_t timeout = runner_timeout(r, st);
    session_pump(&r->session, now_ms() + timeout, expect_found, &w);
    if (w.found == SIZE_MAX) {
        char want[600];
        describe_want(st, want, sizeof want);
        code = runner_fail(r, st, RUN_EXPECTATION_FAILED, "expected %s within %lld ms, it did not come", want,
                           (long long)timeout);
        report_inbox(r, c, &st->packet);
        return code;
    }
    conn_inbox_remove(c, w.found);
    return RUN_PASSED;
}

int run_expect_nothing(runner *r, const scn_stmt *st)
{
    int code;
    client_conn *c = runner_conn(r, st, false, &code);
    if (!c)
        return code;
    session_pump(&r->session, now_ms() + st->ms, NULL, NULL);
    for (size_t i = 0; i < c->ninbox; i++)
        if (runner_packet_matches(r, c, &st->packet, c->inbox[i], NULL)) {
            code = runner_fail(r, st, RUN_EXPECTATION_FAILED, "expected no %s within %lld ms",
                               st->packet.type == SCN_TYPE_ANY ? "packet" : hmtp_type_name(st->packet.type),
                               (long long)st->ms);
            report_inbox(r, c, NULL);
            return code;
        }
    return RUN_PASSED;
}

int run_auto_answer(runner *r, const scn_stmt *st)
{
    int code;
    client_conn *c = runner_conn(r, st, false, &code);
    if (!c)
        return code;
    if (!auto_answer_set(&c->answers, &c->nanswers, st->trigger, st->off ? NULL : st))
        return runner_fail(r, st, RUN_SCENARIO_ERROR, "out of memory");
    return RUN_PASSED;
}

static void answer_automatically(runner *r, client_conn *c, const hmtp_packet *p)
{
    for (size_t i = 0; i < c->nanswers; i++) {
        if (c->answers[i].trigger != p->type)
            continue;
        const scn_stmt *st = c->answers[i].stmt;
        int32_t type = st->packet.type;
        outgoing o = {.type = type,
                      .to = p->from,
                      .from = default_from(c, type),
                      .has_id = hmtp_type_has_id(type),
                      .value = st->packet.value,
                      .error = &st->packet,
                      .truncate = SIZE_MAX};
        if (o.has_id)
            o.id = p->has_id ? p->id : c->next_id++;
        hmtp_tool_error err;
        if (!send_outgoing(r, c, &o, &err))
            hmtp_tool_fail(&c->error, "auto-answer of line %u: %s", st->line, err.msg);
    }
}

static void remember(char **slot, const char *value)
{
    free(*slot);
    *slot = value ? strdup(value) : NULL;
}

void runner_on_packet(client_session *s, client_conn *c, hmtp_packet *p)
{
    runner *r = s->user;
    if (r->opt->verbose) {
        char line[700];
        client_packet_summary(p, line, sizeof line);
        fprintf(r->opt->log, "%s < %s\n", c->name, line);
        fflush(r->opt->log);
    }
    if (r->opt->json)
        packet_print_json(r->opt->out, c->name, p);
    if (p->from)
        remember(&c->last_from, p->from);
    if ((p->type == HMTP_QUERY_GET || p->type == HMTP_QUERY_SET) && p->has_id) {
        c->has_last_query = true;
        c->last_query_id = p->id;
        remember(&c->last_query_from, p->from);
    }
    answer_automatically(r, c, p);
}

void runner_on_send(client_session *s, client_conn *c, const hmtp_packet *p, size_t wire_len, size_t sent_len)
{
    runner *r = s->user;
    if (!r->opt->verbose)
        return;
    char line[700];
    client_packet_summary(p, line, sizeof line);
    if (sent_len < wire_len)
        fprintf(r->opt->log, "%s > %s (only %zu of its %zu bytes)\n", c->name, line, sent_len, wire_len);
    else
        fprintf(r->opt->log, "%s > %s\n", c->name, line);
    fflush(r->opt->log);
}
