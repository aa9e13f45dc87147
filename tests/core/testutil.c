/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void hex_append(hmtp_buf *out, const char *hex)
{
    const char *p = hex;
    while (*p) {
        if (*p == ' ' || *p == '\n') {
            p++;
            continue;
        }
        int hi = hex_digit(p[0]);
        int lo = p[1] ? hex_digit(p[1]) : -1;
        if (hi < 0 || lo < 0) {
            fprintf(stderr, "test bug: bad hex at \"%.10s\" in \"%s\"\n", p, hex);
            abort();
        }
        hmtp_buf_append_byte(out, (uint8_t)(hi << 4 | lo));
        p += 2;
    }
}

hmtp_buf hex_bytes(const char *hex)
{
    hmtp_buf b;
    hmtp_buf_init(&b);
    hex_append(&b, hex);
    return b;
}

static char *dup_bytes(const void *p, size_t len)
{
    char *c = malloc(len + 1);
    if (!c)
        abort();
    if (len)
        memcpy(c, p, len);
    c[len] = 0;
    return c;
}

static void rec_push(rec_list *l, const hessian_event *ev)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->ev = realloc(l->ev, l->cap * sizeof *l->ev);
        if (!l->ev)
            abort();
    }
    rec_event *r = &l->ev[l->n++];
    memset(r, 0, sizeof *r);
    r->ev = *ev;
    if (ev->field_name)
        r->field_name = dup_bytes(ev->field_name, ev->field_name_len);
    r->ev.field_name = NULL;
    switch (ev->kind) {
    case HESSIAN_STRING:
        r->data = dup_bytes(ev->v.str.data, ev->v.str.len);
        r->data_len = ev->v.str.len;
        r->ev.v.str.data = NULL;
        break;
    case HESSIAN_BINARY:
        r->data = dup_bytes(ev->v.bin.data, ev->v.bin.len);
        r->data_len = ev->v.bin.len;
        r->ev.v.bin.data = NULL;
        break;
    case HESSIAN_LIST:
    case HESSIAN_MAP:
        if (ev->v.container.type)
            r->name = dup_bytes(ev->v.container.type, ev->v.container.type_len);
        r->ev.v.container.type = NULL;
        break;
    case HESSIAN_OBJECT:
        r->has_cls = ev->v.object.cls != NULL;
        if (ev->v.object.cls)
            r->name = dup_bytes(ev->v.object.cls->name, ev->v.object.cls->name_len);
        r->ev.v.object.cls = NULL;
        break;
    case HESSIAN_CLASS_DEF:
        r->has_cls = ev->v.def.cls != NULL;
        if (ev->v.def.cls)
            r->name = dup_bytes(ev->v.def.cls->name, ev->v.def.cls->name_len);
        r->ev.v.def.cls = NULL;
        break;
    default:
        break;
    }
}

void rec_decode(rec_list *out, hessian_stream *s, hessian_mark at, const uint8_t *body, size_t len,
                size_t max_events)
{
    memset(out, 0, sizeof *out);
    hessian_decoder d;
    hessian_decoder_init(&d, s, at, body, len);
    hessian_event ev;
    int rc;
    while ((rc = hessian_next(&d, &ev)) == 1) {
        rec_push(out, &ev);
        if (out->n >= max_events)
            break;
    }
    out->end = rc;
    if (rc < 0)
        out->err = *hessian_decoder_error(&d);
    hessian_decoder_free(&d);
}

void rec_decode_fresh(rec_list *out, const uint8_t *body, size_t len)
{
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    rec_decode(out, &s, hessian_stream_mark(&s), body, len, 1000000);
    hessian_stream_free(&s);
}

hmtp_status packet_decode_fresh(hmtp_packet *p, hessian_stream *s, const uint8_t *body, size_t len,
                                hmtp_error *err)
{
    hessian_stream_init(s, NULL);
    hmtp_packet_init(p);
    hmtp_error_clear(err);
    return hmtp_packet_decode(p, s, hessian_stream_mark(s), body, len, err);
}

void rec_free(rec_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->ev[i].data);
        free(l->ev[i].name);
        free(l->ev[i].field_name);
    }
    free(l->ev);
    memset(l, 0, sizeof *l);
}

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool event_equal(const rec_event *x, const rec_event *y)
{
    const hessian_event *a = &x->ev, *b = &y->ev;
    if (a->kind != b->kind || a->role != b->role || a->code != b->code || a->offset != b->offset ||
        a->length != b->length || a->depth != b->depth || a->index != b->index ||
        a->top_index != b->top_index || a->field_name_len != b->field_name_len)
        return false;
    if (!str_eq(x->field_name, y->field_name) || !str_eq(x->name, y->name) ||
        x->has_cls != y->has_cls || x->data_len != y->data_len ||
        (x->data_len && memcmp(x->data, y->data, x->data_len) != 0))
        return false;
    switch (a->kind) {
    case HESSIAN_BOOL:
        return a->v.b == b->v.b;
    case HESSIAN_INT:
        return a->v.i == b->v.i;
    case HESSIAN_LONG:
        return a->v.l == b->v.l;
    case HESSIAN_DOUBLE:
        return memcmp(&a->v.d, &b->v.d, sizeof(double)) == 0;
    case HESSIAN_DATE:
        return a->v.date_ms == b->v.date_ms;
    case HESSIAN_STRING:
        return a->v.str.utf16_len == b->v.str.utf16_len && a->v.str.chunks == b->v.str.chunks;
    case HESSIAN_BINARY:
        return a->v.bin.chunks == b->v.bin.chunks;
    case HESSIAN_LIST:
    case HESSIAN_MAP:
        return a->v.container.type_index == b->v.container.type_index &&
               a->v.container.count == b->v.container.count &&
               a->v.container.ref == b->v.container.ref;
    case HESSIAN_OBJECT:
        return a->v.object.class_index == b->v.object.class_index &&
               a->v.object.ref == b->v.object.ref;
    case HESSIAN_REF:
        return a->v.ref == b->v.ref;
    case HESSIAN_CLASS_DEF:
        return a->v.def.class_index == b->v.def.class_index;
    default:
        return true;
    }
}

bool rec_equal(const rec_list *a, const rec_list *b, size_t *where)
{
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++)
        if (!event_equal(&a->ev[i], &b->ev[i])) {
            *where = i;
            return false;
        }
    *where = n;
    return a->n == b->n && a->end == b->end;
}

bool unframe_one(const uint8_t *wire, size_t len, size_t *pos, hmtp_buf *body, size_t *hdr_lens,
                 size_t *data_lens, size_t max_chunks, size_t *nchunks)
{
    size_t p = *pos;
    *nchunks = 0;
    for (;;) {
        size_t chunk_len = 0, hdr = 0;
        for (;;) {
            if (p >= len || hdr >= 4)
                return false;
            uint8_t b = wire[p++];
            hdr++;
            chunk_len = chunk_len << 7 | (b & 0x7f);
            if (!(b & 0x80))
                break;
        }
        if (chunk_len == 0)
            break;
        if (len - p < chunk_len)
            return false;
        if (*nchunks < max_chunks) {
            if (hdr_lens)
                hdr_lens[*nchunks] = hdr;
            if (data_lens)
                data_lens[*nchunks] = chunk_len;
        }
        (*nchunks)++;
        hmtp_buf_append(body, wire + p, chunk_len);
        p += chunk_len;
    }
    *pos = p;
    return true;
}

uint64_t test_rand(uint64_t *state)
{
    /* splitmix64: good enough spread for choosing split points and sizes */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
