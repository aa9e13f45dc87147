/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the broker's pure parts: the HTTP upgrade parser, the HTTP
 * date, the 101 shape and the configuration parsers. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "http_upgrade.h"

static http_request_status parse(const char *text, http_request *req)
{
    return http_request_parse((const uint8_t *)text, strlen(text), req);
}

static void test_requests(void)
{
    http_request r;
    const char *resin = "CONNECT /hmtp HTTP/1.1\r\nHost: null:8080\r\nUpgrade: HMTP/0.9\r\n"
                        "Connection: Upgrade\r\nContent-Length: 0\r\n\r\n\x05";
    CHECK(parse(resin, &r) == HTTP_REQUEST_UPGRADE, "Resin's request refused: %s", r.reason);
    CHECK(r.header_len == strlen(resin) - 1, "header_len %zu", r.header_len);
    CHECK(strcmp(r.method, "CONNECT") == 0, "method %s", r.method);
    CHECK(parse("GET / HTTP/1.0\nupgrade:  foo, hmtp/0.9 \n\n", &r) == HTTP_REQUEST_UPGRADE,
           "LF lines, lower case, list: %s", r.reason);
    CHECK(parse("CONNECT /hmtp HTTP/1.1\r\nUpgrade: HMTP/0.9\r\n", &r) == HTTP_REQUEST_INCOMPLETE,
           "no blank line yet");
    CHECK(parse("CONN", &r) == HTTP_REQUEST_INCOMPLETE, "a partial request line");
    CHECK(parse("GET / HTTP/1.1\r\n\r\n", &r) == HTTP_REQUEST_REJECT && r.status == 404,
           "no Upgrade: %d", r.status);
    CHECK(parse("GET / HTTP/1.1\r\nUpgrade: HMTP/1.0\r\n\r\n", &r) == HTTP_REQUEST_REJECT &&
               r.status == 404,
           "other Upgrade: %d", r.status);
    CHECK(parse("PUT / HTTP/1.1\r\nUpgrade: HMTP/0.9\r\n\r\n", &r) == HTTP_REQUEST_REJECT &&
               r.status == 405,
           "PUT: %d", r.status);
    CHECK(parse("GET / HTTP/2\r\nUpgrade: HMTP/0.9\r\n\r\n", &r) == HTTP_REQUEST_REJECT &&
               r.status == 505,
           "HTTP/2: %d", r.status);
    CHECK(parse("GET /\r\n\r\n", &r) == HTTP_REQUEST_REJECT && r.status == 400, "no version");
    CHECK(parse("GET / HTTP/1.1\r\nbroken\r\n\r\n", &r) == HTTP_REQUEST_REJECT && r.status == 400,
           "header without colon: %d", r.status);
    const uint8_t binary[] = {0x24, 0x99, 0x0c, 'n'};
    CHECK(http_request_parse(binary, sizeof binary, &r) == HTTP_REQUEST_REJECT && r.status == 400,
           "binary bytes must be refused at once");
    static char huge[9000];
    memset(huge, 'a', sizeof huge - 1);
    CHECK(parse(huge, &r) == HTTP_REQUEST_REJECT && r.status == 431, "huge header: %d", r.status);
}

static void test_date_and_answers(void)
{
    char d[30];
    http_format_date(0, d);
    CHECK(strcmp(d, "Thu, 01 Jan 1970 00:00:00 GMT") == 0, "%s", d);
    http_format_date(1232323200 + 3661, d); /* 2009-01-19 01:01:01 UTC, a Monday */
    CHECK(strcmp(d, "Mon, 19 Jan 2009 01:01:01 GMT") == 0, "%s", d);
    http_format_date(951782400, d); /* 2000-02-29, a leap day */
    CHECK(strcmp(d, "Tue, 29 Feb 2000 00:00:00 GMT") == 0, "%s", d);
    hmtp_buf b;
    hmtp_buf_init(&b);
    http_write_switching(&b, "Resin/4.0.0", "D", false);
    hmtp_buf_append_byte(&b, 0);
    CHECK(strcmp((char *)b.data, "HTTP/1.1 101 Switching Protocols\r\nServer: Resin/4.0.0\r\n"
                                  "Content-Length: 0\r\nDate: D\r\n\r\n") == 0,
           "%s", (char *)b.data);
    hmtp_buf_reset(&b);
    http_write_error(&b, 404, "nope", "S", "D");
    hmtp_buf_append_byte(&b, 0);
    CHECK(strstr((char *)b.data, "HTTP/1.1 404 Not Found\r\n") == (char *)b.data &&
               strstr((char *)b.data, "Content-Length: 5\r\n") &&
               strstr((char *)b.data, "\r\n\r\nnope\n"),
           "%s", (char *)b.data);
    hmtp_buf_free(&b);
}

static void test_config(void)
{
    broker_config c;
    broker_config_init(&c);
    GError *e = NULL;
    CHECK(broker_config_set_listen(&c, "127.0.0.1:0", &e) && c.listen_port == 0, "port 0");
    CHECK(broker_config_set_listen(&c, "[::1]:9000", &e) && strcmp(c.listen_host, "::1") == 0 &&
               c.listen_port == 9000,
           "IPv6");
    CHECK(!broker_config_set_listen(&c, "127.0.0.1:70000", &e) && e, "port range");
    g_clear_error(&e);
    CHECK(!broker_config_set_listen(&c, "example.com:80", &e) && e, "names are refused");
    g_clear_error(&e);
    CHECK(!broker_config_set_listen(&c, "8080", &e) && e, "no colon");
    g_clear_error(&e);
    CHECK(broker_config_add_user(&c, "ferg:se:cret", "t", &e), "colon in password");
    CHECK(strcmp(broker_config_password(&c, "ferg"), "se:cret") == 0, "password");
    CHECK(broker_config_password(&c, "nobody") == NULL, "unknown user");
    CHECK(!broker_config_add_user(&c, ":pw", "t", &e) && e, "empty uid");
    g_clear_error(&e);
    CHECK(!broker_config_add_user(&c, "a/b:pw", "t", &e) && e, "slash in uid");
    g_clear_error(&e);
    char *j = broker_config_service_jid(&c, "news");
    CHECK(strcmp(j, "news@localhost") == 0, "%s", j);
    g_free(j);
    j = broker_config_service_jid(&c, "feed@cnn.com");
    CHECK(strcmp(j, "feed@cnn.com") == 0, "%s", j);
    g_free(j);
    CHECK(!broker_config_load_users_file(&c, "/nonexistent/users", &e) && e, "missing file");
    g_clear_error(&e);
    broker_config_free(&c);
}

int main(void)
{
    test_requests();
    test_date_and_answers();
    test_config();
    return check_summary("broker_unit");
}
