/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The client's named connections and the one loop that moves their bytes.
 * Everything runs in one thread in scenario order; while a statement waits
 * (for a reply, for the send buffer to drain, for a sleep to end) every open
 * connection is still read, so auto-answers go out and a server that fans a
 * 1 MB message out to our other connections never blocks on us. */
#ifndef HMTP_CLIENT_CONNECTION_H
#define HMTP_CLIENT_CONNECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "client_link.h"
#include "error.h"
#include "framing.h"
#include "hessian.h"
#include "hmtp.h"
#include "writer.h"

typedef struct client_session client_session;

typedef struct client_conn {
    char *name;
    int fd;            /* -1 when not connected */
    bool upgraded;     /* HMTP packets flow (after the 101) */
    bool eof;          /* the server closed its side */
    hmtp_tool_error error; /* first read/write/decode failure, "" when none */
    hmtp_buf pending;  /* bytes not yet written to the socket */
    hmtp_buf wire;     /* the writer's output, moved to pending per packet */
    hessian_writer writer;
    hmtp_reader *reader;
    hessian_stream in; /* class definitions the server sent us */
    hmtp_buf http;     /* the upgrade response while it is being read */
    hmtp_packet **inbox; /* received, not yet matched by an expect */
    size_t ninbox, inbox_cap;
    char *jid; /* from AuthResult; NULL before login */
    int64_t next_id;
    bool has_last_sent;
    int64_t last_sent_id;
    bool has_last_query; /* the last queryGet/querySet received */
    int64_t last_query_id;
    char *last_query_from;
    char *last_from; /* from of the last packet received */
    struct auto_answer *answers;
    size_t nanswers;
} client_conn;

/* Called for every packet received (before it goes to the inbox, which
 * takes ownership of p after the hook returns). */
typedef void (*client_packet_hook)(client_session *s, client_conn *c, hmtp_packet *p);
/* Called for every packet sent (for -v). */
typedef void (*client_send_hook)(client_session *s, client_conn *c, const hmtp_packet *p, size_t wire_len,
                                 size_t sent_len);

struct client_session {
    client_conn **conns;
    size_t nconns;
    client_packet_hook on_packet;
    client_send_hook on_send;
    void *user;
    size_t max_packet;
};

void session_init(client_session *s);
void session_free(client_session *s);
client_conn *session_find(client_session *s, const char *name);
/* A fresh connection object (not yet connected), replacing a closed one of
 * the same name. */
client_conn *session_add(client_session *s, const char *name);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t now_ms(void);

/* TCP connect to host:port within timeout_ms. err says "what: why". */
bool conn_open(client_conn *c, const char *host, const char *port, int64_t timeout_ms, hmtp_tool_error *err);

/* Queues bytes; they are written by session_pump/session_flush. */
bool conn_queue(client_conn *c, const void *data, size_t len);

/* Runs the loop until done(s, ctx) is true or the deadline passes (then
 * false). done may be NULL: run until the deadline. */
bool session_pump(client_session *s, int64_t deadline_ms, bool (*done)(client_session *, void *), void *ctx);

/* Writes all of c's pending bytes (still reading everything). False on a
 * write failure (c->error says why) or timeout. */
bool session_flush(client_session *s, client_conn *c, int64_t deadline_ms);

/* Feeds bytes that arrived on c after the upgrade to its packet reader. */
void conn_feed(client_session *s, client_conn *c, const uint8_t *data, size_t len);

/* Closes cleanly (flush, FIN, wait up to linger_ms for the server's FIN so
 * no unread data turns the close into a reset) or abruptly (RST). */
void client_conn_close(client_session *s, client_conn *c, bool abort, int64_t linger_ms);

/* Writes p through c's writer and queues the bytes (only the first
 * truncate bytes when truncate < the packet's size, for misbehaving-client
 * tests). False with err when an object's fields differ from its class's
 * first use on c, or when out of memory; nothing is queued then. */
bool conn_send_packet(client_session *s, client_conn *c, const hmtp_packet *p, size_t truncate, hmtp_tool_error *err);

void conn_inbox_remove(client_conn *c, size_t index);

/* c as the login steps see it (client_link.h); valid while s and c are. */
client_link client_conn_link(client_session *s, client_conn *c);

#endif
