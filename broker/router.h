/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which connection a JID names: a full JID names one logged-in link; a bare
 * JID names the user's earliest link still connected, so that a query to a
 * bare JID gets exactly one answer and delivery is deterministic. */
#ifndef BROKER_ROUTER_H
#define BROKER_ROUTER_H

#include <stdbool.h>

#include "broker.h"
#include "conn.h"

void router_init(broker *b);
void router_free(broker *b);
/* False when the full JID is already in use. */
bool router_add(broker *b, conn *c);
void router_remove(broker *b, conn *c);
conn *router_lookup(broker *b, const char *jid);
/* "user@domain" part of a JID, newly allocated; NULL when it does not parse. */
char *router_bare_of(const char *jid);

#endif
