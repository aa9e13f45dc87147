/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "class_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void class_registry_free(class_registry *r)
{
    for (size_t i = 0; i < r->n; i++) {
        for (size_t k = 0; k < r->classes[i].n; k++)
            free(r->classes[i].fields[k]);
        free(r->classes[i].fields);
        free(r->classes[i].name);
    }
    free(r->classes);
    memset(r, 0, sizeof *r);
}

static void list_fields(char *out, size_t size, char *const *names, size_t n)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && at < size; i++)
        at += (size_t)snprintf(out + at, size - at, "%s%s", i ? ", " : "", names[i]);
}

static bool add(class_registry *r, const hessian_value *v, char *msg, size_t msg_size)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        class_entry *c = realloc(r->classes, cap * sizeof *c);
        if (!c)
            goto oom;
        r->classes = c;
        r->cap = cap;
    }
    class_entry *e = &r->classes[r->n];
    memset(e, 0, sizeof *e);
    e->name = strdup(v->v.object.cls);
    e->fields = calloc(v->v.object.n ? v->v.object.n : 1, sizeof *e->fields);
    if (!e->name || !e->fields)
        goto oom_entry;
    for (size_t i = 0; i < v->v.object.n; i++, e->n++)
        if (!(e->fields[i] = strdup(v->v.object.names[i])))
            goto oom_entry;
    r->n++;
    return true;
oom_entry:
    for (size_t i = 0; i < e->n; i++)
        free(e->fields[i]);
    free(e->fields);
    free(e->name);
oom:
    snprintf(msg, msg_size, "out of memory");
    return false;
}

static bool check_object(class_registry *r, const hessian_value *v, char *msg, size_t msg_size)
{
    if (!v->v.object.cls)
        return true; /* cannot be written anyway; the writer reports it */
    for (size_t i = 0; i < r->n; i++) {
        class_entry *e = &r->classes[i];
        if (strcmp(e->name, v->v.object.cls) != 0)
            continue;
        bool same = e->n == v->v.object.n;
        for (size_t k = 0; same && k < e->n; k++)
            same = strcmp(e->fields[k], v->v.object.names[k]) == 0;
        if (same)
            return true;
        char first[300], now[300];
        list_fields(first, sizeof first, e->fields, e->n);
        list_fields(now, sizeof now, v->v.object.names, v->v.object.n);
        snprintf(msg, msg_size,
                 "class %s was first sent on this connection with fields (%s); this object has (%s): "
                 "a class has one field list per connection, list the same fields in the same order",
                 e->name, first, now);
        return false;
    }
    return add(r, v, msg, msg_size);
}

bool class_registry_check(class_registry *r, const hessian_value *v, char *msg, size_t msg_size)
{
    if (!v)
        return true;
    switch (v->kind) {
    case HESSIAN_OBJECT:
        if (!check_object(r, v, msg, msg_size))
            return false;
        for (size_t i = 0; i < v->v.object.n; i++)
            if (!class_registry_check(r, v->v.object.fields[i], msg, msg_size))
                return false;
        return true;
    case HESSIAN_LIST:
        for (size_t i = 0; i < v->v.list.n; i++)
            if (!class_registry_check(r, v->v.list.items[i], msg, msg_size))
                return false;
        return true;
    case HESSIAN_MAP:
        for (size_t i = 0; i < v->v.map.n; i++)
            if (!class_registry_check(r, v->v.map.keys[i], msg, msg_size) ||
                !class_registry_check(r, v->v.map.values[i], msg, msg_size))
                return false;
        return true;
    default:
        return true;
    }
}
