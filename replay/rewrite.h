/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Rewriting a recorded client packet before it is sent again: JIDs mapped,
 * login credentials and resource replaced. The body is edited in place from
 * the decoder's events (offset and length of each string to change), so every
 * other byte stays as recorded, including objects whose class definition was
 * never captured; the edited body is then framed anew. */
#ifndef REPLAY_REWRITE_H
#define REPLAY_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

#include "buf.h"
#include "jidmap.h"
#include "error.h"
#include "store.h"

typedef struct rewrite_config {
    const jid_map *map;         /* --map-jid rules (may be empty) */
    const jid_map *learned;     /* JIDs the target assigned to this session, may be NULL */
    /* JIDs the target assigned to every session replayed together (a peer's
       random resource, learned from its login answer), may be NULL */
    const jid_map *shared_learned;
    const char *login_user;     /* replaces AuthQuery._uid when set */
    const char *login_password; /* replaces AuthQuery._credentials by this string when set */
    /* an EncryptedObject made for the target: its fields replace those of a
       recorded EncryptedObject (the object's header stays as recorded, so the
       class numbering of the direction is untouched); wins over login_password */
    const hessian_value *login_credentials;
    const char *login_resource; /* replaces AuthQuery._resource when set */
    /* ids of queries the server sent: recorded id -> id the target used
       (gint64* keys and values), applied to the client's answers; may be NULL */
    GHashTable *server_query_ids;
} rewrite_config;

/* 1: out holds the rewritten wire bytes; 0: nothing to change (send the
 * recorded bytes); -1: the packet could not be re-read (why says where). */
int rewrite_client_packet(const rec_packet *r, hessian_stream *stream, const rewrite_config *cfg, hmtp_buf *out,
                          hmtp_tool_error *why);

/* The same edits, but out receives the edited body unframed (to be decoded
 * again and written by a session's own writer, login_edit.c). */
int rewrite_client_body(const rec_packet *r, hessian_stream *stream, const rewrite_config *cfg, hmtp_buf *out,
                        hmtp_tool_error *why);

/* A newly allocated JID mapped by the rules, then by the learned JIDs (the
 * session's own first, then its peers'); NULL when none applies. */
char *rewrite_map_jid(const rewrite_config *cfg, const char *jid);

#endif
