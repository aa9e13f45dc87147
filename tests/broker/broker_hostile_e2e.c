/* SPDX-License-Identifier: GPL-2.0-or-later */
/* End-to-end tests of hmtp-broker against hostile peers (issue 15): login
 * fields holding U+0000, deadlines on by default, the memory budget, the
 * per-address limit and the 503 reserve, password guessing, forged answers.
 * Usage: broker_hostile_e2e BROKER_EXE CASE */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker_process.h"
#include "check.h"
#include "wire_client.h"

#define TIMEOUT 5000

static const char *broker_exe;

static const char *nz(const char *s)
{
    return s ? s : "(null)";
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* AuthQuery {_uid, _resource, _credentials} from exact byte strings (a NULL
 * pointer: a null field), so a field can hold U+0000. */
static hessian_value *auth_query(hmtp_arena *a, const char *uid, size_t uid_len, const char *res, size_t res_len,
                                 const char *pw, size_t pw_len)
{
    static const char *const names[] = {"_uid", "_resource", "_credentials"};
    hessian_value *q = hessian_new_object(a, HMTP_AUTH_QUERY_CLASS, 3, names);
    hessian_object_set(q, "_uid", hessian_new_string(a, uid, uid_len));
    hessian_object_set(q, "_resource", hessian_new_string(a, res, res_len));
    hessian_object_set(q, "_credentials", hessian_new_string(a, pw, pw_len));
    return q;
}

/* Sends one login; returns the answer's type, with the BamError group. */
static int login_raw(wire_client *c, hessian_value *q, int64_t id, char *group, size_t cap)
{
    if (!wire_send(c, HMTP_QUERY_SET, NULL, NULL, id, q, NULL))
        return -1;
    hmtp_packet p;
    if (wire_recv(c, &p, TIMEOUT + 9000) != 1)
        return -1;
    int t = p.has_id && p.id == id ? p.type : -1;
    snprintf(group, cap, "%s/%s", nz(p.error.type), nz(p.error.group));
    hmtp_packet_free(&p);
    return t;
}

static bool fresh_client_served(broker_process *b, const char *uid)
{
    wire_client c;
    bool ok = wire_open(&c, b->port, uid, "pw", NULL) && wire_ping(&c, 1, TIMEOUT);
    wire_close(&c);
    REQUIRE(ok, "a fresh client was not served: %s", c.error);
    return true;
}

/* ---- exact strings ---- */

typedef struct nul_case {
    const char *what;
    const char *uid;
    size_t uid_len;
    const char *res;
    size_t res_len;
    const char *pw;
    size_t pw_len;
    const char *log; /* what the refusal's log line says */
} nul_case;

/* Each field with U+0000 at its start, middle and end: refused with
 * modify/bad-request, never logged in as the text before the NUL. */
static bool case_nul_login(broker_process *b)
{
    static const nul_case cases[] = {
        {"uid start", "\0alice", 6, NULL, 0, "secret", 6, "AuthQuery._uid holds U+0000 at byte 0 of 6"},
        {"uid middle", "alice\0zz", 8, NULL, 0, "secret", 6, "AuthQuery._uid holds U+0000 at byte 5 of 8"},
        {"uid end", "alice\0", 6, NULL, 0, "secret", 6, "AuthQuery._uid holds U+0000 at byte 5 of 6"},
        {"resource start", "alice", 5, "\0r", 2, "secret", 6, "AuthQuery._resource holds U+0000 at byte 0 of 2"},
        {"resource middle", "alice", 5, "r\0x", 3, "secret", 6, "AuthQuery._resource holds U+0000 at byte 1 of 3"},
        {"resource end", "alice", 5, "r\0", 2, "secret", 6, "AuthQuery._resource holds U+0000 at byte 1 of 2"},
        {"password start", "alice", 5, NULL, 0, "\0secret", 7, "AuthQuery._credentials holds U+0000"},
        {"password middle", "alice", 5, NULL, 0, "secret\0junk", 11, "AuthQuery._credentials holds U+0000"},
        {"password end", "alice", 5, NULL, 0, "secret\0", 7, "AuthQuery._credentials holds U+0000"},
        {"uid control character", "ali\x01" "ce", 6, NULL, 0, "secret", 6, "AuthQuery._uid holds a control character"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const nul_case *k = &cases[i];
        wire_client c;
        REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
        hmtp_arena a;
        hmtp_arena_init(&a);
        char group[128];
        int t = login_raw(&c, auth_query(&a, k->uid, k->uid_len, k->res, k->res_len, k->pw, k->pw_len), 0, group,
                          sizeof group);
        hmtp_arena_free(&a);
        wire_close(&c);
        REQUIRE(t == HMTP_QUERY_ERROR && strcmp(group, "modify/bad-request") == 0, "%s: answered %d %s", k->what, t,
                group);
        REQUIRE(broker_log_has(b, k->log, TIMEOUT), "%s: no log line '%s'", k->what, k->log);
        fprintf(stderr, "%s: modify/bad-request\n", k->what);
    }
    REQUIRE(broker_log_count(b, "logged in as") == 0, "a login with U+0000 was accepted");
    /* the real alice still logs in, on the first try */
    wire_client c;
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    char group[128];
    int t = wire_login(&c, "alice", "secret", "r", 0, group, sizeof group);
    wire_close(&c);
    REQUIRE(t == HMTP_QUERY_RESULT, "alice refused: %s", group);
    REQUIRE(broker_log_has(b, "logged in as alice@localhost/r", TIMEOUT), "no login line");
    return true;
}

/* ---- deadlines ---- */

/* With no option at all: a slow HTTP head is cut after 5 s, an upgraded
 * link that never logs in after 10 s; a logged-in link stays. */
static bool case_default_deadlines(broker_process *b)
{
    wire_client member, slow, upgraded;
    REQUIRE(wire_open(&member, b->port, "member", "pw", "s"), "%s", member.error);
    REQUIRE(wire_connect(&slow, b->port), "%s", slow.error);
    REQUIRE(wire_connect(&upgraded, b->port) && wire_upgrade(&upgraded), "%s", upgraded.error);
    int64_t t0 = now_ms();
    /* one byte a second, as the slowloris peers of the issue did */
    const char *req = WIRE_UPGRADE_REQUEST;
    bool slow_closed = false;
    for (int i = 0; i < 9 && !slow_closed; i++) {
        slow_closed = !wire_send_raw(&slow, req + i, 1) || wire_wait_closed(&slow, 1000);
    }
    int64_t slow_ms = now_ms() - t0;
    REQUIRE(slow_closed, "a slow HTTP head was kept %lld ms", (long long)slow_ms);
    REQUIRE(slow_ms >= 4000 && slow_ms <= 7000, "slow head closed after %lld ms, want 5-6 s", (long long)slow_ms);
    REQUIRE(broker_log_has(b, "no complete HTTP request within 5 s (--http-timeout)", TIMEOUT), "no http log line");
    REQUIRE(wire_wait_closed(&upgraded, 7000), "an upgraded link that never logged in was kept past 12 s");
    int64_t login_ms = now_ms() - t0;
    REQUIRE(login_ms >= 9000, "login deadline hit after %lld ms, want 10 s", (long long)login_ms);
    REQUIRE(broker_log_has(b, "no login within 10 s (--login-timeout)", TIMEOUT), "no login log line");
    REQUIRE(wire_ping(&member, 2, TIMEOUT), "the logged-in link was closed");
    wire_close(&slow);
    wire_close(&upgraded);
    wire_close(&member);
    return true;
}

/* --idle-timeout: a silent logged-in link goes, one that talks stays. */
static bool case_idle_timeout(broker_process *b)
{
    wire_client quiet, talker;
    REQUIRE(wire_open(&quiet, b->port, "quiet", "pw", "q"), "%s", quiet.error);
    REQUIRE(wire_open(&talker, b->port, "talker", "pw", "t"), "%s", talker.error);
    bool closed = false;
    for (int i = 0; i < 5 && !closed; i++) {
        REQUIRE(wire_ping(&talker, i + 1, TIMEOUT), "the talking link was not served");
        closed = wire_wait_closed(&quiet, 1000);
    }
    REQUIRE(closed, "a silent logged-in link was kept past the idle timeout");
    REQUIRE(broker_log_has(b, "idle for 2 s: no byte in or out (--idle-timeout)", TIMEOUT), "no idle log line");
    REQUIRE(wire_ping(&talker, 9, TIMEOUT), "the talking link was closed");
    wire_close(&quiet);
    wire_close(&talker);
    return true;
}

/* ---- memory ---- */

/* Links that each announce a packet just under --max-packet and withhold
 * its last byte: over --memory-budget the biggest go, with one line each. */
static bool case_memory_budget(broker_process *b)
{
    enum { N = 8 };
    wire_client w[N];
    size_t body = 1000000; /* announced chunk: 1,000,000 bytes, one withheld */
    uint8_t *data = calloc(1, body + 4);
    REQUIRE(data, "calloc");
    /* a 3-byte length: 1000000 = 0x0f4240 in base 128 */
    data[0] = (uint8_t)(0x80 | ((body >> 14) & 0x7f));
    data[1] = (uint8_t)(0x80 | ((body >> 7) & 0x7f));
    data[2] = (uint8_t)(body & 0x7f);
    int opened = 0;
    for (int i = 0; i < N; i++) {
        char uid[16];
        snprintf(uid, sizeof uid, "w%d", i);
        if (!wire_open(&w[i], b->port, uid, "pw", NULL))
            break;
        opened++;
        wire_send_raw(&w[i], data, 3 + body - 1); /* fails when the budget already closed it */
    }
    free(data);
    REQUIRE(opened == N, "opened %d of %d links", opened, N);
    /* 8 x 1 MiB against a 4 MiB budget: at least four must go */
    bool enough = false;
    for (int t = 0; t < 50 && !enough; t++) {
        enough = broker_log_count(b, "closed: memory budget: holds") >= 4;
        if (!enough)
            usleep(100000);
    }
    REQUIRE(enough, "only %d links closed over the budget", broker_log_count(b, "closed: memory budget: holds"));
    REQUIRE(broker_log_has(b, "--memory-budget 4194304", 0), "the log line does not name the budget");
    int still = 0;
    for (int i = 0; i < N; i++) {
        if (!wire_wait_closed(&w[i], 200))
            still++;
        wire_close(&w[i]);
    }
    REQUIRE(still >= 2 && still <= 4, "%d links left open, want the ones within the budget (2-4)", still);
    return fresh_client_served(b, "fresh");
}

/* ---- connection limits ---- */

/* A fresh client at a limit reads its 503 (the reserve), never a reset. */
static bool case_limits_503(broker_process *b)
{
    enum { N = 6 };
    wire_client hold[N];
    for (int i = 0; i < N; i++)
        REQUIRE(wire_connect(&hold[i], b->port) && wire_upgrade(&hold[i]), "%s", hold[i].error);
    /* --max-per-ip 6 from 127.0.0.1: twenty more each read a clean 503 */
    for (int i = 0; i < 20; i++) {
        wire_client c;
        REQUIRE(wire_connect(&c, b->port), "%s", c.error);
        char head[512] = "";
        bool ok = wire_http(&c, WIRE_UPGRADE_REQUEST, head, sizeof head, TIMEOUT);
        bool closed = wire_wait_closed(&c, TIMEOUT);
        wire_close(&c);
        REQUIRE(ok && strncmp(head, "HTTP/1.1 503 ", 13) == 0, "try %d answered '%.40s'", i, head);
        REQUIRE(closed, "try %d: not closed after the 503", i);
    }
    REQUIRE(broker_log_has(b, "6 connections open from 127.0.0.1 (--max-per-ip 6)", TIMEOUT), "no per-ip log line");
    REQUIRE(broker_log_has(b, "closed: HTTP 503 answered", TIMEOUT), "no close line for a refusal");
    wire_close(&hold[0]);
    REQUIRE(broker_log_has(b, "conn 1 closed", TIMEOUT), "first close not seen");
    bool ok = fresh_client_served(b, "after");
    for (int i = 1; i < N; i++)
        wire_close(&hold[i]);
    return ok;
}

/* ---- password guessing ---- */

static bool case_login_guessing(broker_process *b)
{
    /* ten wrong passwords in one write: answers come slower and slower, the
     * link is closed after the fifth, the rest are never tried */
    wire_client c;
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    hmtp_arena a;
    hmtp_arena_init(&a);
    for (int i = 0; i < 10; i++) {
        char pw[16];
        snprintf(pw, sizeof pw, "guess%d", i);
        REQUIRE(wire_send(&c, HMTP_QUERY_SET, NULL, NULL, i, auth_query(&a, "alice", 5, NULL, 0, pw, strlen(pw)), NULL),
                "%s", c.error);
    }
    hmtp_arena_free(&a);
    int64_t t0 = now_ms(), at[10];
    int answers = 0;
    hmtp_packet p;
    while (answers < 10 && wire_recv(&c, &p, 10000) == 1) {
        bool refused = p.type == HMTP_QUERY_ERROR && p.id == answers;
        hmtp_packet_free(&p);
        REQUIRE(refused, "answer %d is not the refusal of guess %d", answers, answers);
        at[answers++] = now_ms() - t0;
    }
    bool closed = wire_wait_closed(&c, TIMEOUT);
    wire_close(&c);
    REQUIRE(answers == 5, "%d guesses answered on one link, want 5", answers);
    REQUIRE(closed, "the link was not closed after 5 refusals");
    /* delays 250, 500, 1000, 2000 ms between them (the fifth closes) */
    REQUIRE(at[0] >= 200 && at[1] - at[0] >= 400 && at[2] - at[1] >= 900 && at[3] - at[2] >= 1900,
            "answers at %lld %lld %lld %lld ms: not slowed", (long long)at[0], (long long)at[1], (long long)at[2],
            (long long)at[3]);
    REQUIRE(broker_log_has(b, "closed: 5 refused logins (--max-login-failures 5)", TIMEOUT), "no close line");
    REQUIRE(broker_log_count(b, "login refused for 'alice'") == 5, "want 5 refusal lines");
    /* a fresh link guessing alice again waits for the uid's count (6th: 8 s) */
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    char group[128];
    t0 = now_ms();
    hmtp_arena_init(&a);
    int t = login_raw(&c, auth_query(&a, "alice", 5, NULL, 0, "nope", 4), 0, group, sizeof group);
    hmtp_arena_free(&a);
    int64_t waited = now_ms() - t0;
    wire_close(&c);
    REQUIRE(t == HMTP_QUERY_ERROR && waited >= 4000, "a fresh link's guess answered after %lld ms", (long long)waited);
    /* the right password is not held: alice logs in at once */
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    t0 = now_ms();
    t = wire_login(&c, "alice", "secret", "r", 0, group, sizeof group);
    waited = now_ms() - t0;
    wire_close(&c);
    REQUIRE(t == HMTP_QUERY_RESULT && waited < 1000, "alice: answer %d after %lld ms", t, (long long)waited);
    return true;
}

/* ---- forged answers ---- */

static bool case_forged_answer(broker_process *b)
{
    wire_client asker, asked, forger;
    REQUIRE(wire_open(&asker, b->port, "asker", "pw", "a"), "%s", asker.error);
    REQUIRE(wire_open(&asked, b->port, "asked", "pw", "b"), "%s", asked.error);
    REQUIRE(wire_open(&forger, b->port, "forger", "pw", "f"), "%s", forger.error);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *q = hessian_new_string(&a, "question", 8);
    hessian_value *fake = hessian_new_string(&a, "forged", 6);
    hessian_value *real = hessian_new_string(&a, "real", 4);
    REQUIRE(wire_send(&asker, HMTP_QUERY_GET, "asked@localhost/b", NULL, 7, q, NULL), "%s", asker.error);
    hmtp_packet p;
    REQUIRE(wire_recv(&asked, &p, TIMEOUT) == 1 && p.type == HMTP_QUERY_GET && p.id == 7, "query not forwarded");
    hmtp_packet_free(&p);
    /* the forger answers id 7 first, to the full and to the bare JID */
    REQUIRE(wire_send(&forger, HMTP_QUERY_RESULT, "asker@localhost/a", NULL, 7, fake, NULL), "%s", forger.error);
    REQUIRE(wire_send(&forger, HMTP_QUERY_ERROR, "asker@localhost", NULL, 7, fake, NULL), "%s", forger.error);
    /* the asked party answers an id it was never asked */
    REQUIRE(wire_send(&asked, HMTP_QUERY_RESULT, "asker@localhost/a", NULL, 8, fake, NULL), "%s", asked.error);
    REQUIRE(broker_log_has(b, "dropped queryResult id=8 to=asker@localhost/a: answers no query sent to this link",
                           TIMEOUT),
            "the unasked answer was not dropped with a log line");
    /* then the real answer, and a second one */
    REQUIRE(wire_send(&asked, HMTP_QUERY_RESULT, "asker@localhost/a", NULL, 7, real, NULL), "%s", asked.error);
    REQUIRE(wire_send(&asked, HMTP_QUERY_RESULT, "asker@localhost/a", NULL, 7, fake, NULL), "%s", asked.error);
    REQUIRE(wire_recv(&asker, &p, TIMEOUT) == 1, "no answer: %s", asker.error);
    bool is_real = p.type == HMTP_QUERY_RESULT && p.id == 7 && p.from && strcmp(p.from, "asked@localhost/b") == 0 &&
                   p.value && p.value->kind == HESSIAN_STRING && strcmp(p.value->v.str.data, "real") == 0;
    fprintf(stderr, "asker got %s id=%lld from=%s\n", nz(hmtp_type_name(p.type)), (long long)p.id, nz(p.from));
    hmtp_packet_free(&p);
    hmtp_arena_free(&a);
    REQUIRE(is_real, "the asker's first answer is not the asked party's");
    int r = wire_recv(&asker, &p, 500);
    if (r == 1)
        hmtp_packet_free(&p);
    REQUIRE(r == 0, "a second answer reached the asker");
    REQUIRE(broker_log_count(b, "answers no query sent to this link") == 4, "want 4 drop lines, got %d",
            broker_log_count(b, "answers no query sent to this link"));
    REQUIRE(wire_ping(&forger, 3, TIMEOUT), "the forger's link is no longer served");
    wire_close(&asker);
    wire_close(&asked);
    wire_close(&forger);
    return true;
}

/* ---- table ---- */

/* refusals are the subject here, not guessing: no growing delay */
static const char *const alice[] = {"--user", "alice:secret", "--allow-any-user", "--login-delay", "0", NULL};
static const char *const alice_only[] = {"--user", "alice:secret", NULL};
static const char *const defaults[] = {"--allow-any-user", NULL};
static const char *const idle2[] = {"--allow-any-user", "--idle-timeout", "2", NULL};
static const char *const budget[] = {"--allow-any-user", "--memory-budget", "4M", NULL};
static const char *const per_ip[] = {"--allow-any-user", "--max-per-ip", "6", NULL};
static const char *const verbose[] = {"--allow-any-user", "-v", NULL};

static const broker_case cases[] = {
    {"nul_login", alice, case_nul_login},
    {"default_deadlines", defaults, case_default_deadlines},
    {"idle_timeout", idle2, case_idle_timeout},
    {"memory_budget", budget, case_memory_budget},
    {"limits_503", per_ip, case_limits_503},
    {"login_guessing", alice_only, case_login_guessing},
    {"forged_answer", verbose, case_forged_answer},
};

int main(int argc, char **argv)
{
    return check_status(broker_cases_main(argc, argv, cases, sizeof cases / sizeof cases[0], &broker_exe, NULL));
}
