/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <epan/packet.h>
#include <epan/conversation.h>
#include <epan/expert.h>
#include <epan/prefs.h>
#include <epan/prefs-int.h>
#include <epan/dissectors/packet-tcp.h>

#include "hmtp_plugin.h"
#include "hmtp_ws_compat.h"
#include "hmtp_tcp.h"

/* The flags TCP keeps per frame in tcp_analysis.acked_table (TCP_A_* in
 * Wireshark's packet-tcp.c, not exported; the same values since 1.x). Only
 * the ones after which TCP may hand a subdissector the wrong bytes. */
#define TCP_FLAG_RETRANSMISSION 0x0001u
#define TCP_FLAG_LOST_SEGMENT 0x0002u /* "previous segment not captured" */
#define TCP_FLAG_OUT_OF_ORDER 0x0200u
#define TCP_FLAG_FAST_RETRANSMISSION 0x0400u
#define TCP_FLAG_SPURIOUS_RETRANSMISSION 0x4000u
#define TCP_FLAGS_TROUBLE                                                                                      \
    (TCP_FLAG_RETRANSMISSION | TCP_FLAG_LOST_SEGMENT | TCP_FLAG_OUT_OF_ORDER | TCP_FLAG_FAST_RETRANSMISSION |  \
     TCP_FLAG_SPURIOUS_RETRANSMISSION)

static struct tcp_analysis *tcp_state(packet_info *pinfo)
{
    if (pinfo->ptype != PT_TCP)
        return NULL;
    return hmtp_tcp_analysis(pinfo);
}

bool hmtp_tcp_stream(packet_info *pinfo, guint32 *stream)
{
    struct tcp_analysis *tcpd = tcp_state(pinfo);
    if (!tcpd)
        return false;
    *stream = tcpd->stream;
    return true;
}

bool hmtp_tcp_saw_syn(packet_info *pinfo)
{
    struct tcp_analysis *tcpd = tcp_state(pinfo);
    return tcpd && !nstime_is_zero(&tcpd->ts_mru_syn);
}

/* TCP keeps its per-frame analysis in acked_table under the key path
 * (frame, seq, ack): a frame's entry is a subtree whose leaves are the
 * tcp_acked records. */
static hmtp_ws_bool leaf_flags(const void *key _U_, void *value, void *user)
{
    const struct tcp_acked *ta = value;
    if (ta)
        *(guint16 *)user |= ta->flags;
    return false;
}

static guint16 frame_flags(struct tcp_analysis *tcpd, guint32 frame)
{
    wmem_tree_t *sub = wmem_tree_lookup32(tcpd->acked_table, frame);
    guint16 flags = 0;
    if (sub)
        wmem_tree_foreach(sub, leaf_flags, &flags);
    return flags;
}

/* The first flagged frame at or before upto (0: none), its flags in *flags;
 * seen->frame and seen->flags hold it for later calls. */
static guint32 search(packet_info *pinfo, hmtp_tcp_trouble *seen, guint32 upto, guint16 *flags)
{
    struct tcp_analysis *tcpd = tcp_state(pinfo);
    conversation_t *conv = find_conversation_pinfo(pinfo, 0);
    if (!tcpd || !tcpd->acked_table || !seen || !conv)
        return 0;
    guint32 last = PINFO_FD_VISITED(pinfo) ? conv->last_frame : pinfo->num;
    guint32 limit = upto < last ? upto : last;
    for (guint32 f = seen->scanned + 1; !seen->frame && f <= limit; f++) {
        guint16 found = frame_flags(tcpd, f) & TCP_FLAGS_TROUBLE;
        if (found) {
            seen->frame = f;
            seen->flags = found;
        }
        seen->scanned = f;
    }
    if (!seen->frame || seen->frame > upto)
        return 0;
    *flags = seen->flags;
    return seen->frame;
}

static bool tcp_reassembles_out_of_order(void)
{
    module_t *tcp = prefs_find_module("tcp");
    pref_t *pref = tcp ? prefs_find_preference(tcp, "reassemble_out_of_order") : NULL;
    return pref && prefs_get_bool_value(pref, pref_current);
}

bool hmtp_tcp_frame_suspect(packet_info *pinfo)
{
    struct tcp_analysis *tcpd = tcp_state(pinfo);
    if (!tcpd || !tcpd->acked_table || !(frame_flags(tcpd, pinfo->num) & TCP_FLAGS_TROUBLE))
        return false;
    return !tcp_reassembles_out_of_order();
}

void hmtp_tcp_hint(packet_info *pinfo, hmtp_tcp_trouble *seen, proto_item *pi, guint32 upto, const char *what)
{
    /* with the preference on, what is missing is missing from the capture */
    if (tcp_reassembles_out_of_order())
        return;
    guint16 flags = 0;
    guint32 found = search(pinfo, seen, upto, &flags);
    if (!found)
        return;
    const char *kind = (flags & TCP_FLAG_OUT_OF_ORDER)   ? "an out-of-order segment"
                       : (flags & TCP_FLAG_LOST_SEGMENT) ? "a segment after one not captured"
                                                         : "a retransmitted segment";
    /* Short enough for Wireshark's 240-byte labels, the preference first. */
    expert_add_info_format(pinfo, pi, &ei_hmtp_tcp_trouble,
                           "%s; TCP flagged %s here (frame %u): enable tcp.reassemble_out_of_order (TCP "
                           "\"Reassemble out-of-order segments\"); without it TCP may hand HMTP wrong or no bytes",
                           what, kind, found);
}
