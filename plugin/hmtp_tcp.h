/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the plugin asks Wireshark's TCP dissector about the connection it
 * runs on: its stream index (tcp.stream, for Follow and the conversation
 * filter) and whether TCP flagged segments that can keep bytes from HMTP
 * (retransmissions, out-of-order segments, segments not captured). */
#ifndef HMTP_TCP_H
#define HMTP_TCP_H

#include <stdbool.h>

#include <epan/packet.h>

/* tcp.stream of the packet being dissected; false when TCP has no state. */
bool hmtp_tcp_stream(packet_info *pinfo, guint32 *stream);

/* What the search for TCP trouble has learned about one connection. The
 * caller keeps one per connection (hmtp_conv) and hands it in, so this file
 * needs nothing of the plugin's own state: frames are scanned once, in
 * order, and the first flagged one kept, so repeated breaks cost nothing. */
typedef struct hmtp_tcp_trouble {
    guint32 scanned; /* frames up to here checked */
    guint32 frame;   /* the first frame TCP flagged (0: none yet) */
    guint16 flags;
} hmtp_tcp_trouble;

/* Whether TCP flagged the frame being dissected (retransmission, out of
 * order, after a segment not captured) while tcp.reassemble_out_of_order is
 * off: the bytes it hands over need not continue the previous ones. */
bool hmtp_tcp_frame_suspect(packet_info *pinfo);

/* Adds the hmtp.tcp_trouble expert to pi when TCP flagged a retransmission,
 * an out-of-order segment or one after a segment not captured in this
 * connection (seen: its record) at or before `upto`: says where, and names
 * the preference tcp.reassemble_out_of_order. `what` says what broke ("bad
 * framing"). */
void hmtp_tcp_hint(packet_info *pinfo, hmtp_tcp_trouble *seen, proto_item *pi, guint32 upto, const char *what);

/* Whether TCP saw this connection's SYN (the capture holds its start). */
bool hmtp_tcp_saw_syn(packet_info *pinfo);

#endif
