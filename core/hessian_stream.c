/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-direction Hessian state: class definitions and type names. */
#include <stdlib.h>
#include <string.h>

#include "hessian.h"
#include "hessian_internal.h"

void hessian_limits_default(hessian_limits *l)
{
    l->max_depth = 64;
    l->max_classes = 4096;
    l->max_fields = 1024;
    l->max_types = 4096;
    l->max_refs = 1u << 20;
}

void hessian_stream_init(hessian_stream *s, const hessian_limits *limits)
{
    memset(s, 0, sizeof *s);
    if (limits)
        s->limits = *limits;
    else
        hessian_limits_default(&s->limits);
    if (s->limits.max_depth > HESSIAN_DEPTH_CAP)
        s->limits.max_depth = HESSIAN_DEPTH_CAP;
}

static void class_free(hessian_class *c)
{
    for (uint32_t i = 0; i < c->nfields; i++)
        free(c->fields[i]);
    free(c->fields);
    free(c->field_lens);
    free(c->name);
}

void hessian_stream_free(hessian_stream *s)
{
    for (uint32_t i = 0; i < s->nclasses; i++) {
        class_free(s->classes[i]);
        free(s->classes[i]);
    }
    free(s->classes);
    for (uint32_t i = 0; i < s->ntypes; i++)
        free(s->types[i]);
    free(s->types);
    free(s->type_lens);
    memset(s, 0, sizeof *s);
}

hessian_mark hessian_stream_mark(const hessian_stream *s)
{
    hessian_mark m = {s->nclasses, s->ntypes};
    return m;
}

char *hessian_strndup(const char *p, size_t len)
{
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

const hessian_class *hessian_stream_add_class(hessian_stream *s, hessian_class *c)
{
    hessian_class *record = malloc(sizeof *record);
    if (!record) {
        class_free(c);
        return NULL;
    }
    if (s->nclasses == s->class_cap) {
        uint32_t cap = s->class_cap ? s->class_cap * 2 : 16;
        hessian_class **n = realloc(s->classes, cap * sizeof *n);
        if (!n) {
            free(record);
            class_free(c);
            return NULL;
        }
        s->classes = n;
        s->class_cap = cap;
    }
    *record = *c;
    s->classes[s->nclasses++] = record;
    return record;
}

void hessian_class_discard(hessian_class *c)
{
    class_free(c);
    memset(c, 0, sizeof *c);
}

int hessian_stream_add_type(hessian_stream *s, const char *name, size_t len)
{
    if (s->ntypes == s->type_cap) {
        uint32_t cap = s->type_cap ? s->type_cap * 2 : 16;
        char **t = realloc(s->types, cap * sizeof *t);
        if (!t)
            return -1;
        s->types = t;
        size_t *l = realloc(s->type_lens, cap * sizeof *l);
        if (!l)
            return -1;
        s->type_lens = l;
        s->type_cap = cap;
    }
    char *copy = hessian_strndup(name, len);
    if (!copy)
        return -1;
    s->types[s->ntypes] = copy;
    s->type_lens[s->ntypes] = len;
    s->ntypes++;
    return 0;
}
