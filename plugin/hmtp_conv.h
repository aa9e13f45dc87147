/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-connection state: one Hessian stream (class definitions and type
 * names) per direction, which side is the server, whether each direction is
 * known to sit on a packet boundary, and the request tables used to link
 * answers. Lives in file scope; the core's malloc'd streams are freed by a
 * callback when the file scope ends. Also the per-packet records that let a
 * revisit reproduce the first pass exactly. */
#ifndef HMTP_CONV_H
#define HMTP_CONV_H

#include <stdbool.h>

#include <epan/packet.h>
#include <epan/conversation.h>

#include "hessian.h"
#include "hmtp_tcp.h"

#define HMTP_TO_SERVER 0
#define HMTP_TO_CLIENT 1

typedef struct hmtp_conv {
    hessian_stream stream[2];
    bool synced[2];        /* first pass: the next byte of this direction starts a packet */
    bool server_known;
    address server_addr;
    guint32 server_port;
    guint32 hmtp_start_frame; /* first frame that is HMTP (0: not from an upgrade) */
    bool tcp_stream_known;
    guint32 tcp_stream;       /* tcp.stream of the connection (Follow, conversation filter) */
    hmtp_tcp_trouble tcp_trouble; /* what hmtp_tcp_hint has scanned of this connection */
    wmem_map_t *pending_queries;  /* "dir:id" -> hmtp_pdu of the request */
    wmem_map_t *pending_presence; /* "dir:kind:to|from:jid" -> hmtp_pdu */
} hmtp_conv;

/* What the first pass learned about one HMTP packet, replayed on revisits. */
typedef struct hmtp_pdu {
    guint32 frame;
    hessian_mark mark; /* stream state before this packet */
    guint8 dir;
    bool request;          /* a query or presence packet that expects an answer */
    bool answer;           /* a packet that answers one */
    guint32 response_frame; /* request: the answer's frame (0: none seen yet) */
    guint32 request_frame;  /* answer: the request's frame (0: no request seen) */
    nstime_t time;          /* frame time, for response times */
    nstime_t response_time; /* answer: delay since the request */
    const char *keys[2];    /* request: its keys in the pending tables */
} hmtp_pdu;

/* The state of the conversation of pinfo, created on first use. */
hmtp_conv *hmtp_conv_get(packet_info *pinfo);
/* The state of the conversation of pinfo if HMTP ran on it, else NULL. */
hmtp_conv *hmtp_conv_find(packet_info *pinfo);
/* HMTP_TO_SERVER or HMTP_TO_CLIENT for the packet being dissected. */
guint8 hmtp_conv_direction(const hmtp_conv *c, const packet_info *pinfo);
/* Records the server side (the sender of the 101) and that both directions
 * start on a packet boundary from the next frame on. */
void hmtp_conv_mark_upgrade(packet_info *pinfo, conversation_t *conv, guint32 next_frame);

/* hmtp_tcp_hint for the connection of pinfo (nothing when HMTP has no state
 * on it): the dissector's experts call this, the connection keeps the scan. */
void hmtp_conv_tcp_hint(packet_info *pinfo, proto_item *pi, guint32 upto, const char *what);

/* Per-frame records: the n-th HMTP packet dissected in this frame. */
hmtp_pdu *hmtp_pdu_get(packet_info *pinfo, guint32 n);
hmtp_pdu *hmtp_pdu_add(packet_info *pinfo, guint32 n);
/* Counter of HMTP packets dissected so far in this pass over this frame. */
guint32 hmtp_pdu_next_index(packet_info *pinfo);

/* Bytes the first pass skipped at the start of this frame's data to reach a
 * packet boundary (capture started mid-packet). G_MAXUINT32: not recorded. */
guint32 hmtp_frame_skip_get(packet_info *pinfo);
void hmtp_frame_skip_set(packet_info *pinfo, guint32 skip);

#endif
