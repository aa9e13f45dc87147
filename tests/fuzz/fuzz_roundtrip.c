/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Round-trip fuzzer: decode every packet; keep those that decoded and hold
 * only values the writer can reproduce (every class and type seen, no -0.0,
 * which Java's writer turns into 0.0, no class name defined twice with
 * different fields); write them with a fresh writer, decode that, and the
 * trees must be equal. */
#include <math.h>
#include <stdio.h>

#include "fuzz_frames.h"
#include "hmtp.h"
#include "writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool writable(const hessian_value *v, unsigned depth)
{
    if (!v || depth > HESSIAN_DEPTH_CAP)
        return false;
    switch (v->kind) {
    case HESSIAN_DOUBLE:
        return !(v->v.d == 0.0 && signbit(v->v.d));
    case HESSIAN_LIST:
        if (!v->v.list.type && v->v.list.type_index >= 0)
            return false;
        for (size_t i = 0; i < v->v.list.n; i++)
            if (!writable(v->v.list.items[i], depth + 1))
                return false;
        return true;
    case HESSIAN_MAP:
        if (!v->v.map.type && v->v.map.type_index >= 0)
            return false;
        for (size_t i = 0; i < v->v.map.n; i++)
            if (!writable(v->v.map.keys[i], depth + 1) || !writable(v->v.map.values[i], depth + 1))
                return false;
        return true;
    case HESSIAN_OBJECT:
        if (!v->v.object.cls)
            return false;
        for (size_t i = 0; i < v->v.object.n; i++)
            if (!writable(v->v.object.fields[i], depth + 1))
                return false;
        return true;
    default:
        return true;
    }
}

/* Java's writer keys classes by name alone. */
static bool classes_unambiguous(const hessian_stream *s)
{
    for (uint32_t i = 0; i < s->nclasses; i++)
        for (uint32_t j = i + 1; j < s->nclasses; j++) {
            const hessian_class *a = s->classes[i], *b = s->classes[j];
            /* holes: indexes the decoder reserved for definitions it
             * never saw (a stream joined mid-way) */
            if (!a->name || !b->name)
                continue;
            if (a->name_len != b->name_len || memcmp(a->name, b->name, a->name_len) != 0)
                continue;
            if (a->nfields != b->nfields)
                return false;
            for (uint32_t f = 0; f < a->nfields; f++)
                if (a->field_lens[f] != b->field_lens[f] ||
                    memcmp(a->fields[f], b->fields[f], a->field_lens[f]) != 0)
                    return false;
        }
    return true;
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_frames fr;
    fuzz_frames_cut(&fr, data, size);
    static hmtp_packet first[FUZZ_MAX_PACKETS];
    size_t nfirst = 0;
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    for (size_t i = 0; i < fr.n; i++) {
        hmtp_packet *p = &first[nfirst];
        hmtp_packet_init(p);
        hmtp_error err;
        if (hmtp_packet_decode(p, &s, hessian_stream_mark(&s), fr.body[i], fr.len[i], &err) == HMTP_OK &&
            writable(p->value, 0) && (!p->error_value || writable(p->error_value, 0)))
            nfirst++;
        else
            hmtp_packet_free(p);
    }
    bool usable = classes_unambiguous(&s);
    hessian_stream_free(&s);

    if (usable && nfirst > 0) {
        hmtp_buf out;
        hmtp_buf_init(&out);
        hessian_writer w;
        hessian_writer_init(&w, &out);
        for (size_t i = 0; i < nfirst; i++)
            if (!hmtp_packet_write(&w, &first[i])) {
                fprintf(stderr, "fuzz_roundtrip: packet %zu could not be written\n", i);
                abort();
            }
        hessian_writer_free(&w);
        fuzz_frames again;
        fuzz_frames_cut(&again, out.data, out.len);
        if (again.n != nfirst) {
            fprintf(stderr, "fuzz_roundtrip: wrote %zu packets, framed %zu\n", nfirst, again.n);
            abort();
        }
        hessian_stream_init(&s, NULL);
        for (size_t i = 0; i < again.n; i++) {
            hmtp_packet q;
            hmtp_packet_init(&q);
            hmtp_error err;
            hmtp_status st = hmtp_packet_decode(&q, &s, hessian_stream_mark(&s), again.body[i], again.len[i], &err);
            const hmtp_packet *p = &first[i];
            if (st != HMTP_OK || q.type != p->type || !same_str(q.to, p->to) || !same_str(q.from, p->from) ||
                q.has_id != p->has_id || q.id != p->id || !hessian_value_equal(q.value, p->value) ||
                (p->error_value == NULL) != (q.error_value == NULL) ||
                (p->error_value && !hessian_value_equal(q.error_value, p->error_value))) {
                fprintf(stderr, "fuzz_roundtrip: packet %zu differs after write + decode (%s: %s)\n", i,
                        hmtp_status_name(st), st == HMTP_OK ? "values" : err.msg);
                abort();
            }
            hmtp_packet_free(&q);
        }
        hessian_stream_free(&s);
        fuzz_frames_free(&again);
        hmtp_buf_free(&out);
    }
    for (size_t i = 0; i < nfirst; i++)
        hmtp_packet_free(&first[i]);
    fuzz_frames_free(&fr);
    return 0;
}
