/* SPDX-License-Identifier: GPL-2.0-or-later */
/* In-band login (PROTOCOL.md sections 3 and 7): a querySet to null with an
 * AuthQuery, answered by a queryResult carrying AuthResult {_jid} or by a
 * queryError; in the encrypted mode preceded by a queryGet for the server's
 * public key. */
#ifndef HMTP_CLIENT_CLIENT_LOGIN_H
#define HMTP_CLIENT_CLIENT_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client_link.h"

typedef enum login_mode {
    LOGIN_ENCRYPTED, /* Resin from late January 2009, the default: queryGet
                        GetPublicKeyQuery (id 1), then _credentials =
                        EncryptedObject made with the server's key (id 2) */
    LOGIN_PLAIN,     /* _credentials is the password string (Resin, early
                        2009; the login is id 0) */
} login_mode;

/* Resin's early client numbers its queries from 0, the late-January one
 * from 1: a connection's first query id in each mode. */
int64_t login_first_id(login_mode mode);

typedef struct login_request {
    login_mode mode;
    const char *user;
    const char *password;
    const char *resource; /* NULL: null, as Resin's client sends */
} login_request;

typedef enum login_outcome {
    LOGIN_ACCEPTED, /* *jid_out holds the full JID (caller frees it) */
    LOGIN_REJECTED, /* *answer holds the queryError (caller frees it) */
    LOGIN_NO_ANSWER, /* timed out or the connection failed: err says which */
    LOGIN_BAD_ANSWER, /* a queryResult without a usable AuthResult, or no usable
                         public key: err says what came */
} login_outcome;

/* Logs in over l: the whole exchange, in one call. */
login_outcome login_run(const client_link *l, const login_request *req, int64_t timeout_ms, hmtp_packet **answer,
                        char **jid_out, hmtp_tool_error *err);

#endif
