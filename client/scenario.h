/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A scenario file, read whole and checked before anything is sent, so a
 * typo on line 40 is reported before line 1 has touched a server. One
 * statement per line (README.md has the language); JSON values may span
 * lines. Everything lives in the scenario's arena. */
#ifndef HMTP_CLIENT_SCENARIO_H
#define HMTP_CLIENT_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "error.h"
#include "json_tree.h"

typedef enum scn_op {
    SCN_CONNECT,
    SCN_LOGIN,
    SCN_SEND,
    SCN_REPLY,
    SCN_EXPECT,
    SCN_EXPECT_NOTHING,
    SCN_EXPECT_CLOSE,
    SCN_DISCARD,
    SCN_SLEEP,
    SCN_CLOSE,
    SCN_RAW,
    SCN_AUTO_ANSWER,
    SCN_SET_TIMEOUT,
    SCN_PRINT,
} scn_op;

const char *scn_op_name(scn_op op);

/* A to= or from= argument. text may hold ${conn.jid}, resolved when run. */
typedef struct scn_jid {
    bool set;
    bool is_null;
    char *text;
} scn_jid;

typedef enum scn_id_kind {
    SCN_ID_AUTO,          /* send: the connection's next query id; expect: any id */
    SCN_ID_VALUE,         /* id=N */
    SCN_ID_LAST_SENT,     /* id=last: the last query id this connection sent */
    SCN_ID_LAST_RECEIVED, /* id=received: the id of the last query it received */
} scn_id_kind;

#define SCN_TYPE_ANY (-1) /* expect any packet type */

typedef struct scn_packet {
    int32_t type;
    scn_jid to, from;
    scn_id_kind id_kind;
    int64_t id;
    const json_node *value; /* NULL: null (send), anything (expect) */
    const json_node *error; /* error={...}: the whole error value / pattern */
    char *error_type;       /* error=TYPE/GROUP */
    char *error_group;
    char *error_text; /* text="..." */
    bool has_truncate;
    size_t truncate; /* send only the first N bytes of the framed packet */
} scn_packet;

/* login= on connect and login: which of Resin's logins (and id counting)
 * to use; DEFAULT follows the command line (--plain or encrypted). */
typedef enum scn_login_mode {
    SCN_LOGIN_DEFAULT,
    SCN_LOGIN_ENCRYPTED,
    SCN_LOGIN_PLAIN,
} scn_login_mode;

typedef struct scn_stmt {
    scn_op op;
    unsigned line; /* where the statement starts */
    char *conn;    /* connection name; NULL for sleep/set/print */
    /* connect */
    char *server; /* HOST:PORT, NULL: the command line's */
    char *method; /* "CONNECT" or "GET" */
    char *path;
    char *host_header; /* NULL: HOST:PORT of the server */
    /* connect (with user=) and login */
    bool login;
    char *user;
    char *password;
    bool has_resource;
    char *resource;
    bool login_must_fail;
    scn_login_mode login_mode;
    /* send, reply, expect, login's expected error, auto-answer's reply */
    scn_packet packet;
    int32_t trigger; /* auto-answer: the packet type answered */
    bool off;        /* auto-answer ... off */
    /* sleep, timeouts (0: the scenario's current default) */
    int64_t ms;
    bool abort; /* close ... abort: RST instead of FIN */
    uint8_t *raw;
    size_t raw_len;
    char *text; /* print */
} scn_stmt;

typedef struct scn_define {
    const char *name;
    const char *value;
} scn_define;

typedef struct scenario {
    char *file;
    char *text; /* after ${NAME} substitution; offsets in errors refer to it */
    size_t len;
    scn_stmt *stmts;
    size_t n;
    hmtp_arena arena;
} scenario;

/* Parses text (the contents of file) with the -D definitions. On error,
 * err->offset is in s->text (which is kept for scenario_locate_error). */
bool scenario_parse(scenario *s, const char *file, const char *text, size_t len, const scn_define *defs,
                    size_t ndefs, hmtp_tool_error *err);
void scenario_free(scenario *s);

/* Prefixes err's message with "file:line:column: " (from err->offset), for
 * an error of scenario_parse or of a value built at run time from the
 * scenario's JSON. */
void scenario_locate_error(const scenario *s, hmtp_tool_error *err);

#endif
