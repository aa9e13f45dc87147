/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hmtp.h"
#include "json_value.h"
#include "scn_lexer.h"
#include "scn_position.h"

/* What one statement is being built from. */
typedef struct stmt_ctx {
    scenario *s;
    scn_token *tok;
    size_t n;
    size_t next; /* first positional word not yet used */
    bool *used;  /* keyed words consumed by the statement's builder */
    char **conns; /* names connected so far, to catch a typo in a name */
    size_t nconns;
    hmtp_tool_error *err;
} stmt_ctx;

const char *scn_op_name(scn_op op)
{
    static const char *const names[] = {"connect", "login", "send", "reply", "expect", "expect-nothing",
                                        "expect-close", "discard", "sleep", "close", "raw", "auto-answer",
                                        "set", "print"};
    return (size_t)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

static const scn_token *keyed(stmt_ctx *c, const char *key)
{
    for (size_t i = 1; i < c->n; i++)
        if (c->tok[i].key && strcmp(c->tok[i].key, key) == 0) {
            c->used[i] = true;
            return &c->tok[i];
        }
    return NULL;
}

static const scn_token *positional(stmt_ctx *c)
{
    while (c->next < c->n && c->tok[c->next].key)
        c->next++;
    if (c->next >= c->n)
        return NULL;
    c->used[c->next] = true;
    return &c->tok[c->next++];
}

static bool bare_word(stmt_ctx *c, const scn_token *t, const char *what, char **out)
{
    if (!t->word)
        return hmtp_tool_fail_at(c->err, t->value_offset, "%s must be a word or a \"string\", not JSON", what);
    *out = t->word;
    return true;
}

/* Every keyed word must have been consumed and no positional word may be
 * left over: a misspelt option is an error, never ignored. */
static bool no_leftovers(stmt_ctx *c, const char *allowed)
{
    for (size_t i = 1; i < c->n; i++) {
        if (c->used[i])
            continue;
        if (c->tok[i].key)
            return hmtp_tool_fail_at(c->err, c->tok[i].offset, "%s does not take %s= (it takes: %s)", c->tok[0].word,
                                     c->tok[i].key, allowed);
        return hmtp_tool_fail_at(c->err, c->tok[i].offset, "unexpected word after %s (it takes: %s)", c->tok[0].word,
                                 allowed);
    }
    return true;
}

/* "500ms", "2s", "1.5s", "0s". A bare number is refused: is it seconds or
 * milliseconds? */
static bool parse_duration(stmt_ctx *c, const scn_token *t, int64_t *ms)
{
    char *w = NULL;
    if (!bare_word(c, t, "a duration", &w))
        return false;
    errno = 0;
    char *end;
    double v = strtod(w, &end);
    double scale;
    if (end == w || errno)
        scale = -1;
    else if (strcmp(end, "ms") == 0)
        scale = 1;
    else if (strcmp(end, "s") == 0)
        scale = 1000;
    else if (strcmp(end, "min") == 0)
        scale = 60000;
    else
        scale = -1;
    if (scale < 0 || v < 0 || v * scale > 24.0 * 3600 * 1000)
        return hmtp_tool_fail_at(c->err, t->value_offset, "'%s' is not a duration: write e.g. 500ms, 2s, 1.5s, 1min", w);
    *ms = (int64_t)(v * scale + 0.5);
    return true;
}

static bool parse_size(stmt_ctx *c, const scn_token *t, size_t *out)
{
    char *w = NULL, *end;
    if (!bare_word(c, t, "a byte count", &w))
        return false;
    errno = 0;
    unsigned long long v = strtoull(w, &end, 10);
    if (end == w || *end || errno || w[0] == '-')
        return hmtp_tool_fail_at(c->err, t->value_offset, "'%s' is not a byte count", w);
    *out = (size_t)v;
    return true;
}

static bool known_conn(stmt_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nconns; i++)
        if (strcmp(c->conns[i], name) == 0)
            return true;
    return false;
}

/* ${name.jid} must name a connection opened earlier in the file. */
static bool check_jid_template(stmt_ctx *c, const scn_token *t, const char *text)
{
    for (const char *p = strstr(text, "${"); p; p = strstr(p + 2, "${")) {
        const char *close = strchr(p, '}');
        const char *dot = close ? memchr(p, '.', (size_t)(close - p)) : NULL;
        if (!close || !dot || strncmp(dot, ".jid}", 5) != 0)
            return hmtp_tool_fail_at(c->err, t->value_offset, "in a JID only ${NAME.jid} is known (NAME a connection)");
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(dot - p - 2), p + 2);
        if (!known_conn(c, name))
            return hmtp_tool_fail_at(c->err, t->value_offset, "${%s.jid}: no connection named '%s' before this line", name,
                                     name);
    }
    return true;
}

static bool parse_jid(stmt_ctx *c, const char *key, scn_jid *out)
{
    const scn_token *t = keyed(c, key);
    if (!t)
        return true;
    out->set = true;
    if (!t->json && strcmp(t->word, "null") == 0) {
        out->is_null = true;
        return true;
    }
    if (!bare_word(c, t, key, &out->text))
        return false;
    return check_jid_template(c, t, out->text);
}

static bool parse_conn(stmt_ctx *c, scn_stmt *st, bool must_exist)
{
    const scn_token *t = positional(c);
    if (!t)
        return hmtp_tool_fail_at(c->err, c->tok[0].offset, "%s needs a connection name", c->tok[0].word);
    if (!bare_word(c, t, "a connection name", &st->conn))
        return false;
    if (must_exist && !known_conn(c, st->conn))
        return hmtp_tool_fail_at(c->err, t->offset, "no connection named '%s' (open it first with: connect %s)", st->conn,
                                 st->conn);
    return true;
}

static bool parse_type(stmt_ctx *c, const scn_token *t, bool allow_any, int32_t *type)
{
    char *w = NULL;
    if (!bare_word(c, t, "a packet type", &w))
        return false;
    if (allow_any && strcmp(w, "any") == 0) {
        *type = SCN_TYPE_ANY;
        return true;
    }
    *type = hmtp_type_from_name(w);
    if (*type < 0)
        return hmtp_tool_fail_at(c->err, t->offset,
                                 "unknown packet type '%s' (message messageError queryGet querySet queryResult queryError "
                                 "presence presenceUnavailable presenceProbe presenceSubscribe presenceSubscribed "
                                 "presenceUnsubscribe presenceUnsubscribed presenceError%s)",
                                 w, allow_any ? " or any" : "");
    return true;
}

static bool parse_id(stmt_ctx *c, scn_packet *p)
{
    const scn_token *t = keyed(c, "id");
    if (!t)
        return true;
    char *w = NULL;
    if (!bare_word(c, t, "id", &w))
        return false;
    if (strcmp(w, "last") == 0) {
        p->id_kind = SCN_ID_LAST_SENT;
        return true;
    }
    if (strcmp(w, "received") == 0) {
        p->id_kind = SCN_ID_LAST_RECEIVED;
        return true;
    }
    if (strcmp(w, "next") == 0) {
        p->id_kind = SCN_ID_AUTO;
        return true;
    }
    char *end;
    errno = 0;
    long long v = strtoll(w, &end, 10);
    if (end == w || *end || errno)
        return hmtp_tool_fail_at(c->err, t->value_offset, "id must be a number, next, last or received, not '%s'", w);
    p->id_kind = SCN_ID_VALUE;
    p->id = v;
    return true;
}

/* A value given as bare text (value=42, value=null) is JSON too: it is read
 * again from the scenario text at its offset. */
static bool parse_json_arg(stmt_ctx *c, const scn_token *t, bool pattern, const json_node **out)
{
    const json_node *node = t->json;
    if (!node) {
        size_t pos = t->value_offset;
        json_node *parsed;
        if (!json_parse(c->s->text, t->value_end, &pos, &c->s->arena, &parsed, c->err))
            return false;
        if (pos != t->value_end)
            return hmtp_tool_fail_at(c->err, pos, "unexpected text after the JSON value");
        node = parsed;
    }
    if (!json_value_check(node, pattern, c->err))
        return false;
    *out = node;
    return true;
}

static bool parse_error_arg(stmt_ctx *c, scn_packet *p, bool pattern)
{
    const scn_token *t = keyed(c, "error");
    if (t) {
        if (t->json && t->json->kind != JSON_STRING) {
            if (!parse_json_arg(c, t, pattern, &p->error))
                return false;
        } else {
            const char *slash = strchr(t->word, '/');
            if (!slash || slash == t->word || !slash[1])
                return hmtp_tool_fail_at(c->err, t->value_offset,
                                         "error must be TYPE/GROUP (e.g. cancel/item-not-found) or a JSON value");
            p->error_type = hmtp_arena_strndup(&c->s->arena, t->word, (size_t)(slash - t->word));
            p->error_group = hmtp_arena_strndup(&c->s->arena, slash + 1, strlen(slash + 1));
        }
    }
    const scn_token *text = keyed(c, "text");
    if (text) {
        if (p->error)
            return hmtp_tool_fail_at(c->err, text->offset, "text= goes with error=TYPE/GROUP, not with a JSON error");
        if (!bare_word(c, text, "text", &p->error_text))
            return false;
    }
    return true;
}

static bool parse_value_arg(stmt_ctx *c, scn_packet *p, bool pattern, const char *key)
{
    const scn_token *t = keyed(c, key);
    return !t || parse_json_arg(c, t, pattern, &p->value);
}

static bool parse_timeout(stmt_ctx *c, const char *key, int64_t *ms)
{
    const scn_token *t = keyed(c, key);
    return !t || parse_duration(c, t, ms);
}

static bool add_conn(stmt_ctx *c, char *name)
{
    if (known_conn(c, name))
        return true;
    char **conns = realloc(c->conns, (c->nconns + 1) * sizeof *conns);
    if (!conns)
        return hmtp_tool_fail_at(c->err, c->tok[0].offset, "out of memory");
    c->conns = conns;
    c->conns[c->nconns++] = name;
    return true;
}

static bool parse_login_args(stmt_ctx *c, scn_stmt *st, bool required)
{
    const scn_token *user = keyed(c, "user"), *password = keyed(c, "password"), *resource = keyed(c, "resource");
    if (!user) {
        if (required || password || resource || keyed(c, "login"))
            return hmtp_tool_fail_at(c->err, c->tok[0].offset, "logging in needs user= and password=");
        return true;
    }
    if (!password)
        return hmtp_tool_fail_at(c->err, user->offset, "user= needs password= too");
    const scn_token *mode = keyed(c, "login");
    if (mode) {
        if (mode->word && strcmp(mode->word, "plain") == 0)
            st->login_mode = SCN_LOGIN_PLAIN;
        else if (mode->word && strcmp(mode->word, "encrypted") == 0)
            st->login_mode = SCN_LOGIN_ENCRYPTED;
        else
            return hmtp_tool_fail_at(c->err, mode->value_offset, "login must be plain or encrypted");
    }
    st->login = true;
    if (!bare_word(c, user, "user", &st->user) || !bare_word(c, password, "password", &st->password))
        return false;
    if (resource) {
        st->has_resource = true;
        if (!resource->json && strcmp(resource->word, "null") == 0)
            st->resource = NULL;
        else if (!bare_word(c, resource, "resource", &st->resource))
            return false;
    }
    return true;
}

static bool build_connect(stmt_ctx *c, scn_stmt *st)
{
    const scn_token *t;
    if (!parse_conn(c, st, false))
        return false;
    st->method = "CONNECT";
    st->path = "/hmtp";
    if ((t = keyed(c, "server")) && !bare_word(c, t, "server", &st->server))
        return false;
    if ((t = keyed(c, "method"))) {
        if (!bare_word(c, t, "method", &st->method))
            return false;
        if (strcmp(st->method, "CONNECT") != 0 && strcmp(st->method, "GET") != 0)
            return hmtp_tool_fail_at(c->err, t->value_offset, "method must be CONNECT or GET");
    }
    if ((t = keyed(c, "path")) && !bare_word(c, t, "path", &st->path))
        return false;
    if ((t = keyed(c, "host")) && !bare_word(c, t, "host", &st->host_header))
        return false;
    if (!parse_login_args(c, st, false) || !parse_timeout(c, "timeout", &st->ms))
        return false;
    if (!no_leftovers(c, "NAME server= method= path= host= user= password= resource= login= timeout="))
        return false;
    return add_conn(c, st->conn);
}

static bool build_login(stmt_ctx *c, scn_stmt *st)
{
    const scn_token *t;
    if (!parse_conn(c, st, true) || !parse_login_args(c, st, true))
        return false;
    st->packet.type = SCN_TYPE_ANY;
    if ((t = keyed(c, "expect"))) {
        if (t->word && strcmp(t->word, "error") == 0)
            st->login_must_fail = true;
        else if (!t->word || strcmp(t->word, "ok") != 0)
            return hmtp_tool_fail_at(c->err, t->value_offset, "expect must be ok or error");
    }
    if (!parse_error_arg(c, &st->packet, true) || !parse_timeout(c, "timeout", &st->ms))
        return false;
    if ((st->packet.error || st->packet.error_type) && !st->login_must_fail)
        return hmtp_tool_fail_at(c->err, c->tok[0].offset, "error= describes a failed login: add expect=error");
    return no_leftovers(c, "NAME user= password= resource= login=plain|encrypted expect=ok|error error= text= timeout=");
}

static bool build_packet_stmt(stmt_ctx *c, scn_stmt *st)
{
    bool expect = st->op == SCN_EXPECT;
    scn_packet *p = &st->packet;
    if (!parse_conn(c, st, true))
        return false;
    const scn_token *t = positional(c);
    if (!t)
        return hmtp_tool_fail_at(c->err, c->tok[0].offset, "%s needs a packet type after the connection name",
                                 c->tok[0].word);
    if (!parse_type(c, t, expect, &p->type))
        return false;
    if (st->op == SCN_REPLY && p->type != HMTP_QUERY_RESULT && p->type != HMTP_QUERY_ERROR &&
        !hmtp_type_is_presence(p->type) && p->type != HMTP_MESSAGE && p->type != HMTP_MESSAGE_ERROR)
        return hmtp_tool_fail_at(c->err, t->offset, "reply answers with queryResult, queryError or a non-query packet");
    if (st->op != SCN_REPLY && !parse_jid(c, "to", &p->to))
        return false;
    if (!parse_jid(c, "from", &p->from) || (st->op != SCN_REPLY && !parse_id(c, p)) ||
        !parse_value_arg(c, p, expect, "value") || !parse_error_arg(c, p, expect))
        return false;
    if (p->type >= 0 && !hmtp_type_has_id(p->type) && p->id_kind != SCN_ID_AUTO)
        return hmtp_tool_fail_at(c->err, t->offset, "%s packets have no id", hmtp_type_name(p->type));
    bool has_error = p->error || p->error_type;
    if (p->type >= 0 && has_error && !hmtp_type_has_error(p->type))
        return hmtp_tool_fail_at(c->err, t->offset, "%s packets carry no error (only messageError, queryError, presenceError)",
                                 hmtp_type_name(p->type));
    if (!expect && p->type >= 0 && hmtp_type_has_error(p->type) && !has_error)
        return hmtp_tool_fail_at(c->err, t->offset, "%s needs error=TYPE/GROUP (e.g. error=cancel/item-not-found)",
                                 hmtp_type_name(p->type));
    if (expect)
        return parse_timeout(c, "timeout", &st->ms) && no_leftovers(c, "NAME TYPE|any to= from= id= value= error= text= timeout=");
    if (st->op == SCN_SEND && (t = keyed(c, "truncate"))) {
        p->has_truncate = true;
        if (!parse_size(c, t, &p->truncate))
            return false;
    }
    return no_leftovers(c, st->op == SCN_SEND ? "NAME TYPE to= from= id= value= error= text= truncate="
                                              : "NAME TYPE from= value= error= text=");
}

static bool build_expect_nothing(stmt_ctx *c, scn_stmt *st)
{
    if (!parse_conn(c, st, true))
        return false;
    st->packet.type = SCN_TYPE_ANY;
    const scn_token *t = positional(c);
    if (t && !parse_type(c, t, true, &st->packet.type))
        return false;
    st->ms = 500;
    return parse_timeout(c, "for", &st->ms) && no_leftovers(c, "NAME [TYPE] for=DURATION");
}

static bool build_simple_conn(stmt_ctx *c, scn_stmt *st)
{
    if (!parse_conn(c, st, true))
        return false;
    if (st->op == SCN_EXPECT_CLOSE)
        return parse_timeout(c, "timeout", &st->ms) && no_leftovers(c, "NAME timeout=");
    if (st->op == SCN_CLOSE) {
        const scn_token *t = positional(c);
        if (t) {
            if (!t->word || strcmp(t->word, "abort") != 0)
                return hmtp_tool_fail_at(c->err, t->offset, "close takes only the word abort (to reset the connection)");
            st->abort = true;
        }
        return no_leftovers(c, "NAME [abort]");
    }
    return no_leftovers(c, "NAME");
}

static bool parse_hex(stmt_ctx *c, const scn_token *t, scn_stmt *st)
{
    const char *w = t->word;
    size_t digits = 0;
    for (const char *p = w; *p; p++)
        if (*p != ' ' && *p != ':')
            digits++;
    if (digits % 2)
        return hmtp_tool_fail_at(c->err, t->value_offset, "hex= needs an even number of hex digits");
    st->raw = hmtp_arena_alloc(&c->s->arena, digits / 2 + 1);
    if (!st->raw)
        return hmtp_tool_fail_at(c->err, t->offset, "out of memory");
    int hi = -1;
    for (const char *p = w; *p; p++) {
        if (*p == ' ' || *p == ':')
            continue;
        int d = (*p >= '0' && *p <= '9') ? *p - '0'
                : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
                : (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10
                                           : -1;
        if (d < 0)
            return hmtp_tool_fail_at(c->err, t->value_offset, "'%c' is not a hex digit", *p);
        if (hi < 0) {
            hi = d;
        } else {
            st->raw[st->raw_len++] = (uint8_t)(hi << 4 | d);
            hi = -1;
        }
    }
    return true;
}

static bool build_raw(stmt_ctx *c, scn_stmt *st)
{
    if (!parse_conn(c, st, true))
        return false;
    const scn_token *hex = keyed(c, "hex"), *text = positional(c);
    if (!!hex == !!text)
        return hmtp_tool_fail_at(c->err, c->tok[0].offset, "raw needs either hex=\"00 ff ...\" or one \"JSON string\"");
    if (hex) {
        if (!hex->word)
            return hmtp_tool_fail_at(c->err, hex->value_offset, "hex= needs a word or a \"string\" of hex digits");
        if (!parse_hex(c, hex, st))
            return false;
    } else {
        if (!text->json || text->json->kind != JSON_STRING)
            return hmtp_tool_fail_at(c->err, text->offset, "raw text must be a \"JSON string\" (escapes like \\r\\n work)");
        st->raw = (uint8_t *)text->json->str.data;
        st->raw_len = text->json->str.len;
    }
    return no_leftovers(c, "NAME hex=... or NAME \"text\"");
}

/* The reply a trigger gets when reply= is not given. */
static int32_t default_answer(int32_t trigger)
{
    switch (trigger) {
    case HMTP_PRESENCE_PROBE: return HMTP_PRESENCE;
    case HMTP_PRESENCE_SUBSCRIBE: return HMTP_PRESENCE_SUBSCRIBED;
    case HMTP_PRESENCE_UNSUBSCRIBE: return HMTP_PRESENCE_UNSUBSCRIBED;
    case HMTP_QUERY_GET:
    case HMTP_QUERY_SET: return HMTP_QUERY_RESULT;
    default: return -1;
    }
}

static bool build_auto_answer(stmt_ctx *c, scn_stmt *st)
{
    if (!parse_conn(c, st, true))
        return false;
    const scn_token *t = positional(c);
    if (!t)
        return hmtp_tool_fail_at(c->err, c->tok[0].offset, "auto-answer needs the packet type to answer");
    if (!parse_type(c, t, false, &st->trigger))
        return false;
    const scn_token *w = positional(c);
    if (w && w->word && !w->json && strcmp(w->word, "off") == 0) {
        st->off = true;
        return no_leftovers(c, "NAME TYPE off");
    }
    if (w && w->word && !w->json && strcmp(w->word, "with") == 0) {
        const scn_token *v = positional(c);
        if (!v)
            return hmtp_tool_fail_at(c->err, w->offset, "with needs a value after it");
        if (!parse_json_arg(c, v, false, &st->packet.value))
            return false;
    } else if (w) {
        return hmtp_tool_fail_at(c->err, w->offset, "expected 'with VALUE', value=, reply= or off");
    }
    if (!st->packet.value && !parse_value_arg(c, &st->packet, false, "value"))
        return false;
    st->packet.type = default_answer(st->trigger);
    const scn_token *r = keyed(c, "reply");
    if (r && !parse_type(c, r, false, &st->packet.type))
        return false;
    if (st->packet.type < 0)
        return hmtp_tool_fail_at(c->err, t->offset, "no default answer to %s: say which with reply=TYPE",
                                 hmtp_type_name(st->trigger));
    if (!parse_error_arg(c, &st->packet, false))
        return false;
    if (hmtp_type_has_error(st->packet.type) && !st->packet.error && !st->packet.error_type)
        return hmtp_tool_fail_at(c->err, t->offset, "answering with %s needs error=TYPE/GROUP", hmtp_type_name(st->packet.type));
    return no_leftovers(c, "NAME TYPE [with VALUE | value=VALUE] reply=TYPE error= text=, or NAME TYPE off");
}

static bool build_sleep(stmt_ctx *c, scn_stmt *st)
{
    const scn_token *t = positional(c);
    if (!t)
        return hmtp_tool_fail_at(c->err, c->tok[0].offset, "sleep needs a duration (e.g. sleep 200ms)");
    return parse_duration(c, t, &st->ms) && no_leftovers(c, "DURATION");
}

static bool build_set(stmt_ctx *c, scn_stmt *st)
{
    const scn_token *what = positional(c), *t = positional(c);
    if (!what || !what->word || strcmp(what->word, "timeout") != 0 || !t)
        return hmtp_tool_fail_at(c->err, c->tok[0].offset, "set knows only: set timeout DURATION");
    st->op = SCN_SET_TIMEOUT;
    return parse_duration(c, t, &st->ms) && no_leftovers(c, "timeout DURATION");
}

static bool build_print(stmt_ctx *c, scn_stmt *st, size_t end)
{
    for (size_t i = 1; i < c->n; i++)
        c->used[i] = true;
    if (c->n == 2 && c->tok[1].json && c->tok[1].json->kind == JSON_STRING && !c->tok[1].key) {
        st->text = c->tok[1].json->str.data;
        return true;
    }
    size_t start = c->n > 1 ? c->tok[1].offset : end;
    st->text = hmtp_arena_strndup(&c->s->arena, c->s->text + start, end > start ? end - start : 0);
    return st->text != NULL || hmtp_tool_fail_at(c->err, c->tok[0].offset, "out of memory");
}

static bool build_stmt(stmt_ctx *c, scn_stmt *st, size_t end)
{
    static const struct {
        const char *word;
        scn_op op;
    } ops[] = {{"connect", SCN_CONNECT},
               {"login", SCN_LOGIN},
               {"send", SCN_SEND},
               {"reply", SCN_REPLY},
               {"expect", SCN_EXPECT},
               {"expect-nothing", SCN_EXPECT_NOTHING},
               {"expect-close", SCN_EXPECT_CLOSE},
               {"discard", SCN_DISCARD},
               {"sleep", SCN_SLEEP},
               {"close", SCN_CLOSE},
               {"raw", SCN_RAW},
               {"auto-answer", SCN_AUTO_ANSWER},
               {"set", SCN_SET_TIMEOUT},
               {"print", SCN_PRINT}};
    const scn_token *first = &c->tok[0];
    if (first->key || !first->word || first->json)
        return hmtp_tool_fail_at(c->err, first->offset, "a statement starts with a command word (connect, send, expect...)");
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strcmp(first->word, ops[i].word) != 0)
            continue;
        st->op = ops[i].op;
        switch (st->op) {
        case SCN_CONNECT: return build_connect(c, st);
        case SCN_LOGIN: return build_login(c, st);
        case SCN_SEND:
        case SCN_REPLY:
        case SCN_EXPECT: return build_packet_stmt(c, st);
        case SCN_EXPECT_NOTHING: return build_expect_nothing(c, st);
        case SCN_EXPECT_CLOSE:
        case SCN_DISCARD:
        case SCN_CLOSE: return build_simple_conn(c, st);
        case SCN_SLEEP: return build_sleep(c, st);
        case SCN_RAW: return build_raw(c, st);
        case SCN_AUTO_ANSWER: return build_auto_answer(c, st);
        case SCN_SET_TIMEOUT: return build_set(c, st);
        case SCN_PRINT: return build_print(c, st, end);
        }
    }
    return hmtp_tool_fail_at(c->err, first->offset,
                             "unknown command '%s' (connect login send reply expect expect-nothing expect-close discard "
                             "sleep close raw auto-answer set print)",
                             first->word);
}

/* Replaces ${NAME} by its -D value. ${conn.jid} stays for run time. An
 * unknown name is an error at its place in the original text, so the text
 * kept for error positions is the original in that case. */
static bool substitute(scenario *s, const char *text, size_t len, const scn_define *defs, size_t ndefs,
                       hmtp_tool_error *err)
{
    hmtp_buf out;
    hmtp_buf_init(&out);
    size_t i = 0;
    while (i < len) {
        if (text[i] != '$' || i + 1 >= len || text[i + 1] != '{') {
            hmtp_buf_append_byte(&out, (uint8_t)text[i++]);
            continue;
        }
        const char *close = memchr(text + i, '}', len - i);
        const char *nl = memchr(text + i, '\n', len - i);
        if (!close || (nl && nl < close)) {
            hmtp_buf_free(&out);
            return hmtp_tool_fail_at(err, i, "${ without a closing } on the same line");
        }
        size_t name_len = (size_t)(close - text) - i - 2;
        const char *name = text + i + 2;
        if (memchr(name, '.', name_len)) { /* run-time ${conn.jid} */
            hmtp_buf_append(&out, text + i, name_len + 3);
            i += name_len + 3;
            continue;
        }
        const scn_define *d = NULL;
        for (size_t k = 0; k < ndefs; k++)
            if (strlen(defs[k].name) == name_len && memcmp(defs[k].name, name, name_len) == 0)
                d = &defs[k];
        if (!d) {
            hmtp_buf_free(&out);
            return hmtp_tool_fail_at(err, i, "${%.*s} is not defined (define it with -D %.*s=VALUE)", (int)name_len, name,
                                     (int)name_len, name);
        }
        hmtp_buf_append(&out, d->value, strlen(d->value));
        i += name_len + 3;
    }
    if (out.failed) {
        hmtp_buf_free(&out);
        return hmtp_tool_fail(err, "out of memory");
    }
    s->text = hmtp_arena_strndup(&s->arena, out.len ? (const char *)out.data : "", out.len);
    s->len = out.len;
    hmtp_buf_free(&out);
    return s->text != NULL || hmtp_tool_fail(err, "out of memory");
}

static bool grow_stmts(scenario *s, size_t *cap)
{
    if (s->n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 32;
    scn_stmt *st = realloc(s->stmts, ncap * sizeof *st);
    if (!st)
        return false;
    s->stmts = st;
    *cap = ncap;
    return true;
}

bool scenario_parse(scenario *s, const char *file, const char *text, size_t len, const scn_define *defs,
                    size_t ndefs, hmtp_tool_error *err)
{
    memset(s, 0, sizeof *s);
    hmtp_arena_init(&s->arena);
    s->file = hmtp_arena_strndup(&s->arena, file, strlen(file));
    for (size_t k = 0; k < ndefs; k++)
        if (strchr(defs[k].value, '\n'))
            return hmtp_tool_fail(err, "-D %s: a value cannot contain a newline", defs[k].name);
    if (memchr(text, '\0', len)) {
        /* kept so the error can name its line */
        s->text = hmtp_arena_strndup(&s->arena, text, len);
        s->len = s->text ? len : 0;
        return hmtp_tool_fail_at(err, (size_t)((const char *)memchr(text, '\0', len) - text),
                                 "the scenario contains a NUL byte (is it a text file?)");
    }
    if (!substitute(s, text, len, defs, ndefs, err)) {
        s->text = hmtp_arena_strndup(&s->arena, text, len);
        s->len = len;
        return false;
    }
    scn_lexer lx;
    scn_lexer_init(&lx, s->text, s->len, &s->arena);
    scn_token tok[SCN_MAX_WORDS];
    bool used[SCN_MAX_WORDS];
    stmt_ctx c = {.s = s, .tok = tok, .used = used, .err = err};
    size_t cap = 0, n;
    bool ok = true;
    int r;
    while (ok && (r = scn_lexer_next(&lx, tok, &n, err)) == 1) {
        if (!grow_stmts(s, &cap)) {
            ok = hmtp_tool_fail_at(err, tok[0].offset, "out of memory");
            break;
        }
        scn_stmt *st = &s->stmts[s->n++];
        memset(st, 0, sizeof *st);
        unsigned column;
        scn_position(s->text, s->len, tok[0].offset, &st->line, &column);
        memset(used, 0, sizeof used);
        c.n = n;
        c.next = 1;
        size_t end = tok[n - 1].value_end;
        ok = build_stmt(&c, st, end);
    }
    if (ok && r < 0)
        ok = false;
    free(c.conns);
    return ok;
}

void scenario_free(scenario *s)
{
    free(s->stmts);
    hmtp_arena_free(&s->arena);
    memset(s, 0, sizeof *s);
}

void scenario_locate_error(const scenario *s, hmtp_tool_error *err)
{
    unsigned line = 0, column = 0;
    if (s->text)
        scn_position(s->text, s->len, err->offset, &line, &column);
    hmtp_tool_error bare = *err;
    hmtp_tool_fail_at(err, bare.offset, "%s:%u:%u: %s", s->file ? s->file : "(scenario)", line, column, bare.msg);
}
