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

    hessian_stream s;
    hessian_stream_init(&s, NULL);
    hessian_decoder d;
    hessian_decoder_init(&d, &s, hessian_stream_mark(&s), body, len);
    hessian_event ev;
    int rc = hessian_next(&d, &ev);
    const hmtp_error *e = hessian_decoder_error(&d);
    if (want.ok) {
        if (rc != 1 || ev.kind != HESSIAN_STRING || ev.length != want.end || ev.v.str.utf16_len != want.units ||
            ev.v.str.len != want.out_len || memcmp(ev.v.str.data, want.out, want.out_len) != 0)
            mismatch("events differ from the oracle", body, len);
    } else if (rc != -1 || e->code != want.code || e->offset != want.offset) {
        mismatch("events error differs from the oracle", body, len);
    }
    hessian_decoder_free(&d);
    hessian_stream_free(&s);

    hessian_stream_init(&s, NULL);
    hessian_decoder_init(&d, &s, hessian_stream_mark(&s), body, len);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *v = NULL;
    hmtp_error err;
    hmtp_error_clear(&err);
    rc = hessian_read_value(&d, &a, &v, &err);
    if (want.ok) {
        if (rc != 1 || v->kind != HESSIAN_STRING || v->v.str.len != want.out_len ||
            memcmp(v->v.str.data, want.out, want.out_len) != 0 || v->v.str.data[v->v.str.len] != '\0')
            mismatch("tree differs from the oracle", body, len);
    } else if (rc != -1 || err.code != want.code || err.offset != want.offset) {
        mismatch("tree error differs from the oracle", body, len);
    }
    hmtp_arena_free(&a);
    hessian_decoder_free(&d);
    hessian_stream_free(&s);
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
