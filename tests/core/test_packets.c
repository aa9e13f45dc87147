/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HMTP packets (PROTOCOL.md sections 3 and 5): the worked example, every
 * packet type through writer -> framing -> packet decoder, BamError fields,
 * packet-level errors and JIDs. */
#include <stdlib.h>

#include "check.h"
#include "framing.h"
#include "hmtp.h"
#include "jid.h"
#include "testutil.h"

static const char *const WORKED =
    "24 99 0c 6e 65 77 73 40 63 6e 6e 2e 63 6f 6d"
    "14 66 65 72 67 40 68 6d 74 70 2e 63 61 75 63 68 6f 2e 63 6f 6d 4e 00";

static void test_worked_example(void)
{
    hmtp_buf wire = hex_bytes(WORKED);
    hmtp_reader *r = hmtp_reader_new(HMTP_DEFAULT_MAX_PACKET);
    size_t consumed = 0;
    hmtp_frame f;
    hmtp_error err;
    hmtp_error_clear(&err);
    int rc = hmtp_reader_push(r, wire.data, wire.len, &consumed, &f, &err);
    if (CHECK(rc == 1 && consumed == wire.len && f.body_len == 36 && f.wire_len == 38 && f.chunks == 1,
              "worked example frames: rc %d consumed %zu body %zu", rc, consumed, f.body_len)) {
        hessian_stream s;
        hessian_stream_init(&s, NULL);
        hmtp_packet p;
        hmtp_packet_init(&p);
        hmtp_status st = hmtp_packet_decode(&p, &s, hessian_stream_mark(&s), f.body, f.body_len, &err);
        CHECK(st == HMTP_OK, "worked example decodes: %s", err.msg);
        CHECK_INT(p.type, HMTP_PRESENCE_SUBSCRIBE, "type");
        CHECK_STR(p.to, "news@cnn.com", "to");
        CHECK_STR(p.from, "ferg@hmtp.caucho.com", "from");
        CHECK(!p.has_id, "presence has no id");
        CHECK(p.value && p.value->kind == HESSIAN_NULL, "value null");
        CHECK(p.error_value == NULL, "no error value");
        CHECK_STR(hmtp_type_name(p.type), "presenceSubscribe", "type name");
        hmtp_packet_free(&p);
        hessian_stream_free(&s);
    }
    hmtp_reader_free(r);
    hmtp_buf_free(&wire);
}

static void test_type_table(void)
{
    static const char *const names[HMTP_TYPE_COUNT] = {
        "message",  "messageError",        "queryGet",      "querySet",          "queryResult",
        "queryError", "presence",          "presenceUnavailable", "presenceProbe", "presenceSubscribe",
        "presenceSubscribed", "presenceUnsubscribe", "presenceUnsubscribed", "presenceError"};
    for (int32_t t = 0; t < HMTP_TYPE_COUNT; t++) {
        CHECK_STR(hmtp_type_name(t), names[t], "hmtp_type_name");
        CHECK_INT(hmtp_type_from_name(names[t]), t, names[t]);
        CHECK(hmtp_type_valid(t), "type %d valid", t);
        CHECK(hmtp_type_has_id(t) == (t >= 2 && t <= 5), "has_id %d", t);
        CHECK(hmtp_type_has_error(t) == (t == 1 || t == 5 || t == 13), "has_error %d", t);
        CHECK(hmtp_type_is_presence(t) == (t >= 6), "is_presence %d", t);
    }
    CHECK(!hmtp_type_valid(14) && !hmtp_type_valid(-1) && hmtp_type_name(14) == NULL &&
              hmtp_type_from_name("iq") == -1,
          "types outside 0..13");
    /* field order: type, to, from, [id], value, [error] */
    CHECK(hmtp_field_at(HMTP_QUERY_ERROR, 3) == HMTP_FIELD_ID && hmtp_field_at(HMTP_QUERY_ERROR, 4) == HMTP_FIELD_VALUE &&
              hmtp_field_at(HMTP_QUERY_ERROR, 5) == HMTP_FIELD_ERROR &&
              hmtp_field_at(HMTP_QUERY_ERROR, 6) == HMTP_FIELD_EXTRA,
          "queryError fields");
    CHECK(hmtp_field_at(HMTP_MESSAGE, 3) == HMTP_FIELD_VALUE && hmtp_field_at(HMTP_MESSAGE, 4) == HMTP_FIELD_EXTRA &&
              hmtp_field_at(HMTP_PRESENCE_ERROR, 4) == HMTP_FIELD_ERROR && hmtp_field_at(0, 0) == HMTP_FIELD_TYPE &&
              hmtp_field_at(0, 1) == HMTP_FIELD_TO && hmtp_field_at(0, 2) == HMTP_FIELD_FROM,
          "message and presenceError fields");
    CHECK_STR(hmtp_field_name(HMTP_FIELD_FROM), "from", "field name");
}

/* A payload that differs per packet type, to catch mixed-up fields. */
static hessian_value *payload(hmtp_arena *a, int32_t t)
{
    static const char *const fields[] = {"_title", "_count", "_tags"};
    hessian_value *o = hessian_new_object(a, "example.NewsItem", 3, fields);
    char title[32];
    int n = snprintf(title, sizeof title, "item %d \xe2\x82\xac", t);
    hessian_object_set(o, "_title", hessian_new_string(a, title, (size_t)n));
    hessian_object_set(o, "_count", hessian_new_long(a, (int64_t)t * 1000003));
    hessian_value *l = hessian_new_list(a, NULL, true, 2);
    l->v.list.items[0] = hessian_new_int(a, t);
    l->v.list.items[1] = hessian_new_double(a, t + 0.5);
    hessian_object_set(o, "_tags", l);
    return o;
}

static void test_all_types_round_trip(void)
{
    hmtp_buf out;
    hmtp_buf_init(&out);
    hessian_writer w;
    hessian_writer_init(&w, &out);
    hmtp_packet sent[HMTP_TYPE_COUNT];
    for (int32_t t = 0; t < HMTP_TYPE_COUNT; t++) {
        hmtp_packet *p = &sent[t];
        hmtp_packet_init(p);
        p->type = t;
        p->to = hmtp_arena_strndup(&p->arena, "news@cnn.com", 12);
        p->from = t % 3 == 0 ? NULL : hmtp_arena_strndup(&p->arena, "ferg@hmtp.caucho.com/a", 22);
        p->has_id = hmtp_type_has_id(t);
        p->id = p->has_id ? (int64_t)t * 77777777777LL : 0;
        p->value = t == 6 ? hessian_new_null(&p->arena) : payload(&p->arena, t);
        if (hmtp_type_has_error(t))
            p->error_value = hmtp_new_bam_error(&p->arena, "cancel", "item-not-found", t == 5 ? NULL : "no such item");
        CHECK(hmtp_packet_write(&w, p), "write type %d", t);
    }
    CHECK(!w.failed && !out.failed, "writer did not fail");
    hmtp_reader *r = hmtp_reader_new(HMTP_DEFAULT_MAX_PACKET);
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    size_t pos = 0;
    int32_t t = 0;
    while (pos < out.len && t < HMTP_TYPE_COUNT) {
        size_t consumed = 0;
        hmtp_frame f;
        hmtp_error err;
        int rc = hmtp_reader_push(r, out.data + pos, out.len - pos, &consumed, &f, &err);
        pos += consumed;
        if (rc != 1) {
            CHECK(rc == 0, "framing error: %s", err.msg);
            break;
        }
        hmtp_packet got;
        hmtp_packet_init(&got);
        hmtp_status st = hmtp_packet_decode(&got, &s, hessian_stream_mark(&s), f.body, f.body_len, &err);
        const hmtp_packet *want = &sent[t];
        if (CHECK(st == HMTP_OK, "type %d decodes: %s", t, err.msg)) {
            CHECK_INT(got.type, t, "type");
            CHECK_STR(got.to, want->to, "to");
            CHECK_STR(got.from, want->from, "from");
            CHECK(got.has_id == want->has_id && got.id == want->id, "type %d id %" PRId64, t, got.id);
            CHECK(got.value && hessian_value_equal(got.value, want->value), "type %d value equal", t);
            if (hmtp_type_has_error(t)) {
                CHECK(got.error_value && hessian_value_equal(got.error_value, want->error_value),
                      "type %d error value equal", t);
                CHECK_STR(got.error.type, "cancel", "BamError _type");
                CHECK_STR(got.error.group, "item-not-found", "BamError _group");
                CHECK_STR(got.error.text, t == 5 ? NULL : "no such item", "BamError _text");
                CHECK(got.error_value && got.error_value->v.object.cls &&
                          strcmp(got.error_value->v.object.cls, HMTP_BAM_ERROR_CLASS) == 0,
                      "error class name");
            } else {
                CHECK(got.error_value == NULL, "type %d has no error", t);
            }
        }
        hmtp_packet_free(&got);
        t++;
    }
    CHECK(t == HMTP_TYPE_COUNT && pos == out.len, "all 14 packets read back (%d, %zu of %zu bytes)", t, pos, out.len);
    /* NewsItem is defined once (in the first packet), referenced after */
    CHECK(s.nclasses == 2, "two classes on the wire (NewsItem, BamError): %u", s.nclasses);
    hessian_stream_free(&s);
    hmtp_reader_free(r);
    for (int32_t i = 0; i < HMTP_TYPE_COUNT; i++)
        hmtp_packet_free(&sent[i]);
    hessian_writer_free(&w);
    hmtp_buf_free(&out);
}

static void expect_packet_error(const char *hex, hmtp_status want, const char *what)
{
    hmtp_buf b = hex_bytes(hex);
    hessian_stream s;
    hmtp_packet p;
    hmtp_error err;
    hmtp_status st = packet_decode_fresh(&p, &s, b.data, b.len, &err);
    CHECK(st == want && err.code == want && err.msg[0], "%s: %s (%s), want %s", what, hmtp_status_name(st), err.msg,
          hmtp_status_name(want));
    hmtp_packet_free(&p);
    hessian_stream_free(&s);
    hmtp_buf_free(&b);
}

static void test_packet_errors(void)
{
    expect_packet_error("9e 4e 4e 4e", HMTP_ERR_UNKNOWN_TYPE, "type 14");
    expect_packet_error("8f 4e 4e 4e", HMTP_ERR_UNKNOWN_TYPE, "type -1");
    expect_packet_error("99 4e 4e", HMTP_ERR_BAD_PACKET, "presence without a value");
    expect_packet_error("92 4e 4e 4e", HMTP_ERR_BAD_PACKET, "queryGet without id and value");
    expect_packet_error("", HMTP_ERR_BAD_PACKET, "empty body");
    expect_packet_error("01 39 4e 4e 4e", HMTP_ERR_BAD_PACKET, "type as a string");
    expect_packet_error("99 91 4e 4e", HMTP_ERR_BAD_PACKET, "to as an int");
    expect_packet_error("99 4e 4e 57 90", HMTP_ERR_TRUNCATED, "value cut short");
}

static void expect_jid(const char *s, bool ok, const char *user, const char *domain, const char *resource,
                       size_t bare)
{
    hmtp_jid j;
    memset(&j, 0x5a, sizeof j);
    bool got = hmtp_jid_parse(s, strlen(s), &j);
    if (!CHECK(got == ok, "jid \"%s\": parse %d want %d", s, got, ok) || !ok)
        return;
    CHECK((user == NULL && j.user == NULL) ||
              (user && j.user && j.user_len == strlen(user) && memcmp(j.user, user, j.user_len) == 0),
          "jid \"%s\": user", s);
    CHECK(j.domain && j.domain_len == strlen(domain) && memcmp(j.domain, domain, j.domain_len) == 0,
          "jid \"%s\": domain", s);
    CHECK((resource == NULL && j.resource == NULL) ||
              (resource && j.resource && j.resource_len == strlen(resource) &&
               memcmp(j.resource, resource, j.resource_len) == 0),
          "jid \"%s\": resource", s);
    CHECK_INT(j.bare_len, bare, s);
}

static void test_jids(void)
{
    expect_jid("ferg@hmtp.caucho.com/my-iPhone-1", true, "ferg", "hmtp.caucho.com", "my-iPhone-1", 20);
    expect_jid("news@cnn.com", true, "news", "cnn.com", NULL, 12);
    expect_jid("cnn.com", true, NULL, "cnn.com", NULL, 7);
    expect_jid("cnn.com/feed", true, NULL, "cnn.com", "feed", 7);
    expect_jid("cache@baa.app-tier.admin.resin", true, "cache", "baa.app-tier.admin.resin", NULL, 30);
    expect_jid("a@b/c@d/e", true, "a", "b", "c@d/e", 3); /* '@' after the first '/' is resource text */
    expect_jid("", false, NULL, NULL, NULL, 0);
    expect_jid("user@", false, NULL, NULL, NULL, 0);
    expect_jid("/res", false, NULL, NULL, NULL, 0);
}

int main(void)
{
    test_worked_example();
    test_type_table();
    test_all_types_round_trip();
    test_packet_errors();
    test_jids();
    return check_summary("packets");
}
