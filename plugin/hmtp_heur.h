/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Recognising an HMTP packet start without context: for the TCP heuristic
 * dissector (a stream seen from its first packet) and for resynchronising a
 * capture that starts inside a packet. */
#ifndef HMTP_HEUR_H
#define HMTP_HEUR_H

#include <stdbool.h>

#include <epan/packet.h>

/* A whole packet starts at offset: it is framed correctly within the
 * captured bytes and its body decodes as an HMTP packet of a known type
 * whose to/from are JIDs or null. */
bool hmtp_complete_packet_at(tvbuff_t *tvb, guint32 offset, size_t max_body);
/* The bytes at offset begin like an HMTP packet (chunk length, a packet
 * type, a JID or null) though the packet may continue past the tvb. */
bool hmtp_packet_prefix_at(tvbuff_t *tvb, guint32 offset);
/* First offset >= from where a packet starts, by core/resync.h's rule
 * (offset `from` may be a prefix of a packet longer than the segment; later
 * ones must be whole packets, within 64 KiB); the captured length when
 * there is none. */
guint32 hmtp_find_boundary(tvbuff_t *tvb, guint32 from, size_t max_body);

void hmtp_heur_register(dissector_handle_t hmtp_handle);

#endif
