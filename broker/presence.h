/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Presence subscriptions between clients, as XMPP keeps them: when client B
 * answers A's presenceSubscribe with presenceSubscribed, A receives B's
 * presenceUnavailable when B leaves. Kept so that a disconnect tells whoever
 * should know. */
#ifndef BROKER_PRESENCE_H
#define BROKER_PRESENCE_H

#include "broker.h"
#include "conn.h"
#include "hmtp.h"

/* Watches packets routed from `from` to the client `to` and records or
 * removes the subscription they establish. */
void presence_track(conn *from, conn *to, const hmtp_packet *p);

/* Presence (or presenceUnavailable) c sent to the server (to = null, as
 * Resin's client announces itself) goes to every client subscribed to c. */
void presence_broadcast(conn *c, const hmtp_packet *p);

/* c is leaving: its subscriptions to services and to clients end, and every
 * client subscribed to c receives presenceUnavailable from c. */
void presence_client_gone(conn *c);

#endif
