/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Queries forwarded to a client and not yet answered. If that client leaves
 * first, the broker answers each for it (queryError cancel/service-unavailable,
 * as an XMPP server does), so no querier waits forever. Bounded per client:
 * a client sitting on too many unanswered queries gets no more. */
#ifndef BROKER_PENDING_H
#define BROKER_PENDING_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "hmtp.h"

#define PENDING_QUERIES_MAX 4096

/* Records that p (a queryGet/querySet from querier) was forwarded to target.
 * False when target already holds the maximum. */
bool pending_add(conn *target, const conn *querier, const hmtp_packet *p);
/* target answers with p (queryResult/queryError): true when p answers a
 * query forwarded to target (same id, to the querier's full or bare JID),
 * which is then forgotten; false for an answer nobody asked target for. */
bool pending_answered(conn *target, const hmtp_packet *p);
/* target is leaving: answer everything it still owes. */
void pending_fail_all(conn *target);
void pending_free(conn *target);

#endif
