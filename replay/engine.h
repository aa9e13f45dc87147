/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The replay engine: one connection per recorded session (times --loop and
 * --sessions-scale), driven by one GLib main loop. Each job performs the
 * upgrade, sends its session's client packets at the chosen pace, collects
 * and decodes the target's replies, and ends; a bounded number run at once.
 * Verification runs on the collected replies once every job has ended. */
#ifndef REPLAY_ENGINE_H
#define REPLAY_ENGINE_H

#include <gio/gio.h>
#include <glib.h>
#include <stdbool.h>

#include "arena.h"
#include "buf.h"
#include "hmtp_crypto.h"
#include "framing.h"
#include "jidmap.h"
#include "order.h"
#include "rewrite.h"
#include "store.h"
#include "verify.h"
#include "writer.h"

/* CONVERSATION: the recorded order across the sessions replayed together
 * (order.h) and each session's own replies; SESSION: each session's own
 * replies only (the sessions race each other). */
typedef enum pace_mode { PACE_CONVERSATION, PACE_SESSION, PACE_ORIGINAL, PACE_TOP_SPEED } pace_mode;

typedef struct engine_config {
    const char *target;       /* HOST:PORT */
    const char *path;         /* NULL: the recorded path, else /hmtp */
    const char *host_header;  /* NULL: the target */
    pace_mode pace;
    double speed;             /* PACE_ORIGINAL: recorded gaps divided by this */
    unsigned max_open;        /* connections at once */
    unsigned timeout_ms;      /* longest wait for a reply, for the connection and its
                                 upgrade, and for the target to take written bytes */
    unsigned settle_ms;       /* after the last expected reply, for late extras */
    bool type_filter;
    bool types[HMTP_TYPE_COUNT];
    const jid_map *map;
    const char *login_user;
    const char *login_password; /* every session not named in passwords */
    GHashTable *passwords;      /* recorded uid -> password (--login, --login-file), may be NULL */
    const hmtp_rsa *recorded_key; /* the recording server's private key (--recorded-key), may be NULL */
    bool login_plain;           /* --login-mode plain: encrypted logins are sent with a plain password */
    bool login_encrypt;         /* --login-mode encrypted: plain logins are upgraded to encrypted ones */
    unsigned scale;           /* copies of each session */
    unsigned loops;
    bool replay_incomplete;   /* replay incomplete sessions up to their gap */
    bool progress;            /* a progress bar on stderr */
    char **ignore;            /* --ignore paths, NULL-terminated */
    unsigned window;          /* reorder tolerance when pairing replies */
} engine_config;

typedef enum job_outcome {
    JOB_PENDING,
    JOB_DONE,        /* ran to the end: verification decides */
    JOB_FAILED,      /* the session broke (closed early, malformed bytes) */
    JOB_UNREACHABLE, /* no connection, no answer to the upgrade within --timeout, or a refusal */
    JOB_NOT_REPLAYABLE, /* an encrypted login without its password: never started */
    JOB_SKIPPED,     /* incomplete in the capture, without --replay-incomplete: never started */
    JOB_NOT_RUN,     /* never started because the target was unreachable */
} job_outcome;

typedef struct send_item {
    const rec_packet *rec;
    const uint8_t *wire; /* rec->wire, or rewritten */
    size_t wire_len;
    hmtp_buf rewritten;
    uint64_t wait_for;   /* conversation pacing: replies to have seen first */
    guint order;         /* its place in the group's timeline (order.h) */
    /* the key query put before an upgraded login (rec is that login: the
       query takes its place in the recorded order, just before it) */
    bool inserted_key_query;
} send_item;

typedef struct replay_engine replay_engine;

typedef struct replay_job {
    replay_engine *eng;
    rec_session *rec;
    unsigned copy, loop;
    GPtrArray *sends;     /* send_item* */
    GPtrArray *expected;  /* rec_packet* (server packets compared) */
    GPtrArray *actual;    /* actual_reply* */
    jid_map learned;      /* recorded JID -> JID the target assigned */
    GPtrArray *server_queries; /* rec_packet*: queries the recorded server sent */
    guint server_queries_seen;
    GHashTable *server_ids; /* recorded id -> id of the target's query (gint64*) */
    rewrite_config rewrite;
    char *resource;       /* login resource of a scaled copy */
    /* login */
    char *password;       /* the password to log in with, or NULL: as recorded */
    bool encrypt_login;   /* redo the recorded encrypted login with the target's key */
    bool key_seen;        /* the target's answer to the key query arrived */
    hmtp_buf target_spki; /* its SubjectPublicKeyInfo */
    char key_problem[200]; /* the target refused the key query: why */
    hmtp_arena cred_arena; /* holds rewrite.login_credentials */
    bool creds_ready;
    /* --login-mode encrypted on a recorded plain login: a key query is
       inserted and the login carries an EncryptedObject, which adds class
       definitions to the client's direction. Every client packet is then
       decoded and written again by this one writer, so the class indexes of
       later packets are renumbered by first use, as a real client would. */
    bool upgrade_login;
    int64_t key_query_id; /* id of the inserted key query: unused by the recording */
    hessian_writer writer;
    hmtp_buf written;     /* the writer's output, moved into each send item */
    /* connection */
    bool connecting;      /* the connection was asked for (see job_connect_when_due) */
    guint watch;          /* the --timeout deadline on connecting, the upgrade answer, a write */
    GCancellable *cancel;
    GSocketConnection *conn;
    uint8_t *rbuf;        /* only while connected: jobs of later rounds wait without one */
    bool reading;         /* a read is in flight (it owns rbuf until it returns) */
    hmtp_buf head;
    bool upgraded;
    hmtp_reader *reader;
    hessian_stream stream;
    hmtp_buf outq;
    size_t out_off;
    bool writing;
    guint timer;
    /* pacing */
    guint next;
    gint64 origin_us;     /* PACE_ORIGINAL: when the first client packet is due */
    gint64 last_send_us, wait_since_us, drain_since_us;
    bool settling;
    bool scheduling, reschedule; /* job_schedule is running / must run again */
    uint64_t received_all, received_compared;
    uint64_t excused;     /* replies the group declared missing (order.c) */
    order_group *group;   /* PACE_CONVERSATION: the sessions replayed together */
    guint *expected_order; /* timeline place of each expected reply */
    uint64_t packets_sent, bytes_sent;
    uint64_t tail_from;   /* arrival number of the first reply after the last client packet */
    /* outcome */
    bool started, done;
    job_outcome outcome;
    char reason[320];
    char partial[320];    /* why only part of the recorded session was replayed, or "" */
    verify_result result;
} replay_job;

struct replay_engine {
    const engine_config *cfg;
    replay_store *store;
    GMainLoop *loop;
    GSocketClient *client;
    GPtrArray *jobs;      /* replay_job*, all rounds */
    GPtrArray *groups;    /* order_group*: one per round and copy */
    guint round_first, round_end; /* jobs of the running round */
    gint64 round_t0_us;   /* PACE_ORIGINAL: the round's start ... */
    double round_ts0;     /* ... stands for this capture time (its first client packet) */
    char target_down[400]; /* why the target was found unreachable: no session starts after that */
    guint next_start, running, finished_in_round;
    int pending_ops;      /* async operations not yet called back */
    jid_map learned;      /* from copy 0 of each session, for fan-out */
    GArray *latency_ms;   /* double */
    gint64 t0_us, t1_us;
    GString *not_replayable; /* one line per session, for stderr */
    guint progress_timer;
};

/* Replies counted as there for pacing: arrived, or declared missing. */
static inline uint64_t job_reply_credit(const replay_job *j)
{
    return j->received_compared > j->excused ? j->received_compared : j->excused;
}

/* Builds the jobs for the selected sessions (selected[i] for session i). */
void replay_engine_init(replay_engine *e, const engine_config *cfg, replay_store *store, const bool *selected);
/* Runs every round and verifies every job. */
void replay_engine_run(replay_engine *e);
void replay_engine_free(replay_engine *e);

#endif
