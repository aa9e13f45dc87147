/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Value trees built from decoder events. */
#include "value.h"

#include <string.h>

typedef struct node_vec {
    hessian_value **items;
    size_t n, cap;
} node_vec;

/* Room for n children from the start, when the container says how many. */
static bool vec_init(hmtp_arena *a, node_vec *v, size_t n)
{
    v->n = 0;
    v->cap = n;
    v->items = n ? hmtp_arena_alloc_raw(a, n * sizeof *v->items) : NULL; /* filled as children come */
    return n == 0 || v->items;
}

static bool vec_push(hmtp_arena *a, node_vec *v, hessian_value *x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        hessian_value **items = hmtp_arena_alloc_raw(a, cap * sizeof *items);
        if (!items)
            return false;
        if (v->n)
            memcpy(items, v->items, v->n * sizeof *items);
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = x;
    return true;
}

static int nomem(hmtp_error *err, size_t offset)
{
    hmtp_fail(err, HMTP_ERR_NOMEM, offset, "out of memory building a value tree");
    return -1;
}

static int decoder_failed(hessian_decoder *d, hmtp_error *err)
{
    if (err)
        *err = *hessian_decoder_error(d);
    return -1;
}

/* A node with kind and place set and the rest zero: filled in line, not
 * zeroed by the arena and then written again (one per value decoded). */
static hessian_value *new_tree_node(hmtp_arena *a, const hessian_event *ev)
{
    hessian_value *v = hmtp_arena_alloc_raw(a, sizeof *v);
    if (v)
        *v = (hessian_value){.kind = ev->kind, .offset = ev->offset, .length = ev->length};
    return v;
}

static hessian_value *scalar_node(hmtp_arena *a, const hessian_event *ev)
{
    if (ev->kind == HESSIAN_STRING) {
        /* The node and its NUL-terminated copy in one allocation. */
        size_t len = ev->v.str.len;
        if (len > SIZE_MAX - sizeof(hessian_value) - 1)
            return NULL;
        hessian_value *v = hmtp_arena_alloc_raw(a, sizeof *v + len + 1);
        if (!v)
            return NULL;
        char *data = (char *)(v + 1);
        memcpy(data, ev->v.str.data, len);
        data[len] = '\0';
        *v = (hessian_value){.kind = ev->kind, .offset = ev->offset, .length = ev->length,
                             .v.str = {.data = data, .len = len}};
        return v;
    }
    hessian_value *v = new_tree_node(a, ev);
    if (!v)
        return NULL;
    switch (ev->kind) {
    case HESSIAN_BOOL: v->v.b = ev->v.b; break;
    case HESSIAN_INT: v->v.i = ev->v.i; break;
    case HESSIAN_LONG: v->v.l = ev->v.l; break;
    case HESSIAN_DOUBLE: v->v.d = ev->v.d; break;
    case HESSIAN_DATE: v->v.date_ms = ev->v.date_ms; break;
    case HESSIAN_REF: v->v.ref = ev->v.ref; break;
    case HESSIAN_BINARY:
        v->v.bin.data = hmtp_arena_alloc_aligned(a, ev->v.bin.len ? ev->v.bin.len : 1, 1); /* copied over */
        if (!v->v.bin.data)
            return NULL;
        if (ev->v.bin.len)
            memcpy(v->v.bin.data, ev->v.bin.data, ev->v.bin.len);
        v->v.bin.len = ev->v.bin.len;
        break;
    default: break;
    }
    return v;
}

/* The class and field names of an object, copied into the tree (which may
 * outlive the stream that holds the class) with one allocation: the pointer
 * array, then the strings. */
static bool copy_names(hmtp_arena *a, const hessian_class *cls, hessian_value *v)
{
    size_t ptrs = ((size_t)cls->nfields + 1) * sizeof(char *);
    size_t bytes = ptrs + cls->name_len + 1;
    for (uint32_t i = 0; i < cls->nfields; i++)
        bytes += cls->fields[i] ? cls->field_lens[i] + 1 : 0;
    char **names = hmtp_arena_alloc_raw(a, bytes);
    if (!names)
        return false;
    char *at = (char *)names + ptrs;
    memcpy(at, cls->name, cls->name_len);
    at[cls->name_len] = '\0';
    v->v.object.cls = at;
    at += cls->name_len + 1;
    for (uint32_t i = 0; i < cls->nfields; i++) {
        names[i] = NULL;
        if (!cls->fields[i])
            continue;
        memcpy(at, cls->fields[i], cls->field_lens[i]);
        at[cls->field_lens[i]] = '\0';
        names[i] = at;
        at += cls->field_lens[i] + 1;
    }
    names[cls->nfields] = NULL;
    v->v.object.names = names;
    return true;
}

int hessian_read_value_from(hessian_decoder *d, const hessian_event *start, hmtp_arena *arena,
                            hessian_value **out, hmtp_error *err)
{
    if (start->kind != HESSIAN_LIST && start->kind != HESSIAN_MAP && start->kind != HESSIAN_OBJECT) {
        *out = scalar_node(arena, start);
        return *out ? 1 : nomem(err, start->offset);
    }
    hessian_value *v = new_tree_node(arena, start);
    if (!v)
        return nomem(err, start->offset);
    node_vec items = {0}, keys = {0};
    /* An object of a known class and a fixed-length list say how many
       children follow: one array of the right size. A list's count comes
       from the wire, so it is believed only as far as the body has bytes
       left (each element takes at least one). */
    size_t expect = 0;
    if (start->kind == HESSIAN_OBJECT && start->v.object.cls)
        expect = start->v.object.cls->nfields;
    else if (start->kind == HESSIAN_LIST && start->v.container.count > 0)
        expect = (uint64_t)start->v.container.count < d->len - d->pos ? (size_t)start->v.container.count
                                                                        : d->len - d->pos;
    if (expect && !vec_init(arena, &items, expect))
        return nomem(err, start->offset);
    for (;;) {
        hessian_event ev;
        int rc = hessian_next(d, &ev);
        if (rc < 0)
            return decoder_failed(d, err);
        if (rc == 0) /* cannot happen inside a container; be safe anyway */
            return hmtp_fail(err, HMTP_ERR_TRUNCATED, d->len, "body ends inside a container"), -1;
        if (ev.kind == HESSIAN_CLASS_DEF)
            continue;
        if (ev.kind == HESSIAN_END) {
            v->length = ev.offset + ev.length - start->offset;
            break;
        }
        hessian_value *child;
        if (ev.kind < HESSIAN_LIST || ev.kind == HESSIAN_REF) {
            if (!(child = scalar_node(arena, &ev)))
                return nomem(err, ev.offset);
        } else if (hessian_read_value_from(d, &ev, arena, &child, err) < 0) {
            return -1;
        }
        node_vec *into = (start->kind == HESSIAN_MAP && ev.role == HESSIAN_ROLE_KEY) ? &keys : &items;
        if (!vec_push(arena, into, child))
            return nomem(err, ev.offset);
    }
    switch (start->kind) {
    case HESSIAN_LIST:
        if (start->v.container.type)
            v->v.list.type = hmtp_arena_strndup(arena, start->v.container.type, start->v.container.type_len);
        v->v.list.type_index = start->v.container.type_index;
        v->v.list.variable = start->v.container.count < 0;
        v->v.list.n = items.n;
        v->v.list.items = items.items;
        break;
    case HESSIAN_MAP:
        if (start->v.container.type)
            v->v.map.type = hmtp_arena_strndup(arena, start->v.container.type, start->v.container.type_len);
        v->v.map.type_index = start->v.container.type_index;
        v->v.map.n = items.n;
        v->v.map.keys = keys.items;
        v->v.map.values = items.items;
        break;
    default: {
        const hessian_class *cls = start->v.object.cls;
        v->v.object.class_index = start->v.object.class_index;
        v->v.object.n = items.n;
        v->v.object.fields = items.items;
        if (cls && !copy_names(arena, cls, v))
            return nomem(err, start->offset);
        break;
    }
    }
    *out = v;
    return 1;
}

int hessian_read_value(hessian_decoder *d, hmtp_arena *arena, hessian_value **out, hmtp_error *err)
{
    hessian_event ev;
    /* A packet's tree takes about its body again in strings and binaries,
       plus 64 bytes a node (a presence packet's half a dozen nodes take
       650 bytes): size the arena once for the common case instead of
       growing it block by block, small enough for malloc's fast path. */
    if (!arena->head)
        hmtp_arena_reserve(arena, d->len + (d->len < 2048 ? d->len : 2048) + 640);
    for (;;) {
        int rc = hessian_next(d, &ev);
        if (rc < 0)
            return decoder_failed(d, err);
        if (rc == 0)
            return 0;
        if (ev.kind != HESSIAN_CLASS_DEF)
            return hessian_read_value_from(d, &ev, arena, out, err);
    }
}

const hessian_value *hessian_object_field(const hessian_value *v, const char *name)
{
    if (!v || v->kind != HESSIAN_OBJECT || !v->v.object.names)
        return NULL;
    for (size_t i = 0; i < v->v.object.n; i++)
        if (v->v.object.names[i] && strcmp(v->v.object.names[i], name) == 0)
            return v->v.object.fields[i];
    return NULL;
}

bool hmtp_value_is_object(const hessian_value *v, const char *cls)
{
    return v && v->kind == HESSIAN_OBJECT && v->v.object.cls && strcmp(v->v.object.cls, cls) == 0;
}

const char *hessian_value_string(const hessian_value *v)
{
    /* Text with U+0000 cannot be a C string without being cut short, and a
       check on the cut text would pass what was never sent: no C string. */
    if (!v || v->kind != HESSIAN_STRING || memchr(v->v.str.data, '\0', v->v.str.len))
        return NULL;
    return v->v.str.data;
}

static bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

bool hessian_value_equal(const hessian_value *a, const hessian_value *b)
{
    if (!a || !b)
        return a == b;
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case HESSIAN_NULL: return true;
    case HESSIAN_BOOL: return a->v.b == b->v.b;
    case HESSIAN_INT: return a->v.i == b->v.i;
    case HESSIAN_LONG: return a->v.l == b->v.l;
    case HESSIAN_DOUBLE: return memcmp(&a->v.d, &b->v.d, sizeof(double)) == 0;
    case HESSIAN_DATE: return a->v.date_ms == b->v.date_ms;
    case HESSIAN_REF: return a->v.ref == b->v.ref;
    case HESSIAN_STRING:
        return a->v.str.len == b->v.str.len && memcmp(a->v.str.data, b->v.str.data, a->v.str.len) == 0;
    case HESSIAN_BINARY:
        return a->v.bin.len == b->v.bin.len && (a->v.bin.len == 0 || memcmp(a->v.bin.data, b->v.bin.data, a->v.bin.len) == 0);
    case HESSIAN_LIST:
        if (!str_eq(a->v.list.type, b->v.list.type) || a->v.list.n != b->v.list.n ||
            a->v.list.variable != b->v.list.variable)
            return false;
        for (size_t i = 0; i < a->v.list.n; i++)
            if (!hessian_value_equal(a->v.list.items[i], b->v.list.items[i]))
                return false;
        return true;
    case HESSIAN_MAP:
        if (!str_eq(a->v.map.type, b->v.map.type) || a->v.map.n != b->v.map.n)
            return false;
        for (size_t i = 0; i < a->v.map.n; i++)
            if (!hessian_value_equal(a->v.map.keys[i], b->v.map.keys[i]) ||
                !hessian_value_equal(a->v.map.values[i], b->v.map.values[i]))
                return false;
        return true;
    case HESSIAN_OBJECT:
        if (!str_eq(a->v.object.cls, b->v.object.cls) || a->v.object.n != b->v.object.n)
            return false;
        if (!a->v.object.cls && a->v.object.class_index != b->v.object.class_index)
            return false;
        for (size_t i = 0; i < a->v.object.n; i++) {
            const char *na = a->v.object.names ? a->v.object.names[i] : NULL;
            const char *nb = b->v.object.names ? b->v.object.names[i] : NULL;
            if (!str_eq(na, nb) || !hessian_value_equal(a->v.object.fields[i], b->v.object.fields[i]))
                return false;
        }
        return true;
    default: return false;
    }
}

/* ---- constructors ---- */

static hessian_value *new_node(hmtp_arena *a, hessian_kind kind)
{
    hessian_value *v = hmtp_arena_alloc(a, sizeof *v);
    if (v)
        v->kind = kind;
    return v;
}

hessian_value *hessian_new_null(hmtp_arena *a) { return new_node(a, HESSIAN_NULL); }

hessian_value *hessian_new_bool(hmtp_arena *a, bool b)
{
    hessian_value *v = new_node(a, HESSIAN_BOOL);
    if (v)
        v->v.b = b;
    return v;
}

hessian_value *hessian_new_int(hmtp_arena *a, int32_t i)
{
    hessian_value *v = new_node(a, HESSIAN_INT);
    if (v)
        v->v.i = i;
    return v;
}

hessian_value *hessian_new_long(hmtp_arena *a, int64_t l)
{
    hessian_value *v = new_node(a, HESSIAN_LONG);
    if (v)
        v->v.l = l;
    return v;
}

hessian_value *hessian_new_double(hmtp_arena *a, double d)
{
    hessian_value *v = new_node(a, HESSIAN_DOUBLE);
    if (v)
        v->v.d = d;
    return v;
}

hessian_value *hessian_new_date(hmtp_arena *a, int64_t ms)
{
    hessian_value *v = new_node(a, HESSIAN_DATE);
    if (v)
        v->v.date_ms = ms;
    return v;
}

hessian_value *hessian_new_string(hmtp_arena *a, const char *utf8, size_t len)
{
    if (!utf8)
        return hessian_new_null(a);
    hessian_value *v = new_node(a, HESSIAN_STRING);
    if (!v || !(v->v.str.data = hmtp_arena_strndup(a, utf8, len)))
        return NULL;
    v->v.str.len = len;
    return v;
}

hessian_value *hessian_new_binary(hmtp_arena *a, const uint8_t *data, size_t len)
{
    if (!data)
        return hessian_new_null(a);
    hessian_value *v = new_node(a, HESSIAN_BINARY);
    if (!v || !(v->v.bin.data = hmtp_arena_alloc(a, len ? len : 1)))
        return NULL;
    if (len)
        memcpy(v->v.bin.data, data, len);
    v->v.bin.len = len;
    return v;
}

static hessian_value **null_items(hmtp_arena *a, size_t n)
{
    hessian_value **items = hmtp_arena_alloc(a, (n ? n : 1) * sizeof *items);
    if (!items)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(items[i] = hessian_new_null(a)))
            return NULL;
    return items;
}

hessian_value *hessian_new_list(hmtp_arena *a, const char *type, bool variable, size_t n)
{
    hessian_value *v = new_node(a, HESSIAN_LIST);
    if (!v || !(v->v.list.items = null_items(a, n)))
        return NULL;
    if (type && !(v->v.list.type = hmtp_arena_strndup(a, type, strlen(type))))
        return NULL;
    v->v.list.type_index = -1;
    v->v.list.variable = variable;
    v->v.list.n = n;
    return v;
}

hessian_value *hessian_new_map(hmtp_arena *a, const char *type, size_t n)
{
    hessian_value *v = new_node(a, HESSIAN_MAP);
    if (!v || !(v->v.map.keys = null_items(a, n)) || !(v->v.map.values = null_items(a, n)))
        return NULL;
    if (type && !(v->v.map.type = hmtp_arena_strndup(a, type, strlen(type))))
        return NULL;
    v->v.map.type_index = -1;
    v->v.map.n = n;
    return v;
}

hessian_value *hessian_new_object(hmtp_arena *a, const char *cls, size_t n, const char *const *names)
{
    hessian_value *v = new_node(a, HESSIAN_OBJECT);
    if (!v || !(v->v.object.fields = null_items(a, n)) ||
        !(v->v.object.names = hmtp_arena_alloc(a, (n + 1) * sizeof(char *))) ||
        !(v->v.object.cls = hmtp_arena_strndup(a, cls, strlen(cls))))
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(v->v.object.names[i] = hmtp_arena_strndup(a, names[i], strlen(names[i]))))
            return NULL;
    v->v.object.class_index = -1;
    v->v.object.n = n;
    return v;
}

bool hessian_object_set(hessian_value *obj, const char *name, hessian_value *v)
{
    if (!obj || obj->kind != HESSIAN_OBJECT || !obj->v.object.names || !v)
        return false;
    for (size_t i = 0; i < obj->v.object.n; i++)
        if (strcmp(obj->v.object.names[i], name) == 0) {
            obj->v.object.fields[i] = v;
            return true;
        }
    return false;
}
