/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Packet fuzzer: frame the input, then decode every packet with one
 * direction's stream, as events and as an HMTP packet, and render JSON.
 * Decoding as events first and as a packet again from the same mark also
 * exercises the snapshot rule: the second decode must not add definitions. */
#include <stdio.h>

#include "fuzz_frames.h"
#include "hmtp.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_events(hessian_stream *s, hessian_mark at, const uint8_t *body, size_t len)
{
    hessian_decoder d;
    hessian_decoder_init(&d, s, at, body, len);
    hessian_event ev;
    size_t n = 0;
    int rc;
    while ((rc = hessian_next(&d, &ev)) == 1) {
        if (ev.offset > len || ev.length > len - ev.offset) {
            fprintf(stderr, "fuzz_packet: event %zu (%s) at %zu+%zu outside a %zu-byte body\n", n,
                    hessian_kind_name(ev.kind), ev.offset, ev.length, len);
            abort();
        }
        /* touch the bytes events point at, so ASan checks them */
        volatile uint8_t sink = 0;
        if (ev.kind == HESSIAN_STRING && ev.v.str.len)
            sink ^= (uint8_t)ev.v.str.data[ev.v.str.len - 1];
        if (ev.kind == HESSIAN_BINARY && ev.v.bin.len)
            sink ^= ev.v.bin.data[ev.v.bin.len - 1];
        if (ev.field_name && ev.field_name_len)
            sink ^= (uint8_t)ev.field_name[ev.field_name_len - 1];
        (void)sink;
        if (++n > 4 * len + 16) {
            fprintf(stderr, "fuzz_packet: %zu events from %zu bytes: the decoder does not advance\n", n, len);
            abort();
        }
    }
    hessian_decoder_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_frames fr;
    fuzz_frames_cut(&fr, data, size);
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    hmtp_buf json;
    hmtp_buf_init(&json);
    for (size_t i = 0; i < fr.n; i++) {
        hessian_mark at = hessian_stream_mark(&s);
        walk_events(&s, at, fr.body[i], fr.len[i]);
        hessian_mark after_events = hessian_stream_mark(&s);
        hmtp_packet p;
        hmtp_packet_init(&p);
        hmtp_error err;
        hmtp_status st = hmtp_packet_decode(&p, &s, at, fr.body[i], fr.len[i], &err);
        hessian_mark after_packet = hessian_stream_mark(&s);
        if (after_packet.nclasses != after_events.nclasses || after_packet.ntypes != after_events.ntypes) {
            fprintf(stderr, "fuzz_packet: decoding packet %zu again from its mark changed the stream\n", i);
            abort();
        }
        if (st == HMTP_OK) {
            hmtp_buf_reset(&json);
            hmtp_json_packet_fields(&json, &p);
        } else if (err.code != st || err.msg[0] == 0) {
            fprintf(stderr, "fuzz_packet: status %d with error %d \"%s\"\n", (int)st, (int)err.code, err.msg);
            abort();
        }
        hmtp_packet_free(&p);
    }
    hmtp_buf_free(&json);
    hessian_stream_free(&s);
    fuzz_frames_free(&fr);
    return 0;
}
