/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A model of Caucho's Hessian2Output (January 2009) in packet mode. The
 * 4096-byte buffer, the "flush when fewer than 16 (or 32) bytes are free"
 * checks of each write call and the chunk header layout are reproduced, since
 * they decide where chunk boundaries fall on the wire.
 *
 * One deliberate difference: Caucho's flushIfFull() (used by list begin/end
 * and type names) writes the buffer raw in packet mode without its chunk
 * header, which corrupts the stream; we flush a proper chunk there. Caucho's
 * output differs from ours only where Caucho's is unreadable. */
#include "writer.h"

#include <stdlib.h>
#include <string.h>

#include "hessian_internal.h"
#include "utf8.h"

#define SIZE HESSIAN_WRITER_BUFFER

void hessian_writer_init(hessian_writer *w, hmtp_buf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
}

struct hessian_writer_class {
    char *name;
    uint32_t nfields;
    char **fields;
};

static void free_names(char **names, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

void hessian_writer_free(hessian_writer *w)
{
    for (uint32_t i = 0; i < w->nclasses; i++) {
        free(w->classes[i].name);
        free_names(w->classes[i].fields, w->classes[i].nfields);
    }
    free(w->classes);
    w->classes = NULL;
    free_names(w->type_names, w->ntypes);
    w->type_names = NULL;
    w->nclasses = w->ntypes = 0;
}

static void emit(hessian_writer *w, const uint8_t *p, size_t n)
{
    if (!hmtp_buf_append(w->out, p, n))
        w->failed = true;
}

static void flush_buffer(hessian_writer *w)
{
    size_t offset = w->offset;
    if (!w->in_packet && offset > 0) {
        w->offset = 0;
        emit(w, w->buffer, offset);
    } else if (w->in_packet && offset > 2) {
        size_t len = offset - 2;
        w->buffer[0] = (uint8_t)(0x80 + ((len >> 7) & 0x7f));
        w->buffer[1] = (uint8_t)(len & 0x7f);
        w->offset = 2;
        emit(w, w->buffer, offset);
    }
}

/* Caucho's two flush thresholds, named after their comparisons. */
static void flush_if_16(hessian_writer *w) /* SIZE <= offset + 16 */
{
    if (SIZE <= w->offset + 16)
        flush_buffer(w);
}

static void flush_if_32(hessian_writer *w) /* SIZE < offset + 32 */
{
    if (SIZE < w->offset + 32)
        flush_buffer(w);
}

static void put(hessian_writer *w, uint8_t b)
{
    w->buffer[w->offset++] = b;
}

void hessian_writer_flush(hessian_writer *w)
{
    flush_buffer(w);
}

void hessian_writer_start_packet(hessian_writer *w)
{
    flush_buffer(w);
    w->in_packet = true;
    w->offset = 2;
}

void hessian_writer_end_packet(hessian_writer *w)
{
    size_t offset = w->offset;
    size_t len = offset - 2;
    w->buffer[0] = (uint8_t)(0x80 + ((len >> 7) & 0x7f));
    w->buffer[1] = (uint8_t)(len & 0x7f);
    w->buffer[offset++] = 0x00;
    w->in_packet = false;
    w->offset = 0;
    if (len < 0x80)
        emit(w, w->buffer + 1, offset - 1);
    else
        emit(w, w->buffer, offset);
}

void hessian_write_null(hessian_writer *w)
{
    flush_if_16(w);
    put(w, 'N');
}

void hessian_write_bool(hessian_writer *w, bool b)
{
    if (SIZE < w->offset + 16)
        flush_buffer(w);
    put(w, b ? 'T' : 'F');
}

static void put_int(hessian_writer *w, int32_t v)
{
    if (v >= -0x10 && v <= 0x2f) {
        put(w, (uint8_t)(v + 0x90));
    } else if (v >= -0x800 && v <= 0x7ff) {
        put(w, (uint8_t)(0xc8 + (v >> 8)));
        put(w, (uint8_t)v);
    } else if (v >= -0x40000 && v <= 0x3ffff) {
        put(w, (uint8_t)(0xd4 + (v >> 16)));
        put(w, (uint8_t)(v >> 8));
        put(w, (uint8_t)v);
    } else {
        put(w, 'I');
        for (int s = 24; s >= 0; s -= 8)
            put(w, (uint8_t)((uint32_t)v >> s));
    }
}

void hessian_write_int(hessian_writer *w, int32_t v)
{
    flush_if_16(w);
    put_int(w, v);
}

void hessian_write_long(hessian_writer *w, int64_t v)
{
    flush_if_16(w);
    if (v >= -0x08 && v <= 0x0f) {
        put(w, (uint8_t)(v + 0xe0));
    } else if (v >= -0x800 && v <= 0x7ff) {
        put(w, (uint8_t)(0xf8 + (v >> 8)));
        put(w, (uint8_t)v);
    } else if (v >= -0x40000 && v <= 0x3ffff) {
        put(w, (uint8_t)(0x3c + (v >> 16)));
        put(w, (uint8_t)(v >> 8));
        put(w, (uint8_t)v);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        put(w, 0x59);
        for (int s = 24; s >= 0; s -= 8)
            put(w, (uint8_t)((uint64_t)v >> s));
    } else {
        put(w, 'L');
        for (int s = 56; s >= 0; s -= 8)
            put(w, (uint8_t)((uint64_t)v >> s));
    }
}

void hessian_write_double(hessian_writer *w, double v)
{
    flush_if_16(w);
    int32_t iv = hessian_java_d2i(v);
    if ((double)iv == v) {
        if (iv == 0) {
            put(w, 0x5b); /* -0.0 too: Java's (int) comparison cannot tell */
            return;
        }
        if (iv == 1) {
            put(w, 0x5c);
            return;
        }
        if (iv >= -0x80 && iv < 0x80) {
            put(w, 0x5d);
            put(w, (uint8_t)iv);
            return;
        }
        if (iv >= -0x8000 && iv < 0x8000) {
            put(w, 0x5e);
            put(w, (uint8_t)(iv >> 8));
            put(w, (uint8_t)iv);
            return;
        }
    }
    int32_t mills = hessian_java_d2i(v * 1000);
    if (0.001 * (double)mills == v) {
        put(w, 0x5f);
        for (int s = 24; s >= 0; s -= 8)
            put(w, (uint8_t)((uint32_t)mills >> s));
        return;
    }
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put(w, 'D');
    for (int s = 56; s >= 0; s -= 8)
        put(w, (uint8_t)(bits >> s));
}

void hessian_write_date(hessian_writer *w, int64_t ms)
{
    flush_if_32(w);
    if (ms % 60000 == 0) {
        int64_t minutes = ms / 60000;
        if ((minutes >> 31) == 0 || (minutes >> 31) == -1) {
            put(w, 0x4b);
            for (int s = 24; s >= 0; s -= 8)
                put(w, (uint8_t)((uint64_t)minutes >> s));
            return;
        }
    }
    put(w, 0x4a);
    for (int s = 56; s >= 0; s -= 8)
        put(w, (uint8_t)((uint64_t)ms >> s));
}

/* UTF-8 (4-byte sequences and 3-byte surrogate halves accepted) to UTF-16
 * code units, as a Java String would hold it. Invalid bytes become U+FFFD. */
static uint16_t *to_utf16(const char *s, size_t len, size_t *n_out)
{
    uint16_t *u = malloc((len + 1) * sizeof *u);
    if (!u)
        return NULL;
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0, n = 0;
    while (i < len) {
        uint32_t cp;
        size_t k;
        if (hmtp_utf8_next(p + i, len - i, &cp, &k) != HMTP_UTF8_OK || cp > 0x10ffff) {
            cp = 0xfffd;
            k = 1;
        }
        i += k;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            u[n++] = (uint16_t)(0xd800 + (cp >> 10));
            u[n++] = (uint16_t)(0xdc00 + (cp & 0x3ff));
        } else {
            u[n++] = (uint16_t)cp;
        }
    }
    *n_out = n;
    return u;
}

/* Caucho's printString: each UTF-16 unit as 1-3 bytes (CESU-8), with the
 * flush check before every character. */
static void print_units(hessian_writer *w, const uint16_t *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        flush_if_16(w);
        uint16_t ch = u[i];
        if (ch < 0x80) {
            put(w, (uint8_t)ch);
        } else if (ch < 0x800) {
            put(w, (uint8_t)(0xc0 + ((ch >> 6) & 0x1f)));
            put(w, (uint8_t)(0x80 + (ch & 0x3f)));
        } else {
            put(w, (uint8_t)(0xe0 + ((ch >> 12) & 0xf)));
            put(w, (uint8_t)(0x80 + ((ch >> 6) & 0x3f)));
            put(w, (uint8_t)(0x80 + (ch & 0x3f)));
        }
    }
}

static void write_units(hessian_writer *w, const uint16_t *u, size_t length)
{
    flush_if_16(w);
    size_t at = 0;
    while (length > 0x8000) {
        size_t sublen = 0x8000;
        flush_if_16(w);
        uint16_t tail = u[at + sublen - 1];
        if (tail >= 0xd800 && tail <= 0xdbff) /* never split a surrogate pair */
            sublen--;
        put(w, 'R');
        put(w, (uint8_t)(sublen >> 8));
        put(w, (uint8_t)sublen);
        print_units(w, u + at, sublen);
        length -= sublen;
        at += sublen;
    }
    flush_if_16(w);
    if (length <= 0x1f) {
        put(w, (uint8_t)length);
    } else if (length <= 0x3ff) {
        put(w, (uint8_t)(0x30 + (length >> 8)));
        put(w, (uint8_t)length);
    } else {
        put(w, 'S');
        put(w, (uint8_t)(length >> 8));
        put(w, (uint8_t)length);
    }
    print_units(w, u + at, length);
}

void hessian_write_string(hessian_writer *w, const char *utf8, size_t len)
{
    if (!utf8) {
        hessian_write_null(w);
        return;
    }
    size_t n;
    uint16_t *u = to_utf16(utf8, len, &n);
    if (!u) {
        w->failed = true;
        return;
    }
    write_units(w, u, n);
    free(u);
}

void hessian_write_binary(hessian_writer *w, const uint8_t *data, size_t length)
{
    if (!data) {
        if (SIZE < w->offset + 16)
            flush_buffer(w);
        put(w, 'N');
        return;
    }
    /* Caucho flushes before every non-null byte[]: a chunk boundary. */
    flush_buffer(w);
    while (SIZE - w->offset - 3 < length) {
        size_t sublen = SIZE - w->offset - 3;
        if (sublen < 16) {
            flush_buffer(w);
            sublen = SIZE - w->offset - 3;
            if (length < sublen)
                sublen = length;
        }
        put(w, 'A');
        put(w, (uint8_t)(sublen >> 8));
        put(w, (uint8_t)sublen);
        memcpy(w->buffer + w->offset, data, sublen);
        w->offset += sublen;
        length -= sublen;
        data += sublen;
        flush_buffer(w);
    }
    if (SIZE < w->offset + 16)
        flush_buffer(w);
    if (length <= 0x0f) {
        put(w, (uint8_t)(0x20 + length));
    } else if (length <= 0x3ff) {
        put(w, (uint8_t)(0x34 + (length >> 8)));
        put(w, (uint8_t)length);
    } else {
        put(w, 'B');
        put(w, (uint8_t)(length >> 8));
        put(w, (uint8_t)length);
    }
    if (length)
        memcpy(w->buffer + w->offset, data, length);
    w->offset += length;
}

void hessian_write_ref(hessian_writer *w, uint32_t ref)
{
    if (SIZE < w->offset + 16)
        flush_buffer(w);
    put(w, 'Q');
    hessian_write_int(w, (int32_t)ref);
}

static int find_name(char **names, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

static int add_name(hessian_writer *w, char ***names, uint32_t *n, uint32_t *cap, const char *name)
{
    if (*n == *cap) {
        uint32_t c = *cap ? *cap * 2 : 16;
        char **p = realloc(*names, c * sizeof *p);
        if (!p)
            goto nomem;
        *names = p;
        *cap = c;
    }
    char *copy = hessian_strndup(name, strlen(name));
    if (!copy)
        goto nomem;
    (*names)[(*n)++] = copy;
    return 0;
nomem:
    w->failed = true;
    return -1;
}

static void write_type(hessian_writer *w, const char *type)
{
    flush_if_32(w);
    int ref = find_name(w->type_names, w->ntypes, type);
    if (ref >= 0) {
        hessian_write_int(w, ref);
        return;
    }
    add_name(w, &w->type_names, &w->ntypes, &w->type_cap, type);
    hessian_write_string(w, type, strlen(type));
}

void hessian_write_list_begin(hessian_writer *w, const char *type, int64_t length)
{
    flush_if_32(w);
    if (length < 0) {
        put(w, type ? 0x55 : 0x57);
        if (type)
            write_type(w, type);
    } else if (length <= 7) {
        put(w, (uint8_t)((type ? 0x70 : 0x78) + length));
        if (type)
            write_type(w, type);
    } else {
        put(w, type ? 'V' : 0x58);
        if (type)
            write_type(w, type);
        hessian_write_int(w, (int32_t)length);
    }
}

void hessian_write_list_end(hessian_writer *w)
{
    flush_if_32(w);
    put(w, 'Z');
}

void hessian_write_map_begin(hessian_writer *w, const char *type)
{
    flush_if_32(w);
    if (type) {
        put(w, 'M');
        write_type(w, type);
    } else {
        put(w, 'H');
    }
}

void hessian_write_map_end(hessian_writer *w)
{
    flush_if_32(w);
    put(w, 'Z');
}

static void object_header(hessian_writer *w, int ref)
{
    flush_if_32(w);
    if (ref <= 0x0f) {
        put(w, (uint8_t)(0x60 + ref));
    } else {
        put(w, 'O');
        hessian_write_int(w, ref);
    }
}

static int find_class(const hessian_writer *w, const char *cls, uint32_t nfields, const char *const *names)
{
    for (uint32_t i = 0; i < w->nclasses; i++) {
        const struct hessian_writer_class *c = &w->classes[i];
        if (c->nfields != nfields || strcmp(c->name, cls) != 0)
            continue;
        uint32_t k = 0;
        while (k < nfields && strcmp(c->fields[k], names[k]) == 0)
            k++;
        if (k == nfields)
            return (int)i;
    }
    return -1;
}

static int add_class(hessian_writer *w, const char *cls, uint32_t nfields, const char *const *names)
{
    if (w->nclasses == w->class_cap) {
        uint32_t cap = w->class_cap ? w->class_cap * 2 : 16;
        struct hessian_writer_class *p = realloc(w->classes, cap * sizeof *p);
        if (!p)
            goto nomem;
        w->classes = p;
        w->class_cap = cap;
    }
    struct hessian_writer_class c = {hessian_strndup(cls, strlen(cls)), nfields, calloc(nfields + 1, sizeof(char *))};
    if (!c.name || !c.fields) {
        free(c.name);
        free(c.fields);
        goto nomem;
    }
    for (uint32_t i = 0; i < nfields; i++)
        if (!(c.fields[i] = hessian_strndup(names[i], strlen(names[i])))) {
            free(c.name);
            free_names(c.fields, i);
            goto nomem;
        }
    w->classes[w->nclasses++] = c;
    return 0;
nomem:
    w->failed = true;
    return -1;
}

void hessian_write_object_begin(hessian_writer *w, const char *cls, uint32_t nfields,
                                const char *const *field_names)
{
    int ref = find_class(w, cls, nfields, field_names);
    if (ref < 0) {
        ref = (int)w->nclasses;
        if (add_class(w, cls, nfields, field_names) < 0)
            return;
        flush_if_32(w);
        put(w, 'C');
        hessian_write_string(w, cls, strlen(cls));
        hessian_write_int(w, (int32_t)nfields);
        for (uint32_t i = 0; i < nfields; i++)
            hessian_write_string(w, field_names[i], strlen(field_names[i]));
    }
    object_header(w, ref);
}

static bool check_value(const hessian_value *v, bool refs_allowed, unsigned depth)
{
    if (!v)
        return true;
    if (depth > HESSIAN_DEPTH_CAP)
        return false;
    switch (v->kind) {
    case HESSIAN_REF: return refs_allowed;
    case HESSIAN_LIST:
        if (!v->v.list.type && v->v.list.type_index >= 0)
            return false; /* an int type ref to a name never defined */
        for (size_t i = 0; i < v->v.list.n; i++)
            if (!check_value(v->v.list.items[i], refs_allowed, depth + 1))
                return false;
        return true;
    case HESSIAN_MAP:
        if (!v->v.map.type && v->v.map.type_index >= 0)
            return false;
        for (size_t i = 0; i < v->v.map.n; i++)
            if (!check_value(v->v.map.keys[i], refs_allowed, depth + 1) ||
                !check_value(v->v.map.values[i], refs_allowed, depth + 1))
                return false;
        return true;
    case HESSIAN_OBJECT:
        if (!v->v.object.cls || !v->v.object.names)
            return false;
        for (size_t i = 0; i < v->v.object.n; i++)
            if (!check_value(v->v.object.fields[i], refs_allowed, depth + 1))
                return false;
        return true;
    default: return true;
    }
}

bool hessian_value_writable(const hessian_value *v)
{
    return check_value(v, true, 0);
}

bool hessian_value_movable(const hessian_value *v)
{
    return check_value(v, false, 0);
}

bool hessian_write_value(hessian_writer *w, const hessian_value *v)
{
    if (!v) {
        hessian_write_null(w);
        return true;
    }
    bool faithful = true;
    switch (v->kind) {
    case HESSIAN_NULL: hessian_write_null(w); break;
    case HESSIAN_BOOL: hessian_write_bool(w, v->v.b); break;
    case HESSIAN_INT: hessian_write_int(w, v->v.i); break;
    case HESSIAN_LONG: hessian_write_long(w, v->v.l); break;
    case HESSIAN_DOUBLE: hessian_write_double(w, v->v.d); break;
    case HESSIAN_DATE: hessian_write_date(w, v->v.date_ms); break;
    case HESSIAN_STRING: hessian_write_string(w, v->v.str.data, v->v.str.len); break;
    case HESSIAN_BINARY: hessian_write_binary(w, v->v.bin.data, v->v.bin.len); break;
    case HESSIAN_REF: hessian_write_ref(w, v->v.ref); break;
    case HESSIAN_LIST:
        if (!v->v.list.type && v->v.list.type_index >= 0)
            faithful = false; /* a type name this direction never defined */
        hessian_write_list_begin(w, v->v.list.type, v->v.list.variable ? -1 : (int64_t)v->v.list.n);
        for (size_t i = 0; i < v->v.list.n; i++)
            faithful &= hessian_write_value(w, v->v.list.items[i]);
        if (v->v.list.variable)
            hessian_write_list_end(w);
        break;
    case HESSIAN_MAP:
        if (!v->v.map.type && v->v.map.type_index >= 0)
            faithful = false;
        hessian_write_map_begin(w, v->v.map.type);
        for (size_t i = 0; i < v->v.map.n; i++) {
            faithful &= hessian_write_value(w, v->v.map.keys[i]);
            faithful &= hessian_write_value(w, v->v.map.values[i]);
        }
        hessian_write_map_end(w);
        break;
    case HESSIAN_OBJECT:
        if (!v->v.object.cls || !v->v.object.names) {
            hessian_write_null(w);
            return false;
        }
        hessian_write_object_begin(w, v->v.object.cls, (uint32_t)v->v.object.n,
                                   (const char *const *)v->v.object.names);
        for (size_t i = 0; i < v->v.object.n; i++)
            faithful &= hessian_write_value(w, v->v.object.fields[i]);
        break;
    default: hessian_write_null(w); return false;
    }
    return faithful && !w->failed;
}
