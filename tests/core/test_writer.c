/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writer: the byte choices of Caucho's Hessian2Output (shortest compact
 * forms, Java's double and date rules, class and type tables, 'R' chunks,
 * CESU-8), the packet layout, and a decode/re-encode round trip that must be
 * byte-identical. Expected bytes come from PROTOCOL.md and Java's rules;
 * framing is undone by the test's own unframer. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "framing.h"
#include "hmtp.h"
#include "testutil.h"
#include "writer.h"

typedef void (*write_fn)(hessian_writer *w, const void *arg);

/* Writes one packet holding what fn writes; returns its body (unframed). */
static hmtp_buf packet_body(hessian_writer *w, hmtp_buf *out, write_fn fn, const void *arg)
{
    size_t start = out->len;
    hessian_writer_start_packet(w);
    fn(w, arg);
    hessian_writer_end_packet(w);
    hmtp_buf body;
    hmtp_buf_init(&body);
    size_t pos = start, nchunks;
    if (!CHECK(unframe_one(out->data, out->len, &pos, &body, NULL, NULL, 0, &nchunks) && pos == out->len,
               "writer output frames as one packet"))
        body.len = 0;
    return body;
}

static void expect_body(write_fn fn, const void *arg, const char *want_hex, const char *what)
{
    hmtp_buf out;
    hmtp_buf_init(&out);
    hessian_writer w;
    hessian_writer_init(&w, &out);
    hmtp_buf body = packet_body(&w, &out, fn, arg);
    hmtp_buf want = hex_bytes(want_hex);
    CHECK_BYTES(body.data, body.len, want.data, want.len, what);
    hmtp_buf_free(&want);
    hmtp_buf_free(&body);
    hessian_writer_free(&w);
    hmtp_buf_free(&out);
}

static void w_int(hessian_writer *w, const void *a) { hessian_write_int(w, *(const int32_t *)a); }
static void w_long(hessian_writer *w, const void *a) { hessian_write_long(w, *(const int64_t *)a); }
static void w_double(hessian_writer *w, const void *a) { hessian_write_double(w, *(const double *)a); }
static void w_date(hessian_writer *w, const void *a) { hessian_write_date(w, *(const int64_t *)a); }
static void w_str(hessian_writer *w, const void *a)
{
    const char *s = a;
    hessian_write_string(w, s, s ? strlen(s) : 0);
}

static void expect_int(int32_t v, const char *hex)
{
    char what[64];
    snprintf(what, sizeof what, "int %d", v);
    expect_body(w_int, &v, hex, what);
}
static void expect_long(int64_t v, const char *hex)
{
    char what[64];
    snprintf(what, sizeof what, "long %" PRId64, v);
    expect_body(w_long, &v, hex, what);
}
static void expect_double(double v, const char *hex)
{
    char what[64];
    snprintf(what, sizeof what, "double %.17g", v);
    expect_body(w_double, &v, hex, what);
}
static void expect_date(int64_t v, const char *hex)
{
    char what[64];
    snprintf(what, sizeof what, "date %" PRId64, v);
    expect_body(w_date, &v, hex, what);
}

static void test_numbers(void)
{
    expect_int(0, "90");
    expect_int(-16, "80");
    expect_int(47, "bf");
    expect_int(-17, "c7 ef");
    expect_int(48, "c8 30");
    expect_int(-2048, "c0 00");
    expect_int(2047, "cf ff");
    expect_int(-2049, "d3 f7 ff");
    expect_int(2048, "d4 08 00");
    expect_int(-262144, "d0 00 00");
    expect_int(262143, "d7 ff ff");
    expect_int(-262145, "49 ff fb ff ff");
    expect_int(262144, "49 00 04 00 00");
    expect_int(INT32_MIN, "49 80 00 00 00");
    expect_int(INT32_MAX, "49 7f ff ff ff");
    expect_long(0, "e0");
    expect_long(-8, "d8");
    expect_long(15, "ef");
    expect_long(-9, "f7 f7");
    expect_long(16, "f8 10");
    expect_long(-2048, "f0 00");
    expect_long(2047, "ff ff");
    expect_long(-2049, "3b f7 ff");
    expect_long(2048, "3c 08 00");
    expect_long(-262144, "38 00 00");
    expect_long(262143, "3f ff ff");
    expect_long(-262145, "59 ff fb ff ff");
    expect_long(262144, "59 00 04 00 00");
    expect_long(INT32_MIN, "59 80 00 00 00");
    expect_long(INT32_MAX, "59 7f ff ff ff");
    expect_long((int64_t)INT32_MAX + 1, "4c 00 00 00 00 80 00 00 00");
    expect_long((int64_t)INT32_MIN - 1, "4c ff ff ff ff 7f ff ff ff");
    expect_long(INT64_MAX, "4c 7f ff ff ff ff ff ff ff");
    expect_long(INT64_MIN, "4c 80 00 00 00 00 00 00 00");
    /* doubles by Java's rules */
    expect_double(0.0, "5b");
    expect_double(-0.0, "5b"); /* (int)-0.0 == 0 and 0 == -0.0 in Java */
    expect_double(1.0, "5c");
    expect_double(-1.0, "5d ff");
    expect_double(127.0, "5d 7f");
    expect_double(-128.0, "5d 80");
    expect_double(128.0, "5e 00 80");
    expect_double(-129.0, "5e ff 7f");
    expect_double(32767.0, "5e 7f ff");
    expect_double(-32768.0, "5e 80 00");
    expect_double(32768.0, "5f 01 f4 00 00");       /* 0.001 * 32768000 == 32768.0 */
    expect_double(1.5, "5f 00 00 05 dc");           /* 0.001 * 1500 == 1.5 */
    expect_double(0.1, "5f 00 00 00 64");
    expect_double(12.345, "5f 00 00 30 39");
    expect_double(-0.001, "5f ff ff ff ff");
    expect_double(0.009000000000000001, "5f 00 00 00 09");
    expect_double(0.009, "44 3f 82 6e 97 8d 4f df 3b"); /* 0.001 * 9 != 0.009 */
    expect_double(2147483.647, "5f 7f ff ff ff");
    /* beyond int range Java's (int) saturates; C must not convert blindly */
    expect_double(2147483.648, "44 41 40 62 4d d2 f1 a9 fc");
    expect_double(3000000.0, "44 41 46 e3 60 00 00 00 00");
    expect_double(1e10, "44 42 02 a0 5f 20 00 00 00");
    expect_double(-1e300, "44 fe 37 e4 3c 88 00 75 9c");
    expect_double(INFINITY, "44 7f f0 00 00 00 00 00 00");
    expect_double(NAN, "44 7f f8 00 00 00 00 00 00");
    expect_double(0.0025, "44 3f 64 7a e1 47 ae 14 7b");
    /* dates: whole minutes that fit 32 bits as 0x4b */
    expect_date(0, "4b 00 00 00 00");
    expect_date(60000, "4b 00 00 00 01");
    expect_date(-60000, "4b ff ff ff ff");
    expect_date(1, "4a 00 00 00 00 00 00 00 01");
    expect_date(1225666605440LL, "4a 00 00 01 1d 5f 6c 31 80");
    expect_date(1225666620000LL, "4b 01 37 b4 01"); /* 20427777 minutes */
    expect_date((int64_t)INT32_MAX * 60000, "4b 7f ff ff ff");
    expect_date(((int64_t)INT32_MAX + 1) * 60000, "4a 00 00 75 30 00 00 00 00");
}

static void test_strings(void)
{
    expect_body(w_str, NULL, "4e", "null string");
    expect_body(w_str, "", "00", "empty string");
    expect_body(w_str, "hello", "05 68 65 6c 6c 6f", "hello");
    expect_body(w_str, "a\xc3\xa9\xe2\x82\xac", "03 61 c3 a9 e2 82 ac", "2- and 3-byte UTF-8");
    expect_body(w_str, "\xf0\x9f\x98\x80", "02 ed a0 bd ed b8 80", "non-BMP as CESU-8, length 2");
    /* length boundaries: 31 compact, 32 and 1023 short, 1024 'S' */
    static const size_t sizes[] = {31, 32, 1023, 1024, 32768, 32769, 70000};
    static const char *const headers[] = {"1f", "30 20", "33 ff", "53 04 00", "53 80 00", NULL, NULL};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        char *s = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            s[i] = (char)('a' + i % 26);
        s[n] = 0;
        hmtp_buf want;
        hmtp_buf_init(&want);
        if (headers[k]) {
            hex_append(&want, headers[k]);
            hmtp_buf_append(&want, s, n);
        } else {
            /* 'R' chunks of 32768 units while more than 32768 remain */
            size_t done = 0;
            while (n - done > 32768) {
                hex_append(&want, "52 80 00");
                hmtp_buf_append(&want, s + done, 32768);
                done += 32768;
            }
            size_t rest = n - done;
            uint8_t h[3];
            if (rest <= 31) {
                h[0] = (uint8_t)rest;
                hmtp_buf_append(&want, h, 1);
            } else if (rest <= 1023) {
                h[0] = (uint8_t)(0x30 + (rest >> 8));
                h[1] = (uint8_t)rest;
                hmtp_buf_append(&want, h, 2);
            } else {
                h[0] = 'S';
                h[1] = (uint8_t)(rest >> 8);
                h[2] = (uint8_t)rest;
                hmtp_buf_append(&want, h, 3);
            }
            hmtp_buf_append(&want, s + done, rest);
        }
        hmtp_buf out;
        hmtp_buf_init(&out);
        hessian_writer w;
        hessian_writer_init(&w, &out);
        hmtp_buf body = packet_body(&w, &out, w_str, s);
        char what[48];
        snprintf(what, sizeof what, "string of %zu", n);
        CHECK_BYTES(body.data, body.len, want.data, want.len, what);
        hmtp_buf_free(&body);
        hessian_writer_free(&w);
        hmtp_buf_free(&out);
        hmtp_buf_free(&want);
        free(s);
    }
    /* a chunk never ends between the two halves of a surrogate pair: with a
     * non-BMP character at units 32767-32768 the first chunk holds 32767 */
    size_t n = 32767 + 4 + 10;
    char *s = malloc(n + 1);
    memset(s, 'x', 32767);
    memcpy(s + 32767, "\xf0\x9f\x98\x80", 4);
    memset(s + 32771, 'y', 10);
    s[n] = 0;
    hmtp_buf out;
    hmtp_buf_init(&out);
    hessian_writer w;
    hessian_writer_init(&w, &out);
    hmtp_buf body = packet_body(&w, &out, w_str, s);
    CHECK(body.len == 3 + 32767 + 1 + 6 + 10 && body.data[0] == 'R' && body.data[1] == 0x7f && body.data[2] == 0xff &&
              body.data[3 + 32767] == 12 && memcmp(body.data + 3 + 32768, "\xed\xa0\xbd\xed\xb8\x80", 6) == 0,
          "surrogate pair kept in one chunk (body %zu bytes)", body.len);
    hmtp_buf_free(&body);
    hessian_writer_free(&w);
    hmtp_buf_free(&out);
    free(s);
}

static void w_bins(hessian_writer *w, const void *a)
{
    const size_t *n = a;
    uint8_t *d = malloc(*n + 1);
    for (size_t i = 0; i < *n; i++)
        d[i] = (uint8_t)i;
    hessian_write_binary(w, d, *n);
    free(d);
}

static void w_null_binary(hessian_writer *w, const void *a)
{
    (void)a;
    hessian_write_binary(w, NULL, 0);
}

static void test_binaries(void)
{
    static const size_t sizes[] = {0, 15, 16, 1023, 1024};
    static const char *const headers[] = {"20", "2f", "34 10", "37 ff", "42 04 00"};
    for (size_t k = 0; k < 5; k++) {
        hmtp_buf want = hex_bytes(headers[k]);
        for (size_t i = 0; i < sizes[k]; i++)
            hmtp_buf_append_byte(&want, (uint8_t)i);
        hmtp_buf out;
        hmtp_buf_init(&out);
        hessian_writer w;
        hessian_writer_init(&w, &out);
        hmtp_buf body = packet_body(&w, &out, w_bins, &sizes[k]);
        char what[48];
        snprintf(what, sizeof what, "binary of %zu", sizes[k]);
        CHECK_BYTES(body.data, body.len, want.data, want.len, what);
        hmtp_buf_free(&body);
        hessian_writer_free(&w);
        hmtp_buf_free(&out);
        hmtp_buf_free(&want);
    }
    expect_body(w_null_binary, NULL, "4e", "null binary");
}

/* A packet whose last value fills the 4096-byte buffer to the last byte:
 * the end-of-packet marker then goes one past the data (a UBSan
 * out-of-bounds report before the buffer got room for it). Every size
 * around the edge must still frame as one packet ending in the bytes. */
static void w_nulls_then_binary(hessian_writer *w, const void *a)
{
    const size_t *len = a;
    uint8_t *data = malloc(*len);
    for (size_t i = 0; i < *len; i++)
        data[i] = (uint8_t)(i * 7);
    hessian_write_null(w);
    hessian_write_null(w);
    hessian_write_null(w);
    hessian_write_binary(w, data, *len);
    free(data);
}

static void test_full_buffer_at_end(void)
{
    for (size_t len = 4070; len <= 4100; len++) {
        hmtp_buf out;
        hmtp_buf_init(&out);
        hessian_writer w;
        hessian_writer_init(&w, &out);
        hmtp_buf body = packet_body(&w, &out, w_nulls_then_binary, &len);
        char what[64];
        snprintf(what, sizeof what, "three nulls and a binary of %zu", len);
        bool tail_ok = body.len > len + 3 && body.data[body.len - 1] == (uint8_t)((len - 1) * 7) &&
                       body.data[0] == 'N' && body.data[2] == 'N';
        CHECK(tail_ok, "%s", what);
        hmtp_buf_free(&body);
        hessian_writer_free(&w);
        hmtp_buf_free(&out);
    }
}

/* containers, classes, types, refs: state across packets of one writer */
static void w_lists(hessian_writer *w, const void *a)
{
    (void)a;
    hessian_write_list_begin(w, NULL, -1); /* 57 */
    hessian_write_list_begin(w, NULL, 2);  /* 7a */
    hessian_write_int(w, 1);
    hessian_write_int(w, 2); /* fixed lists have no end marker */
    hessian_write_list_begin(w, NULL, 8); /* 58 98 */
    for (int i = 0; i < 8; i++)
        hessian_write_null(w);
    hessian_write_list_begin(w, "[int", 1); /* 71 "[int" */
    hessian_write_int(w, 3);
    hessian_write_list_begin(w, "[int", -1); /* 55 90 */
    hessian_write_list_end(w);
    hessian_write_list_begin(w, "[int", 9); /* 56 90 99 */
    for (int i = 0; i < 9; i++)
        hessian_write_bool(w, i & 1);
    hessian_write_map_begin(w, NULL); /* 48 */
    hessian_write_int(w, 1);
    hessian_write_ref(w, 1); /* 51 91 */
    hessian_write_map_end(w);
    hessian_write_map_begin(w, "m"); /* 4d 01 6d */
    hessian_write_map_end(w);
    hessian_write_list_end(w); /* 5a */
}

static void test_containers(void)
{
    expect_body(w_lists, NULL,
                "57 7a 91 92 58 98 4e 4e 4e 4e 4e 4e 4e 4e 71 04 5b 69 6e 74 93 55 90 5a"
                "56 90 99 46 54 46 54 46 54 46 54 46 48 91 51 91 5a 4d 01 6d 5a 5a",
                "lists, maps, type refs, refs");
}

static void write_point(hessian_writer *w, const char *cls, int x)
{
    static const char *const fields[] = {"x", "y"};
    hessian_write_object_begin(w, cls, 2, fields);
    hessian_write_int(w, x);
    hessian_write_null(w);
}

static void w_objects_1(hessian_writer *w, const void *a)
{
    (void)a;
    write_point(w, "P", 1); /* C "P" 2 "x" "y" 60 91 4e */
    write_point(w, "P", 2); /* 60 92 4e */
    hessian_write_list_begin(w, "[int", 0); /* 70 "[int" */
}

static void w_objects_2(hessian_writer *w, const void *a)
{
    (void)a;
    write_point(w, "P", 3); /* 60 93 4e: no definition in the second packet */
    hessian_write_list_begin(w, "[int", 0); /* 70 90 */
    for (int i = 0; i < 16; i++) { /* classes Q0..Qf: 1..16 */
        char name[4] = {'Q', (char)('a' + i), 0, 0};
        write_point(w, name, i);
    }
}

static void test_classes_across_packets(void)
{
    hmtp_buf out;
    hmtp_buf_init(&out);
    hessian_writer w;
    hessian_writer_init(&w, &out);
    hmtp_buf b1 = packet_body(&w, &out, w_objects_1, NULL);
    hmtp_buf want = hex_bytes("43 01 50 92 01 78 01 79 60 91 4e 60 92 4e 70 04 5b 69 6e 74");
    CHECK_BYTES(b1.data, b1.len, want.data, want.len, "first packet defines P and [int");
    hmtp_buf_free(&want);
    hmtp_buf b2 = packet_body(&w, &out, w_objects_2, NULL);
    want = hex_bytes("60 93 4e 70 90");
    for (int i = 0; i < 16; i++) {
        uint8_t def[] = {0x43, 0x02, 'Q', (uint8_t)('a' + i), 0x92, 0x01, 'x', 0x01, 'y'};
        hmtp_buf_append(&want, def, sizeof def);
        /* class index 1+i: 0x61.. up to 0x6f, then 'O' with an int */
        if (1 + i <= 15) {
            hmtp_buf_append_byte(&want, (uint8_t)(0x60 + 1 + i));
        } else {
            hmtp_buf_append_byte(&want, 'O');
            hmtp_buf_append_byte(&want, (uint8_t)(0x90 + 1 + i));
        }
        hmtp_buf_append_byte(&want, (uint8_t)(0x90 + i));
        hmtp_buf_append_byte(&want, 0x4e);
    }
    CHECK_BYTES(b2.data, b2.len, want.data, want.len, "second packet refers by index, 'O' past 15");
    hmtp_buf_free(&want);
    hmtp_buf_free(&b1);
    hmtp_buf_free(&b2);
    hessian_writer_free(&w);
    hmtp_buf_free(&out);
}

/* ---- packet layout ---- */

static void w_str_n(hessian_writer *w, const void *a)
{
    size_t n = *(const size_t *)a;
    char *s = malloc(n + 1);
    memset(s, 'z', n);
    hessian_write_int(w, 0);
    hessian_write_null(w);
    hessian_write_null(w);
    hessian_write_string(w, s, n);
    free(s);
}

static void expect_layout(size_t strlen_, size_t body_len, const char *header_hex)
{
    hmtp_buf out;
    hmtp_buf_init(&out);
    hessian_writer w;
    hessian_writer_init(&w, &out);
    hessian_writer_start_packet(&w);
    w_str_n(&w, &strlen_);
    hessian_writer_end_packet(&w);
    hmtp_buf want = hex_bytes(header_hex);
    size_t hl = want.len;
    char what[48];
    snprintf(what, sizeof what, "packet with %zu-byte body", body_len);
    CHECK(out.len == hl + body_len + 1 && out.data[out.len - 1] == 0, "%s: %zu bytes on the wire", what, out.len);
    CHECK_BYTES(out.data, out.len < hl ? out.len : hl, want.data, hl, what);
    hmtp_buf_free(&want);
    hessian_writer_free(&w);
    hmtp_buf_free(&out);
}

static void w_empty_binary_packet(hessian_writer *w, const void *a)
{
    (void)a;
    static const uint8_t none[1];
    hessian_write_int(w, 0);
    hessian_write_string(w, "news@cnn.com", 12);
    hessian_write_string(w, "ferg@hmtp.caucho.com/a", 22);
    hessian_write_binary(w, none, 0);
}

static void test_layout(void)
{
    /* body = 90 4e 4e + string: 3 + header + n */
    expect_layout(122, 127, "7f");    /* one-byte length up to 127 */
    expect_layout(123, 128, "81 00"); /* two bytes from 128 */
    expect_layout(995, 1000, "87 68");
    /* the worked example, written */
    hmtp_packet p;
    hmtp_packet_init(&p);
    p.type = HMTP_PRESENCE_SUBSCRIBE;
    p.to = "news@cnn.com";
    p.from = "ferg@hmtp.caucho.com";
    p.value = hessian_new_null(&p.arena);
    hmtp_buf out;
    hmtp_buf_init(&out);
    hessian_writer w;
    hessian_writer_init(&w, &out);
    CHECK(hmtp_packet_write(&w, &p), "write the worked example");
    hmtp_buf want = hex_bytes("24 99 0c 6e 65 77 73 40 63 6e 6e 2e 63 6f 6d"
                              "14 66 65 72 67 40 68 6d 74 70 2e 63 61 75 63 68 6f 2e 63 6f 6d 4e 00");
    CHECK_BYTES(out.data, out.len, want.data, want.len, "worked example bytes");
    hmtp_buf_free(&want);
    hessian_writer_free(&w);
    hmtp_packet_free(&p);
    /* the flush before a byte[]: 80 25 + 37 bytes, 01 20, 00 */
    hmtp_buf_reset(&out);
    hessian_writer_init(&w, &out);
    hessian_writer_start_packet(&w);
    w_empty_binary_packet(&w, NULL);
    hessian_writer_end_packet(&w);
    want = hex_bytes("80 25 90 0c 6e 65 77 73 40 63 6e 6e 2e 63 6f 6d"
                     "16 66 65 72 67 40 68 6d 74 70 2e 63 61 75 63 68 6f 2e 63 6f 6d 2f 61 01 20 00");
    CHECK_BYTES(out.data, out.len, want.data, want.len, "chunk ends before a byte[]");
    hessian_writer_free(&w);
    hmtp_buf_free(&want);
    /* a large packet: every chunk but the last has a two-byte length and
     * carries 4066..4094 bytes; the body reassembles exactly */
    hmtp_buf_reset(&out);
    hessian_writer_init(&w, &out);
    size_t n = 20000;
    hessian_writer_start_packet(&w);
    w_str_n(&w, &n);
    hessian_writer_end_packet(&w);
    size_t pos = 0, hdr[64], data[64], nchunks = 0;
    hmtp_buf body;
    hmtp_buf_init(&body);
    if (CHECK(unframe_one(out.data, out.len, &pos, &body, hdr, data, 64, &nchunks) && pos == out.len,
              "large packet frames")) {
        CHECK(nchunks >= 5 && nchunks < 64, "large packet: %zu chunks", nchunks);
        for (size_t i = 0; i + 1 < nchunks && i < 64; i++)
            CHECK(hdr[i] == 2 && data[i] >= 4066 && data[i] <= 4094, "chunk %zu: %zu-byte header, %zu bytes", i,
                  hdr[i], data[i]);
        CHECK(body.len == 3 + 3 + n && body.data[0] == 0x90 && body.data[3] == 'S' && body.data[4] == 0x4e &&
                  body.data[5] == 0x20 && body.data[body.len - 1] == 'z',
              "large body: %zu bytes", body.len);
    }
    hmtp_buf_free(&body);
    hessian_writer_free(&w);
    hmtp_buf_free(&out);
}

/* ---- round trip: write, decode, write again: the same bytes ---- */

static hessian_value *news_item(hmtp_arena *a, uint64_t *rng, int i)
{
    static const char *const f[] = {"_title", "_body", "_published", "_score", "_tags", "_attrs", "_self"};
    hessian_value *o = hessian_new_object(a, "example.NewsItem", 7, f);
    char t[64];
    int n = snprintf(t, sizeof t, "Headline %d \xe2\x80\x94 caf\xc3\xa9 \xf0\x9f\x93\xb0", i);
    hessian_object_set(o, "_title", hessian_new_string(a, t, (size_t)n));
    size_t blen = (size_t)(test_rand(rng) % 3000);
    char *body = hmtp_arena_alloc(a, blen + 1);
    for (size_t k = 0; k < blen; k++)
        body[k] = (char)('a' + test_rand(rng) % 26);
    hessian_object_set(o, "_body", hessian_new_string(a, body, blen));
    hessian_object_set(o, "_published", hessian_new_date(a, 1225666620000LL + i * 1001));
    hessian_object_set(o, "_score", hessian_new_double(a, (double)(test_rand(rng) % 100000) / 7.0));
    hessian_value *tags = hessian_new_list(a, "[string", false, 3);
    for (size_t k = 0; k < 3; k++)
        tags->v.list.items[k] = hessian_new_string(a, k == 1 ? "world" : "news", k == 1 ? 5 : 4);
    hessian_object_set(o, "_tags", tags);
    hessian_value *m = hessian_new_map(a, i % 2 ? "java.util.HashMap" : NULL, 2);
    m->v.map.keys[0] = hessian_new_string(a, "views", 5);
    m->v.map.values[0] = hessian_new_long(a, (int64_t)(test_rand(rng) >> 20));
    m->v.map.keys[1] = hessian_new_int(a, -300);
    m->v.map.values[1] = hessian_new_bool(a, true);
    hessian_object_set(o, "_attrs", m);
    hessian_value *self = hessian_new_list(a, NULL, true, 1);
    self->kind = HESSIAN_LIST;
    hessian_value *ref = hessian_new_null(a);
    ref->kind = HESSIAN_REF;
    ref->v.ref = 0; /* the object itself */
    self->v.list.items[0] = ref;
    hessian_object_set(o, "_self", self);
    return o;
}

static void build_packets(hmtp_packet *ps, size_t n, uint64_t *rng)
{
    for (size_t i = 0; i < n; i++) {
        hmtp_packet *p = &ps[i];
        hmtp_packet_init(p);
        hmtp_arena *a = &p->arena;
        p->type = (int32_t)(i % HMTP_TYPE_COUNT);
        p->to = "news@cnn.com";
        p->from = i % 4 ? "ferg@hmtp.caucho.com/a" : NULL;
        p->has_id = hmtp_type_has_id(p->type);
        p->id = p->has_id ? (int64_t)i : 0;
        switch (i % 5) {
        case 0:
            p->value = news_item(a, rng, (int)i);
            break;
        case 1: {
            size_t len = 100 * 1024 + i;
            uint8_t *d = hmtp_arena_alloc(a, len);
            for (size_t k = 0; k < len; k++)
                d[k] = (uint8_t)test_rand(rng);
            p->value = hessian_new_binary(a, d, len);
            break;
        }
        case 2: {
            size_t len = 40000 + i * 13;
            char *s = hmtp_arena_alloc(a, len + 1);
            for (size_t k = 0; k < len; k++)
                s[k] = (char)('A' + k % 50);
            p->value = hessian_new_string(a, s, len);
            break;
        }
        case 3: {
            hessian_value *l = hessian_new_list(a, NULL, i % 2, 4);
            l->v.list.items[0] = news_item(a, rng, (int)i);
            l->v.list.items[1] = hessian_new_double(a, 0.009000000000000001);
            l->v.list.items[2] = hessian_new_long(a, INT64_MIN + (int64_t)i);
            hessian_value *inner = hessian_new_map(a, NULL, 1);
            inner->v.map.keys[0] = hessian_new_string(a, "k", 1);
            inner->v.map.values[0] = hessian_new_list(a, "[int", false, 0);
            l->v.list.items[3] = inner;
            p->value = l;
            break;
        }
        default:
            p->value = hessian_new_null(a);
        }
        if (hmtp_type_has_error(p->type))
            p->error_value = hmtp_new_bam_error(a, "wait", "resource-constraint", "slow down");
    }
}

static size_t decode_all(const hmtp_buf *wire, hmtp_packet *out, size_t max, bool *ok)
{
    hmtp_reader *r = hmtp_reader_new(HMTP_DEFAULT_MAX_PACKET);
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    size_t pos = 0, n = 0;
    *ok = true;
    while (pos < wire->len && n < max) {
        size_t consumed = 0;
        hmtp_frame f;
        hmtp_error err;
        int rc = hmtp_reader_push(r, wire->data + pos, wire->len - pos, &consumed, &f, &err);
        pos += consumed;
        if (rc != 1) {
            *ok = CHECK(rc == 0, "round trip framing: %s", err.msg) && *ok;
            break;
        }
        hmtp_packet_init(&out[n]);
        hmtp_status st = hmtp_packet_decode(&out[n], &s, hessian_stream_mark(&s), f.body, f.body_len, &err);
        if (!CHECK(st == HMTP_OK, "round trip packet %zu: %s @%zu", n, err.msg, err.offset))
            *ok = false;
        n++;
    }
    hessian_stream_free(&s);
    hmtp_reader_free(r);
    return n;
}

static void test_round_trip(void)
{
    enum { N = 40 };
    uint64_t rng = 2009;
    hmtp_packet *orig = calloc(N, sizeof *orig), *dec = calloc(N, sizeof *dec);
    build_packets(orig, N, &rng);
    hmtp_buf first, second;
    hmtp_buf_init(&first);
    hmtp_buf_init(&second);
    hessian_writer w;
    hessian_writer_init(&w, &first);
    for (size_t i = 0; i < N; i++)
        CHECK(hmtp_packet_write(&w, &orig[i]), "write packet %zu", i);
    hessian_writer_free(&w);
    bool ok;
    size_t n = decode_all(&first, dec, N, &ok);
    CHECK(ok && n == N, "decoded %zu of %d packets", n, N);
    for (size_t i = 0; i < n; i++) {
        CHECK(dec[i].type == orig[i].type && dec[i].id == orig[i].id &&
                  hessian_value_equal(dec[i].value, orig[i].value),
              "packet %zu decodes to what was written", i);
        if (orig[i].error_value)
            CHECK(dec[i].error_value && hessian_value_equal(dec[i].error_value, orig[i].error_value),
                  "packet %zu error value", i);
    }
    hessian_writer_init(&w, &second);
    for (size_t i = 0; i < n; i++)
        CHECK(hmtp_packet_write(&w, &dec[i]), "rewrite packet %zu", i);
    hessian_writer_free(&w);
    CHECK(first.len > 1000000, "the stream is large enough to chunk (%zu bytes)", first.len);
    CHECK_BYTES(second.data, second.len, first.data, first.len, "decode + rewrite is byte-identical");
    for (size_t i = 0; i < N; i++) {
        hmtp_packet_free(&orig[i]);
        if (i < n)
            hmtp_packet_free(&dec[i]);
    }
    free(orig);
    free(dec);
    hmtp_buf_free(&first);
    hmtp_buf_free(&second);
}

int main(void)
{
    test_numbers();
    test_strings();
    test_binaries();
    test_full_buffer_at_end();
    test_containers();
    test_classes_across_packets();
    test_layout();
    test_round_trip();
    return check_summary("writer");
}
