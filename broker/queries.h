/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The queries the broker's services answer (documented in README.md):
 *   hmtp.PingQuery {_payload, _server}: the answer echoes _payload and sets
 *     _server to "hmtp-broker" ("hmtp-broker-altered" with --alter-reply ping);
 *     with --real-date a third field _date carries the time of the answer;
 *   hmtp.SubscribersQuery {_service, _subscribers, _capabilities}: the answer
 *     names the service, lists its subscribers' full JIDs in subscription
 *     order and maps each to its last capabilities (null when none). */
#ifndef BROKER_QUERIES_H
#define BROKER_QUERIES_H

#include "broker.h"
#include "conn.h"
#include "hmtp.h"

#define BROKER_PING_CLASS "hmtp.PingQuery"
#define BROKER_SUBSCRIBERS_CLASS "hmtp.SubscribersQuery"

/* Answers a queryGet/querySet p sent to service_jid; default_service is the
 * pubsub service a SubscribersQuery with a null _service asks about. */
void queries_answer(conn *c, hmtp_packet *p, const char *service_jid,
                    pubsub_service *default_service);

#endif
