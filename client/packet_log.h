/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How packets are shown: one readable line per packet for -v and failure
 * messages, and the shared JSON rendering (core/json.h) for --json. */
#ifndef HMTP_CLIENT_PACKET_LOG_H
#define HMTP_CLIENT_PACKET_LOG_H

#include <stddef.h>
#include <stdio.h>

#include "hmtp.h"

/* "presenceSubscribed from=news@localhost to=alice@localhost/phone" plus
 * id, error type/group and a short description of the value. */
void client_packet_summary(const hmtp_packet *p, char *out, size_t size);

/* {"conn":"alice","type":...} and a newline. */
void packet_print_json(FILE *f, const char *conn, const hmtp_packet *p);

#endif
