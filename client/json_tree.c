/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "json_tree.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "utf8.h"

/* Deep enough for any payload a person writes, shallow enough that a
 * hostile file cannot exhaust the stack through recursion. */
#define JSON_MAX_DEPTH 128

typedef struct json_parser {
    const char *text;
    size_t len, pos;
    hmtp_arena *arena;
    hmtp_tool_error *err;
} json_parser;

static bool parse_value(json_parser *p, json_node **out, unsigned depth);

static void skip_space(json_parser *p)
{
    while (p->pos < p->len) {
        char c = p->text[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static json_node *new_node(json_parser *p, json_kind kind, size_t offset)
{
    json_node *n = hmtp_arena_alloc(p->arena, sizeof *n);
    if (!n) {
        hmtp_tool_fail_at(p->err, offset, "out of memory");
        return NULL;
    }
    n->kind = kind;
    n->offset = offset;
    return n;
}

static bool expect_word(json_parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n) != 0)
        return false;
    /* "nullx" is not null followed by garbage we silently ignore */
    size_t end = p->pos + n;
    if (end < p->len) {
        char c = p->text[end];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
            return false;
    }
    p->pos = end;
    return true;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool read_hex4(json_parser *p, uint32_t *out)
{
    if (p->len - p->pos < 4)
        return hmtp_tool_fail_at(p->err, p->pos, "\\u needs four hex digits");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(p->text[p->pos + (size_t)i]);
        if (d < 0)
            return hmtp_tool_fail_at(p->err, p->pos + (size_t)i, "\\u needs four hex digits");
        v = v << 4 | (uint32_t)d;
    }
    p->pos += 4;
    *out = v;
    return true;
}

static void append_utf8(hmtp_buf *b, uint32_t cp)
{
    uint8_t u[4];
    hmtp_buf_append(b, u, hmtp_utf8_put(u, cp));
}

/* \uXXXX, combining a surrogate pair into one code point; a lone surrogate
 * cannot be written as UTF-8, so it is an error rather than a U+FFFD. */
static bool read_unicode_escape(json_parser *p, hmtp_buf *b)
{
    size_t at = p->pos - 2;
    uint32_t cp;
    if (!read_hex4(p, &cp))
        return false;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return hmtp_tool_fail_at(p->err, at, "lone low surrogate \\u%04X", (unsigned)cp);
    if (cp >= 0xd800 && cp <= 0xdbff) {
        uint32_t lo;
        if (p->len - p->pos < 2 || p->text[p->pos] != '\\' || p->text[p->pos + 1] != 'u')
            return hmtp_tool_fail_at(p->err, at, "high surrogate \\u%04X without its low half", (unsigned)cp);
        p->pos += 2;
        if (!read_hex4(p, &lo))
            return false;
        if (lo < 0xdc00 || lo > 0xdfff)
            return hmtp_tool_fail_at(p->err, at, "high surrogate \\u%04X without its low half", (unsigned)cp);
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    append_utf8(b, cp);
    return true;
}

static bool parse_string_raw(json_parser *p, char **data, size_t *len)
{
    size_t start = p->pos;
    p->pos++; /* opening quote */
    hmtp_buf b;
    hmtp_buf_init(&b);
    for (;;) {
        if (p->pos >= p->len) {
            hmtp_buf_free(&b);
            return hmtp_tool_fail_at(p->err, start, "string is not closed");
        }
        unsigned char c = (unsigned char)p->text[p->pos++];
        if (c == '"')
            break;
        if (c == '\n' || c == '\r') {
            hmtp_buf_free(&b);
            return hmtp_tool_fail_at(p->err, start, "string is not closed on its line");
        }
        if (c != '\\') {
            hmtp_buf_append_byte(&b, c);
            continue;
        }
        if (p->pos >= p->len) {
            hmtp_buf_free(&b);
            return hmtp_tool_fail_at(p->err, start, "string is not closed");
        }
        char e = p->text[p->pos++];
        switch (e) {
        case '"': hmtp_buf_append_byte(&b, '"'); break;
        case '\\': hmtp_buf_append_byte(&b, '\\'); break;
        case '/': hmtp_buf_append_byte(&b, '/'); break;
        case 'b': hmtp_buf_append_byte(&b, '\b'); break;
        case 'f': hmtp_buf_append_byte(&b, '\f'); break;
        case 'n': hmtp_buf_append_byte(&b, '\n'); break;
        case 'r': hmtp_buf_append_byte(&b, '\r'); break;
        case 't': hmtp_buf_append_byte(&b, '\t'); break;
        case 'u':
            if (!read_unicode_escape(p, &b)) {
                hmtp_buf_free(&b);
                return false;
            }
            break;
        default:
            hmtp_buf_free(&b);
            return hmtp_tool_fail_at(p->err, p->pos - 2, "unknown escape \\%c in a string", e);
        }
    }
    if (b.failed) {
        hmtp_buf_free(&b);
        return hmtp_tool_fail_at(p->err, start, "out of memory");
    }
    *len = b.len;
    *data = hmtp_arena_strndup(p->arena, b.len ? (const char *)b.data : "", b.len);
    hmtp_buf_free(&b);
    if (!*data)
        return hmtp_tool_fail_at(p->err, start, "out of memory");
    return true;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* JSON's number grammar exactly: no leading '+', no leading zeros, digits
 * on both sides of '.', so a typo is an error and not a different value. */
static bool parse_number(json_parser *p, json_node **out)
{
    size_t start = p->pos;
    const char *t = p->text;
    bool integer = true;
    if (p->pos < p->len && t[p->pos] == '-')
        p->pos++;
    if (p->pos >= p->len || !is_digit(t[p->pos]))
        return hmtp_tool_fail_at(p->err, start, "malformed number");
    if (t[p->pos] == '0')
        p->pos++;
    else
        while (p->pos < p->len && is_digit(t[p->pos]))
            p->pos++;
    if (p->pos < p->len && t[p->pos] == '.') {
        integer = false;
        p->pos++;
        if (p->pos >= p->len || !is_digit(t[p->pos]))
            return hmtp_tool_fail_at(p->err, start, "malformed number: digits must follow '.'");
        while (p->pos < p->len && is_digit(t[p->pos]))
            p->pos++;
    }
    if (p->pos < p->len && (t[p->pos] == 'e' || t[p->pos] == 'E')) {
        integer = false;
        p->pos++;
        if (p->pos < p->len && (t[p->pos] == '+' || t[p->pos] == '-'))
            p->pos++;
        if (p->pos >= p->len || !is_digit(t[p->pos]))
            return hmtp_tool_fail_at(p->err, start, "malformed number: digits must follow the exponent");
        while (p->pos < p->len && is_digit(t[p->pos]))
            p->pos++;
    }
    if (p->pos < p->len && (is_digit(t[p->pos]) || t[p->pos] == '.' || t[p->pos] == '_' ||
                            (t[p->pos] >= 'a' && t[p->pos] <= 'z') || (t[p->pos] >= 'A' && t[p->pos] <= 'Z')))
        return hmtp_tool_fail_at(p->err, start, "malformed number");
    json_node *n = new_node(p, JSON_NUMBER, start);
    if (!n)
        return false;
    n->num.integer = integer;
    n->num.text = hmtp_arena_strndup(p->arena, t + start, p->pos - start);
    if (!n->num.text)
        return hmtp_tool_fail_at(p->err, start, "out of memory");
    *out = n;
    return true;
}

/* Items are collected in a malloc'd array while their count is unknown,
 * then copied into the arena so the tree has a single owner. */
typedef struct collector {
    json_node **items;
    char **keys;
    size_t n, cap;
} collector;

static bool collect(collector *c, char *key, json_node *item)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        json_node **items = realloc(c->items, cap * sizeof *items);
        if (!items)
            return false;
        c->items = items;
        char **keys = realloc(c->keys, cap * sizeof *keys);
        if (!keys)
            return false;
        c->keys = keys;
        c->cap = cap;
    }
    c->items[c->n] = item;
    c->keys[c->n] = key;
    c->n++;
    return true;
}

static bool finish_collection(json_parser *p, collector *c, json_node *n, bool with_keys)
{
    bool ok = true;
    n->n = c->n;
    if (c->n) {
        n->items = hmtp_arena_alloc(p->arena, c->n * sizeof *n->items);
        ok = n->items != NULL;
        if (ok)
            memcpy(n->items, c->items, c->n * sizeof *n->items);
        if (ok && with_keys) {
            n->keys = hmtp_arena_alloc(p->arena, c->n * sizeof *n->keys);
            ok = n->keys != NULL;
            if (ok)
                memcpy(n->keys, c->keys, c->n * sizeof *n->keys);
        }
    }
    free(c->items);
    free(c->keys);
    if (!ok)
        return hmtp_tool_fail_at(p->err, n->offset, "out of memory");
    return true;
}

static bool parse_array(json_parser *p, json_node **out, unsigned depth)
{
    json_node *n = new_node(p, JSON_ARRAY, p->pos);
    if (!n)
        return false;
    p->pos++;
    collector c = {0};
    skip_space(p);
    if (p->pos < p->len && p->text[p->pos] == ']') {
        p->pos++;
        *out = n;
        return finish_collection(p, &c, n, false);
    }
    for (;;) {
        json_node *item;
        if (!parse_value(p, &item, depth + 1) || !collect(&c, NULL, item)) {
            free(c.items);
            free(c.keys);
            return p->err->msg[0] ? false : hmtp_tool_fail_at(p->err, n->offset, "out of memory");
        }
        skip_space(p);
        if (p->pos < p->len && p->text[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->text[p->pos] == ']') {
            p->pos++;
            break;
        }
        free(c.items);
        free(c.keys);
        return hmtp_tool_fail_at(p->err, p->pos, "expected ',' or ']' after a list item");
    }
    *out = n;
    return finish_collection(p, &c, n, false);
}

static bool parse_object(json_parser *p, json_node **out, unsigned depth)
{
    json_node *n = new_node(p, JSON_OBJECT, p->pos);
    if (!n)
        return false;
    p->pos++;
    collector c = {0};
    skip_space(p);
    if (p->pos < p->len && p->text[p->pos] == '}') {
        p->pos++;
        *out = n;
        return finish_collection(p, &c, n, true);
    }
    for (;;) {
        skip_space(p);
        size_t key_at = p->pos;
        if (p->pos >= p->len || p->text[p->pos] != '"')
            goto fail_msg_key;
        char *key;
        size_t key_len;
        if (!parse_string_raw(p, &key, &key_len))
            goto fail;
        if (strlen(key) != key_len) {
            hmtp_tool_fail_at(p->err, key_at, "a member name cannot contain \\u0000");
            goto fail;
        }
        for (size_t i = 0; i < c.n; i++)
            if (strcmp(c.keys[i], key) == 0) {
                hmtp_tool_fail_at(p->err, key_at, "duplicate member \"%s\"", key);
                goto fail;
            }
        skip_space(p);
        if (p->pos >= p->len || p->text[p->pos] != ':') {
            hmtp_tool_fail_at(p->err, p->pos, "expected ':' after member name \"%s\"", key);
            goto fail;
        }
        p->pos++;
        json_node *item;
        if (!parse_value(p, &item, depth + 1))
            goto fail;
        if (!collect(&c, key, item)) {
            hmtp_tool_fail_at(p->err, key_at, "out of memory");
            goto fail;
        }
        skip_space(p);
        if (p->pos < p->len && p->text[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->text[p->pos] == '}') {
            p->pos++;
            break;
        }
        hmtp_tool_fail_at(p->err, p->pos, "expected ',' or '}' in the object");
        goto fail;
    }
    *out = n;
    return finish_collection(p, &c, n, true);
fail_msg_key:
    hmtp_tool_fail_at(p->err, p->pos, "expected a member name in double quotes");
fail:
    free(c.items);
    free(c.keys);
    return false;
}

static bool parse_value(json_parser *p, json_node **out, unsigned depth)
{
    if (depth > JSON_MAX_DEPTH)
        return hmtp_tool_fail_at(p->err, p->pos, "JSON nested deeper than %d levels", JSON_MAX_DEPTH);
    skip_space(p);
    if (p->pos >= p->len)
        return hmtp_tool_fail_at(p->err, p->pos, "expected a JSON value, found the end of the file");
    size_t start = p->pos;
    char c = p->text[p->pos];
    switch (c) {
    case '{':
        return parse_object(p, out, depth);
    case '[':
        return parse_array(p, out, depth);
    case '"': {
        json_node *n = new_node(p, JSON_STRING, start);
        if (!n || !parse_string_raw(p, &n->str.data, &n->str.len))
            return false;
        *out = n;
        return true;
    }
    default:
        break;
    }
    if (c == '-' || is_digit(c))
        return parse_number(p, out);
    json_node *n;
    if (expect_word(p, "null")) {
        n = new_node(p, JSON_NULL, start);
    } else if (expect_word(p, "true")) {
        n = new_node(p, JSON_BOOL, start);
        if (n)
            n->b = true;
    } else if (expect_word(p, "false")) {
        n = new_node(p, JSON_BOOL, start);
    } else {
        size_t end = start;
        while (end < p->len && end - start < 20 && p->text[end] != ' ' && p->text[end] != '\n' &&
               p->text[end] != '\t' && p->text[end] != ',' && p->text[end] != '}' && p->text[end] != ']')
            end++;
        return hmtp_tool_fail_at(p->err, start,
                                 "expected a JSON value (null, true, false, a number, \"string\", [...] or {...}), "
                                 "found '%.*s'",
                                 (int)(end - start), p->text + start);
    }
    if (!n)
        return false;
    *out = n;
    return true;
}

bool json_parse(const char *text, size_t len, size_t *pos, hmtp_arena *arena, json_node **out,
                hmtp_tool_error *err)
{
    json_parser p = {.text = text, .len = len, .pos = *pos, .arena = arena, .err = err};
    err->msg[0] = '\0';
    if (!parse_value(&p, out, 0))
        return false;
    *pos = p.pos;
    return true;
}

const json_node *json_member(const json_node *obj, const char *key)
{
    if (!obj || obj->kind != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->items[i];
    return NULL;
}

bool json_has_dollar_key(const json_node *obj)
{
    if (!obj || obj->kind != JSON_OBJECT)
        return false;
    for (size_t i = 0; i < obj->n; i++)
        if (obj->keys[i][0] == '$')
            return true;
    return false;
}

const char *json_kind_name(json_kind k)
{
    switch (k) {
    case JSON_NULL: return "null";
    case JSON_BOOL: return "boolean";
    case JSON_NUMBER: return "number";
    case JSON_STRING: return "string";
    case JSON_ARRAY: return "list";
    case JSON_OBJECT: return "object";
    }
    return "?";
}
