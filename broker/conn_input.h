/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Input side of a connection: the HTTP upgrade, then HMTP framing and
 * decoding, one packet at a time, into the dispatcher. What the input
 * provokes is only queued (replies, closes); the loop settles it. */
#ifndef BROKER_CONN_INPUT_H
#define BROKER_CONN_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"

/* Reads what the socket has and handles it. False when nothing was there
 * (the read would block): nothing happened that needs settling. */
bool conn_receive(conn *c);
/* Handles bytes received; used again for input held after a refused login. */
void conn_input(conn *c, const uint8_t *data, size_t len);

#endif
