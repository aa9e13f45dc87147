/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JSON rendering (core/json.h): Hessian kinds stay apart, doubles read back
 * to the same bits, and every special value has its documented shape. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "json.h"
#include "testutil.h"

static char *as_cstr(hmtp_buf *b)
{
    hmtp_buf_append_byte(b, 0);
    return (char *)b->data;
}

static void expect_double(double d, const char *want)
{
    hmtp_buf b;
    hmtp_buf_init(&b);
    hmtp_json_double(&b, d);
    CHECK_STR(as_cstr(&b), want, "json double");
    hmtp_buf_free(&b);
}

static void test_doubles(void)
{
    expect_double(10.0, "10.0");
    expect_double(-0.0, "-0.0");
    expect_double(0.0, "0.0");
    expect_double(1e300, "1e+300");
    expect_double(0.1, "0.1");
    expect_double(1.5, "1.5");
    expect_double(100.0, "100.0");
    expect_double(123456.0, "123456.0");
    expect_double(120.0, "120.0");
    expect_double(-3000.0, "-3000.0");
    expect_double(-2.25, "-2.25");
    expect_double(0.009000000000000001, "0.009000000000000001");
    expect_double(NAN, "\"NaN\"");
    expect_double(INFINITY, "\"Infinity\"");
    expect_double(-INFINITY, "\"-Infinity\"");
    /* random bit patterns: shortest text that reads back to the same bits,
     * always with a fraction or exponent */
    uint64_t rng = 99;
    int bad = 0;
    for (int i = 0; i < 20000 && bad < 5; i++) {
        uint64_t bits = test_rand(&rng);
        if (i % 4 == 0)
            bits = (uint64_t)(test_rand(&rng) % 2000000) * 4503599627370496ull / 1000000 + 0x3ff0000000000000ull;
        double d;
        memcpy(&d, &bits, sizeof d);
        if (isnan(d) || isinf(d))
            continue;
        if (i % 3 == 0)
            d = (double)(int64_t)(test_rand(&rng) % 2000001) - 1000000.0; /* integral values */
        hmtp_buf b;
        hmtp_buf_init(&b);
        hmtp_json_double(&b, d);
        char *s = as_cstr(&b);
        char *end;
        double back = strtod(s, &end);
        bool ok = *end == 0 && memcmp(&back, &d, sizeof d) == 0 && strpbrk(s, ".eE") != NULL;
        /* shortest: one digit fewer must not round trip (checked via %.*g) */
        /* significant digits: leading and trailing zeros do not count */
        char mant[64];
        size_t nm = 0;
        for (const char *p = s; *p && *p != 'e' && *p != 'E' && nm < sizeof mant; p++)
            if (*p >= '0' && *p <= '9' && (nm > 0 || *p != '0'))
                mant[nm++] = *p;
        while (nm > 0 && mant[nm - 1] == '0')
            nm--;
        int digits = (int)nm;
        char shorter[400];
        if (digits > 1 && strchr(s, 'e') == NULL && fabs(d) >= 1e-5 && fabs(d) < 1e15) {
            snprintf(shorter, sizeof shorter, "%.*g", digits - 1, d);
            double s2 = strtod(shorter, NULL);
            ok = ok && memcmp(&s2, &d, sizeof d) != 0;
        }
        if (!CHECK(ok, "double %a printed as \"%s\"", d, s))
            bad++;
        hmtp_buf_free(&b);
    }
}

/* Decodes hex as one top-level value and renders it. */
static void expect_value(const char *hex, const char *want)
{
    hmtp_buf body = hex_bytes(hex);
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    hessian_decoder d;
    hessian_decoder_init(&d, &s, hessian_stream_mark(&s), body.data, body.len);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *v = NULL;
    hmtp_error err;
    if (CHECK(hessian_read_value(&d, &a, &v, &err) == 1, "%s decodes (%s)", hex, err.msg)) {
        hmtp_buf out;
        hmtp_buf_init(&out);
        hmtp_json_value(&out, v);
        CHECK_STR(as_cstr(&out), want, hex);
        hmtp_buf_free(&out);
    }
    hmtp_arena_free(&a);
    hessian_decoder_free(&d);
    hessian_stream_free(&s);
    hmtp_buf_free(&body);
}

static void test_values(void)
{
    expect_value("4e", "null");
    expect_value("54", "true");
    expect_value("46", "false");
    expect_value("95", "5");
    expect_value("e5", "5");
    expect_value("5c", "1.0");
    expect_value("5f 00 00 00 09", "0.009000000000000001");
    expect_value("4c 00 1f ff ff ff ff ff ff", "9007199254740991");
    expect_value("4c 00 20 00 00 00 00 00 01", "\"9007199254740993\"");
    expect_value("4c ff df ff ff ff ff ff ff", "\"-9007199254740993\"");
    expect_value("4c 80 00 00 00 00 00 00 00", "\"-9223372036854775808\"");
    expect_value("49 80 00 00 00", "-2147483648");
    expect_value("05 68 65 6c 6c 6f", "\"hello\"");
    expect_value("05 61 22 5c 0a 01", "\"a\\\"\\\\\\n\\u0001\"");
    expect_value("02 ed a0 bd ed b8 80", "\"\xf0\x9f\x98\x80\"");
    expect_value("23 01 02 03", "{\"$binary\":\"AQID\"}");
    expect_value("24 ff fe fd fc", "{\"$binary\":\"//79/A==\"}");
    expect_value("20", "{\"$binary\":\"\"}");
    expect_value("4b 00 00 00 01", "{\"$date\":60000}");
    expect_value("4a ff ff ff ff ff ff ff ff", "{\"$date\":-1}");
    expect_value("7a 90 91", "[0,1]");
    expect_value("57 5a", "[]");
    expect_value("72 04 5b 69 6e 74 90 91", "{\"$type\":\"[int\",\"$list\":[0,1]}");
    expect_value("48 91 01 61 92 01 62 5a", "{\"$map\":[[1,\"a\"],[2,\"b\"]]}");
    expect_value("4d 01 6d 90 4e 5a", "{\"$type\":\"m\",\"$map\":[[0,null]]}");
    expect_value("43 05 50 6f 69 6e 74 92 01 78 01 79 60 91 5d ff",
                 "{\"$class\":\"Point\",\"x\":1,\"y\":-1.0}");
    expect_value("57 51 90 5a", "[{\"$ref\":0}]");
    expect_value("63 91 01 78", "{\"$class\":\"#3\",\"$fields\":[1,\"x\"]}");
}

static void test_strings(void)
{
    hmtp_buf b;
    hmtp_buf_init(&b);
    hmtp_json_string(&b, "a\xffz", 3);
    const char *s = as_cstr(&b);
    CHECK(strcmp(s, "\"a\xef\xbf\xbdz\"") == 0 || strcmp(s, "\"a\\ufffdz\"") == 0,
          "invalid UTF-8 becomes U+FFFD: %s", s);
    hmtp_buf_reset(&b);
    hmtp_json_string(&b, "tab\there\x7f", 9);
    CHECK_STR(as_cstr(&b), "\"tab\\there\x7f\"", "control characters escaped");
    hmtp_buf_free(&b);
}

static void expect_packet(const char *hex, const char *want)
{
    hmtp_buf body = hex_bytes(hex);
    hessian_stream s;
    hmtp_packet p;
    hmtp_error err;
    if (CHECK(packet_decode_fresh(&p, &s, body.data, body.len, &err) == HMTP_OK, "%s decodes (%s)", hex,
              err.msg)) {
        hmtp_buf out;
        hmtp_buf_init(&out);
        hmtp_json_packet_fields(&out, &p);
        CHECK_STR(as_cstr(&out), want, hex);
        hmtp_buf_free(&out);
    }
    hmtp_packet_free(&p);
    hessian_stream_free(&s);
    hmtp_buf_free(&body);
}

static void test_packets(void)
{
    expect_packet("99 0c 6e 65 77 73 40 63 6e 6e 2e 63 6f 6d"
                  "14 66 65 72 67 40 68 6d 74 70 2e 63 61 75 63 68 6f 2e 63 6f 6d 4e",
                  "\"type\":9,\"type_name\":\"presenceSubscribe\",\"to\":\"news@cnn.com\","
                  "\"from\":\"ferg@hmtp.caucho.com\",\"id\":null,\"value\":null,\"error\":null");
    expect_packet("92 4e 01 61 f8 07 05 68 65 6c 6c 6f",
                  "\"type\":2,\"type_name\":\"queryGet\",\"to\":null,\"from\":\"a\",\"id\":7,"
                  "\"value\":\"hello\",\"error\":null");
}

int main(void)
{
    test_doubles();
    test_values();
    test_strings();
    test_packets();
    return check_summary("json");
}
