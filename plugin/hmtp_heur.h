/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Recognising an HMTP packet start without context: for the TCP heuristic
 * dissector (a stream seen from its first packet) and for resynchronising a
 * capture that starts inside a packet. */
#ifndef HMTP_HEUR_H
#define HMTP_HEUR_H

#include <stdbool.h>

#include <epan/packet.h>

/* First offset >= from where a packet starts, by core/resync.h's rule
 * (offset `from` may be a prefix of a packet longer than the segment; later
 * ones must be whole packets, within 64 KiB); the captured length when
 * there is none. */
guint32 hmtp_find_boundary(tvbuff_t *tvb, guint32 from, size_t max_body);

void hmtp_heur_register(dissector_handle_t hmtp_handle);

#endif
