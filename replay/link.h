/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One connection to the target: connecting, the HTTP upgrade, writing the
 * bytes queued, and reading the replies as HMTP frames, on plain
 * non-blocking sockets watched by the engine's hmtp_loop (GLib's main loop
 * visits every socket and timer on every iteration, which made 10,000
 * sessions impossible). It knows nothing of sessions: what happens is told
 * to its owner through link_events, and every wait on the target has
 * --timeout (the watch): being connected and answering the upgrade (one
 * deadline for both), and taking written bytes. */
#ifndef REPLAY_LINK_H
#define REPLAY_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "framing.h"
#include "hmtp_loop.h"

typedef enum link_failure {
    LINK_CONNECT_ERROR,   /* detail: the system's reason */
    LINK_CONNECT_TIMEOUT,
    LINK_UPGRADE_TIMEOUT, /* connected, but no answer to the upgrade */
    LINK_NOT_HTTP,        /* the answer to the upgrade is not HTTP */
    LINK_REFUSED,         /* detail: "HTTP 403 Forbidden" */
    LINK_UPGRADE_CLOSED,  /* closed during the upgrade */
    LINK_READ_ERROR,      /* detail: the system's reason */
    LINK_WRITE_ERROR,     /* detail: the system's reason */
    LINK_PEER_CLOSED,     /* reset or broken pipe; detail: the system's reason */
    LINK_WRITE_STALLED,   /* the target took none of the bytes for --timeout */
    LINK_BAD_FRAMING,     /* detail: the whole message */
} link_failure;

/* Failures are told from the loop only, never from inside link_connect or
 * link_flush, so the owner is not ended while it calls the link; `wrote`
 * may come from inside link_flush (the bytes went at once). */
typedef struct link_events {
    void (*frame)(void *ctx, const hmtp_frame *f); /* a reply (its bytes last until the call returns) */
    void (*wrote)(void *ctx, size_t n);             /* n bytes taken by the target */
    void (*progressed)(void *ctx);                  /* upgraded, or replies read: look again */
    void (*closed)(void *ctx);                      /* the target closed after the upgrade */
    void (*failed)(void *ctx, link_failure why, const char *detail);
} link_events;

/* What every link of a run shares: the target's addresses, resolved once
 * (or why they could not be), and the one buffer replies are read into. */
typedef struct link_target link_target;

/* Never NULL: a target that does not resolve fails every link_connect with
 * the resolver's reason, as a refused connection would. */
link_target *link_target_resolve(const char *target);
void link_target_free(link_target *t);

typedef struct replay_link {
    const link_events *ev;
    void *ctx;
    hmtp_loop *loop;
    unsigned timeout_ms;
    bool requested;       /* link_connect was called */
    bool closed;
    hmtp_timer *watch;    /* the --timeout deadline on connecting, the upgrade answer, a write */
    hmtp_timer *later;    /* a failure found inside a call, told from the loop */
    link_failure later_why;
    char later_detail[240];
    link_target *target;
    unsigned next_addr;   /* the target's address to try after this one */
    int fd;               /* -1 when none */
    bool connected;
    hmtp_buf head;        /* the upgrade answer so far */
    bool upgraded;
    hmtp_reader *reader;  /* only while connected */
    hmtp_buf outq;
    size_t out_off;
    bool writing;         /* bytes wait for the socket to take them */
} replay_link;

void link_init(replay_link *l, const link_events *ev, void *ctx, hmtp_loop *loop, unsigned timeout_ms);
void link_free(replay_link *l);

/* Connects and sends the upgrade request for path with this Host header. */
void link_connect(replay_link *l, link_target *target, const char *path, const char *host);
/* Queues bytes; link_flush starts writing them. */
void link_queue(replay_link *l, const uint8_t *data, size_t len);
void link_flush(replay_link *l);
/* Ends the connection at once: no event comes after. */
void link_close(replay_link *l);

#endif
