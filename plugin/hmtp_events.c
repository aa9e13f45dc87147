/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Decoder events -> a packet-scoped list of items plus the HMTP header
 * values (type, to, from, id, BamError fields) the rest of the plugin needs
 * whether or not a tree is being built. */
#include <string.h>

#include <epan/packet.h>
#include <epan/wmem_scopes.h>

#include "hmtp.h"
#include "hmtp_events.h"
#include "jid.h"

/* An exact copy of len bytes plus a terminator: wmem_strndup would stop at
 * a U+0000 inside the string while len still counted past it. */
static const char *pool_str(wmem_allocator_t *pool, const char *s, size_t len)
{
    if (!s)
        return NULL;
    char *copy = wmem_alloc(pool, len + 1);
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

/* Copies the parts of an event that point into decoder memory (scratch,
 * stack) or into the growable class table, which may move later. */
static void copy_event(wmem_allocator_t *pool, const hessian_event *ev, hmtp_item *it)
{
    memset(it, 0, sizeof *it);
    it->kind = ev->kind;
    it->role = ev->role;
    it->code = ev->code;
    it->depth = ev->depth;
    it->index = ev->index;
    it->top_index = ev->top_index;
    it->offset = ev->offset;
    it->length = ev->length;
    if (ev->role == HESSIAN_ROLE_FIELD && ev->field_name)
        it->field_name = pool_str(pool, ev->field_name, ev->field_name_len);
    switch (ev->kind) {
    case HESSIAN_BOOL:
        it->v.b = ev->v.b;
        break;
    case HESSIAN_INT:
        it->v.i = ev->v.i;
        break;
    case HESSIAN_LONG:
        it->v.l = ev->v.l;
        break;
    case HESSIAN_DOUBLE:
        it->v.d = ev->v.d;
        break;
    case HESSIAN_DATE:
        it->v.date_ms = ev->v.date_ms;
        break;
    case HESSIAN_STRING:
        it->v.str.data = pool_str(pool, ev->v.str.data ? ev->v.str.data : "", ev->v.str.len);
        it->v.str.len = ev->v.str.len;
        it->v.str.utf16_len = ev->v.str.utf16_len;
        it->v.str.chunks = ev->v.str.chunks;
        break;
    case HESSIAN_BINARY:
        it->v.bin.data = ev->v.bin.len ? wmem_memdup(pool, ev->v.bin.data, ev->v.bin.len) : NULL;
        it->v.bin.len = ev->v.bin.len;
        it->v.bin.chunks = ev->v.bin.chunks;
        break;
    case HESSIAN_LIST:
    case HESSIAN_MAP:
        it->v.container.type = pool_str(pool, ev->v.container.type, ev->v.container.type_len);
        it->v.container.type_index = ev->v.container.type_index;
        it->v.container.count = ev->v.container.count;
        it->v.container.ref = ev->v.container.ref;
        break;
    case HESSIAN_OBJECT:
        it->v.object.class_index = ev->v.object.class_index;
        it->v.object.ref = ev->v.object.ref;
        if (ev->v.object.cls) {
            it->v.object.cls = pool_str(pool, ev->v.object.cls->name, ev->v.object.cls->name_len);
            it->v.object.nfields = ev->v.object.cls->nfields;
        }
        break;
    case HESSIAN_REF:
        it->v.ref = ev->v.ref;
        break;
    case HESSIAN_CLASS_DEF: {
        const hessian_class *c = ev->v.def.cls;
        it->v.def.class_index = ev->v.def.class_index;
        if (c) {
            it->v.def.name = pool_str(pool, c->name, c->name_len);
            it->v.def.nfields = c->nfields;
            it->v.def.fields = wmem_alloc0(pool, sizeof(char *) * (c->nfields + 1));
            for (uint32_t i = 0; i < c->nfields; i++)
                it->v.def.fields[i] = pool_str(pool, c->fields[i], c->field_lens[i]);
        }
        break;
    }
    case HESSIAN_NULL:
    case HESSIAN_END:
        break;
    }
}

/* Picks the HMTP header values out of top-level events, and the BamError
 * fields out of the error value's direct children. */
/* The core's JID character rule, reported once per packet. */
static void check_jid(wmem_allocator_t *pool, hmtp_decoded *out, const char *field, const hmtp_item *it)
{
    size_t bad_at = 0;
    /* printable ASCII, as good as every JID, passes without the character
       walk (the core's packet decoder does the same) */
    const char *why = hmtp_text_printable_ascii(it->v.str.data, it->v.str.len)
                          ? NULL
                          : hmtp_jid_check(it->v.str.data, it->v.str.len, &bad_at);
    if (why && !out->bad_jid)
        out->bad_jid = wmem_strdup_printf(pool, "%s at body offset %zu is not a JID: %s at byte %zu of %zu", field,
                                          it->offset, why, bad_at, it->v.str.len);
}

static void note_header(wmem_allocator_t *pool, hmtp_decoded *out, const hmtp_item *it)
{
    if (it->depth == 0) {
        hmtp_field role = it->top_index == 0 ? HMTP_FIELD_TYPE
                                             : (out->has_type ? hmtp_field_at(out->type, it->top_index)
                                                              : HMTP_FIELD_EXTRA);
        if (role == HMTP_FIELD_TYPE && it->kind == HESSIAN_INT) {
            out->has_type = true;
            out->type = it->v.i;
        } else if (role == HMTP_FIELD_TO && it->kind == HESSIAN_STRING) {
            out->to = it->v.str.data;
            check_jid(pool, out, "to", it);
        } else if (role == HMTP_FIELD_FROM && it->kind == HESSIAN_STRING) {
            out->from = it->v.str.data;
            check_jid(pool, out, "from", it);
        } else if (role == HMTP_FIELD_ID && (it->kind == HESSIAN_LONG || it->kind == HESSIAN_INT)) {
            out->has_id = true;
            out->id = it->kind == HESSIAN_LONG ? it->v.l : it->v.i;
        }
        return;
    }
    if (it->depth == 1 && it->role == HESSIAN_ROLE_FIELD && it->field_name && it->kind == HESSIAN_STRING &&
        out->has_type && hmtp_field_at(out->type, it->top_index) == HMTP_FIELD_ERROR) {
        if (strcmp(it->field_name, "_type") == 0)
            out->error_type = it->v.str.data;
        else if (strcmp(it->field_name, "_group") == 0)
            out->error_group = it->v.str.data;
        else if (strcmp(it->field_name, "_text") == 0)
            out->error_text = it->v.str.data;
    }
}

/* One decoder for every body, its stack and scratch memory kept from packet
 * to packet (hessian_decoder_restart) instead of a malloc and free each:
 * dissection runs on one thread and a body is decoded to the end before the
 * next starts. Freed when Wireshark shuts down. */
static hessian_decoder reused;

static void free_reused(void)
{
    hessian_decoder_free(&reused);
}

void hmtp_events_register(void)
{
    register_shutdown_routine(free_reused);
}

void hmtp_decode_body(wmem_allocator_t *pool, hessian_stream *stream, hessian_mark mark, const uint8_t *body,
                      size_t len, hmtp_decoded *out)
{
    memset(out, 0, sizeof *out);
    /* The items are written straight into a pool array grown by doubling
       (a wmem_array took a call and a second copy per item). */
    unsigned n = 0, cap = 16;
    hmtp_item *items = wmem_alloc(pool, cap * sizeof *items);
    hessian_decoder *d = &reused;
    hessian_decoder_restart(d, stream, mark, body, len);
    hessian_event ev;
    int rc;
    while ((rc = hessian_next(d, &ev)) == 1) {
        if (n == cap) {
            cap *= 2;
            items = wmem_realloc(pool, items, cap * sizeof *items);
        }
        hmtp_item *it = &items[n++];
        copy_event(pool, &ev, it);
        if (it->kind == HESSIAN_OBJECT && !it->v.object.cls && out->missing_classes++ == 0)
            out->first_missing_class = it->v.object.class_index;
        if (it->depth == 0 && it->kind != HESSIAN_END && it->kind != HESSIAN_CLASS_DEF)
            out->ntop = it->top_index + 1;
        /* note_header reads the copy just stored, so its strings live in pool */
        note_header(pool, out, it);
    }
    if (rc < 0) {
        const hmtp_error *err = hessian_decoder_error(d);
        out->failed = true;
        out->err_code = err->code;
        out->err_offset = err->offset;
        out->err_msg = wmem_strdup(pool, err->msg[0] ? err->msg : hmtp_status_name(err->code));
    }
    if (d->scratch_cap > ((size_t)1 << 20))
        hessian_decoder_free(d); /* not kept: the scratch of one huge body */
    out->nitems = n;
    out->items = n ? items : NULL;
}
