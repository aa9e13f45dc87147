/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small blocking HMTP client on the core codec, for the broker's tests and
 * benchmark: plain sockets and poll(), one writer and one reader stream per
 * connection as the protocol requires. Every byte received is also kept in
 * `raw` so tests can compare whole sessions byte for byte. */
#ifndef TESTS_BROKER_WIRE_CLIENT_H
#define TESTS_BROKER_WIRE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "framing.h"
#include "hmtp.h"

typedef struct wire_client {
    int fd;
    hmtp_buf out;
    hessian_writer writer;
    hmtp_reader *reader;
    hessian_stream in;
    hmtp_buf raw;     /* everything received, the HTTP answer included */
    hmtp_buf pending; /* received, not yet framed */
    size_t pending_off;
    bool eof;
    char jid[256];
    char error[256]; /* the last failure, for test messages */
} wire_client;

#define WIRE_UPGRADE_REQUEST                                                                    \
    "CONNECT /hmtp HTTP/1.1\r\nHost: null:8080\r\nUpgrade: HMTP/0.9\r\n"                       \
    "Connection: Upgrade\r\nContent-Length: 0\r\n\r\n"

/* Connects to 127.0.0.1:port. false with c->error set on failure. */
bool wire_connect(wire_client *c, uint16_t port);
void wire_close(wire_client *c);

bool wire_send_raw(wire_client *c, const void *data, size_t len);
/* Sends request and reads the HTTP answer header (into head, NUL-terminated);
 * bytes after it stay buffered as HMTP. */
bool wire_http(wire_client *c, const char *request, char *head, size_t cap, int timeout_ms);
/* The standard upgrade; true when the answer starts "HTTP/1.1 101". */
bool wire_upgrade(wire_client *c);

bool wire_send(wire_client *c, int32_t type, const char *to, const char *from, int64_t id,
               const hessian_value *value, const hessian_value *error_value);

/* Reads once (waiting up to timeout_ms): >0 bytes read, 0 timeout, -1 EOF or error. */
int wire_fill(wire_client *c, int timeout_ms);
/* Decodes one packet from buffered bytes: 1 got one (p initialised by the
 * call), 0 need more, -1 framing/decoding error. */
int wire_next_buffered(wire_client *c, hmtp_packet *p);
/* 1 packet, 0 timeout, -1 closed or error. */
int wire_recv(wire_client *c, hmtp_packet *p, int timeout_ms);
/* True when the peer closes within timeout_ms (packets before are skipped). */
bool wire_wait_closed(wire_client *c, int timeout_ms);

/* querySet id to=null with AuthQuery; on success copies the JID to c->jid.
 * Returns the answer type (queryResult/queryError) or -1. When err_group is
 * non-NULL it receives the BamError group of a queryError. */
int wire_login(wire_client *c, const char *uid, const char *password, const char *resource,
               int64_t id, char *err_group, size_t cap);

/* The same with any AuthQuery._credentials value (e.g. an EncryptedObject). */
int wire_login_value(wire_client *c, const char *uid, const char *resource,
                     hessian_value *credentials, int64_t id, char *err_group, size_t cap);

/* A PingQuery to service@localhost answered by a queryResult with the
 * same id within timeout_ms. */
bool wire_ping(wire_client *c, int64_t id, int timeout_ms);

/* connect + upgrade + successful login. */
bool wire_open(wire_client *c, uint16_t port, const char *uid, const char *password,
               const char *resource);

#endif
