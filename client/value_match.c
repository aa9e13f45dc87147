/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "value_match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "json_value.h"

typedef struct matcher {
    hmtp_tool_error *why; /* NULL: only the answer is wanted, so nothing is rendered */
    char path[256];
} matcher;

static bool match(matcher *m, const json_node *p, const hessian_value *v);

/* The actual value as JSON, shortened: a 1 MB payload must not flood the
 * failure message. */
static void render(const hessian_value *v, char *out, size_t size)
{
    hmtp_buf b;
    hmtp_buf_init(&b);
    hmtp_json_value(&b, v);
    if (b.failed || !b.data) {
        snprintf(out, size, "(%s)", hessian_kind_name(v->kind));
    } else if (b.len > 120) {
        snprintf(out, size, "%.100s... (%zu characters of JSON)", (const char *)b.data, b.len);
    } else {
        snprintf(out, size, "%.*s", (int)b.len, (const char *)b.data);
    }
    hmtp_buf_free(&b);
}

static bool differ(matcher *m, const hessian_value *v, const char *fmt, const char *what)
{
    if (!m->why)
        return false;
    char got[200];
    render(v, got, sizeof got);
    char expected[300];
    snprintf(expected, sizeof expected, fmt, what);
    return hmtp_tool_fail(m->why, "%s: expected %s, got %s", m->path[0] ? m->path : "value", expected, got);
}

static bool differ_text(matcher *m, const hessian_value *v, const json_node *p)
{
    char lexeme[160];
    switch (p->kind) {
    case JSON_NULL: return differ(m, v, "%s", "null");
    case JSON_BOOL: return differ(m, v, "%s", p->b ? "true" : "false");
    case JSON_NUMBER: return differ(m, v, "%s", p->num.text);
    case JSON_STRING:
        snprintf(lexeme, sizeof lexeme, "\"%.150s%s\"", p->str.data, p->str.len > 150 ? "..." : "");
        return differ(m, v, "%s", lexeme);
    default: return differ(m, v, "%s", "a different value");
    }
}

/* Appends a path element for the duration of one child match. */
static size_t push_path(matcher *m, const char *piece)
{
    size_t old = strlen(m->path);
    snprintf(m->path + old, sizeof m->path - old, "%s%s", old ? "" : "value", piece);
    return old;
}

static bool match_list(matcher *m, const json_node *items, const char *type, const hessian_value *v)
{
    if (v->kind != HESSIAN_LIST)
        return differ(m, v, "%s", "a list");
    if (type && (!v->v.list.type || strcmp(type, v->v.list.type) != 0))
        return differ(m, v, "a list of type \"%s\"", type);
    if (v->v.list.n != items->n) {
        char what[64];
        snprintf(what, sizeof what, "a list of %zu items", items->n);
        return differ(m, v, "%s", what);
    }
    for (size_t i = 0; i < items->n; i++) {
        char piece[32];
        snprintf(piece, sizeof piece, "[%zu]", i);
        size_t old = push_path(m, piece);
        if (!match(m, items->items[i], v->v.list.items[i]))
            return false;
        m->path[old] = '\0';
    }
    return true;
}

static bool match_object(matcher *m, const json_node *p, const hessian_value *v)
{
    const json_node *cls = json_member(p, "$class");
    if (v->kind != HESSIAN_OBJECT)
        return differ(m, v, "an object of class %s", cls->str.data);
    if (!v->v.object.cls || strcmp(v->v.object.cls, cls->str.data) != 0)
        return differ(m, v, "an object of class %s", cls->str.data);
    for (size_t i = 0; i < p->n; i++) {
        if (p->keys[i][0] == '$')
            continue;
        const hessian_value *field = hessian_object_field(v, p->keys[i]);
        if (!field)
            return differ(m, v, "an object with a field \"%s\"", p->keys[i]);
        char piece[128];
        snprintf(piece, sizeof piece, ".%.120s", p->keys[i]);
        size_t old = push_path(m, piece);
        if (!match(m, p->items[i], field))
            return false;
        m->path[old] = '\0';
    }
    return true;
}

static bool match_map(matcher *m, const json_node *p, const hessian_value *v)
{
    const json_node *pairs = json_member(p, "$map"), *type = json_member(p, "$type");
    if (v->kind != HESSIAN_MAP)
        return differ(m, v, "%s", "a map");
    if (type && type->kind == JSON_STRING && (!v->v.map.type || strcmp(v->v.map.type, type->str.data) != 0))
        return differ(m, v, "a map of type \"%s\"", type->str.data);
    for (size_t i = 0; i < pairs->n; i++) {
        const json_node *pair = pairs->items[i];
        size_t found = v->v.map.n;
        matcher quiet = {.why = NULL};
        for (size_t k = 0; k < v->v.map.n && found == v->v.map.n; k++)
            if (match(&quiet, pair->items[0], v->v.map.keys[k]))
                found = k;
        if (found == v->v.map.n)
            return differ(m, v, "a map with an entry for the key of pair %s", "listed in the pattern");
        char piece[32];
        snprintf(piece, sizeof piece, "{entry %zu}", i);
        size_t old = push_path(m, piece);
        if (!match(m, pair->items[1], v->v.map.values[found]))
            return false;
        m->path[old] = '\0';
    }
    return true;
}

/* Forms that stand for one exact value ($binary, $long, $repeat...) are
 * built and compared whole. */
static bool match_exact_form(matcher *m, const json_node *p, const hessian_value *v)
{
    hmtp_arena arena;
    hmtp_arena_init(&arena);
    hessian_value *want = NULL;
    hmtp_tool_error err;
    bool ok = json_to_value(p, &arena, &want, &err);
    if (!ok) {
        hmtp_tool_fail(m->why, "%s: bad pattern: %s", m->path[0] ? m->path : "value", err.msg);
    } else if (!hessian_value_equal(want, v)) {
        char expected[200];
        render(want, expected, sizeof expected);
        ok = differ(m, v, "%s", expected);
    }
    hmtp_arena_free(&arena);
    return ok;
}

static bool match(matcher *m, const json_node *p, const hessian_value *v)
{
    switch (p->kind) {
    case JSON_NULL:
        return v->kind == HESSIAN_NULL || differ_text(m, v, p);
    case JSON_BOOL:
        return (v->kind == HESSIAN_BOOL && v->v.b == p->b) || differ_text(m, v, p);
    case JSON_NUMBER:
        if (p->num.integer) {
            long long want = strtoll(p->num.text, NULL, 10);
            if ((v->kind == HESSIAN_INT && v->v.i == want) || (v->kind == HESSIAN_LONG && v->v.l == want))
                return true;
            return differ_text(m, v, p);
        }
        return (v->kind == HESSIAN_DOUBLE && v->v.d == strtod(p->num.text, NULL)) || differ_text(m, v, p);
    case JSON_STRING:
        return (v->kind == HESSIAN_STRING && v->v.str.len == p->str.len &&
                memcmp(v->v.str.data, p->str.data, p->str.len) == 0) ||
               differ_text(m, v, p);
    case JSON_ARRAY:
        return match_list(m, p, NULL, v);
    case JSON_OBJECT:
        break;
    }
    if (json_member(p, "$any"))
        return true;
    if (json_member(p, "$class"))
        return match_object(m, p, v);
    if (json_member(p, "$map"))
        return match_map(m, p, v);
    const json_node *items = json_member(p, "$list"), *type = json_member(p, "$type");
    if (items)
        return match_list(m, items, type && type->kind == JSON_STRING ? type->str.data : NULL, v);
    return match_exact_form(m, p, v);
}

bool value_match(const json_node *pattern, const hessian_value *v, hmtp_tool_error *why)
{
    matcher m = {.why = why};
    if (why)
        why->msg[0] = '\0';
    return match(&m, pattern, v);
}
