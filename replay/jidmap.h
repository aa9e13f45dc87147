/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --map-jid rules: OLD=NEW where OLD is a full JID (user@domain/resource:
 * only that JID), a bare JID (user@domain: any resource of it, which is
 * kept), or a domain (any JID of that domain; user and resource kept). The
 * most specific rule wins. Also holds JIDs learned during a replay (the JID
 * the target assigned at login for the one recorded). */
#ifndef REPLAY_JIDMAP_H
#define REPLAY_JIDMAP_H

#include <glib.h>
#include <stdbool.h>

#include "error.h"

typedef struct jid_map {
    GHashTable *full;   /* old full JID -> new */
    GHashTable *bare;   /* old bare JID -> new bare JID */
    GHashTable *domain; /* old domain -> new domain */
} jid_map;

void jid_map_init(jid_map *m);
void jid_map_free(jid_map *m);

/* Parses "OLD=NEW"; the form of OLD picks the kind. false with why filled
 * when malformed. */
bool jid_map_add_rule(jid_map *m, const char *rule, hmtp_tool_error *why);
void jid_map_add_full(jid_map *m, const char *old_jid, const char *new_jid);

/* Copies into dst the full-JID entries of src that dst lacks (a session
 * keeps its peers' learned JIDs of its own round: with --loop the shared
 * map is overwritten by the next round before verification). */
void jid_map_add_missing(jid_map *dst, const jid_map *src);

/* A newly allocated mapped JID, or NULL when no rule applies. */
char *jid_map_apply(const jid_map *m, const char *jid);

/* True when no rule or learned JID is held (nothing is ever mapped). */
bool jid_map_empty(const jid_map *m);

#endif
