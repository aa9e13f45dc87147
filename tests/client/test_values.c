/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Scenario JSON -> Hessian values: every value form is built, written with
 * the core writer, decoded again with the core decoder and rendered with the
 * shared JSON printer, so each case checks real bytes end to end; the kind
 * choices (int vs long vs double) are also checked on the encoded bytes.
 * Then the error cases, and partial matching of received values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "framing.h"
#include "hessian.h"
#include "json.h"
#include "json_tree.h"
#include "json_value.h"
#include "value.h"
#include "value_match.h"
#include "writer.h"

/* Builds text's value, writes it as the single value of a packet body and
 * decodes it back; returns the JSON rendering of the decoded value (malloc'd)
 * and the body bytes in *body. NULL when building failed (err set). */
static char *round_trip(const char *text, hmtp_buf *body, hmtp_tool_error *err)
{
    hmtp_arena a;
    hmtp_arena_init(&a);
    json_node *n;
    size_t pos = 0;
    hessian_value *v = NULL;
    char *out = NULL;
    if (!json_parse(text, strlen(text), &pos, &a, &n, err) || !json_to_value(n, &a, &v, err)) {
        hmtp_arena_free(&a);
        return NULL;
    }
    hmtp_buf framed;
    hmtp_buf_init(&framed);
    hessian_writer w;
    hessian_writer_init(&w, &framed);
    hessian_writer_start_packet(&w);
    hessian_write_value(&w, v);
    hessian_writer_end_packet(&w);
    hmtp_frame_info info;
    hmtp_error herr;
    if (hmtp_frame_scan(framed.data, framed.len, HMTP_DEFAULT_MAX_PACKET, &info, &herr) == HMTP_FRAME_COMPLETE) {
        hmtp_buf_reset(body);
        hmtp_buf_reserve(body, info.body_len);
        body->len = hmtp_frame_copy_body(framed.data, framed.len, body->data);
        hessian_stream s;
        hessian_stream_init(&s, NULL);
        hessian_decoder d;
        hessian_decoder_init(&d, &s, hessian_stream_mark(&s), body->data, body->len);
        hmtp_arena a2;
        hmtp_arena_init(&a2);
        hessian_value *back;
        if (hessian_read_value(&d, &a2, &back, &herr) == 1) {
            hmtp_buf j;
            hmtp_buf_init(&j);
            hmtp_json_value(&j, back);
            out = strndup((const char *)j.data, j.len);
            hmtp_buf_free(&j);
        } else {
            out = strdup("(decode failed)");
        }
        hmtp_arena_free(&a2);
        hessian_decoder_free(&d);
        hessian_stream_free(&s);
    }
    hessian_writer_free(&w);
    hmtp_buf_free(&framed);
    hmtp_arena_free(&a);
    return out;
}

static void expect_json(int line, const char *text, const char *want)
{
    hmtp_buf body;
    hmtp_buf_init(&body);
    hmtp_tool_error err = {0};
    char *got = round_trip(text, &body, &err);
    if (!got)
        CHECK(0, "line %d: %s: build failed: %s", line, text, err.msg);
    else
        CHECK(strcmp(got, want) == 0, "line %d: %s\n  want %s\n  got  %s", line, text, want, got);
    free(got);
    hmtp_buf_free(&body);
}

static void expect_bytes(int line, const char *text, const char *hex)
{
    hmtp_buf body;
    hmtp_buf_init(&body);
    hmtp_tool_error err = {0};
    char *got = round_trip(text, &body, &err);
    char have[256] = "";
    for (size_t i = 0; i < body.len && i < 100; i++)
        snprintf(have + 2 * i, sizeof have - 2 * i, "%02x", body.data[i]);
    CHECK(got && strcmp(have, hex) == 0, "line %d: %s: bytes %s, want %s", line, text, have, hex);
    free(got);
    hmtp_buf_free(&body);
}

static void expect_error(int line, const char *text, size_t offset, const char *fragment)
{
    hmtp_arena a;
    hmtp_arena_init(&a);
    json_node *n;
    size_t pos = 0;
    hmtp_tool_error err = {0};
    hessian_value *v;
    bool ok = json_parse(text, strlen(text), &pos, &a, &n, &err) && json_to_value(n, &a, &v, &err);
    CHECK(!ok, "line %d: %s was accepted", line, text);
    if (!ok) {
        CHECK(strstr(err.msg, fragment) != NULL, "line %d: %s: message '%s' lacks '%s'", line, text, err.msg, fragment);
        CHECK(err.offset == offset, "line %d: %s: error at offset %zu, want %zu (%s)", line, text, err.offset, offset,
              err.msg);
    }
    hmtp_arena_free(&a);
}

static void test_forms(void)
{
    expect_json(__LINE__, "null", "null");
    expect_json(__LINE__, "true", "true");
    expect_json(__LINE__, "false", "false");
    expect_json(__LINE__, "-17", "-17");
    expect_json(__LINE__, "2147483647", "2147483647");
    /* the shared printer writes longs beyond 2^53 as strings (JavaScript
       readers lose digits); $long reads that form back */
    expect_json(__LINE__, "-9223372036854775808", "\"-9223372036854775808\"");
    expect_bytes(__LINE__, "{\"$long\":\"-9223372036854775808\"}", "4c8000000000000000");
    expect_json(__LINE__, "1.5", "1.5");
    expect_json(__LINE__, "1e3", "1000.0");
    expect_json(__LINE__, "\"h\\u00e9 \\ud83d\\ude80 \\\"q\\\"\"", "\"h\xc3\xa9 \xf0\x9f\x9a\x80 \\\"q\\\"\"");
    expect_json(__LINE__, "\"東京\"", "\"東京\"");
    expect_json(__LINE__, "{\"$binary\":\"AAEC/w==\"}", "{\"$binary\":\"AAEC/w==\"}");
    expect_json(__LINE__, "{\"$binary\":\"\"}", "{\"$binary\":\"\"}");
    expect_json(__LINE__, "{\"$date\":1234567890123}", "{\"$date\":1234567890123}");
    expect_json(__LINE__, "[1,\"a\",[],null]", "[1,\"a\",[],null]");
    expect_json(__LINE__, "{\"$type\":\"[string\",\"$list\":[\"x\"]}", "{\"$type\":\"[string\",\"$list\":[\"x\"]}");
    expect_json(__LINE__, "{\"$map\":[[\"k\",1],[2,{\"$map\":[]}]]}", "{\"$map\":[[\"k\",1],[2,{\"$map\":[]}]]}");
    expect_json(__LINE__, "{\"$type\":\"java.util.HashMap\",\"$map\":[[\"k\",true]]}",
                "{\"$type\":\"java.util.HashMap\",\"$map\":[[\"k\",true]]}");
    /* fields keep their written order, which is the class definition's */
    expect_json(__LINE__, "{\"$class\":\"example.NewsItem\",\"title\":\"t\",\"score\":42,\"tags\":[\"a\"]}",
                "{\"$class\":\"example.NewsItem\",\"title\":\"t\",\"score\":42,\"tags\":[\"a\"]}");
    expect_json(__LINE__, "{\"zz\":1,\"$class\":\"C\",\"aa\":2}", "{\"$class\":\"C\",\"zz\":1,\"aa\":2}");
    expect_json(__LINE__, "{\"$repeat\":\"ab\",\"$count\":3}", "\"ababab\"");
    expect_json(__LINE__, "{\"$repeat\":\"x\",\"$count\":0}", "\"\"");
    expect_json(__LINE__, "{\"$double\":\"NaN\"}", "\"NaN\"");
    expect_json(__LINE__, "{\"$double\":\"-Infinity\"}", "\"-Infinity\"");
}

/* The kind of a number decides its encoding: these bytes are Hessian 2.0's
 * (PROTOCOL.md section 4), so int, long and double stay apart. */
static void test_number_kinds(void)
{
    expect_bytes(__LINE__, "1", "91");                           /* compact int */
    expect_bytes(__LINE__, "{\"$long\":1}", "e1");               /* compact long */
    expect_bytes(__LINE__, "{\"$int\":-16}", "80");
    expect_bytes(__LINE__, "2147483648", "4c0000000080000000");  /* beyond int32: long */
    expect_bytes(__LINE__, "{\"$long\":300000}", "59000493e0");  /* long as 32-bit */
    expect_bytes(__LINE__, "1.0", "5c");
    expect_bytes(__LINE__, "0.0", "5b");
    expect_bytes(__LINE__, "{\"$double\":2}", "5d02");
    expect_bytes(__LINE__, "\"hi\"", "026869");
    expect_bytes(__LINE__, "{\"$binary\":\"AAEC\"}", "23000102");
}

static void test_generators(void)
{
    hmtp_arena a;
    hmtp_arena_init(&a);
    const char *text = "{\"$random_binary\":1048576,\"$seed\":1}";
    json_node *n;
    size_t pos = 0;
    hmtp_tool_error err;
    hessian_value *v = NULL;
    CHECK(json_parse(text, strlen(text), &pos, &a, &n, &err) && json_to_value(n, &a, &v, &err), "%s", err.msg);
    if (v) {
        /* splitmix64(seed 1), outputs little-endian: reference values computed
           separately in Python */
        static const uint8_t want[] = {0xc1, 0x5c, 0x02, 0x89, 0xec, 0x2d, 0x0a, 0x91, 0x67, 0xec, 0x8e, 0x65};
        CHECK(v->kind == HESSIAN_BINARY && v->v.bin.len == 1048576, "kind %d", v->kind);
        CHECK(memcmp(v->v.bin.data, want, sizeof want) == 0, "first bytes differ");
    }
    uint8_t five[5];
    json_random_bytes(42, five, 5);
    static const uint8_t want42[] = {0x95, 0x6e, 0xeb, 0x2f, 0x26};
    CHECK(memcmp(five, want42, 5) == 0, "seed 42 bytes differ");
    const char *big = "{\"$repeat\":\"\xc3\xa9\",\"$count\":100000}";
    pos = 0;
    v = NULL;
    CHECK(json_parse(big, strlen(big), &pos, &a, &n, &err) && json_to_value(n, &a, &v, &err), "%s", err.msg);
    CHECK(v && v->kind == HESSIAN_STRING && v->v.str.len == 200000, "repeat length");
    hmtp_arena_free(&a);
}

static void test_errors(void)
{
    expect_error(__LINE__, "{\"a\":1}", 0, "plain JSON object");
    expect_error(__LINE__, "{}", 0, "plain JSON object");
    expect_error(__LINE__, "{\"$int\":3000000000}", 8, "does not fit in 32 bits");
    expect_error(__LINE__, "{\"$int\":1.5}", 8, "needs an integer");
    expect_error(__LINE__, "99999999999999999999", 0, "does not fit in 64 bits");
    expect_error(__LINE__, "{\"$binary\":\"abc\"}", 11, "multiple of 4");
    expect_error(__LINE__, "{\"$binary\":\"ab!=\"}", 11, "not base64");
    expect_error(__LINE__, "{\"$repeat\":\"a\"}", 0, "$count");
    expect_error(__LINE__, "{\"$repeat\":\"a\",\"$count\":-1}", 24, "outside");
    expect_error(__LINE__, "{\"$random_binary\":1,\"$sed\":1}", 27, "unexpected member \"$sed\"");
    expect_error(__LINE__, "{\"$class\":\"C\",\"$foo\":1}", 21, "cannot start with '$'");
    expect_error(__LINE__, "{\"$class\":1}", 10, "$class must be a string");
    expect_error(__LINE__, "{\"$wat\":1}", 8, "unknown form \"$wat\"");
    expect_error(__LINE__, "{\"$any\":1}", 0, "only for expect");
    expect_error(__LINE__, "{\"$map\":[[1]]}", 9, "[key, value] pair");
    expect_error(__LINE__, "{\"$class\":\"C\",\"a\":1,\"a\":2}", 20, "duplicate member \"a\"");
    expect_error(__LINE__, "01", 0, "malformed number");
    expect_error(__LINE__, "1.", 0, "digits must follow");
    expect_error(__LINE__, "[1,]", 3, "expected a JSON value");
    expect_error(__LINE__, "[1 2]", 3, "expected ',' or ']'");
    expect_error(__LINE__, "\"\\ud800x\"", 1, "without its low half");
    expect_error(__LINE__, "\"abc", 0, "not closed");
    expect_error(__LINE__, "nul", 0, "expected a JSON value");
    expect_error(__LINE__, "{\"$double\":\"nan\"}", 11, "NaN");
}

static bool matches(const char *pattern, const char *value_text, hmtp_tool_error *why)
{
    hmtp_arena a;
    hmtp_arena_init(&a);
    json_node *p, *vn;
    size_t pos = 0, pos2 = 0;
    hmtp_tool_error err;
    hessian_value *v = NULL;
    bool ok = json_parse(pattern, strlen(pattern), &pos, &a, &p, &err) &&
              json_value_check(p, true, &err) &&
              json_parse(value_text, strlen(value_text), &pos2, &a, &vn, &err) && json_to_value(vn, &a, &v, &err);
    CHECK(ok, "bad test input: %s", err.msg);
    why->msg[0] = '\0';
    bool m = ok && value_match(p, v, why);
    hmtp_arena_free(&a);
    return m;
}

static void test_matching(void)
{
    hmtp_tool_error why;
    const char *item = "{\"$class\":\"example.NewsItem\",\"title\":\"t\",\"score\":42,\"tags\":[\"a\",\"b\"]}";
    CHECK(matches("{\"$class\":\"example.NewsItem\"}", item, &why), "%s", why.msg);
    CHECK(matches("{\"$class\":\"example.NewsItem\",\"score\":42}", item, &why), "%s", why.msg);
    CHECK(matches("{\"$class\":\"example.NewsItem\",\"tags\":[\"a\",{\"$any\":0}]}", item, &why), "%s", why.msg);
    CHECK(!matches("{\"$class\":\"example.NewsItem\",\"score\":43}", item, &why), "43 matched");
    CHECK(strstr(why.msg, "value.score: expected 43, got 42") != NULL, "why: %s", why.msg);
    CHECK(!matches("{\"$class\":\"example.NewsItem\",\"tags\":[\"a\"]}", item, &why), "short list");
    CHECK(strstr(why.msg, "value.tags: expected a list of 1 items") != NULL, "why: %s", why.msg);
    CHECK(!matches("{\"$class\":\"Other\"}", item, &why), "other class matched");
    CHECK(!matches("{\"$class\":\"example.NewsItem\",\"missing\":null}", item, &why), "missing field");
    CHECK(strstr(why.msg, "field \"missing\"") != NULL, "why: %s", why.msg);
    /* a plain integer matches int and long, $long only long */
    CHECK(matches("5", "{\"$long\":5}", &why), "%s", why.msg);
    CHECK(!matches("{\"$long\":5}", "5", &why), "$long matched an int");
    CHECK(!matches("5", "5.0", &why), "5 matched 5.0");
    CHECK(matches("{\"$map\":[[\"b\",2]]}", "{\"$map\":[[\"a\",1],[\"b\",2]]}", &why), "%s", why.msg);
    CHECK(!matches("{\"$map\":[[\"c\",2]]}", "{\"$map\":[[\"a\",1],[\"b\",2]]}", &why), "absent key");
    CHECK(matches("{\"$random_binary\":64,\"$seed\":9}", "{\"$random_binary\":64,\"$seed\":9}", &why), "%s",
          why.msg);
    CHECK(!matches("{\"$random_binary\":64,\"$seed\":9}", "{\"$random_binary\":64,\"$seed\":8}", &why),
          "different seeds matched");
    CHECK(matches("{\"$any\":null}", "[1,2]", &why), "%s", why.msg);
}

int main(void)
{
    test_forms();
    test_number_kinds();
    test_generators();
    test_errors();
    test_matching();
    return check_summary("client_values");
}
