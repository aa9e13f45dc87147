/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hmtp_public_key_answer_read on real packets: each answer is written with
 * the core's writer, framed and decoded again, as a client receives it. */
#include <stdlib.h>

#include "check.h"
#include "framing.h"
#include "hmtp.h"
#include "hmtp_crypto.h"
#include "writer.h"

static const uint8_t KEY[] = {0x30, 0x81, 0x9f, 0x30, 0x0d, 0x06, 0x09, 0x2a};

/* Writes p through the writer, frames and decodes it into out. */
static bool wire_round_trip(const hmtp_packet *p, hmtp_packet *out, hessian_stream *s)
{
    hmtp_buf wire;
    hmtp_buf_init(&wire);
    hessian_writer w;
    hessian_writer_init(&w, &wire);
    bool ok = hmtp_packet_write(&w, p) && !wire.failed;
    hmtp_reader *r = hmtp_reader_new(HMTP_DEFAULT_MAX_PACKET);
    size_t used = 0;
    hmtp_frame f;
    hmtp_error err;
    hmtp_error_clear(&err);
    ok = ok && hmtp_reader_push(r, wire.data, wire.len, &used, &f, &err) == 1 &&
         hmtp_packet_decode(out, s, hessian_stream_mark(s), f.body, f.body_len, &err) == HMTP_OK;
    CHECK(ok, "round trip of a %s: %s", hmtp_type_name(p->type), err.msg);
    hmtp_reader_free(r);
    hessian_writer_free(&w);
    hmtp_buf_free(&wire);
    return ok;
}

static hmtp_public_key_answer read_answer(int32_t type, bool key_object, bool with_key, bool bam_error,
                                          const uint8_t **der, size_t *len, char *group, size_t group_size)
{
    hmtp_packet p, got;
    hmtp_packet_init(&p);
    hmtp_packet_init(&got);
    p.type = type;
    p.has_id = true;
    p.id = 1;
    if (key_object)
        p.value = with_key ? hmtp_new_public_key_query(&p.arena, "RSA", "X.509", KEY, sizeof KEY)
                           : hmtp_new_public_key_query(&p.arena, NULL, NULL, NULL, 0);
    else
        p.value = hmtp_new_auth_result(&p.arena, "a@b/c");
    if (bam_error)
        p.error_value = hmtp_new_bam_error(&p.arena, "cancel", "feature-not-implemented", "no keys here");
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    hmtp_public_key_answer a = HMTP_PUBLIC_KEY_MISSING;
    *der = NULL;
    *len = 0;
    group[0] = '\0';
    if (wire_round_trip(&p, &got, &s)) {
        a = hmtp_public_key_answer_read(&got, der, len);
        if (got.error.group)
            snprintf(group, group_size, "%s", got.error.group);
        /* the key points into got's arena: compare before it goes */
        if (a == HMTP_PUBLIC_KEY_FOUND)
            CHECK_BYTES(*der, *len, KEY, sizeof KEY, "the key read is the key sent");
    }
    hmtp_packet_free(&got);
    hmtp_packet_free(&p);
    hessian_stream_free(&s);
    return a;
}

int main(void)
{
    const uint8_t *der;
    size_t len;
    char group[64];
    CHECK_INT(read_answer(HMTP_QUERY_RESULT, true, true, false, &der, &len, group, sizeof group),
              HMTP_PUBLIC_KEY_FOUND, "a queryResult with the key");
    CHECK_INT(len, sizeof KEY, "its length");
    CHECK_INT(read_answer(HMTP_QUERY_RESULT, true, false, false, &der, &len, group, sizeof group),
              HMTP_PUBLIC_KEY_MISSING, "a GetPublicKeyQuery whose _encoded is null");
    CHECK(der == NULL && len == 0, "no key handed out when missing");
    CHECK_INT(read_answer(HMTP_QUERY_RESULT, false, false, false, &der, &len, group, sizeof group),
              HMTP_PUBLIC_KEY_MISSING, "a queryResult of another class");
    CHECK_INT(read_answer(HMTP_QUERY_ERROR, true, false, true, &der, &len, group, sizeof group),
              HMTP_PUBLIC_KEY_REFUSED, "a queryError echoing the query");
    CHECK_STR(group, "feature-not-implemented", "the refusal's reason is the packet's BamError");
    CHECK_INT(read_answer(HMTP_QUERY_ERROR, false, false, true, &der, &len, group, sizeof group),
              HMTP_PUBLIC_KEY_REFUSED, "a queryError carrying something else");
    CHECK_INT(read_answer(HMTP_QUERY_SET, true, true, false, &der, &len, group, sizeof group),
              HMTP_PUBLIC_KEY_MISSING, "a querySet is no answer, even with a key");
    return check_summary("public_key_answer");
}
