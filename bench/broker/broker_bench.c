/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fan-out benchmark of hmtp-broker: N subscribers of one pubsub service on
 * loopback, one publisher; measures deliveries per second, the latency from
 * publish to receipt (percentiles) and the broker's peak resident memory.
 *
 * Usage: broker_bench BROKER_EXE [SUBSCRIBERS [MESSAGES [BATCH]]]
 * Defaults: 1000 subscribers, 1000 messages, batches of 10. The publisher
 * sends a batch, then waits until every subscriber has it, so the broker is
 * measured under a bounded backlog; the whole run stops after 120 s. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "broker_process.h"
#include "wire_client.h"

#define DEADLINE_S 120.0

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0)
            kb = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static bool subscribe(wire_client *c)
{
    if (!wire_send(c, HMTP_PRESENCE_SUBSCRIBE, "news@localhost", NULL, 0, NULL, NULL))
        return false;
    for (int i = 0; i < 3; i++) { /* subscribed, presence, probe */
        hmtp_packet p;
        if (wire_recv(c, &p, 5000) != 1)
            return false;
        hmtp_packet_free(&p);
    }
    return true;
}

typedef struct run {
    int nsubs, nmsgs, batch;
    wire_client *subs;
    wire_client pub;
    int64_t *lat; /* one per delivery */
    size_t nlat;
    uint64_t delivered;
} run;

/* Drains every readable subscriber once; records latencies. */
static int drain(run *r, int epfd, int timeout_ms)
{
    struct epoll_event evs[256];
    int n = epoll_wait(epfd, evs, 256, timeout_ms);
    for (int i = 0; i < n; i++) {
        wire_client *c = &r->subs[evs[i].data.u32];
        if (wire_fill(c, 0) < 0)
            return -1;
        hmtp_packet p;
        int got;
        while ((got = wire_next_buffered(c, &p)) == 1) {
            int64_t t = now_ns();
            const hessian_value *sent = hessian_object_field(p.value, "_sentNs");
            if (p.type == HMTP_MESSAGE && sent && sent->kind == HESSIAN_LONG) {
                r->lat[r->nlat++] = t - sent->v.l;
                r->delivered++;
            }
            hmtp_packet_free(&p);
        }
        if (got < 0)
            return -1;
    }
    return n;
}

static bool publish(run *r, int seq, hmtp_arena *a)
{
    static const char *const names[] = {"_seq", "_sentNs", "_title"};
    hessian_value *item = hessian_new_object(a, "bench.NewsItem", 3, names);
    hessian_object_set(item, "_seq", hessian_new_int(a, seq));
    static const char title[] = "breaking news, 32 bytes of text.";
    hessian_object_set(item, "_title", hessian_new_string(a, title, sizeof title - 1));
    hessian_object_set(item, "_sentNs", hessian_new_long(a, now_ns()));
    return wire_send(&r->pub, HMTP_MESSAGE, "news@localhost", NULL, 0, item, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s BROKER_EXE [SUBSCRIBERS [MESSAGES [BATCH]]]\n", argv[0]);
        return 2;
    }
    run r = {.nsubs = argc > 2 ? atoi(argv[2]) : 1000,
             .nmsgs = argc > 3 ? atoi(argv[3]) : 1000,
             .batch = argc > 4 ? atoi(argv[4]) : 10};
    if (r.nsubs < 1 || r.nmsgs < 1 || r.batch < 1 || r.nsubs > 100000) {
        fprintf(stderr, "broker_bench: counts must be positive (subscribers at most 100000)\n");
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)r.nsubs * 2 + 64) {
        rl.rlim_cur = rl.rlim_max; /* both this process and the broker need the descriptors */
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    char maxconn[32];
    snprintf(maxconn, sizeof maxconn, "%d", r.nsubs + 16);
    /* every subscriber comes from 127.0.0.1: the per-address limit as high */
    const char *args[] = {"--allow-any-user", "--max-connections", maxconn, "--max-per-ip", maxconn, NULL};
    broker_process b;
    if (!broker_start(&b, argv[1], args)) {
        fprintf(stderr, "broker_bench: cannot start the broker: %s\n", b.error);
        broker_stop(&b);
        return 1;
    }
    long rss_idle = status_kb(b.pid, "VmRSS:");
    int rc = 1;
    int opened = 0;
    r.subs = calloc((size_t)r.nsubs, sizeof *r.subs);
    r.lat = malloc(sizeof *r.lat * (size_t)r.nsubs * (size_t)r.nmsgs);
    int epfd = epoll_create1(0);
    if (!r.subs || !r.lat || epfd < 0) {
        fprintf(stderr, "broker_bench: out of memory\n");
        goto out;
    }
    double t0 = now_s();
    for (; opened < r.nsubs; opened++) {
        wire_client *c = &r.subs[opened];
        char uid[32];
        snprintf(uid, sizeof uid, "sub%d", opened);
        if (!wire_open(c, b.port, uid, "pw", NULL) || !subscribe(c)) {
            fprintf(stderr, "broker_bench: subscriber %d: %s\n", opened, c->error);
            opened++;
            goto out;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)opened};
        epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
    }
    double setup = now_s() - t0;
    long rss_conns = status_kb(b.pid, "VmRSS:");
    if (!wire_open(&r.pub, b.port, "publisher", "pw", NULL)) {
        fprintf(stderr, "broker_bench: publisher: %s\n", r.pub.error);
        goto out;
    }
    hmtp_arena a;
    hmtp_arena_init(&a);
    double start = now_s();
    bool stalled = false;
    for (int sent = 0; sent < r.nmsgs && !stalled;) {
        int k = r.batch < r.nmsgs - sent ? r.batch : r.nmsgs - sent;
        for (int i = 0; i < k; i++)
            if (!publish(&r, sent + i, &a)) {
                fprintf(stderr, "broker_bench: publish: %s\n", r.pub.error);
                stalled = true;
            }
        sent += k;
        uint64_t want = (uint64_t)sent * (uint64_t)r.nsubs;
        double last = now_s();
        while (r.delivered < want && !stalled) {
            int n = drain(&r, epfd, 1000);
            if (n < 0) {
                fprintf(stderr, "broker_bench: a subscriber failed\n");
                stalled = true;
            } else if (n > 0) {
                last = now_s();
            } else if (now_s() - last > 5.0 || now_s() - start > DEADLINE_S) {
                fprintf(stderr, "broker_bench: stalled at %llu of %llu deliveries\n",
                        (unsigned long long)r.delivered, (unsigned long long)want);
                stalled = true;
            }
        }
    }
    double elapsed = now_s() - start;
    hmtp_arena_free(&a);
    long hwm = status_kb(b.pid, "VmHWM:");
    qsort(r.lat, r.nlat, sizeof *r.lat, cmp_i64);
#define PCT(p) (r.nlat ? (double)r.lat[(size_t)((double)(r.nlat - 1) * (p))] / 1e6 : 0.0)
    printf("subscribers            %d\n", r.nsubs);
    printf("messages published     %d (batches of %d)\n", r.nmsgs, r.batch);
    printf("deliveries             %llu of %llu\n", (unsigned long long)r.delivered,
           (unsigned long long)r.nsubs * (unsigned long long)r.nmsgs);
    printf("setup (connect, upgrade, login, subscribe) %.2f s\n", setup);
    printf("fan-out time           %.3f s\n", elapsed);
    printf("deliveries per second  %.0f\n", (double)r.delivered / elapsed);
    printf("latency ms             p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", PCT(0.5),
           PCT(0.9), PCT(0.99), PCT(0.999), PCT(1.0));
    printf("broker RSS kB          idle %ld, with connections %ld, peak (VmHWM) %ld\n", rss_idle,
           rss_conns, hwm);
    rc = stalled ? 1 : 0;
out:
    if (r.subs)
        for (int i = 0; i < opened; i++)
            wire_close(&r.subs[i]);
    if (r.pub.reader)
        wire_close(&r.pub);
    if (epfd >= 0)
        close(epfd);
    free(r.subs);
    free(r.lat);
    int status = broker_stop(&b);
    if (status != 0) {
        fprintf(stderr, "broker_bench: the broker did not stop cleanly (status %d)\n", status);
        rc = 1;
    }
    return rc;
}
