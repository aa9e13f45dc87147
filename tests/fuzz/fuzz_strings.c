/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strings fuzzer: the decoder's fast paths against the plain rules of
 * tests/core/string_oracle.h. The input is read twice: as a body as it
 * stands (whatever string header it starts with, chunks included), and as
 * the payload of an 'S' string whose unit count is taken from the first two
 * bytes, so most inputs reach the character loop. Events and trees must
 * give exactly the oracle's bytes, units and end, or its error and offset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmtp.h"
#include "string_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void mismatch(const char *what, const uint8_t *body, size_t len)
{
    fprintf(stderr, "fuzz_strings: %s for a %zu-byte body:", what, len);
    for (size_t i = 0; i < len && i < 64; i++)
        fprintf(stderr, " %02x", body[i]);
    fprintf(stderr, "\n");
    abort();
}

static void check(const uint8_t *body, size_t len)
{
    if (len == 0)
        return;
    uint8_t c = body[0];
    if (!(c <= 0x1f || (c >= 0x30 && c <= 0x33) || c == 'S' || c == 'R'))
        return;
    oracle_string want;
    want.out = malloc(len + 8);
    if (!want.out)
        return;
    oracle_read_string(body, len, 0, &want);

    oracle_events o;
    oracle_events_read(&o, body, len);
    const hmtp_error *e = hessian_decoder_error(&o.dec.d);
    if (want.ok) {
        if (o.rc != 1 || o.ev.kind != HESSIAN_STRING || o.ev.length != want.end || o.ev.v.str.utf16_len != want.units ||
            o.ev.v.str.len != want.out_len || memcmp(o.ev.v.str.data, want.out, want.out_len) != 0)
            mismatch("events differ from the oracle", body, len);
    } else if (o.rc != -1 || e->code != want.code || e->offset != want.offset) {
        mismatch("events error differs from the oracle", body, len);
    }
    oracle_decoder_close(&o.dec);

    oracle_tree t;
    oracle_tree_read(&t, body, len);
    if (want.ok) {
        if (t.rc != 1 || t.v->kind != HESSIAN_STRING || t.v->v.str.len != want.out_len ||
            memcmp(t.v->v.str.data, want.out, want.out_len) != 0 || t.v->v.str.data[t.v->v.str.len] != '\0')
            mismatch("tree differs from the oracle", body, len);
    } else if (t.rc != -1 || t.err.code != want.code || t.err.offset != want.offset) {
        mismatch("tree error differs from the oracle", body, len);
    }
    oracle_tree_free(&t);
    free(want.out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size);
    if (size >= 2) {
        /* 'S', the units from data[0..1], the rest as characters: copied so
           ASan sees the exact end of the body */
        uint8_t *body = malloc(size + 1);
        if (!body)
            return 0;
        body[0] = 'S';
        memcpy(body + 1, data, size);
        check(body, size + 1);
        free(body);
    }
    return 0;
}
