/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <epan/packet.h>
#include <epan/conversation.h>

#include "framing.h"
#include "resync.h"
#include "hmtp_conv.h"
#include "hmtp_heur.h"
#include "hmtp_plugin.h"
#include "hmtp_tcp.h"

/* The rules live in core/resync.c, shared with hmtp-replay; these adapt
 * them to a tvb, which is all Wireshark gives at once (nothing is waited
 * for: a candidate that runs past the tvb is refused). */

static const guint8 *tvb_rest(tvbuff_t *tvb, guint32 offset, size_t *avail)
{
    guint32 len = tvb_captured_length(tvb);
    *avail = offset < len ? len - offset : 0;
    return *avail ? tvb_get_ptr(tvb, (gint)offset, (gint)*avail) : NULL;
}

/* A whole packet starts at offset: it is framed correctly within the
 * captured bytes and its body decodes as an HMTP packet of a known type
 * whose to/from are JIDs or null. */
static bool hmtp_complete_packet_at(tvbuff_t *tvb, guint32 offset, size_t max_body)
{
    size_t avail, wire, need;
    const guint8 *p = tvb_rest(tvb, offset, &avail);
    return p && hmtp_resync_packet(p, avail, max_body, &wire, &need) == HMTP_RESYNC_YES;
}

/* The bytes at offset begin like an HMTP packet (chunk length, a packet
 * type, a JID or null) though the packet may continue past the tvb. */
static bool hmtp_packet_prefix_at(tvbuff_t *tvb, guint32 offset)
{
    size_t avail;
    const guint8 *p = tvb_rest(tvb, offset, &avail);
    return p && hmtp_resync_prefix(p, avail) == HMTP_RESYNC_YES;
}

guint32 hmtp_find_boundary(tvbuff_t *tvb, guint32 from, size_t max_body)
{
    guint32 len = tvb_captured_length(tvb);
    if (from >= len)
        return len;
    const hmtp_resync_config cfg = {
        .max_body = max_body, .window = HMTP_RESYNC_WINDOW, .at_end = true, .prefix_at_from = true};
    size_t at, need;
    const guint8 *p = tvb_get_ptr(tvb, 0, (gint)len);
    return hmtp_resync_find(p, len, from, &cfg, &at, &need) == HMTP_RESYNC_FOUND ? (guint32)at : len;
}

/* A TCP payload that starts with a complete, fully valid HMTP packet, and
 * whose remaining bytes (if any) start another one. */
static hmtp_ws_bool dissect_hmtp_heur(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    if (!hmtp_complete_packet_at(tvb, 0, hmtp_pref_max_packet))
        return false;
    const guint8 *p = tvb_get_ptr(tvb, 0, -1);
    hmtp_frame_info info;
    hmtp_error err;
    if (hmtp_frame_scan(p, tvb_captured_length(tvb), hmtp_pref_max_packet, &info, &err) != HMTP_FRAME_COMPLETE)
        return false;
    if (info.wire_len < tvb_captured_length(tvb) && !hmtp_packet_prefix_at(tvb, (guint32)info.wire_len) &&
        !hmtp_complete_packet_at(tvb, (guint32)info.wire_len, hmtp_pref_max_packet))
        return false;
    conversation_t *conv = find_or_create_conversation(pinfo);
    conversation_set_dissector_from_frame_number(conv, pinfo->num, hmtp_tcp_handle);
    hmtp_conv *c = hmtp_conv_get(pinfo);
    c->synced[hmtp_conv_direction(c, pinfo)] = true;
    call_dissector_with_data(hmtp_tcp_handle, tvb, pinfo, tree, data);
    return true;
}

/* HTTP owns its ports (8080...) and offers data that is not HTTP to its own
 * heuristic list: a capture that starts after the upgrade reaches us only
 * this way. Only where the connection's start was not captured: with the
 * SYN in the capture, the upgrade (or its refusal) was seen too. */
static hmtp_ws_bool dissect_hmtp_heur_http(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    if (pinfo->ptype != PT_TCP || hmtp_tcp_saw_syn(pinfo))
        return false;
    return dissect_hmtp_heur(tvb, pinfo, tree, NULL); /* HTTP's data is not TCP's */
}

void hmtp_heur_register(dissector_handle_t hmtp_handle _U_)
{
    heur_dissector_add("tcp", dissect_hmtp_heur, "HMTP over TCP", "hmtp_tcp", proto_hmtp, HEURISTIC_ENABLE);
    heur_dissector_add("http", dissect_hmtp_heur_http, "HMTP on an HTTP port, capture started after the upgrade",
                       "hmtp_http", proto_hmtp, HEURISTIC_ENABLE);
}
