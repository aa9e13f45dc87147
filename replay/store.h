/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The recorded sessions for replay: every packet with the bytes the replay
 * uses (a client packet's wire bytes, a server packet's body), the stream
 * state it was decoded with (so it can be decoded again when needed: a
 * decoded tree costs far more memory than the bytes), and for each client
 * packet how many server packets the recording had shown before it (what
 * conversation pacing waits for).
 *
 * Reading the capture is the index pass: what the selection, the shard split
 * and the login need of a session (its info, recorded login, decoder
 * state, packet count) stays in memory; its packets go to a spill file (one
 * unlinked temporary file for the whole capture, each session's packets in
 * blocks written when the bytes waiting in memory pass a budget or the
 * session ends). A session's packets are in memory only while someone holds
 * it (rec_session_acquire: a job that runs, the shard split looking at one
 * session at a time), so memory follows the sessions replayed at once, not
 * the length of the capture. Why not a second pass over the capture instead:
 * sessions run --max-connections at a time in session order, not capture
 * order, so a pass in capture order would have to hold (or re-read) the
 * packets of every session that is not running yet; the spill file is that
 * store, written once and read by offset. When no temporary file can be
 * made, every session stays in memory (as before: correct, not flat). */
#ifndef REPLAY_STORE_H
#define REPLAY_STORE_H

#include <glib.h>
#include <stdbool.h>

#include "capture.h"
#include "hmtp.h"
#include "error.h"
#include "session.h"

typedef struct rec_packet {
    replay_dir dir;
    uint64_t frame;
    double ts;
    uint64_t index;        /* per direction */
    uint8_t *wire;         /* client packets only (sent as recorded); a server
                              packet is never sent again: NULL, 0 */
    size_t wire_len;
    uint8_t *body;         /* may point inside wire (a packet of one chunk) */
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

typedef struct rec_spill rec_spill;
typedef struct rec_spill_block rec_spill_block;
typedef struct rec_spill_buf rec_spill_buf;

/* What a replay needs of replay_session_info (as at the end of the
 * capture), without its fixed-size text: a run of tens of thousands of
 * sessions keeps one per session. */
typedef struct rec_info {
    unsigned id;
    /* "addr:port" (results point to it): one allocation, server inside
       client's (a run keeps one rec_info per session) */
    const char *client;       /* in the store's strings */
    const char *server;
    uint64_t first_frame;     /* first frame of the TCP connection */
    bool upgrade_seen;        /* false: found by --port */
    uint64_t skipped[2];      /* --port: bytes before the first packet boundary */
    uint64_t packets[2];      /* per direction */
    replay_end end;
    bool incomplete;
    replay_dir broken_dir;    /* the preflight names where a session breaks */
    uint64_t broken_frame;
    uint64_t broken_offset;
    const char *broken_reason; /* "" when complete; in the store's strings */
    const char *path;         /* of the recorded upgrade request, "" when none (interned: one "/hmtp" for all) */
} rec_info;

typedef struct rec_session {
    rec_info info;
    /* rec_packet*, in capture order, while held (rec_session_acquire); NULL
       otherwise. Always held when there is no spill file. */
    GPtrArray *packets;
    rec_spill_buf *held;      /* spilled: the records, read back in one buffer */
    /* the decoder state of each direction (rewriting re-reads client
       packets): stream[0] and stream[1] while the packets are held, NULL
       otherwise (rec_session_acquire makes them again) */
    hessian_stream *stream;
    const char *login_uid;    /* from the recorded AuthQuery, or NULL (in the store's strings) */
    const char *login_jid;    /* from the recorded AuthResult, or NULL (in the store's strings) */
    bool login_encrypted;     /* the recorded AuthQuery carried an EncryptedObject */
    uint64_t login_frame;     /* frame of the recorded AuthQuery */
    uint64_t server_seen;
    uint64_t npackets;        /* recorded packets, both directions */
    /* the spill (store.c) */
    rec_spill *spill;         /* the store's, NULL: packets kept in memory */
    unsigned holders;         /* rec_session_acquire count */
    rec_spill_block *blocks;  /* where its packets are in the file (exactly nblocks: one session in
                                 ten thousand is a GArray's 64 bytes too many) */
    guint nblocks;
    GByteArray *pending;      /* records not written yet */
} rec_session;

typedef struct replay_store {
    GPtrArray *sessions;      /* rec_session*, by id */
    replay_capture_stats stats;
    GString *notes;           /* refusals, undecodable packets: one line each */
    rec_spill *spill;         /* NULL when no temporary file could be made */
    /* the sessions' texts (addresses, login names, reasons), packed: a
       malloc each cost more than most of them hold */
    GStringChunk *strings;
} replay_store;

/* The recorded login: a querySet to null carrying an AuthQuery that decodes. */
static inline bool rec_is_login(const rec_packet *r) { return r->status == HMTP_OK && r->login; }

/* Decodes a stored packet again (into out, which the caller frees). */
hmtp_status rec_packet_decode(rec_session *s, const rec_packet *r, hmtp_packet *out, hmtp_error *err);
/* The same on a decoder the caller keeps (hmtp_packet_decode_with); out
 * new or reset. */
hmtp_status rec_packet_decode_with(rec_session *s, const rec_packet *r, hmtp_packet *out, hessian_decoder *d,
                                   hmtp_error *err);

/* Brings the session's packets into memory (rec->packets) until the
 * matching release; false (err filled) when the spill file cannot be read
 * back. Nested holds share one copy. */
bool rec_session_acquire(rec_session *s, hmtp_tool_error *err);
void rec_session_release(rec_session *s);

/* Reads the capture into the store. -1 (err filled) when unreadable. */
int replay_store_load(replay_store *st, const char *path, const replay_capture_options *opt, hmtp_tool_error *err);
void replay_store_free(replay_store *st);

#endif
