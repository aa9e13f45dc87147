/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the capture reader hands on: HMTP sessions found in the capture, each
 * with its packets in the order their last byte was captured. A consumer
 * (dump, the replay store) implements replay_sink; the reader never keeps a
 * packet after the callback returns, so memory follows the sessions open at
 * once, not the length of the capture. */
#ifndef REPLAY_SESSION_H
#define REPLAY_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum replay_dir { REPLAY_C2S = 0, REPLAY_S2C = 1 } replay_dir;

const char *replay_dir_name(replay_dir d); /* "c2s", "s2c" */

typedef enum replay_end {
    REPLAY_END_OPEN,      /* still running (only seen in begin/packet callbacks) */
    REPLAY_END_CLOSED,    /* both sides sent FIN and every byte was seen */
    REPLAY_END_RESET,     /* a RST ended it */
    REPLAY_END_CAPTURE,   /* the capture ended while the connection was open */
    REPLAY_END_GAP,       /* a segment is missing: nothing after it is usable */
    REPLAY_END_FRAMING,   /* the bytes do not frame as HMTP packets */
} replay_end;

const char *replay_end_name(replay_end e); /* "closed", "gap", ... */

typedef struct replay_session_info {
    unsigned id;             /* 0, 1, ... in the order the sessions start */
    char client[64], server[64]; /* "addr:port" */
    uint64_t first_frame;    /* first frame of the TCP connection */
    bool upgrade_seen;       /* false: found by --port after the upgrade */
    char path[256], host[256]; /* from the recorded upgrade request */
    int status;              /* the recorded HTTP status (101, or a refusal) */
    char reason[128];
    uint64_t hmtp_start[2];  /* TCP stream offset where HMTP starts, per direction */
    /* Found by --port (no upgrade): bytes before the direction's first packet
     * boundary (core/resync.h), set before its first packet is handed on;
     * at the end, every byte of a direction in which none was found. */
    uint64_t skipped[2];
    /* filled when the session ends */
    replay_end end;
    bool incomplete;         /* a gap or framing error cut the session short */
    replay_dir broken_dir;   /* incomplete: which direction */
    uint64_t broken_frame;   /* incomplete: frame where it was found */
    uint64_t broken_offset;  /* incomplete: TCP stream offset of the first lost byte */
    char broken_reason[256];
    uint64_t packets[2];
} replay_session_info;

typedef struct replay_wire_packet {
    replay_dir dir;
    uint64_t frame;         /* frame that completed the packet */
    double ts;              /* its capture time, seconds */
    uint64_t stream_offset; /* TCP stream offset of the packet's first byte */
    uint64_t index;         /* per-direction packet number, from 0 */
    const uint8_t *wire;    /* the packet as recorded: chunks and final 0x00 */
    size_t wire_len;
    const uint8_t *body;    /* chunk data concatenated */
    size_t body_len;
} replay_wire_packet;

typedef struct replay_sink {
    void *ctx;
    void (*begin)(void *ctx, const replay_session_info *s);
    void (*packet)(void *ctx, const replay_session_info *s, const replay_wire_packet *p);
    void (*end)(void *ctx, const replay_session_info *s);
    /* An upgrade answered with something other than 101 (no session id). */
    void (*refused)(void *ctx, const replay_session_info *s);
} replay_sink;

#endif
