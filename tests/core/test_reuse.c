/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One hmtp_packet and one decoder reused from packet to packet
 * (hmtp_packet_reset, hmtp_packet_decode_with, hessian_decoder_restart, as
 * hmtp-replay dump and the plugin use them) give exactly what a fresh packet
 * and decoder give for each packet: the same status, error and JSON, on a
 * stream of packets that define and reuse classes, carry binaries large
 * enough to be joined from chunks (the decoder's scratch memory), nest
 * containers (its stack) and include damaged bodies in between. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "framing.h"
#include "hmtp.h"
#include "json.h"
#include "testutil.h"

#define PACKETS 60

/* Packet i as the writer frames it. */
static void add_packet(hessian_writer *w, hmtp_arena *a, int i, uint64_t *rnd)
{
    hmtp_packet p;
    hmtp_packet_init(&p);
    p.type = i % HMTP_TYPE_COUNT;
    p.to = "news@cnn.com";
    p.from = i % 3 ? "ferg@hmtp.caucho.com/r1" : NULL;
    p.has_id = hmtp_type_has_id(p.type);
    p.id = i;
    static const char *const fields[] = {"_title", "_blob", "_tags"};
    hessian_value *o = hessian_new_object(a, i % 2 ? "example.NewsItem" : "example.Other", 3, fields);
    char title[48];
    int n = snprintf(title, sizeof title, "item %d \xe2\x82\xac %s", i, i % 4 ? "x" : "\xf0\x9f\x98\x80");
    hessian_object_set(o, "_title", hessian_new_string(a, title, (size_t)n));
    /* some binaries over one chunk, so the decoder joins them in scratch */
    size_t blob_len = (size_t)(test_rand(rnd) % (i % 6 == 0 ? 20000 : 200));
    uint8_t *blob = malloc(blob_len + 1);
    for (size_t k = 0; k < blob_len; k++)
        blob[k] = (uint8_t)test_rand(rnd);
    hessian_object_set(o, "_blob", hessian_new_binary(a, blob, blob_len));
    free(blob);
    /* nesting as deep as i % 12, for the decoder's container stack */
    hessian_value *inner = hessian_new_int(a, i);
    for (int d = 0; d < i % 12; d++) {
        hessian_value *l = hessian_new_list(a, NULL, d % 2 == 0, 1);
        l->v.list.items[0] = inner;
        inner = l;
    }
    hessian_object_set(o, "_tags", inner);
    p.value = o;
    if (hmtp_type_has_error(p.type))
        p.error_value = hmtp_new_bam_error(a, "cancel", "item-not-found", "gone");
    CHECK(hmtp_packet_write(w, &p), "packet %d written", i);
}

/* The JSON of a decode outcome: fields on success, code/offset/message on
 * error (what dump prints either way). */
static void outcome(hmtp_buf *out, const hmtp_packet *p, hmtp_status st, const hmtp_error *err)
{
    hmtp_buf_reset(out);
    if (st == HMTP_OK)
        hmtp_json_packet_fields(out, p);
    else
        hmtp_buf_printf(out, "%s at %zu: %s", hmtp_status_name(st), err->offset, err->msg);
}

static void test_reuse_matches_fresh(void)
{
    hmtp_buf wire;
    hmtp_buf_init(&wire);
    hessian_writer w;
    hessian_writer_init(&w, &wire);
    hmtp_arena a;
    hmtp_arena_init(&a);
    uint64_t rnd = 17;
    for (int i = 0; i < PACKETS; i++)
        add_packet(&w, &a, i, &rnd);
    CHECK(!w.failed && !wire.failed, "writer did not fail");

    /* split the wire into bodies with our own unframer */
    hmtp_buf bodies[PACKETS];
    size_t pos = 0, nb = 0;
    while (pos < wire.len && nb < PACKETS) {
        hmtp_buf_init(&bodies[nb]);
        size_t hdr[64], data[64], nch;
        if (!CHECK(unframe_one(wire.data, wire.len, &pos, &bodies[nb], hdr, data, 64, &nch), "unframe %zu", nb))
            break;
        nb++;
    }
    CHECK(nb == PACKETS, "%zu packets framed", nb);
    /* damage some bodies: cut short, or a byte in the middle changed */
    for (size_t i = 0; i < nb; i++) {
        if (i % 5 == 4 && bodies[i].len > 3)
            bodies[i].len -= 3;
        else if (i % 7 == 6 && bodies[i].len > 30)
            bodies[i].data[bodies[i].len / 2] = 0x45;
    }

    hessian_stream fresh_s, reuse_s;
    hessian_stream_init(&fresh_s, NULL);
    hessian_stream_init(&reuse_s, NULL);
    hmtp_packet reused;
    hmtp_packet_init(&reused);
    hessian_decoder dec;
    memset(&dec, 0, sizeof dec); /* all-zero: restart's documented start */
    hmtp_buf want, got;
    hmtp_buf_init(&want);
    hmtp_buf_init(&got);
    unsigned failures = 0;
    for (size_t i = 0; i < nb; i++) {
        hmtp_packet p;
        hmtp_packet_init(&p);
        hmtp_error e1, e2;
        hmtp_status s1 =
            hmtp_packet_decode(&p, &fresh_s, hessian_stream_mark(&fresh_s), bodies[i].data, bodies[i].len, &e1);
        outcome(&want, &p, s1, &e1);
        hmtp_packet_reset(&reused);
        hmtp_status s2 = hmtp_packet_decode_with(&reused, &dec, &reuse_s, hessian_stream_mark(&reuse_s),
                                                 bodies[i].data, bodies[i].len, &e2);
        outcome(&got, &reused, s2, &e2);
        failures += s1 != HMTP_OK;
        CHECK(s1 == s2 && want.len == got.len && memcmp(want.data, got.data, want.len) == 0,
              "packet %zu: reused decode gives %.*s, fresh gives %.*s", i, (int)got.len, (const char *)got.data,
              (int)want.len, (const char *)want.data);
        hmtp_packet_free(&p);
    }
    CHECK(failures >= 10 && failures < nb, "both outcomes covered: %u of %zu bodies refused", failures, nb);
    CHECK(fresh_s.nclasses == reuse_s.nclasses && fresh_s.nclasses >= 3, "same classes defined: %u and %u",
          fresh_s.nclasses, reuse_s.nclasses);
    CHECK(dec.scratch_cap > 0 && dec.stack_cap > 0, "the decoder kept its scratch and stack");

    hessian_decoder_free(&dec);
    hmtp_packet_free(&reused);
    hessian_stream_free(&fresh_s);
    hessian_stream_free(&reuse_s);
    hmtp_buf_free(&want);
    hmtp_buf_free(&got);
    for (size_t i = 0; i < nb; i++)
        hmtp_buf_free(&bodies[i]);
    hmtp_arena_free(&a);
    hessian_writer_free(&w);
    hmtp_buf_free(&wire);
}

int main(void)
{
    test_reuse_matches_fresh();
    return check_summary("reuse");
}
