/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The recorded sessions, held in memory for replay: every packet with its
 * wire bytes, the stream state it was decoded with (so it can be decoded
 * again when needed: a decoded tree costs far more memory than the bytes), and
 * for each client packet how many server packets the recording had shown
 * before it (what conversation pacing waits for). Unlike dump, replay needs
 * the whole capture: sessions are re-run together and compared at the end. */
#ifndef REPLAY_STORE_H
#define REPLAY_STORE_H

#include <glib.h>
#include <stdbool.h>

#include "capture.h"
#include "hmtp.h"
#include "replay_error.h"
#include "session.h"

typedef struct rec_packet {
    replay_dir dir;
    uint64_t frame;
    double ts;
    uint64_t index;        /* per direction */
    uint8_t *wire;
    size_t wire_len;
    uint8_t *body;
    size_t body_len;
    hessian_mark mark;     /* the direction's decoder state before this packet */
    hmtp_status status;    /* HMTP_OK when the recorded packet decodes (the
                              reason is in the store's notes otherwise) */
    /* what the replay needs to know without decoding again */
    int32_t type;
    bool has_id;
    int64_t id;
    bool login;            /* a querySet to null carrying an AuthQuery */
    bool key_query;        /* a queryGet carrying a GetPublicKeyQuery */
    uint64_t server_before; /* c2s: server packets completed earlier in the recording */
} rec_packet;

typedef struct rec_session {
    replay_session_info info; /* as at the end of the capture */
    GPtrArray *packets;       /* rec_packet*, in capture order */
    hessian_stream stream[2]; /* kept: rewriting re-reads client packets */
    char *login_uid;          /* from the recorded AuthQuery, or NULL */
    char *login_jid;          /* from the recorded AuthResult, or NULL */
    bool login_encrypted;     /* the recorded AuthQuery carried an EncryptedObject */
    uint64_t login_frame;     /* frame of the recorded AuthQuery */
    uint64_t server_seen;
} rec_session;

typedef struct replay_store {
    GPtrArray *sessions;      /* rec_session*, by id */
    replay_capture_stats stats;
    GString *notes;           /* refusals, undecodable packets: one line each */
} replay_store;

/* The recorded login: a querySet to null carrying an AuthQuery that decodes. */
static inline bool rec_is_login(const rec_packet *r) { return r->status == HMTP_OK && r->login; }

/* Decodes a stored packet again (into out, which the caller frees). */
hmtp_status rec_packet_decode(rec_session *s, const rec_packet *r, hmtp_packet *out, hmtp_error *err);

/* Reads the capture into the store. -1 (err filled) when unreadable. */
int replay_store_load(replay_store *st, const char *path, const replay_capture_options *opt, replay_error *err);
void replay_store_free(replay_store *st);

#endif
