/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One connection to the target: connecting, the HTTP upgrade, writing the
 * bytes queued, and reading the replies as HMTP frames. It knows nothing of
 * sessions: what happens is told to its owner through link_events, and
 * every wait on the target has --timeout (the watch): being connected and
 * answering the upgrade (one deadline for both), and taking written bytes. */
#ifndef REPLAY_LINK_H
#define REPLAY_LINK_H

#include <gio/gio.h>
#include <glib.h>
#include <stdbool.h>

#include "buf.h"
#include "framing.h"

typedef enum link_failure {
    LINK_CONNECT_ERROR,   /* detail: GLib's reason */
    LINK_CONNECT_TIMEOUT,
    LINK_UPGRADE_TIMEOUT, /* connected, but no answer to the upgrade */
    LINK_NOT_HTTP,        /* the answer to the upgrade is not HTTP */
    LINK_REFUSED,         /* detail: "HTTP 403 Forbidden" */
    LINK_UPGRADE_CLOSED,  /* closed during the upgrade */
    LINK_READ_ERROR,      /* detail: GLib's reason */
    LINK_WRITE_ERROR,     /* detail: GLib's reason */
    LINK_PEER_CLOSED,     /* reset or broken pipe after the upgrade; detail: GLib's reason */
    LINK_WRITE_STALLED,   /* the target took none of the bytes for --timeout */
    LINK_BAD_FRAMING,     /* detail: the whole message */
} link_failure;

typedef struct link_events {
    void (*frame)(void *ctx, const hmtp_frame *f); /* a reply */
    void (*wrote)(void *ctx, size_t n);             /* n bytes taken by the target */
    void (*progressed)(void *ctx);                  /* upgraded, or replies read: look again */
    void (*closed)(void *ctx);                      /* the target closed after the upgrade */
    void (*failed)(void *ctx, link_failure why, const char *detail);
    void (*settled)(void *ctx);                     /* a call in flight came back after link_close */
} link_events;

typedef struct replay_link {
    const link_events *ev;
    void *ctx;
    int *pending_ops;     /* the engine's count of calls in flight */
    unsigned timeout_ms;
    bool requested;       /* link_connect was called */
    bool closed;
    guint watch;          /* the --timeout deadline on connecting, the upgrade answer, a write */
    GCancellable *cancel;
    GSocketConnection *conn;
    uint8_t *rbuf;        /* only while connected: sessions that wait for their turn hold none */
    bool reading;         /* a read is in flight (it owns rbuf until it returns) */
    hmtp_buf head;
    bool upgraded;
    hmtp_reader *reader;
    hmtp_buf outq;
    size_t out_off;
    bool writing;
} replay_link;

void link_init(replay_link *l, const link_events *ev, void *ctx, int *pending_ops, unsigned timeout_ms);
void link_free(replay_link *l);

/* Connects and sends the upgrade request for path with this Host header. */
void link_connect(replay_link *l, GSocketClient *client, const char *target, const char *path, const char *host);
/* Queues bytes; link_flush starts writing them. */
void link_queue(replay_link *l, const uint8_t *data, size_t len);
void link_flush(replay_link *l);
/* Ends the connection; calls in flight come back through settled. */
void link_close(replay_link *l);

#endif
