/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A value tree built from the decoder's events, for callers that want whole
 * values rather than events (JSON output, the broker, the replayer's
 * comparison). Nodes live in an arena owned by the caller. */
#ifndef HMTP_VALUE_H
#define HMTP_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "hessian.h"

typedef struct hessian_value hessian_value;

struct hessian_value {
    hessian_kind kind; /* never END or CLASS_DEF */
    size_t offset;     /* body bytes of the whole value, children included */
    size_t length;
    union {
        bool b;
        int32_t i;
        int64_t l;
        double d;
        int64_t date_ms;
        struct {
            char *data; /* UTF-8, NUL-terminated */
            size_t len;
        } str;
        struct {
            uint8_t *data;
            size_t len;
        } bin;
        struct {
            char *type;    /* NULL: untyped (or unknown type ref, see type_index) */
            int32_t type_index;
            bool variable; /* written with a 'Z' end (U/W), else fixed length */
            size_t n;
            hessian_value **items;
        } list;
        struct {
            char *type; /* NULL: untyped 'H' map (or unknown type ref) */
            int32_t type_index;
            size_t n;
            hessian_value **keys;
            hessian_value **values;
        } map;
        struct {
            char *cls;   /* class name; NULL when the definition was not seen */
            int32_t class_index;
            size_t n;
            char **names; /* field names; NULL when the definition was not seen */
            hessian_value **fields;
        } object;
        uint32_t ref;
    } v;
};

/* Reads the next top-level value (class definitions before it are consumed
 * and recorded). Returns 1 with *out set, 0 at the end of the body, -1 on a
 * decode error or out of memory (err filled; the partial tree is discarded). */
int hessian_read_value(hessian_decoder *d, hmtp_arena *arena, hessian_value **out, hmtp_error *err);

/* Builds the rest of a value whose start event the caller already took from
 * the decoder (so event-level callers can switch to trees mid-stream). */
int hessian_read_value_from(hessian_decoder *d, const hessian_event *start, hmtp_arena *arena,
                            hessian_value **out, hmtp_error *err);

/* Field of an object by name; NULL when absent or when v is not an object. */
const hessian_value *hessian_object_field(const hessian_value *v, const char *name);
/* True when v is an object of class cls (the name as written in its class
 * definition, e.g. HMTP_AUTH_QUERY_CLASS); false for NULL, another kind, an
 * object without a class name, and any other class. */
bool hmtp_value_is_object(const hessian_value *v, const char *cls);
/* The string of a STRING node as C text; NULL for a null, any other kind,
 * and a string holding U+0000 (as C text it would be cut short: use
 * v->v.str.data and v->v.str.len for the exact bytes). */
const char *hessian_value_string(const hessian_value *v);

/* Structural equality on decoded values (kind, value, type names, class
 * names, field names); doubles compare by bits. */
bool hessian_value_equal(const hessian_value *a, const hessian_value *b);

/* Constructors for callers that build trees to write (broker, client). */
hessian_value *hessian_new_null(hmtp_arena *a);
hessian_value *hessian_new_bool(hmtp_arena *a, bool b);
hessian_value *hessian_new_int(hmtp_arena *a, int32_t i);
hessian_value *hessian_new_long(hmtp_arena *a, int64_t l);
hessian_value *hessian_new_double(hmtp_arena *a, double d);
hessian_value *hessian_new_date(hmtp_arena *a, int64_t ms);
hessian_value *hessian_new_string(hmtp_arena *a, const char *utf8, size_t len); /* NULL utf8: null */
hessian_value *hessian_new_binary(hmtp_arena *a, const uint8_t *data, size_t len);
hessian_value *hessian_new_list(hmtp_arena *a, const char *type, bool variable, size_t n);
hessian_value *hessian_new_map(hmtp_arena *a, const char *type, size_t n);
/* An object with n fields named names[0..n) (copied); fields start as null. */
hessian_value *hessian_new_object(hmtp_arena *a, const char *cls, size_t n, const char *const *names);
/* Sets a named field of an object built above; false when no such field. */
bool hessian_object_set(hessian_value *obj, const char *name, hessian_value *v);

#endif
