/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "scn_lexer.h"

#include <string.h>

void scn_lexer_init(scn_lexer *lx, const char *text, size_t len, hmtp_arena *arena)
{
    lx->text = text;
    lx->len = len;
    lx->pos = 0;
    lx->arena = arena;
}

static bool at_word_end(const scn_lexer *lx, size_t i)
{
    if (i >= lx->len)
        return true;
    char c = lx->text[i];
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Skips blanks, comments and backslash-newline; stops at a newline (which
 * ends the statement) or the start of a word. */
static void skip_blanks(scn_lexer *lx)
{
    while (lx->pos < lx->len) {
        char c = lx->text[lx->pos];
        if (c == ' ' || c == '\t' || c == '\r') {
            lx->pos++;
        } else if (c == '\\' && lx->pos + 1 < lx->len &&
                   (lx->text[lx->pos + 1] == '\n' ||
                    (lx->text[lx->pos + 1] == '\r' && lx->pos + 2 < lx->len && lx->text[lx->pos + 2] == '\n'))) {
            lx->pos += lx->text[lx->pos + 1] == '\n' ? 2 : 3;
        } else if (c == '#') {
            while (lx->pos < lx->len && lx->text[lx->pos] != '\n')
                lx->pos++;
        } else {
            return;
        }
    }
}

static bool read_value(scn_lexer *lx, scn_token *t, hmtp_tool_error *err)
{
    t->value_offset = lx->pos;
    char c = lx->pos < lx->len ? lx->text[lx->pos] : '\0';
    if (c == '"' || c == '{' || c == '[') {
        json_node *node;
        if (!json_parse(lx->text, lx->len, &lx->pos, lx->arena, &node, err))
            return false;
        t->json = node;
        if (node->kind == JSON_STRING)
            t->word = node->str.data;
        if (!at_word_end(lx, lx->pos))
            return hmtp_tool_fail_at(err, lx->pos, "expected a space or the end of the line after the value");
    } else {
        size_t start = lx->pos;
        while (!at_word_end(lx, lx->pos))
            lx->pos++;
        t->word = hmtp_arena_strndup(lx->arena, lx->text + start, lx->pos - start);
        if (!t->word)
            return hmtp_tool_fail_at(err, start, "out of memory");
    }
    t->value_end = lx->pos;
    return true;
}

/* A key is a run of letters, digits, '-' and '_' followed by '='; anything
 * else is a positional word (so "a=b" inside "x/a=b" stays whole). */
static size_t key_length(const scn_lexer *lx)
{
    size_t i = lx->pos;
    while (i < lx->len) {
        char c = lx->text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            break;
        i++;
    }
    if (i > lx->pos && i < lx->len && lx->text[i] == '=')
        return i - lx->pos;
    return 0;
}

int scn_lexer_next(scn_lexer *lx, scn_token *tokens, size_t *n, hmtp_tool_error *err)
{
    *n = 0;
    for (;;) {
        skip_blanks(lx);
        if (lx->pos >= lx->len)
            return *n ? 1 : 0;
        if (lx->text[lx->pos] == '\n') {
            lx->pos++;
            if (*n)
                return 1;
            continue;
        }
        if (*n == SCN_MAX_WORDS) {
            hmtp_tool_fail_at(err, lx->pos, "more than %d words in one statement", SCN_MAX_WORDS);
            return -1;
        }
        scn_token *t = &tokens[(*n)++];
        memset(t, 0, sizeof *t);
        t->offset = lx->pos;
        size_t klen = key_length(lx);
        if (klen) {
            t->key = hmtp_arena_strndup(lx->arena, lx->text + lx->pos, klen);
            if (!t->key) {
                hmtp_tool_fail_at(err, lx->pos, "out of memory");
                return -1;
            }
            lx->pos += klen + 1;
        }
        if (!read_value(lx, t, err))
            return -1;
    }
}
