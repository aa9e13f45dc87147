/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "verify.h"

#include <inttypes.h>
#include <string.h>

#include "json.h"

#define SHOWN_VALUE_MAX 160

void verify_result_init(verify_result *r)
{
    memset(r, 0, sizeof *r);
}

void verify_result_add(verify_result *r, verify_diff *d)
{
    if (!r->diffs)
        r->diffs = g_ptr_array_new();
    g_ptr_array_add(r->diffs, d);
}

static void diff_free(verify_diff *d)
{
    g_free(d->packet);
    g_free(d->path);
    g_free(d->expected);
    g_free(d->actual);
    g_free(d->cls);
    g_free(d);
}

void verify_result_free(verify_result *r)
{
    if (r->diffs) {
        for (guint i = 0; i < r->diffs->len; i++)
            diff_free(g_ptr_array_index(r->diffs, i));
        g_ptr_array_free(r->diffs, TRUE);
    }
    memset(r, 0, sizeof *r);
}

unsigned verify_drop_unexpected_from(verify_result *r, uint64_t received)
{
    unsigned dropped = 0;
    for (guint i = 0; i < verify_diff_count(r);) {
        verify_diff *d = g_ptr_array_index(r->diffs, i);
        if (d->kind == DIFF_UNEXPECTED && d->received >= received) {
            g_ptr_array_remove_index(r->diffs, i); /* keeps the order of the rest */
            diff_free(d);
            r->unexpected--;
            dropped++;
        } else {
            i++;
        }
    }
    return dropped;
}

/* True when path is covered by one of the --ignore patterns: segment-wise
 * prefix match; a path segment "_x" also answers to "x", since Resin's
 * classes name their fields with a leading underscore. */
static bool path_covers(const char *pattern, const char *path)
{
    size_t n = strlen(pattern);
    return strncmp(path, pattern, n) == 0 && (path[n] == '\0' || path[n] == '.' || path[n] == '[');
}

static bool verify_path_ignored(char **ignore, const char *path)
{
    for (char **p = ignore; p && *p; p++)
        if (path_covers(*p, path))
            return true;
    return false;
}

const char *verify_payload_class(const hmtp_packet *p)
{
    return p->value && p->value->kind == HESSIAN_OBJECT ? p->value->v.object.cls : NULL;
}

static char *shown(const hessian_value *v)
{
    hmtp_buf b;
    hmtp_buf_init(&b);
    if (v)
        hmtp_json_value(&b, v);
    else
        hmtp_buf_printf(&b, "{\"$absent\":true}"); /* a field one side lacks; still JSON, as the reports embed it */
    if (b.len > SHOWN_VALUE_MAX) {
        /* cut JSON is no longer JSON: show the cut text as a JSON string */
        size_t cut = SHOWN_VALUE_MAX;
        while (cut > 0 && (b.data[cut] & 0xc0) == 0x80)
            cut--; /* not inside a UTF-8 sequence */
        char *text = g_strdup_printf("%.*s...", (int)cut, (const char *)b.data);
        hmtp_buf_reset(&b);
        hmtp_json_string(&b, text, strlen(text));
        g_free(text);
    }
    char *s = g_strndup((const char *)b.data, b.len);
    hmtp_buf_free(&b);
    return s;
}

static char *shown_string(const char *s)
{
    hmtp_buf b;
    hmtp_buf_init(&b);
    if (s)
        hmtp_json_string(&b, s, strlen(s));
    else
        hmtp_buf_printf(&b, "null");
    char *out = g_strndup((const char *)b.data, b.len);
    hmtp_buf_free(&b);
    return out;
}

typedef struct cmp_ctx {
    const verify_config *cfg;
    const rewrite_config *map;
    GPtrArray *found; /* verify_diff* for this pair */
    bool record;      /* false: only tell whether anything differs */
    GString *path;    /* the field being compared; one per verify_session, reused */
    int32_t type;     /* of the recorded packet being compared ... */
    const char *cls;  /* ... and its payload's class: which --ignore-file rules apply */
} cmp_ctx;

/* --ignore, or a rule for this packet's type and payload class. */
static bool ignored(const cmp_ctx *c, const char *path)
{
    if (verify_path_ignored(c->cfg->ignore, path))
        return true;
    for (unsigned i = 0; i < c->cfg->n_rules; i++) {
        const verify_rule *r = &c->cfg->rules[i];
        if (r->type == c->type && (r->cls ? c->cls && strcmp(r->cls, c->cls) == 0 : !c->cls) &&
            path_covers(r->path, path))
            return true;
    }
    return false;
}

static bool note(cmp_ctx *c, const char *path, char *expected, char *actual)
{
    if (c->record && c->found->len < VERIFY_MAX_DIFFS) {
        verify_diff *d = g_new0(verify_diff, 1);
        d->kind = DIFF_DIFFERENT;
        d->path = g_strdup(path);
        d->expected = expected;
        d->actual = actual;
        g_ptr_array_add(c->found, d);
    } else {
        g_free(expected);
        g_free(actual);
    }
    return false;
}

static const char *field_label(const char *name) { return name[0] == '_' && name[1] ? name + 1 : name; }

static bool same_string(cmp_ctx *c, const char *expected, const char *actual, bool always_map)
{
    char *mapped = NULL;
    if (expected && (always_map || strchr(expected, '@')))
        mapped = rewrite_map_jid(c->map, expected);
    const char *e = mapped ? mapped : expected;
    bool same = (!e && !actual) || (e && actual && strcmp(e, actual) == 0);
    g_free(mapped);
    return same;
}

static bool compare_value(cmp_ctx *c, const hessian_value *e, const hessian_value *a, GString *path);

/* Runs for every node of every pair: a field's path is built without
 * printf, and not at all when nothing reads it (a quiet comparison with no
 * --ignore). */
static bool compare_child(cmp_ctx *c, const hessian_value *e, const hessian_value *a, GString *path,
                          const char *fmt, const char *name, size_t index)
{
    if (!c->record && !(c->cfg->ignore && c->cfg->ignore[0]) && !c->cfg->n_rules)
        return compare_value(c, e, a, path);
    gsize keep = path->len;
    if (name) {
        g_string_append_c(path, '.');
        g_string_append(path, name);
    } else {
        g_string_append_printf(path, fmt, index);
    }
    bool same = compare_value(c, e, a, path);
    g_string_truncate(path, keep);
    return same;
}

static bool compare_scalar(cmp_ctx *c, const hessian_value *e, const hessian_value *a)
{
    switch (e->kind) {
    case HESSIAN_NULL: return true;
    case HESSIAN_BOOL: return e->v.b == a->v.b;
    case HESSIAN_INT: return e->v.i == a->v.i;
    case HESSIAN_LONG: return e->v.l == a->v.l;
    case HESSIAN_DOUBLE: return memcmp(&e->v.d, &a->v.d, sizeof e->v.d) == 0;
    case HESSIAN_DATE: return e->v.date_ms == a->v.date_ms;
    case HESSIAN_STRING: return same_string(c, e->v.str.data, a->v.str.data, false);
    case HESSIAN_BINARY: return e->v.bin.len == a->v.bin.len && memcmp(e->v.bin.data, a->v.bin.data, e->v.bin.len) == 0;
    case HESSIAN_REF: return e->v.ref == a->v.ref;
    default: return true;
    }
}

/* Fields whose bytes belong to one server's key: the public key a server
 * offers, and the encrypted credentials made for it (echoed in a failed
 * login's error). */
static bool key_material(const char *cls, const char *field)
{
    if (!cls)
        return false;
    if (strcmp(cls, HMTP_GET_PUBLIC_KEY_QUERY_CLASS) == 0)
        return strcmp(field, "_encoded") == 0;
    if (strcmp(cls, HMTP_ENCRYPTED_OBJECT_CLASS) == 0)
        return strcmp(field, "_encKey") == 0 || strcmp(field, "_encData") == 0;
    return false;
}

static bool compare_object(cmp_ctx *c, const hessian_value *e, const hessian_value *a, GString *path)
{
    const char *ec = e->v.object.cls, *ac = a->v.object.cls;
    if ((ec || ac) && !(ec && ac && strcmp(ec, ac) == 0)) {
        gsize keep = path->len;
        g_string_append(path, ".$class");
        bool skip = ignored(c, path->str);
        if (!skip)
            note(c, path->str, shown_string(ec), shown_string(ac));
        g_string_truncate(path, keep);
        if (!skip)
            return false;
    }
    bool same = true;
    if (!e->v.object.names || !a->v.object.names) {
        /* a class whose definition was not captured: compare field by position */
        size_t n = e->v.object.n > a->v.object.n ? e->v.object.n : a->v.object.n;
        for (size_t i = 0; i < n; i++)
            same &= compare_child(c, i < e->v.object.n ? e->v.object.fields[i] : NULL,
                                  i < a->v.object.n ? a->v.object.fields[i] : NULL, path, "[%zu]", NULL, i);
        return same;
    }
    for (size_t i = 0; i < e->v.object.n; i++) {
        const hessian_value *av = hessian_object_field(a, e->v.object.names[i]);
        if (key_material(ec, e->v.object.names[i])) {
            /* the target's key and the credentials made for it differ by
               design: only their shape is compared (a key came back) */
            const hessian_value *ev = e->v.object.fields[i];
            if (ev && av && ev->kind == av->kind)
                continue;
        }
        same &= compare_child(c, e->v.object.fields[i], av, path, NULL, field_label(e->v.object.names[i]), 0);
    }
    for (size_t i = 0; i < a->v.object.n; i++)
        if (!hessian_object_field(e, a->v.object.names[i]))
            same &= compare_child(c, NULL, a->v.object.fields[i], path, NULL, field_label(a->v.object.names[i]), 0);
    return same;
}

static bool compare_value(cmp_ctx *c, const hessian_value *e, const hessian_value *a, GString *path)
{
    if (ignored(c, path->str))
        return true;
    if (!e || !a || e->kind != a->kind)
        return (!e && !a) || note(c, path->str, shown(e), shown(a));
    switch (e->kind) {
    case HESSIAN_LIST: {
        bool same = true;
        if ((e->v.list.type || a->v.list.type) &&
            !(e->v.list.type && a->v.list.type && strcmp(e->v.list.type, a->v.list.type) == 0))
            same = note(c, path->str, shown(e), shown(a));
        size_t n = e->v.list.n > a->v.list.n ? e->v.list.n : a->v.list.n;
        for (size_t i = 0; i < n; i++)
            same &= compare_child(c, i < e->v.list.n ? e->v.list.items[i] : NULL,
                                  i < a->v.list.n ? a->v.list.items[i] : NULL, path, "[%zu]", NULL, i);
        return same;
    }
    case HESSIAN_MAP: {
        bool same = true;
        size_t n = e->v.map.n > a->v.map.n ? e->v.map.n : a->v.map.n;
        for (size_t i = 0; i < n; i++) {
            same &= compare_child(c, i < e->v.map.n ? e->v.map.keys[i] : NULL,
                                  i < a->v.map.n ? a->v.map.keys[i] : NULL, path, "{key %zu}", NULL, i);
            same &= compare_child(c, i < e->v.map.n ? e->v.map.values[i] : NULL,
                                  i < a->v.map.n ? a->v.map.values[i] : NULL, path, "{value %zu}", NULL, i);
        }
        return same;
    }
    case HESSIAN_OBJECT:
        return compare_object(c, e, a, path);
    default:
        return compare_scalar(c, e, a) || note(c, path->str, shown(e), shown(a));
    }
}

static bool compare_header(cmp_ctx *c, const char *name, const char *e, const char *a)
{
    if (ignored(c, name) || same_string(c, e, a, true))
        return true;
    char *mapped = e ? rewrite_map_jid(c->map, e) : NULL;
    note(c, name, shown_string(mapped ? mapped : e), shown_string(a));
    g_free(mapped);
    return false;
}

/* The login's answer (a queryResult carrying AuthResult) is addressed to
 * the link it names: Resin leaves `to` null, hmtp-broker writes the new full
 * JID. Either is "this session", whatever the recording shows, so it is
 * compared as such rather than as a literal: null, or the JID the answer
 * itself assigns. */
static bool login_answer_to_ok(cmp_ctx *c, const hmtp_packet *e, const hmtp_packet *a)
{
    if (e->type != HMTP_QUERY_RESULT || a->type != HMTP_QUERY_RESULT ||
        !hmtp_value_is_object(e->value, HMTP_AUTH_RESULT_CLASS) ||
        !hmtp_value_is_object(a->value, HMTP_AUTH_RESULT_CLASS))
        return false;
    if (ignored(c, "to") || !a->to)
        return true;
    const char *jid = hessian_value_string(hessian_object_field(a->value, "_jid"));
    return jid && strcmp(jid, a->to) == 0;
}

/* All differences between a recorded and a received packet. */
static bool compare_packets(cmp_ctx *c, const hmtp_packet *e, const hmtp_packet *a)
{
    c->type = e->type;
    c->cls = verify_payload_class(e);
    bool same = true;
    if (e->type != a->type && !ignored(c, "type")) {
        const char *en = hmtp_type_name(e->type), *an = hmtp_type_name(a->type);
        same = note(c, "type", shown_string(en), shown_string(an));
    }
    if (!login_answer_to_ok(c, e, a))
        same &= compare_header(c, "to", e->to, a->to);
    same &= compare_header(c, "from", e->from, a->from);
    int64_t want = e->id;
    if ((e->type == HMTP_QUERY_GET || e->type == HMTP_QUERY_SET) && c->map->server_query_ids) {
        /* a query of the server's own: the target may number it as it likes */
        const gint64 *mapped = g_hash_table_lookup(c->map->server_query_ids, &e->id);
        if (mapped)
            want = *mapped;
    }
    if ((e->has_id || a->has_id) && !ignored(c, "id") &&
        (e->has_id != a->has_id || want != a->id))
        same = note(c, "id", g_strdup_printf("%" PRId64, want), g_strdup_printf("%" PRId64, a->id));
    GString *path = c->path;
    g_string_assign(path, "value");
    same &= compare_value(c, e->value, a->value, path);
    if (e->error_value || a->error_value) {
        g_string_assign(path, "error");
        same &= compare_value(c, e->error_value, a->error_value, path);
    }
    return same;
}

static char *describe(const hmtp_packet *p)
{
    const char *name = hmtp_type_name(p->type);
    GString *s = g_string_new(name ? name : "?");
    if (p->has_id)
        g_string_append_printf(s, " id=%" PRId64, p->id);
    g_string_append_printf(s, " to=%s from=%s", p->to ? p->to : "null", p->from ? p->from : "null");
    return g_string_free(s, FALSE);
}

/* Two packets may be paired as "the same reply, answered differently" when
 * they are of the same type and, for queries, carry the same id. */
static bool same_slot(const hmtp_packet *e, const hmtp_packet *a)
{
    return e->type == a->type && (!e->has_id || e->id == a->id);
}

void verify_session(const verify_config *cfg, const rewrite_config *map, const expected_reply *expected, guint n,
                    const actual_reply *actual, guint m, verify_result *out)
{
    gint *pair = g_new(gint, n); /* expected index -> actual index, -1 */
    gboolean *used = g_new0(gboolean, m);
    GString *path = g_string_sized_new(64);
    cmp_ctx quiet = {cfg, map, NULL, false, path, 0, NULL};
    long w = (long)cfg->window;
    /* Pass 1: exact matches (after ignores and mapping), in order, within the window. */
    long cursor = 0;
    for (guint i = 0; i < n; i++) {
        pair[i] = -1;
        const expected_reply *e = &expected[i];
        long lo = cursor - w < 0 ? 0 : cursor - w, hi = cursor + w;
        for (long j = lo; j <= hi && j < (long)m; j++) {
            const actual_reply *a = &actual[j];
            if (used[j] || a->status != HMTP_OK || e->status != HMTP_OK)
                continue;
            if (compare_packets(&quiet, &e->pkt, &a->pkt)) {
                pair[i] = (gint)j;
                used[j] = TRUE;
                cursor = j + 1;
                out->matched++;
                break;
            }
        }
        if (pair[i] < 0)
            cursor++;
    }
    /* Pass 2: what is left pairs by type and id into differences. */
    for (guint i = 0; i < n; i++) {
        if (pair[i] >= 0)
            continue;
        const expected_reply *e = &expected[i];
        long lo = (long)i - w - 1 < 0 ? 0 : (long)i - w - 1;
        for (long j = lo; j <= (long)i + w + 1 && j < (long)m; j++) {
            const actual_reply *a = &actual[j];
            if (used[j] || a->status != HMTP_OK || e->status != HMTP_OK || !same_slot(&e->pkt, &a->pkt))
                continue;
            used[j] = TRUE;
            pair[i] = (gint)j;
            out->different++;
            GPtrArray *found = g_ptr_array_new();
            cmp_ctx loud = {cfg, map, found, true, path, 0, NULL};
            if (compare_packets(&loud, &e->pkt, &a->pkt)) {
                /* equal, but further from its recorded place than the window allows */
                note(&loud, "order", g_strdup_printf("\"reply %u of the session\"", i + 1),
                     g_strdup_printf("\"arrived as reply %" PRIu64 "\"", a->index + 1));
            }
            for (guint k = 0; k < found->len; k++) {
                verify_diff *d = g_ptr_array_index(found, k);
                d->frame = e->frame;
                d->received = a->index;
                d->packet = describe(&e->pkt);
                d->type = e->pkt.type;
                d->cls = g_strdup(verify_payload_class(&e->pkt));
                verify_result_add(out, d);
            }
            g_ptr_array_free(found, TRUE);
            break;
        }
        if (pair[i] < 0) {
            out->missing++;
            verify_diff *d = g_new0(verify_diff, 1);
            d->kind = DIFF_MISSING;
            d->frame = e->frame;
            d->packet = e->status == HMTP_OK ? describe(&e->pkt)
                                             : g_strdup_printf("undecodable recorded packet: %s", e->err.msg);
            verify_result_add(out, d);
        }
    }
    for (guint j = 0; j < m; j++) {
        if (used[j])
            continue;
        const actual_reply *a = &actual[j];
        out->unexpected++;
        verify_diff *d = g_new0(verify_diff, 1);
        d->kind = DIFF_UNEXPECTED;
        d->received = a->index;
        d->packet = a->status == HMTP_OK ? describe(&a->pkt) : g_strdup_printf("undecodable packet: %s", a->err.msg);
        verify_result_add(out, d);
    }
    g_free(pair);
    g_free(used);
    g_string_free(path, TRUE);
}
