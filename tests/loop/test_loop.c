/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The event loop (loop/hmtp_loop.c) on real descriptors: pipes and
 * socket pairs, timers in order, cancelling, re-arming, a descriptor closed
 * and reused inside one batch of events, and thousands of connections. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "hmtp_loop.h"


/* ---- timers fire by deadline, equal deadlines in the order set */

typedef struct order_log {
    char seen[32];
    size_t n;
} order_log;

typedef struct mark {
    order_log *log;
    char c;
} mark;

static void on_mark(void *ctx)
{
    mark *m = ctx;
    if (m->log->n < sizeof m->log->seen - 1)
        m->log->seen[m->log->n++] = m->c;
}

static void test_timer_order(void)
{
    hmtp_loop *l = hmtp_loop_new();
    CHECK(l != NULL);
    order_log log = {0};
    mark a = {&log, 'a'}, b = {&log, 'b'}, c = {&log, 'c'}, d = {&log, 'd'}, e = {&log, 'e'};
    /* before the timers are set: measured after, a pause between the two
     * (a loaded machine) made the 30 ms look shorter than they were */
    uint64_t t0 = hmtp_loop_now_ms();
    hmtp_loop_timer(l, 30, on_mark, &c);
    hmtp_loop_timer(l, 0, on_mark, &a);
    hmtp_timer *gone = hmtp_loop_timer(l, 10, on_mark, &e);
    hmtp_loop_timer(l, 20, on_mark, &b);
    hmtp_loop_timer(l, 20, on_mark, &d); /* same deadline as b: after it */
    hmtp_loop_cancel(l, gone);
    CHECK(hmtp_loop_run(l));
    uint64_t took = hmtp_loop_now_ms() - t0;
    CHECK(strcmp(log.seen, "abdc") == 0);
    CHECK(took >= 30);
    hmtp_loop_free(l);
}

/* ---- a 0 ms timer that re-arms itself does not starve descriptors */

typedef struct rearm {
    hmtp_loop *l;
    int writer;
    unsigned fired;
    bool read_seen;
} rearm;

static void on_rearm(void *ctx)
{
    rearm *r = ctx;
    if (r->fired++ == 0) /* the data arrives while the timer keeps re-arming */
        CHECK(write(r->writer, "abc", 3) == 3);
    if (!r->read_seen && r->fired < 1000000)
        hmtp_loop_timer(r->l, 0, on_rearm, r);
}

static void on_pipe_readable(void *ctx, int fd, unsigned events)
{
    rearm *r = ctx;
    char buf[16];
    CHECK(events & HMTP_LOOP_IN);
    CHECK(read(fd, buf, sizeof buf) == 3);
    r->read_seen = true;
    hmtp_loop_unwatch(r->l, fd);
}

static void test_rearm_no_starvation(void)
{
    hmtp_loop *l = hmtp_loop_new();
    int p[2];
    CHECK(pipe(p) == 0);
    rearm r = {.l = l, .writer = p[1]};
    CHECK(hmtp_loop_watch(l, p[0], HMTP_LOOP_IN, on_pipe_readable, &r));
    hmtp_loop_timer(l, 0, on_rearm, &r);
    CHECK(hmtp_loop_run(l));
    CHECK(r.read_seen);
    CHECK(r.fired < 10); /* the descriptor was served within a pass or two */
    close(p[0]);
    close(p[1]);
    hmtp_loop_free(l);
}

/* ---- a descriptor closed and reused within one batch: the stale event
 * reaches nobody */

typedef struct reuse {
    hmtp_loop *l;
    int victim;        /* the other pipe's read end, ready in the same batch */
    int victim_writer;
    int reused;        /* the new pipe's read end: the victim's number */
    int reused_writer;
    unsigned first_calls, victim_calls, reused_calls;
} reuse;

static void on_victim(void *ctx, int fd, unsigned events)
{
    (void)fd;
    (void)events;
    ((reuse *)ctx)->victim_calls++;
}

static void on_reused(void *ctx, int fd, unsigned events)
{
    (void)fd;
    (void)events;
    ((reuse *)ctx)->reused_calls++;
}

static void on_first(void *ctx, int fd, unsigned events)
{
    (void)events;
    reuse *r = ctx;
    r->first_calls++;
    char buf[8];
    CHECK(read(fd, buf, sizeof buf) == 1);
    hmtp_loop_unwatch(r->l, fd);
    /* whichever of the two came first closes the other and takes its number */
    int other = r->victim;
    hmtp_loop_unwatch(r->l, other);
    close(other);
    int p[2];
    CHECK(pipe(p) == 0);
    r->reused = p[0];
    r->reused_writer = p[1];
    CHECK(r->reused == other); /* the kernel hands out the lowest free number */
    CHECK(hmtp_loop_watch(r->l, r->reused, HMTP_LOOP_IN, on_reused, r));
    /* the rest of the batch is still dispatched: b's stale event comes next */
}

static void on_reuse_done(void *ctx)
{
    reuse *r = ctx;
    hmtp_loop_unwatch(r->l, r->reused);
}

static void test_reuse_in_batch(void)
{
    hmtp_loop *l = hmtp_loop_new();
    int a[2], b[2];
    CHECK(pipe(a) == 0 && pipe(b) == 0);
    reuse r = {.l = l, .victim = b[0], .victim_writer = b[1]};
    CHECK(hmtp_loop_watch(l, a[0], HMTP_LOOP_IN, on_first, &r));
    CHECK(hmtp_loop_watch(l, b[0], HMTP_LOOP_IN, on_victim, &r));
    CHECK(write(a[1], "x", 1) == 1 && write(b[1], "y", 1) == 1);
    hmtp_loop_timer(l, 50, on_reuse_done, &r);
    /* both are ready before the first wait: one batch holds both events,
     * a's first (epoll lists descriptors in the order they became ready) */
    CHECK(hmtp_loop_run(l));
    CHECK(r.first_calls == 1, "a's event must come first in the batch");
    CHECK(r.victim_calls == 0);
    CHECK(r.reused_calls == 0); /* the new pipe has no data: its watch must not see b's event */
    close(a[0]);
    close(a[1]);
    close(b[1]);
    close(r.reused);
    close(r.reused_writer);
    hmtp_loop_free(l);
}

/* ---- thousands of connections: echo over socket pairs, then the loop ends
 * by itself when nothing is left */

enum { PAIRS = 3000 };

typedef struct echo {
    hmtp_loop *l;
    int fds[PAIRS][2];
    unsigned got, closed;
} echo;

static void on_echo(void *ctx, int fd, unsigned events)
{
    echo *e = ctx;
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
        e->got++;
        return;
    }
    CHECK(n == 0 || (events & (HMTP_LOOP_HUP | HMTP_LOOP_ERR)));
    hmtp_loop_unwatch(e->l, fd);
    close(fd);
    e->closed++;
}

static void on_kick(void *ctx)
{
    echo *e = ctx;
    for (int i = 0; i < PAIRS; i++) {
        CHECK(write(e->fds[i][1], "ping", 4) == 4);
        close(e->fds[i][1]);
    }
}

static void test_many(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 2 * PAIRS + 64) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= 2 * PAIRS + 64 ? 2 * PAIRS + 64 : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < 2 * PAIRS + 64) {
        fprintf(stderr, "test_many: skipped: open files limited to %llu\n", (unsigned long long)rl.rlim_cur);
        return;
    }
    static echo e;
    e.l = hmtp_loop_new();
    for (int i = 0; i < PAIRS; i++) {
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, e.fds[i]) == 0);
        CHECK(hmtp_loop_watch(e.l, e.fds[i][0], HMTP_LOOP_IN, on_echo, &e));
    }
    hmtp_loop_timer(e.l, 5, on_kick, &e);
    CHECK(hmtp_loop_run(e.l));
    CHECK(e.got == PAIRS);
    CHECK(e.closed == PAIRS);
    hmtp_loop_free(e.l);
}

static void test_bad_fd(void)
{
    hmtp_loop *l = hmtp_loop_new();
    errno = 0;
    CHECK(!hmtp_loop_watch(l, -1, HMTP_LOOP_IN, on_victim, NULL) && errno == EBADF);
    int p[2];
    CHECK(pipe(p) == 0);
    close(p[0]);
    errno = 0;
    CHECK(!hmtp_loop_watch(l, p[0], HMTP_LOOP_IN, on_victim, NULL) && errno == EBADF);
    close(p[1]);
    CHECK(hmtp_loop_run(l)); /* nothing watched, no timer: returns at once */
    hmtp_loop_free(l);
}

int main(void)
{
    test_timer_order();
    test_rearm_no_starvation();
    test_reuse_in_batch();
    test_many();
    test_bad_fd();
    return check_summary("loop");
}
