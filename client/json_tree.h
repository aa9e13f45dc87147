/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small JSON reader for scenario files. It parses one value starting at a
 * given position of a larger text (a scenario line holds words around the
 * JSON), keeps object members in their written order (object fields are
 * ordered in Hessian), keeps a number's lexeme so that 1 and 1.0 stay an
 * integer and a double, and refuses duplicate keys instead of silently
 * dropping one. Nodes live in the caller's arena. */
#ifndef HMTP_CLIENT_JSON_TREE_H
#define HMTP_CLIENT_JSON_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "error.h"

typedef enum json_kind {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
} json_kind;

typedef struct json_node json_node;

struct json_node {
    json_kind kind;
    size_t offset; /* where the value starts in the parsed text */
    bool b;
    struct {
        char *text;   /* the lexeme, NUL-terminated */
        bool integer; /* no fraction and no exponent */
    } num;
    struct {
        char *data; /* UTF-8, NUL-terminated (may also hold NULs: use len) */
        size_t len;
    } str;
    size_t n;          /* ARRAY: items; OBJECT: members */
    json_node **items; /* ARRAY items, OBJECT member values */
    char **keys;       /* OBJECT member names, NUL-terminated */
};

/* Parses one JSON value at text[*pos] (leading white space, newlines
 * included, is skipped). On success *pos is just past the value. */
bool json_parse(const char *text, size_t len, size_t *pos, hmtp_arena *arena, json_node **out,
                hmtp_tool_error *err);

/* The member of an object named key, NULL when absent. */
const json_node *json_member(const json_node *obj, const char *key);

/* True when an object has at least one member whose name starts with '$'. */
bool json_has_dollar_key(const json_node *obj);

const char *json_kind_name(json_kind k);

#endif
