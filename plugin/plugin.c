/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The symbols Wireshark's plugin loader looks for. The version it checks is
 * the one we were built against; 4.2 added plugin_describe(). */
#include <epan/packet.h>
#include <epan/proto.h>

#include "hmtp_ws_compat.h"

void proto_register_hmtp(void);
void proto_reg_handoff_hmtp(void);

WS_DLL_PUBLIC_DEF const char plugin_version[] = HMTP_PLUGIN_VERSION;
WS_DLL_PUBLIC_DEF const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
WS_DLL_PUBLIC_DEF const int plugin_want_minor = WIRESHARK_VERSION_MINOR;

WS_DLL_PUBLIC void plugin_register(void);
#ifdef HMTP_WS_HAVE_PLUGIN_DESCRIBE
WS_DLL_PUBLIC uint32_t plugin_describe(void);

uint32_t plugin_describe(void)
{
    return WS_PLUGIN_DESC_DISSECTOR;
}
#endif

void plugin_register(void)
{
    static proto_plugin plugin;
    plugin.register_protoinfo = proto_register_hmtp;
    plugin.register_handoff = proto_reg_handoff_hmtp;
    proto_register_plugin(&plugin);
}
