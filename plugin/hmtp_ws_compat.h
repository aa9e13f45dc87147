/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Every difference between the Wireshark versions the plugin builds against
 * lives here, keyed on <ws_version.h>, so the other files are written once.
 *
 *   4.0  (Debian 12)  built and tested
 *   4.2               not available here: the entries below follow the 4.2
 *                     API as documented upstream, never compiled
 *   4.4  (Debian 13)  built and tested
 *   4.6  (Debian sid) built and tested
 *
 * The plugin uses none of 4.6's removed calls (wmem_packet_scope(),
 * val_to_str() without an allocator): every allocation takes pinfo->pool or
 * wmem_file_scope(), and names come from the core's tables. */
#ifndef HMTP_WS_COMPAT_H
#define HMTP_WS_COMPAT_H

#include <stdbool.h>
#include <stddef.h>

#include <ws_version.h>
#include <epan/packet.h>
#include <epan/strutil.h>

#define HMTP_WS_AT_LEAST(major, minor)                                                                            \
    (WIRESHARK_VERSION_MAJOR > (major) || (WIRESHARK_VERSION_MAJOR == (major) && WIRESHARK_VERSION_MINOR >= (minor)))

/* 4.2 added plugin_describe(): the loader asks a plugin what kind it is. */
#if HMTP_WS_AT_LEAST(4, 2)
#include <wsutil/plugins.h>
#define HMTP_WS_HAVE_PLUGIN_DESCRIBE 1
#endif

/* 4.4 moved the API from GLib's gboolean to C99 bool: heuristic dissectors,
 * wmem user callbacks, UAT update callbacks and the variable behind a bool
 * preference have this type (gboolean is an int, so the two do not mix
 * through pointers). 4.2 still had gboolean. */
#if HMTP_WS_AT_LEAST(4, 4)
typedef bool hmtp_ws_bool;
#else
typedef gboolean hmtp_ws_bool;
#endif

/* format_text() took `const guchar *` up to 4.0 and takes `const char *`
 * from 4.4 on; going through void * fits either without a cast warning. */
static inline char *hmtp_format_text(wmem_allocator_t *pool, const char *s, size_t len)
{
    const void *bytes = s;
    return format_text(pool, bytes, len);
}

/* Follow, the conversation filter and TCP's per-connection state
 * (hmtp_follow.c, hmtp_tcp.c). 4.4 (4.2 not checked) gave
 * register_follow_stream() a stream counter and a sub-stream lookup (TCP's
 * count; HMTP has no sub-streams), gave conversation filter callbacks a
 * user_data argument and a bool result, made wmem tree walkers return bool,
 * and added a TCP state lookup that changes nothing (the 4.0 call with a NULL
 * conversation finds it without clearing TCP's per-frame analysis). */
#include <epan/follow.h>
#include <epan/conversation_filter.h>
#include <epan/dissectors/packet-tcp.h>
#if HMTP_WS_AT_LEAST(4, 4)
#define HMTP_REGISTER_FOLLOW(proto, tap, conv_f, index_f, addr_f, port_f)                                         \
    register_follow_stream((proto), (tap), (conv_f), (index_f), (addr_f), (port_f), follow_tvb_tap_listener,     \
                           get_tcp_stream_count, NULL)
#define HMTP_CONV_FILTER_ARGS packet_info *pinfo, void *user_data _U_
#define HMTP_REGISTER_CONV_FILTER(proto, name, valid_f, build_f)                                                   \
    register_conversation_filter((proto), (name), (valid_f), (build_f), NULL)
static inline struct tcp_analysis *hmtp_tcp_analysis(packet_info *pinfo)
{
    conversation_t *conv = find_conversation_pinfo(pinfo, 0);
    return conv ? get_tcp_conversation_data_idempotent(conv) : NULL;
}
#else
#define HMTP_REGISTER_FOLLOW(proto, tap, conv_f, index_f, addr_f, port_f)                                         \
    register_follow_stream((proto), (tap), (conv_f), (index_f), (addr_f), (port_f), follow_tvb_tap_listener)
#define HMTP_CONV_FILTER_ARGS packet_info *pinfo
#define HMTP_REGISTER_CONV_FILTER(proto, name, valid_f, build_f)                                                   \
    register_conversation_filter((proto), (name), (valid_f), (build_f))
static inline struct tcp_analysis *hmtp_tcp_analysis(packet_info *pinfo)
{
    return get_tcp_conversation_data(NULL, pinfo);
}
#endif

#endif
