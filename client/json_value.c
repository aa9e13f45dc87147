/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "json_value.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Without an arena the same walk only checks the form: one code path for
 * the syntax check before a run and the build during it, so the two cannot
 * disagree. */
typedef struct builder {
    hmtp_arena *arena; /* NULL: check only */
    bool pattern;      /* $any allowed */
    hmtp_tool_error *err;
} builder;

static bool build(builder *b, const json_node *n, hessian_value **out);

static bool oom(builder *b, const json_node *n)
{
    return hmtp_tool_fail_at(b->err, n->offset, "out of memory building the value");
}

static bool parse_integer(builder *b, const json_node *n, const char *form, int64_t *out)
{
    /* hmtp-decode prints longs beyond 2^53 as decimal strings */
    if (n->kind == JSON_STRING && form[0] == '$' && strcmp(form, "$int") != 0) {
        errno = 0;
        char *end;
        long long v = strtoll(n->str.data, &end, 10);
        if (errno == ERANGE || end == n->str.data || *end)
            return hmtp_tool_fail_at(b->err, n->offset, "%s: \"%s\" is not a 64-bit integer", form, n->str.data);
        *out = v;
        return true;
    }
    if (n->kind != JSON_NUMBER || !n->num.integer)
        return hmtp_tool_fail_at(b->err, n->offset, "%s needs an integer, not a %s", form,
                                 n->kind == JSON_NUMBER ? "number with a fraction or exponent"
                                                        : json_kind_name(n->kind));
    errno = 0;
    char *end;
    long long v = strtoll(n->num.text, &end, 10);
    if (errno == ERANGE || *end)
        return hmtp_tool_fail_at(b->err, n->offset, "%s: %s does not fit in 64 bits", form, n->num.text);
    *out = v;
    return true;
}

/* Only the members a form knows may appear, so a misspelt option is an error
 * rather than silently ignored. */
static bool only_members(builder *b, const json_node *obj, const char *form, const char *const *allowed)
{
    for (size_t i = 0; i < obj->n; i++) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(obj->keys[i], *a) == 0)
                ok = true;
        if (!ok)
            return hmtp_tool_fail_at(b->err, obj->items[i]->offset, "unexpected member \"%s\" in a %s form",
                                     obj->keys[i], form);
    }
    return true;
}

static bool want_string(builder *b, const json_node *n, const char *what)
{
    if (n->kind != JSON_STRING)
        return hmtp_tool_fail_at(b->err, n->offset, "%s must be a string, not a %s", what, json_kind_name(n->kind));
    return true;
}

static int b64_digit(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict base64 (standard alphabet, '=' padding required): a corrupted
 * payload in a scenario should be an error, not different bytes. */
static bool decode_base64(builder *b, const json_node *n, uint8_t **out, size_t *out_len)
{
    const unsigned char *s = (const unsigned char *)n->str.data;
    size_t len = n->str.len;
    if (len % 4 != 0)
        return hmtp_tool_fail_at(b->err, n->offset, "$binary: base64 length %zu is not a multiple of 4", len);
    size_t pad = 0;
    if (len >= 1 && s[len - 1] == '=')
        pad++;
    if (len >= 2 && s[len - 2] == '=')
        pad++;
    size_t n_out = len / 4 * 3 - pad;
    uint8_t *data = NULL;
    if (b->arena && n_out) {
        data = hmtp_arena_alloc(b->arena, n_out);
        if (!data)
            return oom(b, n);
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t acc = 0;
        for (size_t k = 0; k < 4; k++) {
            int d = b64_digit(s[i + k]);
            bool padding = s[i + k] == '=' && i + 4 == len && k >= 4 - pad;
            if (d < 0 && !padding)
                return hmtp_tool_fail_at(b->err, n->offset, "$binary: '%c' at position %zu is not base64", s[i + k],
                                         i + k);
            acc = acc << 6 | (uint32_t)(d < 0 ? 0 : d);
        }
        uint8_t bytes[3] = {(uint8_t)(acc >> 16), (uint8_t)(acc >> 8), (uint8_t)acc};
        for (size_t k = 0; k < 3 && o < n_out; k++, o++)
            if (data)
                data[o] = bytes[k];
    }
    *out = data;
    *out_len = n_out;
    return true;
}

void json_random_bytes(uint64_t seed, uint8_t *out, size_t n)
{
    uint64_t state = seed;
    for (size_t i = 0; i < n; i += 8) {
        state += 0x9e3779b97f4a7c15ULL;
        uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        for (size_t k = 0; k < 8 && i + k < n; k++)
            out[i + k] = (uint8_t)(z >> (8 * k));
    }
}

static hessian_value *checked(builder *b, hessian_value *v, const json_node *n, bool *ok)
{
    if (b->arena && !v)
        *ok = oom(b, n);
    return v;
}

static bool build_number(builder *b, const json_node *n, hessian_value **out)
{
    bool ok = true;
    if (n->num.integer) {
        int64_t v;
        if (!parse_integer(b, n, "an integer", &v))
            return false;
        if (b->arena)
            *out = checked(b,
                           v >= INT32_MIN && v <= INT32_MAX ? hessian_new_int(b->arena, (int32_t)v)
                                                            : hessian_new_long(b->arena, v),
                           n, &ok);
        return ok;
    }
    double d = strtod(n->num.text, NULL);
    if (isinf(d))
        return hmtp_tool_fail_at(b->err, n->offset, "%s is beyond a double's range", n->num.text);
    if (b->arena)
        *out = checked(b, hessian_new_double(b->arena, d), n, &ok);
    return ok;
}

static bool build_explicit_number(builder *b, const json_node *obj, const char *key, hessian_value **out)
{
    static const char *const ilist[] = {"$int", NULL}, *const llist[] = {"$long", NULL},
                             *const dlist[] = {"$double", NULL}, *const datelist[] = {"$date", NULL};
    const json_node *n = obj->items[0];
    bool ok = true;
    if (strcmp(key, "$double") == 0) {
        if (!only_members(b, obj, "$double", dlist))
            return false;
        double d;
        if (n->kind == JSON_STRING) {
            if (strcmp(n->str.data, "NaN") == 0)
                d = NAN;
            else if (strcmp(n->str.data, "Infinity") == 0)
                d = INFINITY;
            else if (strcmp(n->str.data, "-Infinity") == 0)
                d = -INFINITY;
            else
                return hmtp_tool_fail_at(b->err, n->offset, "$double: the only strings are \"NaN\", \"Infinity\", \"-Infinity\"");
        } else if (n->kind == JSON_NUMBER) {
            d = strtod(n->num.text, NULL);
            if (isinf(d))
                return hmtp_tool_fail_at(b->err, n->offset, "%s is beyond a double's range", n->num.text);
        } else {
            return hmtp_tool_fail_at(b->err, n->offset, "$double needs a number, not a %s", json_kind_name(n->kind));
        }
        if (b->arena)
            *out = checked(b, hessian_new_double(b->arena, d), n, &ok);
        return ok;
    }
    int64_t v;
    if (!only_members(b, obj, key,
                      strcmp(key, "$int") == 0 ? ilist : strcmp(key, "$long") == 0 ? llist : datelist) ||
        !parse_integer(b, n, key, &v))
        return false;
    if (strcmp(key, "$int") == 0) {
        if (v < INT32_MIN || v > INT32_MAX)
            return hmtp_tool_fail_at(b->err, n->offset, "$int: %lld does not fit in 32 bits (use $long)", (long long)v);
        if (b->arena)
            *out = checked(b, hessian_new_int(b->arena, (int32_t)v), n, &ok);
    } else if (strcmp(key, "$long") == 0) {
        if (b->arena)
            *out = checked(b, hessian_new_long(b->arena, v), n, &ok);
    } else if (b->arena) {
        *out = checked(b, hessian_new_date(b->arena, v), n, &ok);
    }
    return ok;
}

static bool build_binary(builder *b, const json_node *obj, hessian_value **out)
{
    static const char *const allowed[] = {"$binary", NULL};
    const json_node *n = json_member(obj, "$binary");
    if (!only_members(b, obj, "$binary", allowed) || !want_string(b, n, "$binary"))
        return false;
    uint8_t *data = NULL;
    size_t len = 0;
    if (!decode_base64(b, n, &data, &len))
        return false;
    bool ok = true;
    if (b->arena)
        *out = checked(b, hessian_new_binary(b->arena, data ? data : (const uint8_t *)"", len), n, &ok);
    return ok;
}

static bool generated_size(builder *b, const json_node *n, const char *form, size_t *out)
{
    int64_t v;
    if (!parse_integer(b, n, form, &v))
        return false;
    if (v < 0 || (uint64_t)v > JSON_VALUE_MAX_GENERATED)
        return hmtp_tool_fail_at(b->err, n->offset, "%s: %lld is outside 0..%zu", form, (long long)v,
                                 JSON_VALUE_MAX_GENERATED);
    *out = (size_t)v;
    return true;
}

static bool build_repeat(builder *b, const json_node *obj, hessian_value **out)
{
    static const char *const allowed[] = {"$repeat", "$count", NULL};
    const json_node *unit = json_member(obj, "$repeat"), *count = json_member(obj, "$count");
    if (!only_members(b, obj, "$repeat", allowed) || !want_string(b, unit, "$repeat"))
        return false;
    if (!count)
        return hmtp_tool_fail_at(b->err, obj->offset, "$repeat needs \"$count\": how many times to repeat the string");
    size_t times;
    if (!generated_size(b, count, "$count", &times))
        return false;
    if (unit->str.len && times > JSON_VALUE_MAX_GENERATED / unit->str.len)
        return hmtp_tool_fail_at(b->err, obj->offset, "$repeat makes more than %zu bytes", JSON_VALUE_MAX_GENERATED);
    if (!b->arena)
        return true;
    size_t total = unit->str.len * times;
    char *s = hmtp_arena_alloc(b->arena, total + 1);
    if (!s)
        return oom(b, obj);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * unit->str.len, unit->str.data, unit->str.len);
    bool ok = true;
    *out = checked(b, hessian_new_string(b->arena, s, total), obj, &ok);
    return ok;
}

static bool build_random_binary(builder *b, const json_node *obj, hessian_value **out)
{
    static const char *const allowed[] = {"$random_binary", "$seed", NULL};
    const json_node *size = json_member(obj, "$random_binary"), *seed_node = json_member(obj, "$seed");
    size_t n;
    int64_t seed = 1;
    if (!only_members(b, obj, "$random_binary", allowed) || !generated_size(b, size, "$random_binary", &n) ||
        (seed_node && !parse_integer(b, seed_node, "$seed", &seed)))
        return false;
    if (!b->arena)
        return true;
    uint8_t *data = hmtp_arena_alloc(b->arena, n ? n : 1);
    if (!data)
        return oom(b, obj);
    json_random_bytes((uint64_t)seed, data, n);
    bool ok = true;
    *out = checked(b, hessian_new_binary(b->arena, data, n), obj, &ok);
    return ok;
}

static bool optional_type(builder *b, const json_node *obj, const char **type)
{
    const json_node *t = json_member(obj, "$type");
    *type = NULL;
    if (!t || t->kind == JSON_NULL)
        return true;
    if (!want_string(b, t, "$type"))
        return false;
    *type = t->str.data;
    return true;
}

static bool build_list_items(builder *b, const json_node *items, const char *type, bool variable,
                             hessian_value **out)
{
    hessian_value *list = NULL;
    if (b->arena) {
        list = hessian_new_list(b->arena, type, variable, items->n);
        if (!list)
            return oom(b, items);
    }
    for (size_t i = 0; i < items->n; i++) {
        hessian_value *item = NULL;
        if (!build(b, items->items[i], &item))
            return false;
        if (list)
            list->v.list.items[i] = item;
    }
    *out = list;
    return true;
}

static bool build_typed_list(builder *b, const json_node *obj, hessian_value **out)
{
    static const char *const allowed[] = {"$list", "$type", "$variable", NULL};
    const json_node *items = json_member(obj, "$list"), *var = json_member(obj, "$variable");
    const char *type;
    if (!only_members(b, obj, "$list", allowed) || !optional_type(b, obj, &type))
        return false;
    if (items->kind != JSON_ARRAY)
        return hmtp_tool_fail_at(b->err, items->offset, "$list must be a list [...]");
    if (var && var->kind != JSON_BOOL)
        return hmtp_tool_fail_at(b->err, var->offset, "$variable must be true or false");
    return build_list_items(b, items, type, var && var->b, out);
}

static bool build_map(builder *b, const json_node *obj, hessian_value **out)
{
    static const char *const allowed[] = {"$map", "$type", NULL};
    const json_node *pairs = json_member(obj, "$map");
    const char *type;
    if (!only_members(b, obj, "$map", allowed) || !optional_type(b, obj, &type))
        return false;
    if (pairs->kind != JSON_ARRAY)
        return hmtp_tool_fail_at(b->err, pairs->offset, "$map must be a list of [key, value] pairs");
    hessian_value *map = NULL;
    if (b->arena) {
        map = hessian_new_map(b->arena, type, pairs->n);
        if (!map)
            return oom(b, obj);
    }
    for (size_t i = 0; i < pairs->n; i++) {
        const json_node *pair = pairs->items[i];
        if (pair->kind != JSON_ARRAY || pair->n != 2)
            return hmtp_tool_fail_at(b->err, pair->offset, "$map entry %zu must be a [key, value] pair", i);
        hessian_value *k = NULL, *v = NULL;
        if (!build(b, pair->items[0], &k) || !build(b, pair->items[1], &v))
            return false;
        if (map) {
            map->v.map.keys[i] = k;
            map->v.map.values[i] = v;
        }
    }
    *out = map;
    return true;
}

static bool build_object(builder *b, const json_node *obj, hessian_value **out)
{
    const json_node *cls = json_member(obj, "$class");
    if (!want_string(b, cls, "$class"))
        return false;
    size_t nfields = 0;
    for (size_t i = 0; i < obj->n; i++) {
        if (obj->keys[i][0] == '$' && strcmp(obj->keys[i], "$class") != 0)
            return hmtp_tool_fail_at(b->err, obj->items[i]->offset,
                                     "unexpected member \"%s\" in a $class form (field names cannot start with '$')",
                                     obj->keys[i]);
        if (obj->keys[i][0] != '$')
            nfields++;
    }
    hessian_value *o = NULL;
    if (b->arena) {
        const char **names = hmtp_arena_alloc(b->arena, (nfields ? nfields : 1) * sizeof *names);
        if (!names)
            return oom(b, obj);
        size_t k = 0;
        for (size_t i = 0; i < obj->n; i++)
            if (obj->keys[i][0] != '$')
                names[k++] = obj->keys[i];
        o = hessian_new_object(b->arena, cls->str.data, nfields, names);
        if (!o)
            return oom(b, obj);
    }
    for (size_t i = 0; i < obj->n; i++) {
        if (obj->keys[i][0] == '$')
            continue;
        hessian_value *field = NULL;
        if (!build(b, obj->items[i], &field))
            return false;
        if (o && !hessian_object_set(o, obj->keys[i], field))
            return hmtp_tool_fail_at(b->err, obj->items[i]->offset, "cannot set field \"%s\"", obj->keys[i]);
    }
    *out = o;
    return true;
}

static bool build_ref(builder *b, const json_node *obj, hessian_value **out)
{
    static const char *const allowed[] = {"$ref", NULL};
    const json_node *n = json_member(obj, "$ref");
    int64_t v;
    if (!only_members(b, obj, "$ref", allowed) || !parse_integer(b, n, "$ref", &v))
        return false;
    if (v < 0 || v > UINT32_MAX)
        return hmtp_tool_fail_at(b->err, n->offset, "$ref %lld is out of range", (long long)v);
    if (!b->arena)
        return true;
    hessian_value *r = hmtp_arena_alloc(b->arena, sizeof *r);
    if (!r)
        return oom(b, obj);
    r->kind = HESSIAN_REF;
    r->v.ref = (uint32_t)v;
    *out = r;
    return true;
}

static bool build_form(builder *b, const json_node *obj, hessian_value **out)
{
    if (json_member(obj, "$class"))
        return build_object(b, obj, out);
    if (json_member(obj, "$map"))
        return build_map(b, obj, out);
    if (json_member(obj, "$list"))
        return build_typed_list(b, obj, out);
    if (json_member(obj, "$binary"))
        return build_binary(b, obj, out);
    if (json_member(obj, "$repeat"))
        return build_repeat(b, obj, out);
    if (json_member(obj, "$random_binary"))
        return build_random_binary(b, obj, out);
    if (json_member(obj, "$ref"))
        return build_ref(b, obj, out);
    static const char *const numeric[] = {"$int", "$long", "$double", "$date", NULL};
    for (const char *const *k = numeric; *k; k++)
        if (json_member(obj, *k))
            return build_explicit_number(b, obj, *k, out);
    if (json_member(obj, "$any")) {
        if (!b->pattern)
            return hmtp_tool_fail_at(b->err, obj->offset, "{\"$any\":...} matches anything: it is only for expect");
        return true;
    }
    if (obj->n == 0 || !json_has_dollar_key(obj))
        return hmtp_tool_fail_at(b->err, obj->offset,
                                 "a plain JSON object has no Hessian meaning: write {\"$class\":\"name\",...} for an "
                                 "object or {\"$map\":[[key,value],...]} for a map");
    for (size_t i = 0; i < obj->n; i++)
        if (obj->keys[i][0] == '$')
            return hmtp_tool_fail_at(b->err, obj->items[i]->offset,
                                     "unknown form \"%s\" (known: $class $map $list $type $binary $date $int $long "
                                     "$double $repeat $random_binary $ref%s)",
                                     obj->keys[i], b->pattern ? " $any" : "");
    return false;
}

static bool build(builder *b, const json_node *n, hessian_value **out)
{
    bool ok = true;
    *out = NULL;
    switch (n->kind) {
    case JSON_NULL:
        if (b->arena)
            *out = checked(b, hessian_new_null(b->arena), n, &ok);
        return ok;
    case JSON_BOOL:
        if (b->arena)
            *out = checked(b, hessian_new_bool(b->arena, n->b), n, &ok);
        return ok;
    case JSON_NUMBER:
        return build_number(b, n, out);
    case JSON_STRING:
        if (b->arena)
            *out = checked(b, hessian_new_string(b->arena, n->str.data, n->str.len), n, &ok);
        return ok;
    case JSON_ARRAY:
        return build_list_items(b, n, NULL, false, out);
    case JSON_OBJECT:
        return build_form(b, n, out);
    }
    return hmtp_tool_fail_at(b->err, n->offset, "unknown JSON node");
}

bool json_to_value(const json_node *node, hmtp_arena *arena, hessian_value **out, hmtp_tool_error *err)
{
    builder b = {.arena = arena, .pattern = false, .err = err};
    return build(&b, node, out);
}

bool json_value_check(const json_node *node, bool pattern, hmtp_tool_error *err)
{
    builder b = {.arena = NULL, .pattern = pattern, .err = err};
    hessian_value *ignored;
    return build(&b, node, &ignored);
}
