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

/* The first frame of this connection, at or before `upto`, that TCP flagged
 * as a retransmission, out of order or following a segment not captured;
 * 0 when there is none (or TCP sequence analysis is off). */
guint32 hmtp_tcp_trouble_frame(packet_info *pinfo, guint32 upto);

/* Whether TCP flagged the frame being dissected (retransmission, out of
 * order, after a segment not captured) while tcp.reassemble_out_of_order is
 * off: the bytes it hands over need not continue the previous ones. */
bool hmtp_tcp_frame_suspect(packet_info *pinfo);

/* Adds the hmtp.tcp_trouble expert to pi when TCP flagged such a segment in
 * this connection at or before `upto`: says where, and names the preference
 * tcp.reassemble_out_of_order. `what` says what broke ("bad framing"). */
void hmtp_tcp_hint(packet_info *pinfo, proto_item *pi, guint32 upto, const char *what);

/* Whether TCP saw this connection's SYN (the capture holds its start). */
bool hmtp_tcp_saw_syn(packet_info *pinfo);

#endif
