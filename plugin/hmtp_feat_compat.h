/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Wireshark API spellings the Follow, conversation-filter and TCP-hint
 * files need (Wireshark 4.0). Folded into the plugin's compatibility header
 * once that exists on this branch. */
#ifndef HMTP_FEAT_COMPAT_H
#define HMTP_FEAT_COMPAT_H

#include <epan/follow.h>
#include <epan/conversation_filter.h>
#include <epan/dissectors/packet-tcp.h>

#define HMTP_WMEM_FOREACH_RET gboolean
#define HMTP_TCP_ANALYSIS(pinfo) get_tcp_conversation_data(NULL, (pinfo)) /* NULL: keeps TCP's per-frame state */
#define HMTP_REGISTER_FOLLOW(proto, tap, conv_f, index_f, addr_f, port_f) \
    register_follow_stream((proto), (tap), (conv_f), (index_f), (addr_f), (port_f), follow_tvb_tap_listener)
#define HMTP_CONV_FILTER_ARGS packet_info *pinfo
#define HMTP_CONV_FILTER_RET gboolean
#define HMTP_REGISTER_CONV_FILTER(proto, name, valid_f, build_f) \
    register_conversation_filter((proto), (name), (valid_f), (build_f))

#endif
