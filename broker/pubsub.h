/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A built-in publish/subscribe service (e.g. news@localhost): subscribers
 * join with presenceSubscribe, receive every message a publisher sends to the
 * service, see the service's presence, and answer its presenceProbe with
 * their capabilities, which the service remembers. */
#ifndef BROKER_PUBSUB_H
#define BROKER_PUBSUB_H

#include <stdbool.h>

#include "broker.h"
#include "conn.h"
#include "hmtp.h"

typedef struct pubsub_subscriber {
    conn *c;
    hmtp_packet *caps; /* the last presence the client sent the service, or NULL */
} pubsub_subscriber;

typedef struct pubsub_service {
    char *jid;
    GPtrArray *subscribers; /* pubsub_subscriber*, in subscription order */
} pubsub_service;

pubsub_service *pubsub_new(const char *jid);
void pubsub_free(pubsub_service *s);

/* The service whose bare JID matches jid's, or NULL. */
pubsub_service *pubsub_find(broker *b, const char *jid);

/* Presence and messages sent to the service (its queries go to queries.c). */
void pubsub_handle(pubsub_service *s, conn *c, hmtp_packet *p, bool *taken);

/* Ends c's subscription (no packet to c: it is leaving). */
void pubsub_drop_subscriber(pubsub_service *s, conn *c);

/* Tells every subscriber the service goes away (presenceUnavailable). */
void pubsub_announce_unavailable(pubsub_service *s);

#endif
