/* SPDX-License-Identifier: GPL-2.0-or-later */
/* End-to-end tests of hmtp-broker: each case starts a broker on an ephemeral
 * loopback port, drives it with clients built on the core codec and checks
 * the packets (type, to, from, id, payload, error) that come back.
 * Usage: broker_e2e BROKER_EXE CASE */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker_process.h"
#include "check.h"
#include "wire_client.h"

#define TIMEOUT 5000

static const char *broker_exe;

/* ---- values ---- */

static hessian_value *str(hmtp_arena *a, const char *s)
{
    return hessian_new_string(a, s, s ? strlen(s) : 0);
}

static hessian_value *obj1(hmtp_arena *a, const char *cls, const char *field, hessian_value *v)
{
    const char *names[] = {field};
    hessian_value *o = hessian_new_object(a, cls, 1, names);
    hessian_object_set(o, field, v);
    return o;
}

static const char *cls_of(const hessian_value *v)
{
    return v && v->kind == HESSIAN_OBJECT && v->v.object.cls ? v->v.object.cls : "(not an object)";
}

static const char *nz(const char *s)
{
    return s ? s : "(null)";
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Receives one packet and checks its type, from and to. */
static bool expect(wire_client *c, hmtp_packet *p, int32_t type, const char *from, const char *to)
{
    int r = wire_recv(c, p, TIMEOUT);
    REQUIRE(r == 1, "expected %s from %s: %s", hmtp_type_name(type), nz(from), c->error);
    REQUIRE(p->type == type && same(p->from, from) && same(p->to, to),
            "expected %s from=%s to=%s, got %s from=%s to=%s", hmtp_type_name(type), nz(from),
            nz(to), nz(hmtp_type_name(p->type)), nz(p->from), nz(p->to));
    return true;
}

static bool expect_error(wire_client *c, hmtp_packet *p, int32_t type, const char *from,
                         const char *etype, const char *group)
{
    if (!expect(c, p, type, from, c->jid[0] ? c->jid : NULL))
        return false;
    REQUIRE(same(p->error.type, etype) && same(p->error.group, group),
            "expected BamError %s/%s, got %s/%s (%s)", etype, group, nz(p->error.type),
            nz(p->error.group), nz(p->error.text));
    REQUIRE(strcmp(cls_of(p->error_value), HMTP_BAM_ERROR_CLASS) == 0, "error is a %s",
            cls_of(p->error_value));
    return true;
}

/* Whether the broker under test runs with --presence-payloads. */
static bool presence_payloads;

/* The payload the broker puts in presence packets it originates: null, or
 * with --presence-payloads hmtp.BrokerPresence {_jid}. */
static bool broker_presence_of(const hmtp_packet *p, const char *jid)
{
    if (!presence_payloads)
        return p->value && p->value->kind == HESSIAN_NULL;
    return strcmp(cls_of(p->value), "hmtp.BrokerPresence") == 0 &&
           same(hessian_value_string(hessian_object_field(p->value, "_jid")), jid);
}

static bool nothing_arrives(wire_client *c, int ms)
{
    hmtp_packet p;
    int r = wire_recv(c, &p, ms);
    if (r == 1) {
        fprintf(stderr, "unexpected %s from=%s to=%s\n", hmtp_type_name(p.type), nz(p.from),
                nz(p.to));
        hmtp_packet_free(&p);
        return false;
    }
    return r == 0;
}

/* ---- fixture ---- */

static const char *const any_user[] = {"--allow-any-user", NULL};
static const char *const login_timeout_1s[] = {"--allow-any-user", "--login-timeout", "1", NULL};

/* ---- HTTP upgrade ---- */

static bool case_upgrade_resin(broker_process *b)
{
    wire_client c;
    REQUIRE(wire_connect(&c, b->port), "%s", c.error);
    char head[1024];
    bool ok = wire_http(&c, WIRE_UPGRADE_REQUEST, head, sizeof head, TIMEOUT);
    wire_close(&c);
    REQUIRE(ok, "no answer");
    const char *want = "HTTP/1.1 101 Switching Protocols\r\nServer: Resin/4.0.0\r\n"
                       "Content-Length: 0\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n";
    REQUIRE(strcmp(head, want) == 0, "101 differs from Resin's shape:\n%s", head);
    /* GET works as well as CONNECT */
    REQUIRE(wire_connect(&c, b->port), "%s", c.error);
    ok = wire_http(&c, "GET /hmtp HTTP/1.1\r\nHost: x\r\nUpgrade: HMTP/0.9\r\n\r\n", head,
                   sizeof head, TIMEOUT);
    wire_close(&c);
    REQUIRE(ok && strncmp(head, "HTTP/1.1 101 ", 13) == 0, "GET upgrade answered %s", head);
    return true;
}

static bool case_upgrade_header(broker_process *b)
{
    wire_client c;
    REQUIRE(wire_connect(&c, b->port), "%s", c.error);
    char head[1024];
    bool ok = wire_http(&c, WIRE_UPGRADE_REQUEST, head, sizeof head, TIMEOUT);
    wire_close(&c);
    REQUIRE(ok && strncmp(head, "HTTP/1.1 101 ", 13) == 0, "answer %s", head);
    REQUIRE(strstr(head, "\r\nUpgrade: HMTP/0.9\r\n") && strstr(head, "\r\nConnection: Upgrade\r\n"),
            "no RFC 7230 headers:\n%s", head);
    return true;
}

static bool http_answer(broker_process *b, const char *request, const char *status_line,
                        const char *log_needle)
{
    wire_client c;
    REQUIRE(wire_connect(&c, b->port), "%s", c.error);
    char head[1024];
    wire_http(&c, request, head, sizeof head, TIMEOUT);
    bool closed = wire_wait_closed(&c, TIMEOUT);
    /* the body follows the header: it must be a short non-empty text */
    size_t body = c.raw.len - strlen(head);
    wire_close(&c);
    REQUIRE(strncmp(head, status_line, strlen(status_line)) == 0, "expected '%s', got '%.80s'",
            status_line, head);
    REQUIRE(strstr(head, "Content-Type: text/plain"), "no text body: %s", head);
    REQUIRE(body > 1, "empty body");
    REQUIRE(closed, "connection not closed after %s", status_line);
    REQUIRE(broker_log_has(b, log_needle, TIMEOUT), "no log line with '%s'", log_needle);
    return true;
}

static bool case_http_errors(broker_process *b)
{
    if (!http_answer(b, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 Not Found",
                     "rejected: HTTP 404"))
        return false;
    if (!http_answer(b, "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", "HTTP/1.1 404 ",
                     "only upgrades to HMTP/0.9"))
        return false;
    if (!http_answer(b, "POST /hmtp HTTP/1.1\r\nUpgrade: HMTP/0.9\r\n\r\n", "HTTP/1.1 405 ",
                     "rejected: HTTP 405"))
        return false;
    if (!http_answer(b, "\x03\x90\x4e\x4e\x4e\x00", "HTTP/1.1 400 ", "rejected: HTTP 400"))
        return false;
    if (!http_answer(b, "GET /hmtp HTTP/2.0\r\nUpgrade: HMTP/0.9\r\n\r\n", "HTTP/1.1 505 ",
                     "rejected: HTTP 505"))
        return false;
    /* still serving */
    wire_client c;
    bool ok = wire_open(&c, b->port, "ferg", "pw", NULL);
    wire_close(&c);
    REQUIRE(ok, "broker stopped serving after HTTP errors: %s", c.error);
    return true;
}

/* ---- login ---- */

static bool case_login(broker_process *b)
{
    wire_client c;
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *q = hmtp_new_auth_query(&a, "ferg", NULL, str(&a, "secret"));
    bool ok = wire_send(&c, HMTP_QUERY_SET, NULL, NULL, 0, q, NULL);
    hmtp_arena_free(&a);
    REQUIRE(ok, "%s", c.error);
    hmtp_packet p;
    if (!expect(&c, &p, HMTP_QUERY_RESULT, NULL, "ferg@localhost/hmtp-1"))
        return false;
    const char *jid = hessian_value_string(hessian_object_field(p.value, "_jid"));
    bool good = p.has_id && p.id == 0 &&
                strcmp(cls_of(p.value), HMTP_AUTH_RESULT_CLASS) == 0 &&
                same(jid, "ferg@localhost/hmtp-1");
    hmtp_packet_free(&p);
    wire_close(&c);
    REQUIRE(good, "AuthResult wrong (jid %s)", nz(jid));
    /* a given resource is kept; ids are echoed */
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    int t = wire_login(&c, "ada", "pw", "phone", 7, NULL, 0);
    wire_close(&c);
    REQUIRE(t == HMTP_QUERY_RESULT && strcmp(c.jid, "ada@localhost/phone") == 0,
            "login with resource: type %d jid %s", t, c.jid);
    REQUIRE(broker_log_has(b, "conn 2 logged in as ada@localhost/phone", TIMEOUT), "no log line");
    /* a second login on one link is refused */
    REQUIRE(wire_open(&c, b->port, "bob", "pw", "x"), "%s", c.error);
    char group[64] = "";
    t = wire_login(&c, "bob", "pw", "y", 1, group, sizeof group);
    wire_close(&c);
    REQUIRE(t == HMTP_QUERY_ERROR && strcmp(group, "bad-request") == 0, "relogin: %d %s", t, group);
    /* the same full JID twice: conflict */
    wire_client d;
    REQUIRE(wire_open(&c, b->port, "eve", "pw", "same"), "%s", c.error);
    REQUIRE(wire_connect(&d, b->port) && wire_upgrade(&d), "%s", d.error);
    t = wire_login(&d, "eve", "pw", "same", 0, group, sizeof group);
    wire_close(&c);
    wire_close(&d);
    REQUIRE(t == HMTP_QUERY_ERROR && strcmp(group, "conflict") == 0, "conflict: %d %s", t, group);
    return true;
}

static bool case_login_refused(broker_process *b)
{
    wire_client c;
    char group[64] = "";
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    /* wrong password: auth/forbidden as Resin answers, the AuthQuery comes back as value */
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *q = hmtp_new_auth_query(&a, "ferg", NULL, str(&a, "wrong"));
    REQUIRE(wire_send(&c, HMTP_QUERY_SET, NULL, NULL, 0, q, NULL), "%s", c.error);
    hmtp_packet p;
    bool ok = expect_error(&c, &p, HMTP_QUERY_ERROR, NULL, "auth", "forbidden");
    if (ok) {
        const char *uid = hessian_value_string(hessian_object_field(p.value, "_uid"));
        ok = p.id == 0 && strcmp(cls_of(p.value), HMTP_AUTH_QUERY_CLASS) == 0 && same(uid, "ferg");
        hmtp_packet_free(&p);
    }
    hmtp_arena_free(&a);
    REQUIRE(ok, "refusal does not carry the AuthQuery back");
    /* an unknown user, then the right one on the same link */
    int t = wire_login(&c, "mallory", "secret", NULL, 1, group, sizeof group);
    REQUIRE(t == HMTP_QUERY_ERROR && strcmp(group, "forbidden") == 0, "unknown user: %d %s", t,
            group);
    t = wire_login(&c, "ferg", "secret", NULL, 2, NULL, 0);
    wire_close(&c);
    REQUIRE(t == HMTP_QUERY_RESULT, "right password refused");
    /* users from the file */
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    t = wire_login(&c, "filed", "frompass", "r", 0, NULL, 0);
    wire_close(&c);
    REQUIRE(t == HMTP_QUERY_RESULT, "user from --users-file refused");
    REQUIRE(broker_log_has(b, "login refused for 'mallory'", TIMEOUT), "no refusal log line");
    return true;
}

/* Before login the broker answers as Resin's AuthBrokerStream: queries get
 * cancel/forbidden, messages and presence are dropped (logged with -v). */
static bool case_before_login(broker_process *b)
{
    wire_client c;
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *payload = str(&a, "early");
    hmtp_packet p;
    REQUIRE(wire_send(&c, HMTP_MESSAGE, "news@localhost", NULL, 0, payload, NULL), "%s", c.error);
    REQUIRE(wire_send(&c, HMTP_PRESENCE_SUBSCRIBE, "news@localhost", NULL, 0, payload, NULL), "%s",
            c.error);
    REQUIRE(wire_send(&c, HMTP_PRESENCE, NULL, NULL, 0, payload, NULL), "%s", c.error);
    /* a queryResult before login gets no error either (never an error for a result) */
    REQUIRE(wire_send(&c, HMTP_QUERY_RESULT, "x@localhost", NULL, 1, payload, NULL), "%s", c.error);
    /* the query's error is the first thing to arrive: the rest was dropped */
    bool ok = wire_send(&c, HMTP_QUERY_GET, "service@localhost", NULL, 5, payload, NULL) &&
              expect_error(&c, &p, HMTP_QUERY_ERROR, "service@localhost", "cancel", "forbidden");
    REQUIRE(ok, "query before login");
    ok = p.id == 5 && same(hessian_value_string(p.value), "early");
    hmtp_packet_free(&p);
    REQUIRE(ok, "queryError id or payload not echoed");
    /* a querySet that is not an AuthQuery, and an AuthQuery not sent to null */
    ok = wire_send(&c, HMTP_QUERY_SET, NULL, NULL, 6, payload, NULL) &&
         expect_error(&c, &p, HMTP_QUERY_ERROR, NULL, "cancel", "forbidden");
    REQUIRE(ok, "querySet before login");
    hmtp_packet_free(&p);
    hessian_value *auth = hmtp_new_auth_query(&a, "late", NULL, str(&a, "pw"));
    ok = wire_send(&c, HMTP_QUERY_SET, "service@localhost", NULL, 7, auth, NULL) &&
         expect_error(&c, &p, HMTP_QUERY_ERROR, "service@localhost", "cancel", "forbidden");
    REQUIRE(ok, "AuthQuery to a service");
    hmtp_packet_free(&p);
    REQUIRE(nothing_arrives(&c, 200), "a dropped packet was answered");
    /* the public key query of the encrypted login is answered */
    hessian_value *pk = obj1(&a, HMTP_GET_PUBLIC_KEY_QUERY_CLASS, "_algorithm", str(&a, NULL));
    ok = wire_send(&c, HMTP_QUERY_GET, NULL, NULL, 1, pk, NULL) &&
         expect(&c, &p, HMTP_QUERY_RESULT, NULL, NULL);
    REQUIRE(ok, "GetPublicKeyQuery");
    ok = p.id == 1 && strcmp(cls_of(p.value), HMTP_GET_PUBLIC_KEY_QUERY_CLASS) == 0;
    hmtp_packet_free(&p);
    hmtp_arena_free(&a);
    REQUIRE(ok, "GetPublicKeyQuery answer");
    int t = wire_login(&c, "late", "pw", NULL, 2, NULL, 0);
    wire_close(&c);
    REQUIRE(t == HMTP_QUERY_RESULT, "login after refused packets failed");
    REQUIRE(broker_log_has(b, "conn 1 dropped message to=news@localhost: not logged in", TIMEOUT),
            "no log line for the dropped message");
    REQUIRE(broker_log_has(b, "conn 1 dropped presenceSubscribe to=news@localhost: not logged in", 0),
            "no log line for the dropped presence");
    return true;
}

/* ---- routing ---- */

static bool case_routing(broker_process *b)
{
    wire_client A, B;
    REQUIRE(wire_open(&A, b->port, "alice", "pw", "a"), "%s", A.error);
    REQUIRE(wire_open(&B, b->port, "bob", "pw", "b"), "%s", B.error);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hmtp_packet p;
    /* message to a full JID, with a forged from: the broker writes the link's JID */
    REQUIRE(wire_send(&A, HMTP_MESSAGE, "bob@localhost/b", "evil@elsewhere", 0, str(&a, "hi"), NULL),
            "%s", A.error);
    REQUIRE(expect(&B, &p, HMTP_MESSAGE, "alice@localhost/a", "bob@localhost/b"), "full JID");
    bool ok = same(hessian_value_string(p.value), "hi");
    hmtp_packet_free(&p);
    REQUIRE(ok, "payload changed");
    /* message to a bare JID, with from=null as Resin's client sends */
    REQUIRE(wire_send(&A, HMTP_MESSAGE, "bob@localhost", NULL, 0, str(&a, "bare"), NULL), "%s",
            A.error);
    REQUIRE(expect(&B, &p, HMTP_MESSAGE, "alice@localhost/a", "bob@localhost"), "bare JID");
    hmtp_packet_free(&p);
    /* a query answered by the other client, the answer routed back */
    hessian_value *qv = obj1(&a, "example.Question", "_text", str(&a, "how?"));
    REQUIRE(wire_send(&A, HMTP_QUERY_GET, "bob@localhost/b", "alice@localhost/a", 42, qv, NULL),
            "%s", A.error);
    REQUIRE(expect(&B, &p, HMTP_QUERY_GET, "alice@localhost/a", "bob@localhost/b"), "query");
    ok = p.id == 42 && strcmp(cls_of(p.value), "example.Question") == 0;
    hmtp_packet_free(&p);
    REQUIRE(ok, "query id or payload changed");
    hessian_value *av = obj1(&a, "example.Answer", "_text", str(&a, "so"));
    REQUIRE(wire_send(&B, HMTP_QUERY_RESULT, "alice@localhost/a", NULL, 42, av, NULL), "%s",
            B.error);
    REQUIRE(expect(&A, &p, HMTP_QUERY_RESULT, "bob@localhost/b", "alice@localhost/a"), "answer");
    ok = p.id == 42 && strcmp(cls_of(p.value), "example.Answer") == 0;
    hmtp_packet_free(&p);
    REQUIRE(ok, "answer id or payload changed");
    /* presence between clients goes through too */
    REQUIRE(wire_send(&B, HMTP_PRESENCE, "alice@localhost/a", NULL, 0, str(&a, "here"), NULL), "%s",
            B.error);
    REQUIRE(expect(&A, &p, HMTP_PRESENCE, "bob@localhost/b", "alice@localhost/a"), "presence");
    hmtp_packet_free(&p);
    hmtp_arena_free(&a);
    wire_close(&A);
    wire_close(&B);
    return true;
}

static bool case_unknown_jid(broker_process *b)
{
    wire_client A;
    REQUIRE(wire_open(&A, b->port, "alice", "pw", "a"), "%s", A.error);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *payload = obj1(&a, "example.NewsItem", "_title", str(&a, "lost"));
    hmtp_packet p;
    /* as Resin's HempBroker: a query to nobody is answered
       cancel/service-unavailable with Resin's text, the payload and id
       carried back */
    const int32_t queries[] = {HMTP_QUERY_GET, HMTP_QUERY_SET};
    for (size_t i = 0; i < 2; i++) {
        REQUIRE(wire_send(&A, queries[i], "nobody@localhost/x", NULL, 9, payload, NULL), "%s", A.error);
        REQUIRE(expect_error(&A, &p, HMTP_QUERY_ERROR, "nobody@localhost/x", "cancel", "service-unavailable"),
                "after %s", hmtp_type_name(queries[i]));
        char want[80];
        snprintf(want, sizeof want, "'nobody@localhost/x' is an unknown service for %s", hmtp_type_name(queries[i]));
        const char *title = hessian_value_string(hessian_object_field(p.value, "_title"));
        bool ok = same(title, "lost") && strcmp(cls_of(p.value), "example.NewsItem") == 0 && p.id == 9 &&
                  same(p.error.text, want);
        hmtp_packet_free(&p);
        REQUIRE(ok, "payload, id or text not as Resin's");
    }
    /* messages and presence to nobody (a full JID not connected, a bare JID
       of a user that is not, a wrong resource of one that is) are dropped */
    const int32_t dropped[] = {HMTP_MESSAGE, HMTP_PRESENCE_SUBSCRIBE, HMTP_PRESENCE, HMTP_MESSAGE_ERROR};
    const char *const nobody[] = {"nobody@localhost/x", "ghost@localhost", "alice@localhost/other"};
    for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++)
        for (size_t k = 0; k < 3; k++)
            REQUIRE(wire_send(&A, dropped[i], nobody[k], NULL, 0, payload, NULL), "%s", A.error);
    REQUIRE(nothing_arrives(&A, 300), "a message or presence to nobody was answered");
    /* errors and results to nobody are dropped, not answered */
    REQUIRE(wire_send(&A, HMTP_QUERY_RESULT, "nobody@localhost", NULL, 1, payload, NULL), "%s",
            A.error);
    REQUIRE(nothing_arrives(&A, 300), "a result to nobody was answered");
    hmtp_arena_free(&a);
    wire_close(&A);
    return true;
}

/* ---- services ---- */

static bool ping(wire_client *c, const char *service, int64_t id, const char *want_server)
{
    hmtp_arena a;
    hmtp_arena_init(&a);
    const char *names[] = {"_payload", "_server"};
    hessian_value *q = hessian_new_object(&a, "hmtp.PingQuery", 2, names);
    hessian_object_set(q, "_payload", str(&a, "echo me"));
    bool sent = wire_send(c, HMTP_QUERY_GET, service, c->jid, id, q, NULL);
    hmtp_arena_free(&a);
    REQUIRE(sent, "%s", c->error);
    hmtp_packet p;
    REQUIRE(expect(c, &p, HMTP_QUERY_RESULT, service, c->jid), "ping to %s", service);
    const char *payload = hessian_value_string(hessian_object_field(p.value, "_payload"));
    const char *server = hessian_value_string(hessian_object_field(p.value, "_server"));
    bool ok = p.id == id && strcmp(cls_of(p.value), "hmtp.PingQuery") == 0 &&
              same(payload, "echo me") && same(server, want_server);
    char seen[200];
    snprintf(seen, sizeof seen, "id %lld payload %s server %s", (long long)p.id, nz(payload),
             nz(server));
    hmtp_packet_free(&p);
    REQUIRE(ok, "ping answer: %s", seen);
    return true;
}

static bool case_queries(broker_process *b)
{
    wire_client c;
    REQUIRE(wire_open(&c, b->port, "q", "pw", "r"), "%s", c.error);
    if (!ping(&c, "service@localhost", 1, "hmtp-broker") ||
        !ping(&c, "news@localhost", 2, "hmtp-broker"))
        return false;
    hmtp_arena a;
    hmtp_arena_init(&a);
    hmtp_packet p;
    hessian_value *odd = obj1(&a, "example.Unknown", "_x", hessian_new_int(&a, 3));
    REQUIRE(wire_send(&c, HMTP_QUERY_GET, "service@localhost", c.jid, 3, odd, NULL), "%s", c.error);
    REQUIRE(expect_error(&c, &p, HMTP_QUERY_ERROR, "service@localhost", "cancel",
                         "feature-not-implemented"),
            "unsupported query");
    bool ok = p.id == 3 && strcmp(cls_of(p.value), "example.Unknown") == 0;
    hmtp_packet_free(&p);
    REQUIRE(ok, "unsupported query: id or payload not carried back");
    /* a query to the broker itself (to=null) after login */
    REQUIRE(wire_send(&c, HMTP_QUERY_GET, NULL, c.jid, 4, odd, NULL), "%s", c.error);
    REQUIRE(expect_error(&c, &p, HMTP_QUERY_ERROR, NULL, "cancel", "feature-not-implemented"),
            "query to null");
    hmtp_packet_free(&p);
    /* subscriber list of a service that does not exist */
    hessian_value *sq = obj1(&a, "hmtp.SubscribersQuery", "_service", str(&a, "nope@localhost"));
    REQUIRE(wire_send(&c, HMTP_QUERY_GET, "service@localhost", c.jid, 5, sq, NULL), "%s", c.error);
    REQUIRE(expect_error(&c, &p, HMTP_QUERY_ERROR, "service@localhost", "cancel", "item-not-found"),
            "subscribers of an unknown service");
    hmtp_packet_free(&p);
    hmtp_arena_free(&a);
    wire_close(&c);
    return true;
}

static bool case_alter_ping(broker_process *b)
{
    wire_client c;
    REQUIRE(wire_open(&c, b->port, "q", "pw", "r"), "%s", c.error);
    bool ok = ping(&c, "service@localhost", 1, "hmtp-broker-altered");
    wire_close(&c);
    return ok;
}

static bool subscribe(wire_client *c, const char *service, const char *caps)
{
    hmtp_arena a;
    hmtp_arena_init(&a);
    hmtp_packet p;
    hessian_value *v = obj1(&a, "example.NewsSubscribe", "_topic", str(&a, "all"));
    bool sent = wire_send(c, HMTP_PRESENCE_SUBSCRIBE, service, NULL, 0, v, NULL);
    REQUIRE(sent, "%s", c->error);
    REQUIRE(expect(c, &p, HMTP_PRESENCE_SUBSCRIBED, service, c->jid), "subscribed");
    bool ok = strcmp(cls_of(p.value), "example.NewsSubscribe") == 0;
    hmtp_packet_free(&p);
    REQUIRE(ok, "presenceSubscribed does not echo the subscribe payload");
    REQUIRE(expect(c, &p, HMTP_PRESENCE, service, c->jid), "service presence");
    ok = broker_presence_of(&p, service);
    hmtp_packet_free(&p);
    REQUIRE(ok, "the service's presence payload is wrong");
    REQUIRE(expect(c, &p, HMTP_PRESENCE_PROBE, service, c->jid), "probe");
    ok = broker_presence_of(&p, service);
    hmtp_packet_free(&p);
    REQUIRE(ok, "the probe's payload is wrong");
    if (caps) {
        hessian_value *cv = obj1(&a, "example.NewsCapabilities", "_formats", str(&a, caps));
        REQUIRE(wire_send(c, HMTP_PRESENCE, service, NULL, 0, cv, NULL), "%s", c->error);
    }
    hmtp_arena_free(&a);
    return true;
}

/* Asks for the subscriber list and compares it with want (NULL-terminated)
 * and the capability text of the first subscriber. */
static bool subscribers_are(wire_client *c, const char *const *want, const char *first_caps)
{
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *q = obj1(&a, "hmtp.SubscribersQuery", "_service", str(&a, "news@localhost"));
    bool sent = wire_send(c, HMTP_QUERY_GET, "service@localhost", c->jid, 77, q, NULL);
    hmtp_arena_free(&a);
    REQUIRE(sent, "%s", c->error);
    hmtp_packet p;
    REQUIRE(expect(c, &p, HMTP_QUERY_RESULT, "service@localhost", c->jid), "subscriber list");
    const hessian_value *list = hessian_object_field(p.value, "_subscribers");
    const hessian_value *caps = hessian_object_field(p.value, "_capabilities");
    size_t n = 0;
    while (want[n])
        n++;
    bool ok = list && list->kind == HESSIAN_LIST && list->v.list.n == n && caps &&
              caps->kind == HESSIAN_MAP && caps->v.map.n == n &&
              same(hessian_value_string(hessian_object_field(p.value, "_service")),
                   "news@localhost");
    for (size_t i = 0; ok && i < n; i++)
        ok = same(hessian_value_string(list->v.list.items[i]), want[i]) &&
             same(hessian_value_string(caps->v.map.keys[i]), want[i]);
    if (ok && n > 0) {
        const hessian_value *c0 = caps->v.map.values[0];
        ok = first_caps ? same(hessian_value_string(hessian_object_field(c0, "_formats")),
                               first_caps)
                        : c0->kind == HESSIAN_NULL;
    }
    hmtp_packet_free(&p);
    REQUIRE(ok, "subscriber list differs (expected %zu subscribers)", n);
    return true;
}

static bool case_pubsub(broker_process *b)
{
    wire_client A, B, P;
    REQUIRE(wire_open(&A, b->port, "alice", "pw", "a"), "%s", A.error);
    REQUIRE(wire_open(&B, b->port, "bob", "pw", "b"), "%s", B.error);
    REQUIRE(wire_open(&P, b->port, "pub", "pw", "p"), "%s", P.error);
    if (!subscribe(&A, "news@localhost", "text/html") || !subscribe(&B, "news@localhost", NULL))
        return false;
    const char *const both[] = {"alice@localhost/a", "bob@localhost/b", NULL};
    if (!subscribers_are(&P, both, "text/html"))
        return false;
    /* the same list from the service itself, with a null _service */
    hmtp_arena a;
    hmtp_arena_init(&a);
    hmtp_packet p;
    hessian_value *q = obj1(&a, "hmtp.SubscribersQuery", "_service", str(&a, NULL));
    REQUIRE(wire_send(&P, HMTP_QUERY_GET, "news@localhost", P.jid, 1, q, NULL), "%s", P.error);
    REQUIRE(expect(&P, &p, HMTP_QUERY_RESULT, "news@localhost", P.jid), "list from news");
    const hessian_value *l = hessian_object_field(p.value, "_subscribers");
    bool ok = l && l->kind == HESSIAN_LIST && l->v.list.n == 2;
    hmtp_packet_free(&p);
    REQUIRE(ok, "news@localhost lists other subscribers");
    /* publish: every subscriber gets it from the service, the publisher nothing */
    hessian_value *item = obj1(&a, "example.NewsItem", "_title", str(&a, "extra"));
    REQUIRE(wire_send(&P, HMTP_MESSAGE, "news@localhost", NULL, 0, item, NULL), "%s", P.error);
    wire_client *subs[] = {&A, &B};
    for (int i = 0; i < 2; i++) {
        REQUIRE(expect(subs[i], &p, HMTP_MESSAGE, "news@localhost", subs[i]->jid), "fan-out %d", i);
        ok = same(hessian_value_string(hessian_object_field(p.value, "_title")), "extra");
        hmtp_packet_free(&p);
        REQUIRE(ok, "fan-out payload differs");
    }
    REQUIRE(nothing_arrives(&P, 200), "publisher got a copy");
    /* a probe to the service is answered with its presence */
    REQUIRE(wire_send(&P, HMTP_PRESENCE_PROBE, "news@localhost", NULL, 0, NULL, NULL), "%s", P.error);
    REQUIRE(expect(&P, &p, HMTP_PRESENCE, "news@localhost", P.jid), "probe answer");
    hmtp_packet_free(&p);
    /* unsubscribe: presenceUnsubscribed then the service's unavailability */
    REQUIRE(wire_send(&A, HMTP_PRESENCE_UNSUBSCRIBE, "news@localhost", NULL, 0, str(&a, "bye"), NULL),
            "%s", A.error);
    REQUIRE(expect(&A, &p, HMTP_PRESENCE_UNSUBSCRIBED, "news@localhost", A.jid), "unsubscribed");
    ok = same(hessian_value_string(p.value), "bye");
    hmtp_packet_free(&p);
    REQUIRE(ok, "presenceUnsubscribed does not echo the payload");
    REQUIRE(expect(&A, &p, HMTP_PRESENCE_UNAVAILABLE, "news@localhost", A.jid), "unavailable");
    hmtp_packet_free(&p);
    REQUIRE(wire_send(&P, HMTP_MESSAGE, "news@localhost", NULL, 0, item, NULL), "%s", P.error);
    REQUIRE(expect(&B, &p, HMTP_MESSAGE, "news@localhost", B.jid), "B still subscribed");
    hmtp_packet_free(&p);
    /* an unsubscribe with a null payload is not answered with null */
    REQUIRE(wire_send(&P, HMTP_PRESENCE_UNSUBSCRIBE, "news@localhost", NULL, 0, NULL, NULL), "%s",
            P.error);
    REQUIRE(expect(&P, &p, HMTP_PRESENCE_UNSUBSCRIBED, "news@localhost", P.jid), "unsubscribed");
    ok = broker_presence_of(&p, "news@localhost");
    hmtp_packet_free(&p);
    REQUIRE(ok, "a null unsubscribe payload was answered wrongly");
    REQUIRE(expect(&P, &p, HMTP_PRESENCE_UNAVAILABLE, "news@localhost", P.jid), "unavailable");
    hmtp_packet_free(&p);
    REQUIRE(nothing_arrives(&A, 200), "unsubscribed client still receives");
    /* presenceUnavailable from a subscriber ends its subscription */
    REQUIRE(wire_send(&B, HMTP_PRESENCE_UNAVAILABLE, "news@localhost", NULL, 0, NULL, NULL), "%s",
            B.error);
    const char *const none[] = {NULL};
    if (!subscribers_are(&P, none, NULL))
        return false;
    hmtp_arena_free(&a);
    wire_close(&A);
    wire_close(&B);
    wire_close(&P);
    REQUIRE(broker_log_has(b, "conn 1 alice@localhost/a subscribed to news@localhost", TIMEOUT),
            "no subscription log line");
    return true;
}

static bool case_disconnect(broker_process *b)
{
    wire_client A, B, W;
    REQUIRE(wire_open(&A, b->port, "alice", "pw", "a"), "%s", A.error);
    REQUIRE(wire_open(&B, b->port, "bob", "pw", "b"), "%s", B.error);
    REQUIRE(wire_open(&W, b->port, "watch", "pw", "w"), "%s", W.error);
    if (!subscribe(&A, "news@localhost", "x") || !subscribe(&B, "news@localhost", NULL))
        return false;
    hmtp_packet p;
    /* B subscribes to A's presence, A accepts */
    REQUIRE(wire_send(&B, HMTP_PRESENCE_SUBSCRIBE, A.jid, NULL, 0, NULL, NULL), "%s", B.error);
    REQUIRE(expect(&A, &p, HMTP_PRESENCE_SUBSCRIBE, B.jid, A.jid), "subscribe to a client");
    hmtp_packet_free(&p);
    REQUIRE(wire_send(&A, HMTP_PRESENCE_SUBSCRIBED, B.jid, NULL, 0, NULL, NULL), "%s", A.error);
    REQUIRE(expect(&B, &p, HMTP_PRESENCE_SUBSCRIBED, A.jid, B.jid), "subscribed by a client");
    hmtp_packet_free(&p);
    /* A's presence to the server reaches its subscriber B, not W */
    REQUIRE(wire_send(&A, HMTP_PRESENCE, NULL, NULL, 0, NULL, NULL), "%s", A.error);
    REQUIRE(expect(&B, &p, HMTP_PRESENCE, A.jid, B.jid), "presence broadcast");
    hmtp_packet_free(&p);
    /* B asks A something A will never answer */
    REQUIRE(wire_send(&B, HMTP_QUERY_GET, A.jid, B.jid, 31, NULL, NULL), "%s", B.error);
    REQUIRE(expect(&A, &p, HMTP_QUERY_GET, B.jid, A.jid), "query to A");
    hmtp_packet_free(&p);
    /* A vanishes without a word */
    char a_jid[256];
    snprintf(a_jid, sizeof a_jid, "%s", A.jid);
    wire_close(&A);
    REQUIRE(expect(&B, &p, HMTP_PRESENCE_UNAVAILABLE, a_jid, B.jid), "B not told A left");
    bool named = broker_presence_of(&p, a_jid);
    hmtp_packet_free(&p);
    REQUIRE(named, "the departure's payload is wrong");
    REQUIRE(expect_error(&B, &p, HMTP_QUERY_ERROR, a_jid, "cancel", "service-unavailable"),
            "B's open query not failed");
    int64_t failed_id = p.id;
    hmtp_packet_free(&p);
    REQUIRE(failed_id == 31, "failed query has id %lld", (long long)failed_id);
    REQUIRE(nothing_arrives(&W, 200), "an unrelated client was told");
    const char *const only_b[] = {"bob@localhost/b", NULL};
    if (!subscribers_are(&W, only_b, NULL))
        return false;
    /* messages to A are now dropped, queries answered service-unavailable */
    REQUIRE(wire_send(&B, HMTP_MESSAGE, a_jid, NULL, 0, NULL, NULL), "%s", B.error);
    REQUIRE(nothing_arrives(&B, 200), "a message to a closed link was answered");
    REQUIRE(wire_send(&B, HMTP_QUERY_GET, a_jid, NULL, 32, NULL, NULL), "%s", B.error);
    REQUIRE(expect_error(&B, &p, HMTP_QUERY_ERROR, a_jid, "cancel", "service-unavailable"), "query to a closed link");
    hmtp_packet_free(&p);
    wire_close(&B);
    wire_close(&W);
    REQUIRE(broker_log_has(b, "conn 1 closed: peer closed", TIMEOUT), "no close log line");
    return true;
}

static bool case_max_subscriptions(broker_process *b)
{
    wire_client c;
    REQUIRE(wire_open(&c, b->port, "s", "pw", "r"), "%s", c.error);
    if (!subscribe(&c, "news@localhost", NULL))
        return false;
    hmtp_packet p;
    REQUIRE(wire_send(&c, HMTP_PRESENCE_SUBSCRIBE, "sport@localhost", NULL, 0, NULL, NULL), "%s",
            c.error);
    REQUIRE(expect_error(&c, &p, HMTP_PRESENCE_ERROR, "sport@localhost", "wait",
                         "resource-constraint"),
            "limit not enforced");
    hmtp_packet_free(&p);
    /* re-subscribing to the same service is not a new subscription */
    if (!subscribe(&c, "news@localhost", NULL))
        return false;
    wire_close(&c);
    return true;
}

/* A payload the broker cannot write again: a typed list whose type is an int
 * reference to a name never defined on the link (legal to decode, as in a
 * capture that starts mid-connection). Echoes turn it into null; forwarding
 * refuses it; the link stays up. */
static bool case_unwritable_payload(broker_process *b)
{
    wire_client c, d;
    REQUIRE(wire_open(&c, b->port, "u", "pw", "r"), "%s", c.error);
    REQUIRE(wire_open(&d, b->port, "d", "pw", "r"), "%s", d.error);
    const char subscribe_raw[] = "\x13\x99\x0e" "news@localhost\x4e\x70\x90\x00";
    REQUIRE(wire_send_raw(&c, subscribe_raw, sizeof subscribe_raw - 1), "%s", c.error);
    hmtp_packet p;
    REQUIRE(expect(&c, &p, HMTP_PRESENCE_SUBSCRIBED, "news@localhost", c.jid), "subscribed");
    bool replaced = broker_presence_of(&p, "news@localhost");
    hmtp_packet_free(&p);
    REQUIRE(replaced, "an unwritable payload was echoed");
    REQUIRE(expect(&c, &p, HMTP_PRESENCE, "news@localhost", c.jid), "presence");
    hmtp_packet_free(&p);
    REQUIRE(expect(&c, &p, HMTP_PRESENCE_PROBE, "news@localhost", c.jid), "probe");
    hmtp_packet_free(&p);
    /* message to d@localhost/r with the same payload: refused, not forwarded */
    const char message_raw[] = "\x12\x90\x0d" "d@localhost/r\x4e\x70\x90\x00";
    REQUIRE(wire_send_raw(&c, message_raw, sizeof message_raw - 1), "%s", c.error);
    REQUIRE(expect_error(&c, &p, HMTP_MESSAGE_ERROR, "d@localhost/r", "modify", "bad-request"),
            "unwritable payload forwarded");
    hmtp_packet_free(&p);
    REQUIRE(nothing_arrives(&d, 200), "the recipient got something");
    bool ok = ping(&c, "service@localhost", 3, "hmtp-broker");
    wire_close(&c);
    wire_close(&d);
    return ok;
}

/* ---- determinism ---- */

static bool scripted_session(uint16_t port, hmtp_buf *a_bytes, hmtp_buf *b_bytes)
{
    wire_client A, B;
    REQUIRE(wire_connect(&A, port) && wire_upgrade(&A), "%s", A.error);
    REQUIRE(wire_login(&A, "alice", "pw", NULL, 0, NULL, 0) == HMTP_QUERY_RESULT, "login");
    REQUIRE(wire_connect(&B, port) && wire_upgrade(&B), "%s", B.error);
    REQUIRE(wire_login(&B, "bob", "pw", NULL, 0, NULL, 0) == HMTP_QUERY_RESULT, "login");
    if (!subscribe(&A, "news@localhost", "a") || !subscribe(&B, "news@localhost", "b"))
        return false;
    hmtp_arena a;
    hmtp_arena_init(&a);
    hmtp_packet p;
    for (int i = 0; i < 3; i++) {
        REQUIRE(wire_send(&B, HMTP_MESSAGE, "news@localhost", NULL, 0,
                          obj1(&a, "example.NewsItem", "_n", hessian_new_int(&a, i)), NULL),
                "%s", B.error);
        REQUIRE(expect(&A, &p, HMTP_MESSAGE, "news@localhost", A.jid), "fan-out");
        hmtp_packet_free(&p);
        REQUIRE(expect(&B, &p, HMTP_MESSAGE, "news@localhost", B.jid), "fan-out");
        hmtp_packet_free(&p);
    }
    REQUIRE(wire_send(&A, HMTP_QUERY_GET, "nobody@localhost", NULL, 5, str(&a, "x"), NULL), "send");
    REQUIRE(expect(&A, &p, HMTP_QUERY_ERROR, "nobody@localhost", A.jid), "error");
    hmtp_packet_free(&p);
    const char *const both[] = {"alice@localhost/hmtp-1", "bob@localhost/hmtp-2", NULL};
    if (!subscribers_are(&A, both, "a"))
        return false;
    hmtp_arena_free(&a);
    hmtp_buf_append(a_bytes, A.raw.data, A.raw.len);
    hmtp_buf_append(b_bytes, B.raw.data, B.raw.len);
    wire_close(&A);
    wire_close(&B);
    return true;
}

static bool case_deterministic(broker_process *unused)
{
    (void)unused;
    hmtp_buf runs[2][2];
    for (int r = 0; r < 2; r++) {
        hmtp_buf_init(&runs[r][0]);
        hmtp_buf_init(&runs[r][1]);
        broker_process b;
        REQUIRE(broker_start(&b, broker_exe, any_user), "%s", b.error);
        bool ok = scripted_session(b.port, &runs[r][0], &runs[r][1]);
        int status = broker_stop(&b);
        REQUIRE(ok, "session %d failed", r);
        REQUIRE(status == 0, "broker exit status %d", status);
    }
    bool same_bytes = true;
    for (int s = 0; s < 2; s++)
        same_bytes &= runs[0][s].len == runs[1][s].len &&
                      memcmp(runs[0][s].data, runs[1][s].data, runs[0][s].len) == 0;
    size_t len = runs[0][0].len;
    for (int r = 0; r < 2; r++)
        for (int s = 0; s < 2; s++)
            hmtp_buf_free(&runs[r][s]);
    REQUIRE(same_bytes, "two runs of one session sent different bytes");
    REQUIRE(len > 300, "session too short to mean anything (%zu bytes)", len);
    return true;
}

/* ---- misbehaving clients ---- */

static bool next_client_served(broker_process *b)
{
    wire_client c;
    bool ok = wire_open(&c, b->port, "next", "pw", NULL) &&
              ping(&c, "service@localhost", 1, "hmtp-broker");
    wire_close(&c);
    REQUIRE(ok, "the next client was not served: %s", c.error);
    return true;
}

static bool case_garbage(broker_process *b)
{
    wire_client bystander, c;
    REQUIRE(wire_open(&bystander, b->port, "by", "pw", "s"), "%s", bystander.error);
    /* an unused Hessian code (0x40) as the packet type */
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    REQUIRE(wire_send_raw(&c, "\x02\x40\x40\x00", 4), "%s", c.error);
    REQUIRE(wire_wait_closed(&c, TIMEOUT), "not closed after a bad packet");
    wire_close(&c);
    REQUIRE(broker_log_has(b, "closed: bad packet 1", TIMEOUT), "no log line for the bad packet");
    /* an over-long length field */
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    REQUIRE(wire_send_raw(&c, "\xff\xff\xff\xff\xff\xff\x01", 7), "%s", c.error);
    REQUIRE(wire_wait_closed(&c, TIMEOUT), "not closed after a framing error");
    wire_close(&c);
    REQUIRE(broker_log_has(b, "closed: framing error", TIMEOUT), "no log line for framing");
    /* a well-framed packet of an unknown type */
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    REQUIRE(wire_send_raw(&c, "\x04\xa0\x4e\x4e\x4e\x00", 6), "%s", c.error);
    REQUIRE(wire_wait_closed(&c, TIMEOUT), "not closed after an unknown type");
    wire_close(&c);
    REQUIRE(ping(&bystander, "service@localhost", 9, "hmtp-broker"), "bystander disturbed");
    wire_close(&bystander);
    return next_client_served(b);
}

/* Idle sockets cannot hold slots for ever: no upgrade, or an upgrade and no
 * login, is closed after --login-timeout; a logged-in client stays. */
static bool case_login_timeout(broker_process *b)
{
    wire_client member, silent, upgraded;
    REQUIRE(wire_open(&member, b->port, "member", "pw", "s"), "%s", member.error);
    REQUIRE(wire_connect(&silent, b->port), "%s", silent.error);
    REQUIRE(wire_connect(&upgraded, b->port) && wire_upgrade(&upgraded), "%s", upgraded.error);
    REQUIRE(wire_wait_closed(&silent, 4000), "a connection that never upgraded was not closed");
    REQUIRE(wire_wait_closed(&upgraded, 4000), "an upgraded connection that never logged in was not closed");
    wire_close(&silent);
    wire_close(&upgraded);
    REQUIRE(broker_log_count(b, "no login within 1 s (--login-timeout)") == 2, "want two log lines naming the timeout");
    REQUIRE(ping(&member, "service@localhost", 9, "hmtp-broker"), "the logged-in client was closed too");
    wire_close(&member);
    return next_client_served(b);
}

static bool case_half_packet(broker_process *b)
{
    wire_client c;
    REQUIRE(wire_open(&c, b->port, "half", "pw", NULL), "%s", c.error);
    /* a chunk announcing 36 bytes, only 10 of them, then a close */
    REQUIRE(wire_send_raw(&c, "\x24\x99\x0cnews@lo", 10), "%s", c.error);
    wire_close(&c);
    REQUIRE(broker_log_has(b, "closed: peer closed inside a packet", TIMEOUT),
            "no log line for the cut packet");
    return next_client_served(b);
}

static bool case_flood(broker_process *b)
{
    wire_client c;
    REQUIRE(wire_open(&c, b->port, "flood", "pw", NULL), "%s", c.error);
    /* 10,000 pings in one go, never reading the answers */
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *q = obj1(&a, "hmtp.PingQuery", "_payload", str(&a, "flood"));
    hmtp_buf all;
    hmtp_buf_init(&all);
    for (int i = 0; i < 10000; i++) {
        hmtp_buf_reset(&c.out);
        hmtp_packet p;
        hmtp_packet_init(&p);
        p.type = HMTP_QUERY_GET;
        p.to = "service@localhost";
        p.has_id = true;
        p.id = i + 1;
        p.value = q;
        hmtp_packet_write(&c.writer, &p);
        p.value = NULL;
        hmtp_packet_free(&p);
        hmtp_buf_append(&all, c.out.data, c.out.len);
    }
    hmtp_arena_free(&a);
    /* send from a child so a broker that stops reading cannot block the test */
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20);
        bool ok = wire_send_raw(&c, all.data, all.len);
        _exit(ok ? 0 : 1);
    }
    hmtp_buf_free(&all);
    REQUIRE(pid > 0, "fork");
    /* meanwhile others are served */
    bool served = next_client_served(b);
    /* then read everything: every ping is answered, none lost */
    int answers = 0;
    hmtp_packet p;
    while (answers < 10000 && wire_recv(&c, &p, TIMEOUT) == 1) {
        if (p.type == HMTP_QUERY_RESULT && p.id == answers + 1)
            answers++;
        hmtp_packet_free(&p);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    wire_close(&c);
    REQUIRE(served, "broker did not serve others during a flood");
    REQUIRE(answers == 10000, "only %d of 10000 pings answered in order", answers);
    return next_client_served(b);
}

static bool case_output_limit(broker_process *b)
{
    wire_client slow, pub;
    REQUIRE(wire_open(&slow, b->port, "slow", "pw", "s"), "%s", slow.error);
    if (!subscribe(&slow, "news@localhost", NULL))
        return false;
    REQUIRE(wire_open(&pub, b->port, "pub", "pw", "p"), "%s", pub.error);
    hmtp_arena a;
    hmtp_arena_init(&a);
    static char big[32768];
    memset(big, 'x', sizeof big - 1);
    hessian_value *item = str(&a, big);
    /* Loopback kernel buffers take several MB before the broker notices a
     * reader that stopped: publish until the cut shows, at most 64 MB. */
    bool limited = false;
    for (int i = 0; i < 2000 && !limited; i++) {
        REQUIRE(wire_send(&pub, HMTP_MESSAGE, "news@localhost", NULL, 0, item, NULL), "%s",
                pub.error);
        if (i % 20 == 19)
            limited = broker_log_has(b, "output limit exceeded", 0);
    }
    hmtp_arena_free(&a);
    REQUIRE(limited || broker_log_has(b, "output limit exceeded", TIMEOUT),
            "a client that does not read was not cut off");
    REQUIRE(broker_log_has(b, "conn 1 closed: output limit exceeded", TIMEOUT),
            "the wrong connection was cut off");
    /* the publisher carries on */
    REQUIRE(ping(&pub, "service@localhost", 5, "hmtp-broker"), "publisher disturbed");
    wire_close(&pub);
    wire_close(&slow);
    return next_client_served(b);
}

static bool case_max_connections(broker_process *b)
{
    wire_client c1, c2, c3;
    REQUIRE(wire_open(&c1, b->port, "one", "pw", NULL), "%s", c1.error);
    REQUIRE(wire_open(&c2, b->port, "two", "pw", NULL), "%s", c2.error);
    REQUIRE(wire_connect(&c3, b->port), "%s", c3.error);
    char head[512];
    wire_http(&c3, WIRE_UPGRADE_REQUEST, head, sizeof head, TIMEOUT);
    wire_close(&c3);
    REQUIRE(strncmp(head, "HTTP/1.1 503 ", 13) == 0, "third connection answered '%.40s'", head);
    REQUIRE(broker_log_has(b, "refused a connection", TIMEOUT), "no log line");
    wire_close(&c1);
    REQUIRE(broker_log_has(b, "conn 1 closed", TIMEOUT), "first close not seen");
    bool ok = next_client_served(b);
    wire_close(&c2);
    return ok;
}

static bool case_max_packet(broker_process *b)
{
    wire_client c;
    REQUIRE(wire_open(&c, b->port, "big", "pw", NULL), "%s", c.error);
    hmtp_arena a;
    hmtp_arena_init(&a);
    static char text[3000];
    memset(text, 'y', sizeof text - 1);
    REQUIRE(wire_send(&c, HMTP_MESSAGE, "news@localhost", NULL, 0, str(&a, text), NULL), "%s",
            c.error);
    hmtp_arena_free(&a);
    REQUIRE(wire_wait_closed(&c, TIMEOUT), "an oversized packet was accepted");
    wire_close(&c);
    REQUIRE(broker_log_has(b, "closed: framing error", TIMEOUT), "no log line");
    return next_client_served(b);
}

static bool case_shutdown(broker_process *unused)
{
    (void)unused;
    broker_process b;
    REQUIRE(broker_start(&b, broker_exe, any_user), "%s", b.error);
    wire_client c;
    bool ok = wire_open(&c, b.port, "s", "pw", "r") && subscribe(&c, "news@localhost", NULL);
    kill(b.pid, SIGTERM);
    hmtp_packet p;
    ok = ok && expect(&c, &p, HMTP_PRESENCE_UNAVAILABLE, "news@localhost", "s@localhost/r");
    if (ok)
        hmtp_packet_free(&p);
    bool closed = wire_wait_closed(&c, TIMEOUT);
    wire_close(&c);
    bool logged = broker_log_has(&b, "stopped", TIMEOUT) &&
                  broker_log_has(&b, "conn 1 closed: broker shutting down", 0);
    int status = broker_stop(&b);
    REQUIRE(ok, "no presenceUnavailable from the service at shutdown");
    REQUIRE(closed, "connection left open at shutdown");
    REQUIRE(logged, "no shutdown log lines");
    REQUIRE(status == 0, "exit status %d", status);
    return true;
}

static bool case_verbose_log(broker_process *b)
{
    wire_client c;
    REQUIRE(wire_open(&c, b->port, "v", "pw", "r"), "%s", c.error);
    bool ok = ping(&c, "service@localhost", 1, "hmtp-broker");
    wire_close(&c);
    REQUIRE(ok, "ping");
    REQUIRE(broker_log_has(b, "conn 1 in queryGet from=v@localhost/r to=service@localhost", TIMEOUT),
            "no per-packet in line");
    REQUIRE(broker_log_has(b, "conn 1 out queryResult from=service@localhost to=v@localhost/r", 0),
            "no per-packet out line");
    return true;
}

/* ---- table ---- */

static const char *const with_users[] = {"--user", "ferg:secret", "--users-file", NULL, NULL};
static const char *const rfc[] = {"--allow-any-user", "--upgrade-header", NULL};
static const char *const alter[] = {"--allow-any-user", "--alter-reply", "ping", NULL};
static const char *const one_sub[] = {"--allow-any-user", "--max-subscriptions", "1", "--pubsub",
                                      "news", "--pubsub", "sport", NULL};
static const char *const small_out[] = {"--allow-any-user", "--output-limit", "65536", NULL};
static const char *const two_conns[] = {"--allow-any-user", "--max-connections", "2", NULL};
static const char *const small_packet[] = {"--allow-any-user", "--max-packet", "1024", NULL};
static const char *const verbose[] = {"--allow-any-user", "-v", NULL};
static const char *const payloads[] = {"--allow-any-user", "--presence-payloads", NULL};

/* Its own broker: a users file made for it. */
static bool case_login_refused_file(broker_process *unused)
{
    (void)unused;
    char path[] = "/tmp/hmtp-broker-users-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return false;
    const char text[] = "# test users\nfiled:frompass\n\n";
    bool ok = write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1);
    close(fd);
    const char *args[5];
    memcpy(args, with_users, sizeof args);
    args[3] = path;
    ok = ok && broker_with(broker_exe, args, case_login_refused);
    unlink(path);
    return ok;
}

static const broker_case cases[] = {
    {"login_refused", NULL, case_login_refused_file},
    {"upgrade_resin", any_user, case_upgrade_resin},
    {"upgrade_header", rfc, case_upgrade_header},
    {"http_errors", any_user, case_http_errors},
    {"login", any_user, case_login},
    {"before_login", verbose, case_before_login},
    {"routing", any_user, case_routing},
    {"unknown_jid", any_user, case_unknown_jid},
    {"queries", any_user, case_queries},
    {"alter_ping", alter, case_alter_ping},
    {"pubsub", any_user, case_pubsub},
    {"disconnect", any_user, case_disconnect},
    {"max_subscriptions", one_sub, case_max_subscriptions},
    {"unwritable_payload", any_user, case_unwritable_payload},
    {"deterministic", NULL, case_deterministic},
    {"garbage", any_user, case_garbage},
    {"login_timeout", login_timeout_1s, case_login_timeout},
    {"half_packet", any_user, case_half_packet},
    {"flood", small_out, case_flood},
    {"output_limit", small_out, case_output_limit},
    {"max_connections", two_conns, case_max_connections},
    {"max_packet", small_packet, case_max_packet},
    {"shutdown", NULL, case_shutdown},
    {"verbose_log", verbose, case_verbose_log},
    {"pubsub_payloads", payloads, case_pubsub},
    {"disconnect_payloads", payloads, case_disconnect},
    {"unwritable_payload_payloads", payloads, case_unwritable_payload},
};

/* The payload variants of the pub/sub cases expect hmtp.BrokerPresence. */
static void note_payloads(const broker_case *c)
{
    for (size_t i = 0; c->args && c->args[i]; i++)
        if (strcmp(c->args[i], "--presence-payloads") == 0)
            presence_payloads = true;
}

int main(int argc, char **argv)
{
    return check_status(broker_cases_main(argc, argv, cases, sizeof cases / sizeof cases[0], &broker_exe, note_payloads));
}
