/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The scenario reader: what each statement parses into, and that every
 * mistake is reported as file:line:column with a message naming it. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hmtp.h"
#include "scenario.h"

static const char good[] =
    "# a comment line\n"
    "connect alice user=alice password=pw resource=phone   # trailing comment\n"
    "connect bob server=127.0.0.1:9 method=GET path=/x host=example.com:80\n"
    "login bob user=bob password=bad expect=error error=auth/forbidden text=\"no such user\"\n"
    "send alice message to=news@${DOMAIN} value={\n"
    "    \"$class\": \"example.NewsItem\",\n"
    "    \"title\": \"東京 🚀\"\n"
    "}\n"
    "send alice queryGet to=service@localhost from=null id=7 \\\n"
    "    value=42\n"
    "expect alice queryResult id=last from=${alice.jid} timeout=250ms\n"
    "expect alice any\n"
    "send alice queryError to=x@y id=received error=cancel/item-not-found\n"
    "reply alice queryResult value=\"ok\"\n"
    "auto-answer alice presenceProbe with {\"$class\":\"Caps\",\"f\":[\"text\"]}\n"
    "auto-answer alice queryGet reply=queryError error=cancel/forbidden\n"
    "auto-answer alice presenceProbe off\n"
    "expect-nothing alice message for=1.5s\n"
    "raw alice hex=\"00 ff:10\"\n"
    "raw alice \"GET / HTTP/1.0\\r\\n\"\n"
    "send alice message truncate=3\n"
    "sleep 2s\n"
    "set timeout 10s\n"
    "print hello   world\n"
    "discard alice\n"
    "expect-close alice timeout=1min\n"
    "close bob abort\n";

static void test_good(void)
{
    scenario s;
    hmtp_tool_error err = {0};
    scn_define defs[] = {{"DOMAIN", "localhost"}};
    bool ok = scenario_parse(&s, "good.hmtp", good, strlen(good), defs, 1, &err);
    if (!ok) {
        scenario_locate_error(&s, &err);
        CHECK(ok, "%s", err.msg);
        scenario_free(&s);
        return;
    }
    CHECK(s.n == 22, "%zu statements", s.n);
    const scn_stmt *st = s.stmts;
    CHECK(st[0].op == SCN_CONNECT && st[0].line == 2 && st[0].login && strcmp(st[0].user, "alice") == 0 &&
              strcmp(st[0].password, "pw") == 0 && strcmp(st[0].resource, "phone") == 0 &&
              strcmp(st[0].method, "CONNECT") == 0 && strcmp(st[0].path, "/hmtp") == 0 && !st[0].server,
          "connect alice");
    CHECK(st[1].op == SCN_CONNECT && !st[1].login && strcmp(st[1].server, "127.0.0.1:9") == 0 &&
              strcmp(st[1].method, "GET") == 0 && strcmp(st[1].path, "/x") == 0 &&
              strcmp(st[1].host_header, "example.com:80") == 0,
          "connect bob");
    CHECK(st[2].op == SCN_LOGIN && st[2].login_must_fail && strcmp(st[2].packet.error_type, "auth") == 0 &&
              strcmp(st[2].packet.error_group, "forbidden") == 0 &&
              strcmp(st[2].packet.error_text, "no such user") == 0,
          "login bob");
    const scn_packet *p = &st[3].packet;
    CHECK(st[3].op == SCN_SEND && st[3].line == 5 && p->type == HMTP_MESSAGE && p->to.set &&
              strcmp(p->to.text, "news@localhost") == 0 && !p->from.set,
          "send message");
    CHECK(p->value && p->value->kind == JSON_OBJECT && p->value->n == 2 &&
              strcmp(p->value->items[1]->str.data, "東京 🚀") == 0,
          "multi-line value");
    p = &st[4].packet;
    CHECK(st[4].line == 9 && p->type == HMTP_QUERY_GET && p->from.is_null && p->id_kind == SCN_ID_VALUE &&
              p->id == 7 && p->value && p->value->kind == JSON_NUMBER && strcmp(p->value->num.text, "42") == 0,
          "continued line");
    p = &st[5].packet;
    CHECK(st[5].op == SCN_EXPECT && p->id_kind == SCN_ID_LAST_SENT && strcmp(p->from.text, "${alice.jid}") == 0 &&
              st[5].ms == 250,
          "expect");
    CHECK(st[6].packet.type == SCN_TYPE_ANY, "expect any");
    CHECK(st[7].packet.id_kind == SCN_ID_LAST_RECEIVED && strcmp(st[7].packet.error_group, "item-not-found") == 0,
          "queryError");
    CHECK(st[8].op == SCN_REPLY && st[8].packet.type == HMTP_QUERY_RESULT, "reply");
    CHECK(st[9].op == SCN_AUTO_ANSWER && st[9].trigger == HMTP_PRESENCE_PROBE &&
              st[9].packet.type == HMTP_PRESENCE && st[9].packet.value,
          "auto-answer probe");
    CHECK(st[10].trigger == HMTP_QUERY_GET && st[10].packet.type == HMTP_QUERY_ERROR, "auto-answer query");
    CHECK(st[11].off, "auto-answer off");
    CHECK(st[12].op == SCN_EXPECT_NOTHING && st[12].packet.type == HMTP_MESSAGE && st[12].ms == 1500,
          "expect-nothing");
    CHECK(st[13].raw_len == 3 && st[13].raw[0] == 0x00 && st[13].raw[1] == 0xff && st[13].raw[2] == 0x10, "raw hex");
    CHECK(st[14].raw_len == 16 && memcmp(st[14].raw, "GET / HTTP/1.0\r\n", 16) == 0, "raw text");
    CHECK(st[15].packet.has_truncate && st[15].packet.truncate == 3, "truncate");
    CHECK(st[16].op == SCN_SLEEP && st[16].ms == 2000, "sleep");
    CHECK(st[17].op == SCN_SET_TIMEOUT && st[17].ms == 10000, "set timeout");
    CHECK(st[18].op == SCN_PRINT && strcmp(st[18].text, "hello   world") == 0, "print '%s'", st[18].text);
    CHECK(st[19].op == SCN_DISCARD, "discard");
    CHECK(st[20].op == SCN_EXPECT_CLOSE && st[20].ms == 60000, "expect-close");
    CHECK(st[21].op == SCN_CLOSE && st[21].abort, "close abort");
    scenario_free(&s);
}

/* text must fail with "file:LINE:COL: ..." containing fragment. */
static void bad(int line, const char *text, const char *where, const char *fragment)
{
    scenario s;
    hmtp_tool_error err = {0};
    scn_define defs[] = {{"X", "1"}};
    bool ok = scenario_parse(&s, "t.hmtp", text, strlen(text), defs, 1, &err);
    CHECK(!ok, "line %d: accepted: %s", line, text);
    if (!ok) {
        scenario_locate_error(&s, &err);
        const char *msg = err.msg;
        CHECK(strncmp(msg, where, strlen(where)) == 0 && msg[strlen(where)] == ':',
              "line %d: message '%s' does not start with %s:", line, msg, where);
        CHECK(strstr(msg, fragment) != NULL, "line %d: message '%s' lacks '%s'", line, msg, fragment);
    }
    scenario_free(&s);
}

static void test_bad(void)
{
    bad(__LINE__, "frobnicate alice\n", "t.hmtp:1:1", "unknown command 'frobnicate'");
    bad(__LINE__, "connect a\nsend a mesage\n", "t.hmtp:2:8", "unknown packet type 'mesage'");
    bad(__LINE__, "connect a\nsend b message\n", "t.hmtp:2:6", "no connection named 'b'");
    bad(__LINE__, "connect a\n\nsend a queryError id=1\n", "t.hmtp:3:8", "needs error=TYPE/GROUP");
    bad(__LINE__, "connect a\nsend a presence id=3\n", "t.hmtp:2:8", "presence packets have no id");
    bad(__LINE__, "connect a\nsend a message error=cancel/x\n", "t.hmtp:2:8", "carry no error");
    bad(__LINE__, "sleep 5\n", "t.hmtp:1:7", "not a duration");
    bad(__LINE__, "connect a\nsend a message too=x\n", "t.hmtp:2:16", "does not take too=");
    bad(__LINE__, "connect a\nsend a message oops\n", "t.hmtp:2:16", "unexpected word");
    bad(__LINE__, "connect a\nsend a message value={\n  \"$class\": \"C\",\n  \"n\": 01\n}\n", "t.hmtp:4:8",
        "malformed number");
    bad(__LINE__, "connect a\nsend a message value={\"k\":1}\n", "t.hmtp:2:22", "plain JSON object");
    bad(__LINE__, "connect a\nsend a message value=hello\n", "t.hmtp:2:22", "expected a JSON value");
    bad(__LINE__, "connect a\nsend a message value={\"$any\":1}\n", "t.hmtp:2:22", "only for expect");
    bad(__LINE__, "connect a\nsend a message value={\"$class\":\"C\"\n", "t.hmtp:3:1", "expected ',' or '}'");
    bad(__LINE__, "connect a\nsend a message to=${Y}@x\n", "t.hmtp:2:19", "${Y} is not defined");
    bad(__LINE__, "connect a\nsend a message to=${b.jid}\n", "t.hmtp:2:19", "no connection named 'b'");
    bad(__LINE__, "connect a\nraw a hex=abc\n", "t.hmtp:2:11", "even number");
    bad(__LINE__, "connect a\nraw a hex=zz\n", "t.hmtp:2:11", "not a hex digit");
    bad(__LINE__, "set speed 1s\n", "t.hmtp:1:1", "set timeout");
    bad(__LINE__, "connect a user=u\n", "t.hmtp:1:11", "needs password=");
    bad(__LINE__, "connect a\nlogin a user=u password=p error=auth/forbidden\n", "t.hmtp:2:1", "expect=error");
    bad(__LINE__, "connect a method=POST\n", "t.hmtp:1:18", "CONNECT or GET");
    bad(__LINE__, "connect a\nauto-answer a message with 1\n", "t.hmtp:2:15", "reply=TYPE");
    bad(__LINE__, "connect a\nexpect a message id=x\n", "t.hmtp:2:21", "id must be");
    bad(__LINE__, "connect a\nclose a gently\n", "t.hmtp:2:9", "abort");
    bad(__LINE__, "connect a\nsend a message value=\"abc\n", "t.hmtp:2:22", "not closed");
}

/* login=plain|encrypted picks Resin's early or late-January-2009 login per
 * connection; without it the command line decides. */
static void test_login_modes(void)
{
    static const char text[] = "connect a user=u password=p login=plain\n"
                               "connect b\n"
                               "login b user=u password=p login=encrypted expect=error\n"
                               "connect c user=u password=p\n";
    scenario s;
    hmtp_tool_error err = {0};
    bool ok = scenario_parse(&s, "m.hmtp", text, sizeof text - 1, NULL, 0, &err);
    CHECK(ok, "login modes not parsed");
    if (ok) {
        CHECK(s.n == 4 && s.stmts[0].login_mode == SCN_LOGIN_PLAIN &&
                  s.stmts[2].login_mode == SCN_LOGIN_ENCRYPTED && s.stmts[2].login_must_fail &&
                  s.stmts[3].login_mode == SCN_LOGIN_DEFAULT,
              "login modes: %d %d %d", (int)s.stmts[0].login_mode, (int)s.stmts[2].login_mode,
              (int)s.stmts[3].login_mode);
    }
    scenario_free(&s);
    bad(__LINE__, "connect a user=u password=p login=rsa\n", "t.hmtp:1:35", "login must be plain or encrypted");
    bad(__LINE__, "connect a login=plain\n", "t.hmtp:1:1", "needs user= and password=");
}

static void test_nul(void)
{
    scenario s;
    hmtp_tool_error err = {0};
    static const char text[] = "sleep 1s\nx\0y";
    CHECK(!scenario_parse(&s, "t.hmtp", text, sizeof text - 1, NULL, 0, &err), "NUL accepted");
    scenario_locate_error(&s, &err);
    const char *msg = err.msg;
    CHECK(strncmp(msg, "t.hmtp:2:2: ", 12) == 0 && strstr(msg, "NUL byte"), "message '%s'", msg);
    scenario_free(&s);
}

int main(void)
{
    test_login_modes();
    test_nul();
    test_good();
    test_bad();
    return check_summary("client_scenario");
}
