/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The client's side of the HTTP upgrade that starts every HMTP connection,
 * as Resin's HmtpClient does it (PROTOCOL.md sections 2 and 7): the socket
 * steps around core's http_upgrade.h, which writes the request and reads the
 * answer. Any 101 is accepted, with or without an Upgrade header. */
#ifndef HMTP_CLIENT_UPGRADE_H
#define HMTP_CLIENT_UPGRADE_H

#include <stddef.h>
#include <stdint.h>

#include "connection.h"

typedef enum upgrade_result {
    UPGRADE_OK,
    UPGRADE_REFUSED, /* the server answered, but not 101: err has its status and body */
    UPGRADE_FAILED,  /* no answer: closed, timed out, garbage */
} upgrade_result;

/* Sends the request on c (connected) and reads the answer. Bytes after the
 * answer's blank line are the first HMTP bytes and go to c's reader. */
upgrade_result upgrade_perform(client_session *s, client_conn *c, const char *method, const char *path,
                               const char *host, int64_t timeout_ms, hmtp_tool_error *err);

#endif
