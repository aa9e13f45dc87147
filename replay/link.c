/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "link.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "http_upgrade.h"

#define READ_SIZE 65536
/* Reads per readiness before other links get their turn. */
#define READS_PER_TURN 4

struct link_target {
    char name[256];          /* HOST:PORT as given, for messages */
    struct addrinfo *addrs;  /* NULL when resolving failed */
    char error[200];
    uint8_t rbuf[READ_SIZE]; /* every link reads here: frames are handed out from it, then it is free again */
};

link_target *link_target_resolve(const char *target)
{
    link_target *t = g_new0(link_target, 1);
    snprintf(t->name, sizeof t->name, "%s", target);
    /* GLib parses HOST:PORT, [v6]:PORT and the like; it does no I/O here. */
    GError *error = NULL;
    GSocketConnectable *a = g_network_address_parse(target, 0, &error);
    if (!a) {
        snprintf(t->error, sizeof t->error, "%s", error->message);
        g_error_free(error);
        return t;
    }
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)g_network_address_get_port(G_NETWORK_ADDRESS(a)));
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG};
    int r = getaddrinfo(g_network_address_get_hostname(G_NETWORK_ADDRESS(a)), port, &hints, &t->addrs);
    if (r != 0) {
        snprintf(t->error, sizeof t->error, "cannot resolve %s: %s", target,
                 r == EAI_SYSTEM ? g_strerror(errno) : gai_strerror(r));
        t->addrs = NULL;
    }
    g_object_unref(a);
    return t;
}

void link_target_free(link_target *t)
{
    if (!t)
        return;
    if (t->addrs)
        freeaddrinfo(t->addrs);
    g_free(t);
}

void link_init(replay_link *l, const link_events *ev, void *ctx, hmtp_loop *loop, unsigned timeout_ms)
{
    memset(l, 0, sizeof *l);
    l->ev = ev;
    l->ctx = ctx;
    l->loop = loop;
    l->timeout_ms = timeout_ms;
    l->fd = -1;
    hmtp_buf_init(&l->head);
    hmtp_buf_init(&l->outq);
}

void link_free(replay_link *l)
{
    link_close(l);
    hmtp_buf_free(&l->head);
    hmtp_buf_free(&l->outq);
}

static void watch_stop(replay_link *l)
{
    if (l->watch)
        hmtp_loop_cancel(l->loop, l->watch);
    l->watch = NULL;
}

static void on_watch(void *data)
{
    replay_link *l = data;
    l->watch = NULL;
    l->ev->failed(l->ctx, !l->connected ? LINK_CONNECT_TIMEOUT : !l->upgraded ? LINK_UPGRADE_TIMEOUT : LINK_WRITE_STALLED,
                  NULL);
}

static void watch_start(replay_link *l)
{
    watch_stop(l);
    l->watch = hmtp_loop_timer(l->loop, l->timeout_ms, on_watch, l);
}

static void drop_socket(replay_link *l)
{
    if (l->fd >= 0) {
        hmtp_loop_unwatch(l->loop, l->fd);
        close(l->fd);
    }
    l->fd = -1;
}

void link_close(replay_link *l)
{
    if (l->closed)
        return;
    l->closed = true;
    watch_stop(l);
    if (l->later)
        hmtp_loop_cancel(l->loop, l->later);
    l->later = NULL;
    drop_socket(l);
    if (l->reader) {
        hmtp_reader_free(l->reader);
        l->reader = NULL;
    }
    /* the job stays (its result is reported) while thousands of others run:
       what it queued is not kept with it */
    hmtp_buf_free(&l->outq);
    hmtp_buf_init(&l->outq);
    l->out_off = 0;
    hmtp_buf_free(&l->head);
    hmtp_buf_init(&l->head);
}

static void on_later(void *data)
{
    replay_link *l = data;
    l->later = NULL;
    l->ev->failed(l->ctx, l->later_why, l->later_detail[0] ? l->later_detail : NULL);
}

/* A failure found inside a call of the owner's: told from the loop. */
static void fail_later(replay_link *l, link_failure why, const char *detail)
{
    if (l->later)
        return; /* the first one is the reason */
    snprintf(l->later_detail, sizeof l->later_detail, "%s", detail ? detail : "");
    l->later_why = why;
    l->later = hmtp_loop_timer(l->loop, 0, on_later, l);
}

/* A reset or broken pipe is the target hanging up, said plainly. */
static bool is_peer_close(int err) { return err == ECONNRESET || err == EPIPE || err == ECONNABORTED; }

static void fail_write_later(replay_link *l, int err)
{
    char detail[160];
    snprintf(detail, sizeof detail, "Error sending data: %s", g_strerror(err));
    fail_later(l, is_peer_close(err) ? LINK_PEER_CLOSED : LINK_WRITE_ERROR, detail);
}

/* ---------------------------------------------------------------- writing */

static void on_io(void *ctx, int fd, unsigned events);

static bool want_events(replay_link *l)
{
    unsigned ev = HMTP_LOOP_IN | (l->writing ? HMTP_LOOP_OUT : 0u);
    return hmtp_loop_watch(l->loop, l->fd, ev, on_io, l);
}

/* Writes what the socket takes now. false: failed (err set). */
static bool write_some(replay_link *l, int *err)
{
    size_t took = 0;
    while (l->out_off < l->outq.len) {
        ssize_t n = send(l->fd, l->outq.data + l->out_off, l->outq.len - l->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            *err = errno;
            return false;
        }
        l->out_off += (size_t)n;
        took += (size_t)n;
    }
    bool was_writing = l->writing;
    l->writing = l->out_off < l->outq.len;
    if (!l->writing) {
        hmtp_buf_reset(&l->outq);
        l->out_off = 0;
    }
    if (l->upgraded) {
        /* before the 101 the upgrade's deadline covers the request */
        if (!l->writing)
            watch_stop(l);
        else if (took || !was_writing)
            watch_start(l); /* --timeout for the target to take more */
    }
    if (l->writing != was_writing && !want_events(l)) {
        *err = errno;
        return false;
    }
    if (took)
        l->ev->wrote(l->ctx, took);
    return true;
}

void link_queue(replay_link *l, const uint8_t *data, size_t len)
{
    hmtp_buf_append(&l->outq, data, len);
}

void link_flush(replay_link *l)
{
    if (l->writing || l->closed || !l->connected || l->later || l->out_off == l->outq.len)
        return;
    int err = 0;
    if (!write_some(l, &err))
        fail_write_later(l, err);
}

/* ---------------------------------------------------------------- reading */

static void take_hmtp_bytes(replay_link *l, const uint8_t *data, size_t len)
{
    while (len > 0 && !l->closed) {
        size_t used = 0;
        hmtp_frame f;
        hmtp_error err;
        hmtp_error_clear(&err);
        int r = hmtp_reader_push(l->reader, data, len, &used, &f, &err);
        data += used;
        len -= used;
        if (r < 0) {
            hmtp_tool_error why;
            hmtp_tool_fail_at(&why, err.offset, "the target sent bytes that are not HMTP framing (stream offset %zu): %s",
                              err.offset, err.msg);
            l->ev->failed(l->ctx, LINK_BAD_FRAMING, why.msg);
            return;
        }
        if (r == 0)
            break;
        l->ev->frame(l->ctx, &f);
    }
}

static void take_upgrade_bytes(replay_link *l, const uint8_t *data, size_t len)
{
    hmtp_buf_append(&l->head, data, len);
    hmtp_upgrade_head h;
    int r = hmtp_upgrade_head_parse(l->head.data, l->head.len, &h, NULL);
    if (r == 0)
        return;
    if (r < 0 || h.kind != HMTP_UPGRADE_RESPONSE) {
        l->ev->failed(l->ctx, LINK_NOT_HTTP, NULL);
        return;
    }
    if (h.status != 101) {
        char detail[200];
        snprintf(detail, sizeof detail, "HTTP %d %s", h.status, h.reason);
        l->ev->failed(l->ctx, LINK_REFUSED, detail);
        return;
    }
    l->upgraded = true;
    watch_stop(l);
    if (l->writing)
        watch_start(l); /* the rest of the request waits: now it is a write's deadline */
    size_t rest = l->head.len - h.head_len;
    if (rest)
        take_hmtp_bytes(l, l->head.data + h.head_len, rest);
    hmtp_buf_free(&l->head);
    hmtp_buf_init(&l->head);
    if (!l->closed)
        l->ev->progressed(l->ctx);
}

/* Reads what is there; false when the link ended (an event was told). */
static bool read_some(replay_link *l)
{
    uint8_t *buf = l->target->rbuf;
    bool got = false;
    for (int turn = 0; turn < READS_PER_TURN && !l->closed; turn++) {
        ssize_t n = recv(l->fd, buf, READ_SIZE, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            int err = errno;
            char detail[160];
            snprintf(detail, sizeof detail, "Error receiving data: %s", g_strerror(err));
            l->ev->failed(l->ctx, l->upgraded && is_peer_close(err) ? LINK_PEER_CLOSED : LINK_READ_ERROR, detail);
            return false;
        }
        if (n == 0) {
            if (!l->upgraded)
                l->ev->failed(l->ctx, LINK_UPGRADE_CLOSED, NULL);
            else
                l->ev->closed(l->ctx);
            return false;
        }
        if (l->upgraded) {
            take_hmtp_bytes(l, buf, (size_t)n);
            got = true;
        } else {
            take_upgrade_bytes(l, buf, (size_t)n);
        }
        if ((size_t)n < READ_SIZE)
            break;
    }
    if (got && !l->closed)
        l->ev->progressed(l->ctx);
    return !l->closed;
}

static void on_io(void *ctx, int fd, unsigned events)
{
    (void)fd;
    replay_link *l = ctx;
    if ((events & (HMTP_LOOP_IN | HMTP_LOOP_HUP | HMTP_LOOP_ERR)) && !read_some(l))
        return;
    if ((events & (HMTP_LOOP_OUT | HMTP_LOOP_ERR)) && l->writing) {
        int err = 0;
        if (!write_some(l, &err)) {
            char detail[160];
            snprintf(detail, sizeof detail, "Error sending data: %s", g_strerror(err));
            l->ev->failed(l->ctx, is_peer_close(err) ? LINK_PEER_CLOSED : LINK_WRITE_ERROR, detail);
        }
    }
}

/* ---------------------------------------------------------------- connecting */

static void try_connect(replay_link *l, int last_err);

static void on_connected(replay_link *l)
{
    l->connected = true;
    l->reader = hmtp_reader_new(HMTP_DEFAULT_MAX_PACKET);
    l->writing = true; /* the request is queued: write_some watches what it needs */
    int err = 0;
    if (!want_events(l))
        fail_write_later(l, errno);
    else if (!write_some(l, &err))
        fail_write_later(l, err);
}

static void on_connecting(void *ctx, int fd, unsigned events)
{
    (void)events;
    replay_link *l = ctx;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err == 0) {
        on_connected(l);
        return;
    }
    drop_socket(l);
    try_connect(l, err);
}

/* The target's next address; when none is left, the last one's reason. */
static void try_connect(replay_link *l, int last_err)
{
    const link_target *t = l->target;
    unsigned i = 0;
    for (const struct addrinfo *a = t->addrs; a; a = a->ai_next, i++) {
        if (i < l->next_addr)
            continue;
        l->next_addr = i + 1;
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last_err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        l->fd = fd;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            on_connected(l);
            return;
        }
        if (errno == EINPROGRESS) {
            if (hmtp_loop_watch(l->loop, fd, HMTP_LOOP_OUT, on_connecting, l))
                return;
        }
        last_err = errno;
        drop_socket(l);
    }
    char detail[240];
    if (!t->addrs)
        snprintf(detail, sizeof detail, "%s", t->error);
    else
        snprintf(detail, sizeof detail, "Could not connect to %.180s: %s", t->name,
                 g_strerror(last_err ? last_err : ECONNREFUSED));
    fail_later(l, LINK_CONNECT_ERROR, detail);
}

void link_connect(replay_link *l, link_target *target, const char *path, const char *host)
{
    l->requested = true;
    l->target = target;
    hmtp_upgrade_write_request(&l->outq, "CONNECT", path, host);
    watch_start(l);
    try_connect(l, 0);
}
