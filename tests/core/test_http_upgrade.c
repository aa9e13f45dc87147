/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The HTTP upgrade head (core/http_upgrade.h): requests and answers as Resin
 * and this project's programs send them, every split point, the size limit,
 * the line-ending rule, garbage, and the writers read back by the reader.
 * The broker's and the replayer's former parser tests live here now. */
#include "check.h"
#include "http_upgrade.h"

static const char resin_request[] = "CONNECT /hmtp HTTP/1.1\r\nHost: null:8080\r\nUpgrade: HMTP/0.9\r\n"
                                    "Connection: Upgrade\r\nContent-Length: 0\r\n\r\n";
/* Resin's bare 101: no Upgrade header. */
static const char resin_101[] = "HTTP/1.1 101 Switching Protocols\r\nServer: Resin/4.0.0\r\n"
                                "Content-Length: 0\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n";

static int parse(const char *text, hmtp_upgrade_head *h, hmtp_error *err)
{
    return hmtp_upgrade_head_parse((const uint8_t *)text, strlen(text), h, err);
}

/* A complete request the server refuses with status. */
static void check_refused(const char *text, int status, const char *what)
{
    hmtp_upgrade_head h;
    const char *why = NULL;
    int r = parse(text, &h, NULL);
    CHECK(r == 1, "%s: parse %d", what, r);
    CHECK_INT(hmtp_upgrade_request_refusal(&h, &why), status, what);
    CHECK(why && *why, "%s: no reason", what);
}

/* Bytes that are not an upgrade head at all. */
static void check_bad(const char *text, int refusal, size_t offset, const char *what)
{
    hmtp_upgrade_head h;
    hmtp_error err;
    int r = parse(text, &h, &err);
    CHECK(r == -1, "%s: parse %d", what, r);
    CHECK_STR(hmtp_status_name(err.code), "bad-http", what);
    CHECK_INT(h.refusal, refusal, what);
    CHECK_INT(err.offset, offset, what);
    char where[64];
    snprintf(where, sizeof where, "byte %zu of the HTTP head", offset);
    CHECK(strstr(err.msg, where) != NULL, "%s: message '%s' does not say '%s'", what, err.msg, where);
}

static void test_requests(void)
{
    hmtp_upgrade_head h;
    hmtp_error err;
    const char *why = "x";
    /* Resin's request with its first HMTP byte behind it */
    char with_hmtp[sizeof resin_request + 1];
    memcpy(with_hmtp, resin_request, sizeof resin_request - 1);
    with_hmtp[sizeof resin_request - 1] = '\x05';
    with_hmtp[sizeof resin_request] = '\0';
    CHECK_INT(parse(with_hmtp, &h, &err), 1, "Resin's request");
    CHECK_INT(h.head_len, strlen(resin_request), "Resin's head_len");
    CHECK_INT(h.kind, HMTP_UPGRADE_REQUEST, "Resin's kind");
    CHECK_STR(h.method, "CONNECT", "method");
    CHECK_STR(h.path, "/hmtp", "path");
    CHECK_STR(h.host, "null:8080", "Host of the 2009 client");
    CHECK_STR(h.upgrade, "HMTP/0.9", "Upgrade");
    CHECK(h.upgrade_hmtp && h.has_content_length && h.content_length == 0 && h.status == 0, "Resin's fields");
    CHECK_INT(hmtp_upgrade_request_refusal(&h, &why), 0, "Resin's request is upgraded");
    CHECK(why == NULL, "no reason for an upgrade");

    /* the replayer's case: lower-case name, blanks around the value */
    const char *rq = "CONNECT /hmtp HTTP/1.1\r\nHost: null:8080\r\nupgrade:  HMTP/0.9 \r\n"
                     "Connection: Upgrade\r\nContent-Length: 0\r\n\r\n\x24\x99";
    CHECK_INT(parse(rq, &h, NULL), 1, "lower-case upgrade");
    CHECK(h.upgrade_hmtp && strcmp(h.upgrade, "HMTP/0.9") == 0, "upgrade value trimmed: '%s'", h.upgrade);
    CHECK_INT(h.head_len, strlen(rq) - 2, "head_len before the HMTP bytes");
    CHECK_INT(hmtp_upgrade_head_parse((const uint8_t *)rq, 30, &h, NULL), 0, "30 bytes: more needed");
    CHECK_INT(h.kind, HMTP_UPGRADE_REQUEST, "kind known from a partial head");
    CHECK_STR(h.method, "CONNECT", "request line read from a partial head");

    /* the token inside a list, any case, bare LF lines, HTTP/1.0 */
    CHECK_INT(parse("GET / HTTP/1.0\nupgrade:  foo, hmtp/0.9 \n\n", &h, NULL), 1, "LF lines, list");
    CHECK(h.upgrade_hmtp && hmtp_upgrade_request_refusal(&h, &why) == 0, "list names HMTP/0.9");
    CHECK_INT(parse("CONNECT /hmtp HTTP/1.1\r\nUpgrade: HMTP/0.9\r\n", &h, NULL), 0, "no empty line yet");
    CHECK_INT(parse("CONN", &h, NULL), 0, "a partial request line");
    CHECK_INT(parse("", &h, NULL), 0, "nothing yet");
    CHECK_INT(parse("GET /a?b=c HTTP/1.1\r\nContent-Length: 12\r\n\r\n", &h, NULL), 1, "a body announced");
    CHECK(h.has_content_length && h.content_length == 12 && strcmp(h.path, "/a?b=c") == 0, "Content-Length 12");

    check_refused("GET / HTTP/1.1\r\n\r\n", 404, "no Upgrade");
    check_refused("GET / HTTP/1.1\r\nUpgrade: HMTP/1.0\r\n\r\n", 404, "another Upgrade");
    check_refused("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", 404, "websocket");
    check_refused("PUT / HTTP/1.1\r\nUpgrade: HMTP/0.9\r\n\r\n", 405, "PUT");
    check_refused("POST /hmtp HTTP/1.1\r\nUpgrade: HMTP/0.9\r\n\r\n", 405, "POST");

    check_bad("GET / HTTP/2\r\nUpgrade: HMTP/0.9\r\n\r\n", 505, 6, "HTTP/2");
    check_bad("GET /hmtp HTTP/2.0\r\n\r\n", 505, 10, "HTTP/2.0");
    check_bad("GET /\r\n\r\n", 400, 4, "no version");
    /* a wrong request line fills nothing: scanning readers rely on it */
    CHECK(parse("X GET / HTTP/1.1\r\n\r\n", &h, NULL) == -1 && h.method[0] == '\0' && h.path[0] == '\0',
          "a wrong request line left method '%s'", h.method);
    CHECK(parse("GET / HTTP/1.1\r\nbroken\r\n\r\n", &h, NULL) == -1 && strcmp(h.method, "GET") == 0,
          "a wrong header keeps the request line read before");
    check_bad("GET  HTTP/1.1\r\n\r\n", 400, 4, "no path");
    check_bad("GET / HTTP/1.1\r\nbroken\r\n\r\n", 400, 16, "header without colon");
    check_bad("GET / HTTP/1.1\r\n: x\r\n\r\n", 400, 16, "empty header name");
    check_bad("GET / HTTP/1.1\r\nUp grade: x\r\n\r\n", 400, 16, "space in a name");
    check_bad("GET / HTTP/1.1\r\n Upgrade: HMTP/0.9\r\n\r\n", 400, 16, "folded line");
    check_bad("GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400, 16, "Content-Length 1x");
    check_bad("GET / HTTP/1.1\r\nContent-Length: 9999999999999999999\r\n\r\n", 400, 16,
              "Content-Length with 19 digits");
}

static void test_answers(void)
{
    hmtp_upgrade_head h;
    CHECK_INT(parse(resin_101, &h, NULL), 1, "Resin's 101");
    CHECK(h.kind == HMTP_UPGRADE_RESPONSE && h.status == 101, "Resin's 101: kind %d status %d", h.kind, h.status);
    CHECK_STR(h.reason, "Switching Protocols", "reason");
    CHECK(!h.upgrade_hmtp && h.upgrade[0] == '\0', "Resin's 101 has no Upgrade");
    CHECK_INT(h.head_len, strlen(resin_101), "101 head_len");

    /* "HTTP/1.1 101" and nothing else on the line, as Resin's client accepts */
    CHECK_INT(parse("HTTP/1.1 101\r\n\r\n\x90", &h, NULL), 1, "bare status line");
    CHECK(h.status == 101 && h.reason[0] == '\0' && h.head_len == 16, "bare: %d '%s' %zu", h.status, h.reason,
          h.head_len);
    CHECK_INT(parse("HTTP/1.1 101 OK\r\n\r\n", &h, NULL), 1, "101 OK");
    CHECK(h.status == 101 && strcmp(h.reason, "OK") == 0, "101 OK: '%s'", h.reason);

    /* with --upgrade-header the 101 echoes the Upgrade */
    CHECK_INT(parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: HMTP/0.9\r\nConnection: Upgrade\r\n\r\n", &h, NULL),
              1, "echoed Upgrade");
    CHECK(h.status == 101 && h.upgrade_hmtp, "echoed Upgrade read");

    CHECK_INT(parse("HTTP/1.1 404 Not Found\r\nContent-Length: 22\r\n\r\nno HMTP servlet here\r\n", &h, NULL), 1,
              "a refusal");
    CHECK(h.status == 404 && h.has_content_length && h.content_length == 22, "refusal: %d %llu", h.status,
          (unsigned long long)h.content_length);
    /* the status is known once its line is, before the head is complete */
    CHECK_INT(parse("HTTP/1.1 101 Switching Protocols\r\nServer: R", &h, NULL), 0, "partial answer");
    CHECK_INT(h.status, 101, "status of a partial answer");
    CHECK_INT(parse("HTTP/1.1 101 Switching Pro", &h, NULL), 0, "partial status line");
    CHECK_INT(h.status, 0, "no status before its line ends");

    check_bad("HTTP/2 200 OK\r\n\r\n", 400, 0, "HTTP/2 answer");
    check_bad("HTTP/1.1 1x1 OK\r\n\r\n", 400, 0, "letters in the status");
    check_bad("HTTP/1.1 1011\r\n\r\n", 400, 0, "four digits");
    check_bad("HTTP/1.1\r\n\r\n", 400, 0, "no status");
}

/* Every prefix of a head is "more needed" with the same kind; the whole is
 * complete with the same length whatever follows. */
static void check_every_split(const char *text, hmtp_upgrade_kind kind, const char *what)
{
    size_t n = strlen(text);
    uint8_t buf[512];
    memcpy(buf, text, n);
    memcpy(buf + n, "\x05\x90\x40\x0d\x0a\x0d\x0a", 7); /* HMTP bytes, with CR LF CR LF among them */
    hmtp_upgrade_head whole;
    CHECK_INT(hmtp_upgrade_head_parse(buf, n, &whole, NULL), 1, what);
    for (size_t k = 0; k < n; k++) {
        hmtp_upgrade_head h;
        int r = hmtp_upgrade_head_parse(buf, k, &h, NULL);
        if (!CHECK(r == 0, "%s: %zu of %zu bytes: %d", what, k, n, r))
            break;
        if (k >= 5 && !CHECK(h.kind == kind, "%s: %zu bytes: kind %d", what, k, h.kind))
            break;
    }
    for (size_t k = n; k <= n + 7; k++) {
        hmtp_upgrade_head h;
        int r = hmtp_upgrade_head_parse(buf, k, &h, NULL);
        if (!CHECK(r == 1 && h.head_len == n && h.status == whole.status &&
                       h.upgrade_hmtp == whole.upgrade_hmtp && strcmp(h.host, whole.host) == 0,
                   "%s: %zu bytes: %d, head_len %zu", what, k, r, h.head_len))
            break;
    }
}

static void test_splits(void)
{
    check_every_split(resin_request, HMTP_UPGRADE_REQUEST, "Resin's request");
    check_every_split(resin_101, HMTP_UPGRADE_RESPONSE, "Resin's 101");
    check_every_split("HTTP/1.1 101\r\n\r\n", HMTP_UPGRADE_RESPONSE, "bare 101");
    check_every_split("HTTP/1.1 101 Switching Protocols\r\nUpgrade: HMTP/0.9\r\nConnection: Upgrade\r\n\r\n",
                      HMTP_UPGRADE_RESPONSE, "echoed Upgrade");
    check_every_split("GET / HTTP/1.0\nUpgrade: HMTP/0.9\n\n", HMTP_UPGRADE_REQUEST, "LF lines");
}

static void test_size_limit(void)
{
    static uint8_t big[HMTP_UPGRADE_HEAD_MAX + 64];
    hmtp_upgrade_head h;
    hmtp_error err;
    /* a head of exactly the limit: a request line, one long header, the empty line */
    const char *line = "GET / HTTP/1.1\r\nX: ";
    size_t n = strlen(line);
    memcpy(big, line, n);
    memset(big + n, 'a', HMTP_UPGRADE_HEAD_MAX - n - 4);
    memcpy(big + HMTP_UPGRADE_HEAD_MAX - 4, "\r\n\r\n", 4);
    CHECK_INT(hmtp_upgrade_head_parse(big, HMTP_UPGRADE_HEAD_MAX, &h, NULL), 1, "a head of exactly the limit");
    CHECK_INT(h.head_len, HMTP_UPGRADE_HEAD_MAX, "its length");
    /* one byte more */
    memset(big + n, 'a', HMTP_UPGRADE_HEAD_MAX - n - 3);
    memcpy(big + HMTP_UPGRADE_HEAD_MAX - 3, "\r\n\r\n", 4);
    CHECK_INT(hmtp_upgrade_head_parse(big, HMTP_UPGRADE_HEAD_MAX - 1, &h, NULL), 0, "below the limit: wait");
    CHECK_INT(hmtp_upgrade_head_parse(big, HMTP_UPGRADE_HEAD_MAX + 1, &h, &err), -1, "limit + 1");
    CHECK_STR(hmtp_status_name(err.code), "too-large", "limit + 1");
    CHECK_INT(h.refusal, 431, "limit + 1 answered 431");
    CHECK(strstr(err.msg, "8192 bytes") != NULL, "message: %s", err.msg);
    /* a client sending letters without a line end is refused at the limit */
    static char huge[9000];
    memset(huge, 'a', sizeof huge - 1);
    CHECK_INT(parse(huge, &h, &err), -1, "9000 letters");
    CHECK(h.refusal == 431 && err.code == HMTP_ERR_TOO_LARGE, "9000 letters: %d %s", h.refusal, err.msg);
}

static void test_line_ends(void)
{
    hmtp_upgrade_head h;
    /* bare LF is a line end; CR LF and LF may be mixed */
    CHECK_INT(parse("HTTP/1.1 101\n\n", &h, NULL), 1, "bare LF 101");
    CHECK(h.status == 101 && h.head_len == 14, "bare LF 101: %d %zu", h.status, h.head_len);
    CHECK_INT(parse("HTTP/1.1 101 Switching Protocols\r\nServer: x\n\r\n", &h, NULL), 1, "mixed");
    CHECK_INT(h.head_len, 46, "mixed head_len");
    CHECK_INT(parse("HTTP/1.1 101\r\n\n", &h, NULL), 1, "CR LF then LF");
    CHECK_INT(h.head_len, 15, "CR LF then LF head_len");
    /* a CR that ends no line */
    check_bad("GET / HTTP/1.1\rUpgrade: HMTP/0.9\r\n\r\n", 400, 14, "lone CR");
    check_bad("HTTP/1.1 101\r\r\n", 400, 12, "CR CR LF");
    /* a CR at the end of the bytes may still be followed by LF */
    CHECK_INT(parse("HTTP/1.1 101\r", &h, NULL), 0, "CR last");
}

static void test_garbage(void)
{
    hmtp_upgrade_head h;
    /* HMTP bytes where a head should be are refused at once */
    check_bad("\x24\x99\x0c", 400, 2, "binary with a control byte");
    check_bad("\x03\x90\x4e\x4e\x4e\x00", 400, 0, "an HMTP packet");
    check_bad("\x24\x99", 400, 0, "binary without a control byte");
    check_bad("get / HTTP/1.1\r\n\r\n", 400, 0, "lower-case method");
    check_bad("hello world\r\n", 400, 0, "text");
    check_bad("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", 400, 23, "control byte in a value");
    check_bad("GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", 400, 23, "DEL");
    CHECK_INT(hmtp_upgrade_head_parse((const uint8_t *)"GET / HTTP/1.1\r\nA: \0\r\n\r\n", 24, &h, NULL), -1, "NUL");
    /* a value's high bytes are shown as '?' */
    CHECK_INT(parse("GET / HTTP/1.1\r\nHost: h\xc3\xa9\r\n\r\n", &h, NULL), 1, "UTF-8 in Host");
    CHECK_STR(h.host, "h??", "non-ASCII shown as ?");

    CHECK(hmtp_upgrade_may_be_request((const uint8_t *)"CONN", 4), "CONN may be a request");
    CHECK(!hmtp_upgrade_may_be_request((const uint8_t *)"\x24", 1), "0x24 is no request");
    CHECK(!hmtp_upgrade_may_be_response((const uint8_t *)"\x24", 1), "0x24 is no answer");
    CHECK(hmtp_upgrade_may_be_request((const uint8_t *)"HTTP", 4) &&
              hmtp_upgrade_may_be_response((const uint8_t *)"HTTP", 4),
          "HTTP may be either");
    CHECK(!hmtp_upgrade_may_be_request((const uint8_t *)"HTTP/1.1 101", 12) &&
              hmtp_upgrade_may_be_response((const uint8_t *)"HTTP/1.1 101", 12),
          "HTTP/ is an answer");
    CHECK(hmtp_upgrade_may_be_request((const uint8_t *)"GET / x", 7) &&
              !hmtp_upgrade_may_be_response((const uint8_t *)"GET / x", 7),
          "GET is a request");
    CHECK(!hmtp_upgrade_may_be_request((const uint8_t *)"", 0) && !hmtp_upgrade_may_be_response((const uint8_t *)"", 0),
          "nothing is neither");
    CHECK(!hmtp_upgrade_may_be_request((const uint8_t *)"ABCDEFGHIJKLMNOP ", 17), "a 16-letter method");
}

static void test_writers(void)
{
    hmtp_buf b;
    hmtp_buf_init(&b);
    hmtp_upgrade_head h;
    hmtp_upgrade_write_request(&b, "CONNECT", "/hmtp", "null:8080");
    CHECK_BYTES(b.data, b.len, (const uint8_t *)resin_request, strlen(resin_request), "request as Resin's");
    const char *why;
    CHECK(hmtp_upgrade_head_parse(b.data, b.len, &h, NULL) == 1 && hmtp_upgrade_request_refusal(&h, &why) == 0,
          "the written request is upgraded");

    hmtp_buf_reset(&b);
    hmtp_upgrade_write_switching(&b, "Resin/4.0.0", "D", false);
    hmtp_buf_append_byte(&b, 0);
    CHECK_STR((char *)b.data,
              "HTTP/1.1 101 Switching Protocols\r\nServer: Resin/4.0.0\r\nContent-Length: 0\r\nDate: D\r\n\r\n",
              "bare 101");
    hmtp_buf_reset(&b);
    hmtp_upgrade_write_switching(&b, "S", "D", true);
    CHECK(hmtp_upgrade_head_parse(b.data, b.len, &h, NULL) == 1 && h.status == 101 && h.upgrade_hmtp,
          "echoed 101 reads back");

    hmtp_buf_reset(&b);
    hmtp_upgrade_write_error(&b, 404, "nope", "S", "D");
    hmtp_buf_append_byte(&b, 0);
    CHECK(strstr((char *)b.data, "HTTP/1.1 404 Not Found\r\n") == (char *)b.data &&
              strstr((char *)b.data, "Content-Length: 5\r\n") && strstr((char *)b.data, "\r\n\r\nnope\n"),
          "%s", (char *)b.data);
    CHECK(hmtp_upgrade_head_parse(b.data, b.len - 1, &h, NULL) == 1 && h.status == 404 && h.content_length == 5 &&
              b.len - 1 == h.head_len + 5,
          "error answer reads back with its body length");
    hmtp_buf_free(&b);

    char d[30];
    hmtp_upgrade_format_date(0, d);
    CHECK_STR(d, "Thu, 01 Jan 1970 00:00:00 GMT", "epoch");
    hmtp_upgrade_format_date(1232323200 + 3661, d); /* 2009-01-19 01:01:01 UTC, a Monday */
    CHECK_STR(d, "Mon, 19 Jan 2009 01:01:01 GMT", "2009");
    hmtp_upgrade_format_date(951782400, d); /* 2000-02-29, a leap day */
    CHECK_STR(d, "Tue, 29 Feb 2000 00:00:00 GMT", "leap day");
    CHECK_STR(hmtp_upgrade_status_reason(431), "Request Header Fields Too Large", "431");
}

int main(void)
{
    test_requests();
    test_answers();
    test_splits();
    test_size_limit();
    test_line_ends();
    test_garbage();
    test_writers();
    return check_summary("http_upgrade");
}
