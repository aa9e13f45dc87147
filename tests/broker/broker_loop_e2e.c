/* SPDX-License-Identifier: GPL-2.0-or-later */
/* End-to-end tests of hmtp-broker's event loop (hmtp_loop): a refused
 * login's hold waits without using the CPU, many links come and go (their
 * descriptors reused) and every one is answered, SIGINT twice shuts down
 * once and cleanly. Usage: broker_loop_e2e BROKER_EXE CASE */
#include <signal.h>
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

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The process's user + system CPU time in milliseconds; -1 when unreadable. */
static int64_t cpu_ms(pid_t pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *p = strrchr(text, ')'); /* the command name may hold spaces */
    unsigned long long utime, stime;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    return (int64_t)(utime + stime) * 1000 / sysconf(_SC_CLK_TCK);
}

/* A refused login holds the link's answer and input for --login-delay: the
 * broker waits on a timer, not by polling a writable socket (GLib's loop
 * did: one core busy for the whole hold). Then the held answer comes, and
 * the right password on the same link logs in. */
static bool case_hold_quiet(broker_process *b)
{
    wire_client c;
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    char group[64] = "";
    hmtp_arena a;
    hmtp_arena_init(&a);
    static const char *const names[] = {"_uid", "_resource", "_credentials"};
    hessian_value *q = hessian_new_object(&a, HMTP_AUTH_QUERY_CLASS, 3, names);
    hessian_object_set(q, "_uid", hessian_new_string(&a, "alice", 5));
    hessian_object_set(q, "_resource", hessian_new_string(&a, "r", 1));
    hessian_object_set(q, "_credentials", hessian_new_string(&a, "wrong", 5));
    int64_t t0 = now_ms();
    bool sent = wire_send(&c, HMTP_QUERY_SET, NULL, NULL, 1, q, NULL);
    hmtp_arena_free(&a);
    REQUIRE(sent, "%s", c.error);
    usleep(200 * 1000); /* the login is read and refused; the hold has begun */
    int64_t cpu0 = cpu_ms(b->pid);
    usleep(1500 * 1000);
    int64_t cpu1 = cpu_ms(b->pid);
    REQUIRE(cpu0 >= 0 && cpu1 >= 0, "cannot read the broker's CPU time");
    REQUIRE(cpu1 - cpu0 < 300, "the broker used %lld ms of CPU in 1.5 s of a refused login's hold",
            (long long)(cpu1 - cpu0));
    hmtp_packet p;
    REQUIRE(wire_recv(&c, &p, TIMEOUT) == 1, "no answer to the refused login");
    int64_t waited = now_ms() - t0;
    bool refused = p.type == HMTP_QUERY_ERROR && p.id == 1;
    hmtp_packet_free(&p);
    REQUIRE(refused, "the wrong password was not refused");
    REQUIRE(waited >= 1900, "the refusal came after %lld ms, before the 2 s --login-delay", (long long)waited);
    REQUIRE(wire_login(&c, "alice", "secret", "r", 2, group, sizeof group) == HMTP_QUERY_RESULT,
            "the right password after the hold was refused (%s)", group);
    REQUIRE(wire_ping(&c, 3, TIMEOUT), "the link was not served after logging in");
    wire_close(&c);
    return true;
}

/* Links opened and closed in waves so descriptor numbers are reused while
 * others stay open: every live link is answered, every closed one logged
 * once. */
#define WAVE 300
static bool case_many_links(broker_process *b)
{
    static wire_client links[WAVE];
    char uid[32];
    for (int i = 0; i < WAVE; i++) {
        snprintf(uid, sizeof uid, "u%d", i);
        REQUIRE(wire_open(&links[i], b->port, uid, "pw", "r"), "link %d: %s", i, links[i].error);
    }
    for (int i = 0; i < WAVE; i += 2) /* every other one goes: its descriptor is free again */
        wire_close(&links[i]);
    for (int i = 0; i < WAVE; i += 2) {
        snprintf(uid, sizeof uid, "v%d", i);
        REQUIRE(wire_open(&links[i], b->port, uid, "pw", "r"), "link %d again: %s", i, links[i].error);
    }
    for (int i = WAVE - 1; i >= 0; i--)
        REQUIRE(wire_ping(&links[i], 100 + i, TIMEOUT), "link %d was not answered", i);
    for (int i = 0; i < WAVE; i++)
        wire_close(&links[i]);
    int want = WAVE + WAVE / 2;
    bool all = false;
    for (int waited = 0; waited < TIMEOUT && !all; waited += 50) {
        all = broker_log_count(b, "closed: peer closed") >= want;
        if (!all)
            usleep(50 * 1000);
    }
    REQUIRE(all, "%d of %d closes logged", broker_log_count(b, "closed: peer closed"), want);
    REQUIRE(broker_log_count(b, "closed: peer closed") == want, "%d closes logged, want %d",
            broker_log_count(b, "closed: peer closed"), want);
    return true;
}

/* SIGINT twice in a row: one shutdown, exit status 0 (the second signal
 * finds SIGINT still blocked and read from the loop, not its default
 * action). */
static bool case_signals(broker_process *unused)
{
    (void)unused;
    static const char *const args[] = {"--allow-any-user", NULL};
    broker_process b;
    REQUIRE(broker_start(&b, broker_exe, args), "%s", b.error);
    wire_client c;
    bool ok = wire_open(&c, b.port, "alice", "pw", "r");
    if (ok) {
        kill(b.pid, SIGINT);
        kill(b.pid, SIGINT);
        ok = wire_wait_closed(&c, TIMEOUT) && broker_log_has(&b, "hmtp-broker: stopped", TIMEOUT);
        wire_close(&c);
    }
    int lines = broker_log_count(&b, "shutting down on signal");
    int closed = broker_log_count(&b, "closed: broker shutting down");
    int status = broker_stop(&b);
    REQUIRE(ok, "the broker did not stop on SIGINT");
    REQUIRE(lines == 1, "%d shutdown lines, want 1", lines);
    REQUIRE(closed == 1, "%d links closed by the shutdown, want 1", closed);
    REQUIRE(status == 0, "exit status %d after SIGINT twice, want 0", status);
    return true;
}

static const char *const alice_delay[] = {"--user", "alice:secret", "--login-delay", "2000", NULL};
static const char *const many[] = {"--allow-any-user", "--max-per-ip", "1000", NULL};

static const broker_case cases[] = {
    {"hold_quiet", alice_delay, case_hold_quiet},
    {"many_links", many, case_many_links},
    {"signals", NULL, case_signals},
};

int main(int argc, char **argv)
{
    return check_status(broker_cases_main(argc, argv, cases, sizeof cases / sizeof cases[0], &broker_exe, NULL));
}
