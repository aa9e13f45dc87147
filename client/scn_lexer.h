/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Splits scenario text into statements of words. A statement ends at the
 * end of its line (or continues after a trailing backslash); '#' at the
 * start of a word begins a comment; a word is bare text, "a JSON string",
 * a JSON value in {...} or [...] (which may span lines), or key=value with
 * either kind of value. */
#ifndef HMTP_CLIENT_SCN_LEXER_H
#define HMTP_CLIENT_SCN_LEXER_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "error.h"
#include "json_tree.h"

#define SCN_MAX_WORDS 64

typedef struct scn_token {
    size_t offset;       /* first byte of the word */
    char *key;           /* "to" in to=..., NULL for a positional word */
    size_t value_offset; /* first byte of the value (after '=') */
    size_t value_end;    /* just past the value */
    char *word;          /* bare text, or the contents of "..."; NULL for {...} and [...] */
    const json_node *json; /* set for "...", {...} and [...] */
} scn_token;

typedef struct scn_lexer {
    const char *text;
    size_t len, pos;
    hmtp_arena *arena;
} scn_lexer;

void scn_lexer_init(scn_lexer *lx, const char *text, size_t len, hmtp_arena *arena);

/* 1: the next statement's words are in tokens[0..*n) (n >= 1); 0: end of
 * text; -1: error. */
int scn_lexer_next(scn_lexer *lx, scn_token *tokens, size_t *n, hmtp_tool_error *err);

#endif
