/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Request/answer linking (Wireshark's request/response tracking pattern):
 * queryGet/querySet <-> queryResult/queryError by id and direction;
 * presenceSubscribe <-> presenceSubscribed/presenceError,
 * presenceUnsubscribe <-> presenceUnsubscribed/presenceError,
 * presenceProbe <-> the presence (or presenceError) that answers it, matched
 * by the JID the request went to. Links are made on the first pass and shown
 * on every pass; "never answered" is only knowable once the whole capture has
 * been read, so it shows on revisits (two-pass tshark, the GUI). */
#ifndef HMTP_TRACK_H
#define HMTP_TRACK_H

#include <epan/packet.h>

#include "hmtp_conv.h"
#include "hmtp_events.h"

void hmtp_track_first_pass(hmtp_conv *c, hmtp_pdu *pdu, const hmtp_decoded *dec);
void hmtp_track_show(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, proto_item *pkt_item,
                     const hmtp_pdu *pdu);

#endif
