/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hessian 2.0 decoder (PROTOCOL.md section 4) as a pull stream of events.
 *
 * Each event names a value (or a container start/end, or a class definition)
 * with its offset and length in the packet body, its nesting depth and its
 * role in the parent, so a caller can point at the exact bytes of every field.
 * Errors are sticky: after hessian_next() returns -1, every later call does too,
 * and hessian_decoder_error() tells what and where.
 *
 * Class definitions and type names outlive a packet: they belong to one
 * direction of a connection (hessian_stream). Definitions are only ever
 * appended, so "the state before packet P" is just a count of each
 * (hessian_mark): decoding P again later with the mark taken before its first
 * decode gives exactly the first result, whatever was decoded in between. */
#ifndef HMTP_HESSIAN_H
#define HMTP_HESSIAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HESSIAN_DEPTH_CAP 256 /* hard upper bound of limits.max_depth */

typedef struct hessian_limits {
    unsigned max_depth;     /* nesting of lists/maps/objects; default 64 */
    uint32_t max_classes;   /* class definitions per direction; default 4096 */
    uint32_t max_fields;    /* fields per class definition; default 1024 */
    uint32_t max_types;     /* type names per direction; default 4096 */
    uint32_t max_refs;      /* containers per packet (Q targets); default 1 << 20 */
} hessian_limits;

void hessian_limits_default(hessian_limits *l);

/* A class definition. A definition that a mid-stream capture never showed,
 * but whose index a later one proved to exist, is kept as a hole: name NULL,
 * no fields. Records never move, so pointers to them stay valid for the
 * stream's life. */
typedef struct hessian_class {
    char *name; /* NUL-terminated UTF-8; NULL for a hole */
    size_t name_len;
    uint32_t nfields;
    char **fields; /* nfields NUL-terminated names */
    size_t *field_lens;
} hessian_class;

/* Per-direction state of one connection. */
typedef struct hessian_stream {
    hessian_limits limits;
    hessian_class **classes; /* each record allocated on its own */
    uint32_t nclasses, class_cap;
    char **types; /* type names, NUL-terminated */
    size_t *type_lens;
    uint32_t ntypes, type_cap;
} hessian_stream;

typedef struct hessian_mark {
    uint32_t nclasses;
    uint32_t ntypes;
} hessian_mark;

void hessian_stream_init(hessian_stream *s, const hessian_limits *limits /* NULL: defaults */);
void hessian_stream_free(hessian_stream *s);
hessian_mark hessian_stream_mark(const hessian_stream *s);

typedef enum hessian_kind {
    HESSIAN_NULL,
    HESSIAN_BOOL,
    HESSIAN_INT,
    HESSIAN_LONG,
    HESSIAN_DOUBLE,
    HESSIAN_DATE,
    HESSIAN_STRING,
    HESSIAN_BINARY,
    HESSIAN_LIST,      /* container start */
    HESSIAN_MAP,       /* container start */
    HESSIAN_OBJECT,    /* container start */
    HESSIAN_END,       /* container end: the 'Z' byte, or length 0 for fixed-length */
    HESSIAN_REF,       /* 'Q' n: the n-th list/map/object of this packet */
    HESSIAN_CLASS_DEF, /* 'C' definition: not a value; the value follows */
} hessian_kind;

const char *hessian_kind_name(hessian_kind k); /* "string", "int", ... */

typedef enum hessian_role {
    HESSIAN_ROLE_TOP,     /* a top-level value of the body */
    HESSIAN_ROLE_ELEMENT, /* list element */
    HESSIAN_ROLE_KEY,     /* map key */
    HESSIAN_ROLE_VALUE,   /* map value */
    HESSIAN_ROLE_FIELD,   /* object field */
} hessian_role;

typedef struct hessian_event {
    hessian_kind kind;
    hessian_role role;
    uint8_t code;    /* first byte of the encoding */
    size_t offset;   /* body offset of the first byte */
    size_t length;   /* scalars: the whole encoding (all chunks); containers:
                        the header (code, type, length, class ref); END: 1 or 0;
                        CLASS_DEF: the whole definition */
    unsigned depth;  /* 0 for top-level values; children of a depth-d container are d+1 */
    uint32_t index;  /* position in the parent: element, pair (key and value share it), field */
    uint32_t top_index; /* which top-level value of the body this event belongs to */
    /* ROLE_FIELD: the field's name, NULL when the class definition was not seen */
    const char *field_name;
    size_t field_name_len;
    union {
        bool b;
        int32_t i;
        int64_t l;       /* LONG */
        double d;
        int64_t date_ms; /* DATE: milliseconds since 1970 UTC */
        struct {
            /* UTF-8 (non-BMP characters as 4-byte sequences, whatever the wire
               used); points into the body or into decoder scratch memory that
               stays valid until the next call */
            const char *data;
            size_t len;
            size_t utf16_len; /* Hessian's length unit */
            uint32_t chunks;  /* 1 + number of 'R' chunks */
        } str;
        struct {
            const uint8_t *data; /* body or scratch, as for strings */
            size_t len;
            uint32_t chunks;
        } bin;
        struct {
            /* LIST and MAP. type is NULL for untyped; "#N" style names are
               never made up here: type_index >= 0 with type NULL means an int
               type reference to a name this direction has not seen */
            const char *type;
            size_t type_len;
            int32_t type_index; /* -1 for untyped */
            int64_t count;      /* fixed-length list: elements; -1 variable/map */
            uint32_t ref;       /* this container's Q number */
        } container;
        struct {
            const hessian_class *cls; /* NULL when the definition was not seen */
            int32_t class_index;
            uint32_t ref;     /* this object's Q number */
        } object;
        uint32_t ref; /* REF: the referenced container's Q number */
        struct {
            const hessian_class *cls;
            int32_t class_index;
        } def;
    } v;
} hessian_event;

typedef struct hessian_container hessian_container; /* decoder stack frame */

typedef struct hessian_decoder {
    const uint8_t *body;
    size_t len, pos;
    hessian_stream *stream;
    uint32_t next_class; /* index the next 'C' defines */
    uint32_t next_type;  /* index the next type string defines */
    uint32_t nrefs;      /* containers started in this packet */
    uint32_t top_index;
    unsigned depth;
    hessian_container *stack; /* depth entries in use, stack_cap allocated */
    unsigned stack_cap;
    uint8_t *scratch;
    size_t scratch_cap;
    hmtp_error err;
    bool failed;
} hessian_decoder;

/* Decodes body[0..len) with the stream state as it was at `at` (use
 * hessian_stream_mark() for sequential decoding). The decoder appends the
 * packet's new class definitions and type names to the stream. */
void hessian_decoder_init(hessian_decoder *d, hessian_stream *s, hessian_mark at, const uint8_t *body,
                          size_t len);
void hessian_decoder_free(hessian_decoder *d);
/* Starts the next body on a decoder that hessian_decoder_init() set up (and
 * that may have decoded bodies since), or on an all-zero one: as init, but the container stack and
 * scratch memory it allocated are kept, so a reader that decodes packet
 * after packet with one decoder stops allocating once they are large
 * enough. Events of the previous body become invalid. */
void hessian_decoder_restart(hessian_decoder *d, hessian_stream *s, hessian_mark at, const uint8_t *body,
                             size_t len);

/* 1: *ev holds the next event; 0: the body ended cleanly between top-level
 * values; -1: error (see hessian_decoder_error). */
int hessian_next(hessian_decoder *d, hessian_event *ev);

/* Skips the rest of the value whose start event was just returned (a no-op
 * for scalars). Returns 1, or -1 on error. */
int hessian_skip_value(hessian_decoder *d, const hessian_event *start);

const hmtp_error *hessian_decoder_error(const hessian_decoder *d);

/* Body offset of the next byte the decoder will read (after
 * hessian_skip_value(): the end of the skipped value). */
size_t hessian_decoder_offset(const hessian_decoder *d);

/* True when the decoder is between top-level values. */
bool hessian_at_top(const hessian_decoder *d);

#endif
