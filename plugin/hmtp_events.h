/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs the core Hessian decoder over one de-chunked HMTP body and copies its
 * events into packet-scoped memory. Decoding completes before any tree item
 * is added, so a Wireshark exception thrown while building the tree can
 * neither interrupt the decoder (one, reused from body to body) nor leave
 * the per-direction class table half updated on the first pass. */
#ifndef HMTP_PLUGIN_EVENTS_H
#define HMTP_PLUGIN_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include <epan/wmem_scopes.h>

#include "hessian.h"

typedef struct hmtp_item {
    hessian_kind kind;
    hessian_role role;
    uint8_t code;
    unsigned depth;
    uint32_t index;
    uint32_t top_index;
    size_t offset; /* in the de-chunked body */
    size_t length; /* as hessian_event.length */
    const char *field_name; /* ROLE_FIELD with a known class, else NULL */
    union {
        bool b;
        int32_t i;
        int64_t l;
        double d;
        int64_t date_ms;
        struct {
            const char *data; /* NUL-terminated UTF-8 copy */
            size_t len, utf16_len;
            uint32_t chunks;
        } str;
        struct {
            const uint8_t *data;
            size_t len;
            uint32_t chunks;
        } bin;
        struct {
            const char *type; /* NULL: untyped, or a type ref defined before the capture */
            int32_t type_index;
            int64_t count; /* fixed-length list: elements; -1 otherwise */
            uint32_t ref;
        } container;
        struct {
            const char *cls; /* NULL: definition not captured */
            int32_t class_index;
            uint32_t nfields;
            uint32_t ref;
        } object;
        uint32_t ref;
        struct {
            const char *name;
            int32_t class_index;
            uint32_t nfields;
            const char **fields;
        } def;
    } v;
} hmtp_item;

typedef struct hmtp_decoded {
    hmtp_item *items;
    unsigned nitems;
    bool failed;      /* the decoder stopped with err */
    hmtp_status err_code;
    size_t err_offset;
    const char *err_msg;
    /* The HMTP header values, when present and of the right kind. */
    bool has_type;
    int32_t type;
    const char *to;   /* NULL: null JID or absent */
    const char *from;
    /* Set when to or from holds a character no JID may (U+0000, a control
       character): what, which field and where, for the packet's expert.
       The tree still shows the whole string, never a cut one. */
    const char *bad_jid;
    bool has_id;
    int64_t id;
    /* BamError fields of an error packet (NULL when absent or null). */
    const char *error_type, *error_group, *error_text;
    unsigned missing_classes; /* objects whose class definition was not captured */
    int32_t first_missing_class; /* index of the first such class */
    unsigned ntop; /* top-level values started */
} hmtp_decoded;

/* Decodes body[0..len) with the direction's state as it was at `mark`.
 * Everything in *out lives in pool. Never fails: a decode error is recorded
 * in out->failed and the events before it are kept. */
/* At registration: frees the reused decoder at shutdown. */
void hmtp_events_register(void);

void hmtp_decode_body(wmem_allocator_t *pool, hessian_stream *stream, hessian_mark mark, const uint8_t *body,
                      size_t len, hmtp_decoded *out);

#endif
