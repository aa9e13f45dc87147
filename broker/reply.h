/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing packets to a connection, and the error replies of XMPP/BAM: an
 * error carries the offending packet's payload back and swaps to/from. */
#ifndef BROKER_REPLY_H
#define BROKER_REPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "broker.h"
#include "conn.h"
#include "hmtp.h"

/* Writes one packet to c (nothing when c is closing). Marks c dirty, logs it
 * when verbose, and closes c when its unsent output passes the limit. */
bool reply_send(conn *c, int32_t type, const char *to, const char *from, bool has_id, int64_t id,
                const hessian_value *value, const hessian_value *error_value);

#define BROKER_PRESENCE_CLASS "hmtp.BrokerPresence"

/* A presence-family packet the broker originates (a service's presence,
 * probe, subscribed/unsubscribed, a departed client's unavailability). Its
 * payload is echo when that is a non-null value; otherwise null, or with
 * --presence-payloads hmtp.BrokerPresence {_jid: from}, because the stock
 * dispatch of Resin's 2009 client (SimpleBamAgentStream) throws on a null
 * payload and closes the link. */
bool reply_presence(conn *c, int32_t type, const char *from, const hessian_value *echo);

/* Answers p (received on c) with an error of the matching kind, from the
 * address p was sent to. Builds the BamError in p's arena. Returns false (and
 * logs when verbose) when p's kind gets no error answer. */
bool reply_error(conn *c, hmtp_packet *p, const char *etype, const char *group, const char *text);


#endif
