/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The login edit: which password a session logs in with, and, for an
 * encrypted login, doing it again for the target's key (the recorded one was
 * made for the recording server's key). With --login-mode encrypted a
 * recorded plain login is upgraded: a key query is inserted before it and
 * the login carries an EncryptedObject. The byte edits of every other field
 * are rewrite.c's. */
#ifndef REPLAY_LOGIN_EDIT_H
#define REPLAY_LOGIN_EDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "hmtp.h"
#include "replay_config.h"
#include "error.h"
#include "rewrite.h"
#include "store.h"
#include "writer.h"

typedef struct login_edit {
    char *password;       /* the password to log in with, or NULL: as recorded */
    bool encrypt;         /* redo the recorded encrypted login with the target's key */
    bool key_seen;        /* the target's answer to the key query arrived */
    hmtp_buf target_spki; /* its SubjectPublicKeyInfo */
    char key_problem[200]; /* the target refused the key query: why */
    hmtp_arena cred_arena; /* holds the rewrite's login_credentials */
    bool creds_ready;
    /* --login-mode encrypted on a recorded plain login: a key query is
       inserted and the login carries an EncryptedObject, which adds class
       definitions to the client's direction. Every client packet is then
       decoded and written again by this one writer, so the class indexes of
       later packets are renumbered by first use, as a real client would. */
    bool upgrade;
    /* --login-mode plain on a recorded encrypted login: the recorded key
       query is left out, so its class definition is missing from the
       direction and every later packet is written again by the writer, as
       for an upgrade (no key query inserted, the password a string) */
    bool rewrite_all;
    int64_t key_query_id; /* id of the inserted key query: unused by the recording */
    hessian_writer writer;
    hmtp_buf written;     /* the writer's output, moved into each send item */
} login_edit;

void login_edit_init(login_edit *le);
void login_edit_free(login_edit *le);

/* Decides the password and the mode, and sets rw->login_password. false
 * (why filled) when the session cannot be replayed: an encrypted login, or
 * one to upgrade, without its password. */
bool login_edit_plan(login_edit *le, const engine_config *cfg, rec_session *rec, rewrite_config *rw, hmtp_tool_error *why);
/* True when the session's login is sent as recorded (a plain login, its
 * password swapped for one given): planning it then cannot fail and reads
 * none of the session's packets. Otherwise only login_edit_plan, with the
 * packets held, says whether the session can run. */
bool login_edit_is_plain(const engine_config *cfg, const rec_session *rec);

/* A client packet r of an upgraded or rewrite_all session (or, inserted, the key query before
 * it) as it is sent: out receives the wire bytes. false with why filled. */
bool login_edit_prepare(login_edit *le, rec_session *rec, const rewrite_config *rw, const rec_packet *r, bool inserted,
                        hmtp_buf *out, hmtp_tool_error *why);

/* The credentials for the target's key: 1 ready (rw->login_credentials
 * set), 0 the key has not come yet, -1 why says what failed. */
int login_edit_credentials(login_edit *le, rewrite_config *rw, uint64_t frame, hmtp_tool_error *why);

/* Looks at a reply for the target's key. true when it was the answer to the
 * inserted key query: the recording has no such reply, so it is the login's
 * business only, never compared. */
bool login_edit_take_reply(login_edit *le, const hmtp_packet *p);

/* A refused login echoes the query: after an upgrade the echo carries the
 * EncryptedObject sent, so the recorded echo p is changed to expect it. */
void login_edit_expect_echo(const login_edit *le, const rewrite_config *rw, hmtp_packet *p);

#endif
