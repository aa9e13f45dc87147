/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What happens to one packet a client sent: login first, then routing to the
 * broker itself, a built-in service, another client, or an error. */
#ifndef BROKER_DISPATCH_H
#define BROKER_DISPATCH_H

#include "broker.h"
#include "conn.h"
#include "hmtp.h"

/* Handles p from c. p stays owned by the caller unless *taken is set true (a
 * service kept it, e.g. a subscriber's capabilities). */
void dispatch_packet(conn *c, hmtp_packet *p, bool *taken);

#endif
