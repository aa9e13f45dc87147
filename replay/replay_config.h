/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a replay is asked to do (from the command line, replay_cli.c): read
 * by every part of the engine, written by none. */
#ifndef REPLAY_CONFIG_H
#define REPLAY_CONFIG_H

#include <glib.h>
#include <stdbool.h>

#include "hmtp.h"
#include "hmtp_crypto.h"
#include "jidmap.h"
#include "verify.h"

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
    const verify_rule *rules; /* --ignore-file: paths per packet type and payload class */
    unsigned n_rules;
    unsigned window;          /* reorder tolerance when pairing replies */
} engine_config;

/* Packets of this type are compared (and client packets of it sent). */
static inline bool config_type_compared(const engine_config *cfg, int32_t type)
{
    return !cfg->type_filter || (hmtp_type_valid(type) && cfg->types[type]);
}

#endif
