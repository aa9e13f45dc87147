/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the login steps need of a connection, and nothing more: its next
 * query id, sending one query, and waiting for the answer to an id. The
 * connection layer provides it (client_conn_link() in connection.c); the
 * login (client_login.c) knows no other part of a connection, so it never
 * reaches back into the loop that drives it. */
#ifndef HMTP_CLIENT_CLIENT_LINK_H
#define HMTP_CLIENT_CLIENT_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "hmtp.h"

typedef struct client_link client_link;

struct client_link {
    const char *name; /* the connection's name, for messages */
    void *session, *conn;
    /* Takes the connection's next query id. */
    int64_t (*next_id)(const client_link *l);
    /* Writes q (its type, id and value set; to and from null: a link has no
     * JID before login) and queues its bytes. False with err set. */
    bool (*send_query)(const client_link *l, const hmtp_packet *q, hmtp_tool_error *err);
    /* Reads every connection until the queryResult or queryError to id
     * arrives, and hands it over (free with hmtp_packet_free, then free).
     * NULL with err set, naming `what`, when none came in time. */
    hmtp_packet *(*await_answer)(const client_link *l, int64_t id, const char *what, int64_t timeout_ms,
                                 hmtp_tool_error *err);
};

#endif
