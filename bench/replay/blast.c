/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hmtp-blast: the fair ceiling for hmtp-replay --top-speed. It writes the
 * same client bytes of the same sessions to the same server, as fast as the
 * sockets take them, and reads whatever comes back without decoding or
 * comparing it: the replayer's work minus verification and pacing. Not a
 * tool for users: a benchmark baseline (bench/replay/throughput.py).
 *
 * usage: hmtp-blast HOST:PORT CAPTURE [MAX_CONNECTIONS]
 *
 * Each session gets a fresh connection: the upgrade request, then every
 * recorded client packet as recorded (so the capture's logins must be plain
 * and accepted by the server), then a half-close; the session ends when the
 * server closes. Nothing waits for the 101: the bytes are pipelined behind
 * the request, which a server reading a byte stream must take. Prints one
 * JSON line: sessions, packets, bytes written and read, seconds. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "capture.h"

typedef struct blast_session {
    GByteArray *out;   /* upgrade request + client packets */
    size_t written;
    int fd;
    bool done;
} blast_session;

typedef struct blast_load {
    GPtrArray *sessions; /* blast_session*, by session id */
    uint64_t packets;
} blast_load;

static void on_begin(void *ctx, const replay_session_info *s)
{
    blast_load *l = ctx;
    blast_session *b = g_new0(blast_session, 1);
    b->out = g_byte_array_new();
    b->fd = -1;
    char head[512];
    int n = snprintf(head, sizeof head,
                     "CONNECT %s HTTP/1.1\r\nHost: blast\r\nUpgrade: HMTP/0.9\r\nConnection: Upgrade\r\n\r\n",
                     s->path[0] ? s->path : "/hmtp");
    g_byte_array_append(b->out, (const guint8 *)head, (guint)n);
    if (s->id >= l->sessions->len)
        g_ptr_array_set_size(l->sessions, (gint)s->id + 1);
    l->sessions->pdata[s->id] = b;
}

static void on_packet(void *ctx, const replay_session_info *s, const replay_wire_packet *p)
{
    blast_load *l = ctx;
    if (p->dir != REPLAY_C2S)
        return;
    blast_session *b = l->sessions->pdata[s->id];
    g_byte_array_append(b->out, p->wire, (guint)p->wire_len);
    l->packets++;
}

static void on_end(void *ctx, const replay_session_info *s) { (void)ctx; (void)s; }

static void session_free(gpointer p)
{
    blast_session *b = p;
    if (!b)
        return;
    if (b->fd >= 0)
        close(b->fd);
    g_byte_array_free(b->out, TRUE);
    g_free(b);
}

static int connect_to(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: hmtp-blast HOST:PORT CAPTURE [MAX_CONNECTIONS]\n");
        return 2;
    }
    char *host = g_strdup(argv[1]);
    char *colon = strrchr(host, ':');
    if (!colon) {
        fprintf(stderr, "hmtp-blast: %s: not HOST:PORT\n", argv[1]);
        return 2;
    }
    *colon = '\0';
    unsigned max_conn = argc == 4 ? (unsigned)strtoul(argv[3], NULL, 10) : 64;
    if (max_conn == 0)
        max_conn = 1;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int gai = getaddrinfo(host, colon + 1, &hints, &ai);
    if (gai != 0) {
        fprintf(stderr, "hmtp-blast: %s: %s\n", argv[1], gai_strerror(gai));
        return 2;
    }

    blast_load load = {.sessions = g_ptr_array_new_with_free_func(session_free)};
    replay_sink sink = {.ctx = &load, .begin = on_begin, .packet = on_packet, .end = on_end};
    replay_capture_options opt = {0};
    replay_capture_stats stats;
    hmtp_tool_error err;
    if (replay_capture_read(argv[2], &opt, &sink, &stats, &err) != 0) {
        fprintf(stderr, "hmtp-blast: %s: %s\n", argv[2], err.msg);
        return 2;
    }

    int ep = epoll_create1(0);
    guint next = 0, open_now = 0, finished = 0, total = load.sessions->len;
    uint64_t written = 0, read_bytes = 0;
    static uint8_t sinkbuf[1 << 16];
    double t0 = now_s();
    int rc = 0;
    while (finished < total) {
        while (open_now < max_conn && next < total) {
            blast_session *b = load.sessions->pdata[next];
            if (!b) { /* a session id without packets (refused upgrade) */
                next++, finished++;
                continue;
            }
            b->fd = connect_to(ai);
            if (b->fd < 0) {
                fprintf(stderr, "hmtp-blast: connect %s: %s\n", argv[1], strerror(errno));
                return 3;
            }
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = next};
            epoll_ctl(ep, EPOLL_CTL_ADD, b->fd, &ev);
            next++, open_now++;
        }
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, 10000);
        if (n == 0) {
            fprintf(stderr, "hmtp-blast: no progress for 10 s with %u connections open\n", open_now);
            rc = 3;
            break;
        }
        for (int i = 0; i < n; i++) {
            blast_session *b = load.sessions->pdata[evs[i].data.u32];
            if ((evs[i].events & EPOLLOUT) && b->written < b->out->len) {
                ssize_t w = send(b->fd, b->out->data + b->written, b->out->len - b->written, MSG_NOSIGNAL);
                if (w > 0) {
                    b->written += (size_t)w, written += (uint64_t)w;
                    if (b->written == b->out->len) {
                        shutdown(b->fd, SHUT_WR);
                        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = evs[i].data.u32};
                        epoll_ctl(ep, EPOLL_CTL_MOD, b->fd, &ev);
                    }
                }
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t r;
                while ((r = recv(b->fd, sinkbuf, sizeof sinkbuf, 0)) > 0)
                    read_bytes += (uint64_t)r;
                if (r == 0 || (r < 0 && errno != EAGAIN)) {
                    if (b->written < b->out->len) {
                        fprintf(stderr, "hmtp-blast: session %u: the server closed after %zu of %u bytes\n",
                                evs[i].data.u32, b->written, b->out->len);
                        rc = 1;
                    }
                    epoll_ctl(ep, EPOLL_CTL_DEL, b->fd, NULL);
                    close(b->fd);
                    b->fd = -1;
                    open_now--, finished++;
                }
            }
        }
    }
    double took = now_s() - t0;
    printf("{\"sessions\": %u, \"packets\": %" G_GUINT64_FORMAT ", \"bytes_written\": %" G_GUINT64_FORMAT
           ", \"bytes_read\": %" G_GUINT64_FORMAT ", \"seconds\": %.6f}\n",
           total, load.packets, written, read_bytes, took);
    close(ep);
    freeaddrinfo(ai);
    g_ptr_array_free(load.sessions, TRUE);
    g_free(host);
    return rc;
}
