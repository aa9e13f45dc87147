/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hessian 2.0 / HMTP writer that makes the same byte choices as Caucho's
 * Hessian2Output of January 2009: the shortest compact form of every number,
 * Java's rules for doubles, a class definition on the first use of a class
 * name in a direction, type names by reference after their first use, and
 * packet chunking driven by a 4096-byte buffer with the same flush points.
 * Decoding a stream this writer made and writing the values again therefore
 * reproduces it byte for byte. One writer per direction of a connection.
 *
 * Unlike Caucho's (keyed by class name, since a Java class has one field
 * list), the class table is keyed by name and field list: a tree built by
 * hand may use one name with different fields, and reusing the first
 * definition would make an unreadable stream. */
#ifndef HMTP_WRITER_H
#define HMTP_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "value.h"

#define HESSIAN_WRITER_BUFFER 4096

typedef struct hessian_writer {
    hmtp_buf *out;   /* where finished chunks go */
    /* One byte more than Caucho's buffer: the flush rules let a packet's
       values fill all 4096 bytes, and the end-of-packet 0x00 then goes
       right after them before the chunk is emitted. */
    uint8_t buffer[HESSIAN_WRITER_BUFFER + 1];
    size_t offset;
    bool in_packet;
    /* classes in definition order: a class is its name AND its field list,
       so one name written with two field lists gets two definitions */
    struct hessian_writer_class *classes;
    uint32_t nclasses, class_cap;
    char **type_names;
    uint32_t ntypes, type_cap;
    bool failed; /* out of memory somewhere; output incomplete */
} hessian_writer;

void hessian_writer_init(hessian_writer *w, hmtp_buf *out);
void hessian_writer_free(hessian_writer *w);

void hessian_writer_start_packet(hessian_writer *w);
void hessian_writer_end_packet(hessian_writer *w);
/* Outside a packet, values are buffered as in Hessian2Output; this writes
 * them out unframed (Caucho's flush()/close()), e.g. for the bare Hessian
 * string inside encrypted credentials. */
void hessian_writer_flush(hessian_writer *w);

void hessian_write_null(hessian_writer *w);
void hessian_write_bool(hessian_writer *w, bool b);
void hessian_write_int(hessian_writer *w, int32_t i);
void hessian_write_long(hessian_writer *w, int64_t l);
void hessian_write_double(hessian_writer *w, double d);
void hessian_write_date(hessian_writer *w, int64_t ms);
/* UTF-8 in (4-byte sequences allowed), CESU-8 out as Java writes it. NULL: null. */
void hessian_write_string(hessian_writer *w, const char *utf8, size_t len);
void hessian_write_binary(hessian_writer *w, const uint8_t *data, size_t len); /* NULL: null */
void hessian_write_ref(hessian_writer *w, uint32_t ref);
/* length < 0: variable-length list, close with hessian_write_list_end(). */
void hessian_write_list_begin(hessian_writer *w, const char *type, int64_t length);
void hessian_write_list_end(hessian_writer *w);
void hessian_write_map_begin(hessian_writer *w, const char *type); /* NULL: untyped */
void hessian_write_map_end(hessian_writer *w);
/* Writes the class definition if this direction has not seen cls, then the
 * object header; the caller then writes nfields values. */
void hessian_write_object_begin(hessian_writer *w, const char *cls, uint32_t nfields,
                                const char *const *field_names);

/* True when hessian_write_value() can write v faithfully: every object has
 * its class name and field names, every typed list or map its type name (a
 * value decoded from a capture that began mid-stream may lack them). */
bool hessian_value_writable(const hessian_value *v);
/* Writable and free of 'Q' references, whose numbers only mean something
 * at their original place in their packet: such a value may be copied into
 * another packet (an echo, a list of other clients' payloads). */
bool hessian_value_movable(const hessian_value *v);

/* Writes a whole tree. An object whose class definition was never seen
 * (cls NULL) cannot be written faithfully: returns false and writes null. */
bool hessian_write_value(hessian_writer *w, const hessian_value *v);

#endif
