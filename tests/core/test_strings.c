/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Exact strings (issue 15): a JID or BamError field holding U+0000 (at the
 * start, middle or end) or a JID holding a control character is a decode
 * error naming the field and offset, never a shortened C string; values
 * keep their NULs but hessian_value_string() gives no C text for them. */
#include <string.h>

#include "check.h"
#include "hmtp.h"
#include "jid.h"

/* Body of a message (to, from as given, value "v"), or a queryError whose
 * BamError _text is text. */
static void put_str(hmtp_buf *b, const char *s, size_t n)
{
    hmtp_buf_append_byte(b, (uint8_t)n); /* short string: 0x00-0x1f + bytes */
    hmtp_buf_append(b, s, n);
}

static hmtp_status decode(const hmtp_buf *body, hmtp_packet *p, hmtp_error *err)
{
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    hmtp_packet_init(p);
    hmtp_status st = hmtp_packet_decode(p, &s, hessian_stream_mark(&s), body->data, body->len, err);
    hessian_stream_free(&s);
    return st;
}

static void expect_jid_refused(const char *field, const char *jid, size_t len, size_t bad_at, const char *why)
{
    hmtp_buf b;
    hmtp_buf_init(&b);
    hmtp_buf_append_byte(&b, 0x90); /* int 0: message */
    bool to = strcmp(field, "to") == 0;
    put_str(&b, to ? jid : "a@b", to ? len : 3);
    put_str(&b, to ? "a@b" : jid, to ? 3 : len);
    put_str(&b, "v", 1);
    hmtp_packet p;
    hmtp_error err;
    hmtp_status st = decode(&b, &p, &err);
    char want[160];
    snprintf(want, sizeof want, "packet %s at body offset %d is not a JID: %s at byte %zu of %zu", field,
             to ? 1 : 5, why, bad_at, len);
    CHECK(st == HMTP_ERR_BAD_STRING && strcmp(hmtp_status_name(st), "bad-string") == 0, "%s %zu: status %d", field,
          bad_at, st);
    CHECK(strcmp(err.msg, want) == 0, "message '%s', want '%s'", err.msg, want);
    CHECK(err.offset == (size_t)(to ? 1 : 5), "offset %zu", err.offset);
    CHECK(to ? p.to == NULL : p.from == NULL, "the refused %s was handed out", field);
    hmtp_packet_free(&p);
    hmtp_buf_free(&b);
}

static void test_jid_fields(void)
{
    for (int f = 0; f < 2; f++) {
        const char *field = f ? "from" : "to";
        expect_jid_refused(field, "\0a@b", 4, 0, "U+0000");
        expect_jid_refused(field, "a\0b@c", 5, 1, "U+0000");
        expect_jid_refused(field, "a@b\0", 4, 3, "U+0000");
        expect_jid_refused(field, "a@b/r\x01", 6, 5, "a control character");
        expect_jid_refused(field, "a@b\x7f", 4, 3, "a control character");
    }
    /* non-ASCII letters stay JIDs */
    const char *letters = "j\xc3\xbcrgen@example.org/\xe6\x89\x8b";
    CHECK(hmtp_jid_valid(letters, strlen(letters)), "UTF-8 letters refused");
    size_t at = 0;
    const char *why = hmtp_jid_check("a@b\xc2\x85", 5, &at); /* U+0085, a C1 control */
    CHECK(why && strcmp(why, "a control character") == 0 && at == 3, "U+0085: %s at %zu", why ? why : "accepted", at);
    CHECK(!hmtp_jid_valid("a\xff", 2), "bytes that are not UTF-8 accepted");
}

static void expect_error_text_refused(const char *name, const char *text, size_t len, size_t nul_at)
{
    hmtp_buf b;
    hmtp_buf_init(&b);
    hmtp_buf_append_byte(&b, 0x95); /* int 5: queryError */
    hmtp_buf_append_byte(&b, 'N');
    hmtp_buf_append_byte(&b, 'N');
    hmtp_buf_append_byte(&b, 0xe1); /* long 1 */
    hmtp_buf_append_byte(&b, 'N');  /* value */
    /* BamError {_type, _group, _text}: C, the class definition, then O */
    hmtp_buf_append_byte(&b, 'C');
    put_str(&b, HMTP_BAM_ERROR_CLASS, strlen(HMTP_BAM_ERROR_CLASS));
    hmtp_buf_append_byte(&b, 0x93);
    put_str(&b, "_type", 5);
    put_str(&b, "_group", 6);
    put_str(&b, "_text", 5);
    hmtp_buf_append_byte(&b, 0x60);
    size_t at[3];
    const char *values[3] = {"cancel", "item-not-found", "no such item"};
    size_t lens[3] = {6, 14, 12};
    int which = strcmp(name, "type") == 0 ? 0 : strcmp(name, "group") == 0 ? 1 : 2;
    values[which] = text;
    lens[which] = len;
    for (int i = 0; i < 3; i++) {
        at[i] = b.len;
        put_str(&b, values[i], lens[i]);
    }
    hmtp_packet p;
    hmtp_error err;
    hmtp_status st = decode(&b, &p, &err);
    char want[160];
    snprintf(want, sizeof want, "packet error.%s at body offset %zu holds U+0000 at byte %zu of %zu", name,
             at[which], nul_at, len);
    CHECK(st == HMTP_ERR_BAD_STRING, "error.%s: status %d (%s)", name, st, err.msg);
    CHECK(strcmp(err.msg, want) == 0, "message '%s', want '%s'", err.msg, want);
    CHECK(p.error.type == NULL && p.error.group == NULL && p.error.text == NULL, "error fields handed out");
    hmtp_packet_free(&p);
    hmtp_buf_free(&b);
}

static void test_error_fields(void)
{
    const char *names[] = {"type", "group", "text"};
    for (int i = 0; i < 3; i++) {
        expect_error_text_refused(names[i], "\0x", 2, 0);
        expect_error_text_refused(names[i], "x\0y", 3, 1);
        expect_error_text_refused(names[i], "x\0", 2, 1);
    }
}

static void test_value_string(void)
{
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *v = hessian_new_string(&a, "secret\0junk", 11);
    CHECK(v && v->v.str.len == 11 && memcmp(v->v.str.data, "secret\0junk", 11) == 0, "value keeps its NUL");
    CHECK(hessian_value_string(v) == NULL, "hessian_value_string hands out a cut string");
    CHECK(strcmp(hessian_value_string(hessian_new_string(&a, "secret", 6)), "secret") == 0, "plain text");
    hmtp_arena_free(&a);
}

int main(void)
{
    test_jid_fields();
    test_error_fields();
    test_value_string();
    return check_summary("strings");
}
