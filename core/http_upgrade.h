/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The HTTP exchange that opens every HMTP connection (PROTOCOL.md section 2):
 * the one reader of its request and answer heads, the request writer, and
 * the 101 and error answers. Plain functions over bytes (no sockets, no
 * GLib), so the broker, the client, the replayer, hmtp-decode and the
 * Wireshark plugin all read a head by the same rules:
 *
 * - a head ends at its first empty line and is at most
 *   HMTP_UPGRADE_HEAD_MAX bytes, that line included;
 * - a line ends in CR LF; a bare LF is taken as a line end too (RFC 9112
 *   section 2.2 lets a recipient do so), a CR anywhere else is an error;
 * - a control byte other than CR, LF and TAB means "not HTTP" as soon as it
 *   arrives, so a peer that skipped the upgrade is told without waiting
 *   for an empty line that never comes. */
#ifndef HMTP_HTTP_UPGRADE_H
#define HMTP_HTTP_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

/* Resin's heads are under 200 bytes; 8 KiB is what common servers allow
 * for a whole request line or header, and what hmtp-broker has always
 * answered 431 above. */
#define HMTP_UPGRADE_HEAD_MAX 8192
#define HMTP_UPGRADE_TOKEN "HMTP/0.9"

typedef enum hmtp_upgrade_kind {
    HMTP_UPGRADE_UNKNOWN,  /* too few bytes to tell ("HTTP" may be a method) */
    HMTP_UPGRADE_REQUEST,  /* starts "METHOD " (capital letters) */
    HMTP_UPGRADE_RESPONSE, /* starts "HTTP/" */
} hmtp_upgrade_kind;

typedef struct hmtp_upgrade_head {
    hmtp_upgrade_kind kind; /* known from the first bytes, even if a later line is wrong */
    size_t head_len;        /* complete heads: bytes up to and including the empty line */
    /* The fields below are filled line by line: on an incomplete or wrong
     * head they hold what the lines before were saying. Text is ASCII;
     * other bytes show as '?', and long values are cut to the array. */
    char method[16];        /* request line: "" until a whole, valid one was read */
    char path[256];
    int status;             /* status line: 0 until it is complete */
    char reason[128];       /* "" for Resin's bare "HTTP/1.1 101" */
    char host[256];         /* Host, "" when absent */
    char upgrade[64];       /* Upgrade, "" when absent */
    bool upgrade_hmtp;      /* an Upgrade list names HMTP/0.9 (any case) */
    bool has_content_length;
    uint64_t content_length; /* 0 when absent */
    int refusal;            /* after -1 on a request: the status a server answers (400, 431, 505) */
} hmtp_upgrade_head;

/* Reads the head at the start of buf (all bytes received so far; call again
 * with more). 1: complete, h->head_len bytes; 0: nothing wrong yet, more
 * bytes needed; -1: not an HMTP upgrade head, err (may be NULL) says what
 * and at which byte, with HMTP_ERR_TOO_LARGE for a head over the limit and
 * HMTP_ERR_BAD_HTTP otherwise. */
int hmtp_upgrade_head_parse(const uint8_t *buf, size_t len, hmtp_upgrade_head *h, hmtp_error *err);

/* What the bytes so far can still be: the first line decides. */
bool hmtp_upgrade_may_be_request(const uint8_t *buf, size_t len);
bool hmtp_upgrade_may_be_response(const uint8_t *buf, size_t len);

/* The server's decision on a complete request head: 0 to upgrade, else the
 * HTTP status to answer (404 without Upgrade: HMTP/0.9, as Resin; 405 for a
 * method other than CONNECT and GET) and *why, one sentence. */
int hmtp_upgrade_request_refusal(const hmtp_upgrade_head *h, const char **why);

/* The request Resin's HmtpClient sends (CONNECT) or GET. The caller gives
 * values without spaces or control bytes. */
void hmtp_upgrade_write_request(hmtp_buf *out, const char *method, const char *path, const char *host);

/* "Thu, 01 Jan 1970 00:00:00 GMT" style, into out[30]. */
void hmtp_upgrade_format_date(int64_t unix_seconds, char out[30]);

/* The 101 answer. Resin's is bare: status, Server, Content-Length: 0 and
 * Date, no Upgrade header; echo_upgrade adds `Upgrade: HMTP/0.9` and
 * `Connection: Upgrade` as RFC 7230 asks. */
void hmtp_upgrade_write_switching(hmtp_buf *out, const char *server, const char *date, bool echo_upgrade);

/* An error answer with a short text/plain body; the sender closes after it. */
void hmtp_upgrade_write_error(hmtp_buf *out, int status, const char *text, const char *server, const char *date);

const char *hmtp_upgrade_status_reason(int status);

#endif
