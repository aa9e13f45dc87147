/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the core's own files; not part of the public API. */
#ifndef HMTP_HESSIAN_INTERNAL_H
#define HMTP_HESSIAN_INTERNAL_H

#include "hessian.h"

char *hessian_strndup(const char *p, size_t len);
/* Takes ownership of c's allocations; NULL when out of memory (c freed). */
const hessian_class *hessian_stream_add_class(hessian_stream *s, hessian_class *c);
void hessian_class_discard(hessian_class *c);
int hessian_stream_add_type(hessian_stream *s, const char *name, size_t len);

/* hessian_next() for readers that copy binaries anyway: a binary of more
 * than one chunk comes with v.bin.data NULL instead of being joined in the
 * decoder's scratch buffer; hessian_binary_join() copies its v.bin.len
 * bytes to out. Saves the tree reader a copy and a large allocation. */
int hessian_next_unjoined(hessian_decoder *d, hessian_event *ev);
void hessian_binary_join(const hessian_decoder *d, const hessian_event *ev, uint8_t *out);

/* Java's (int) cast of a double: NaN is 0, out-of-range values saturate. */
static inline int32_t hessian_java_d2i(double v)
{
    if (v != v)
        return 0;
    if (v >= 2147483647.0)
        return 2147483647;
    if (v <= -2147483648.0)
        return (int32_t)-2147483647 - 1;
    return (int32_t)v;
}

#endif
