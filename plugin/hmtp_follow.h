/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Follow → HMTP Stream (and `tshark -z follow,hmtp,ascii,N`, N being
 * tcp.stream): both directions of one connection as one readable text record
 * per HMTP packet: type, id, from, to, and the payload as hmtp-decode's JSON
 * renders it. Also the conversation filter "HMTP" (tcp.stream eq N). */
#ifndef HMTP_FOLLOW_H
#define HMTP_FOLLOW_H

#include <epan/packet.h>

#include "hessian.h"

void hmtp_follow_register(void);

/* Queues the text of one packet to a running Follow; does nothing (and costs
 * nothing) when no Follow listens. Decodes body with stream at mark again. */
void hmtp_follow_queue(tvbuff_t *tvb, packet_info *pinfo, hessian_stream *stream, hessian_mark mark,
                       const guint8 *body, size_t body_len);

/* The display filter that selects one HMTP connection (g_free it). */
char *hmtp_connection_filter(guint32 tcp_stream);

#endif
