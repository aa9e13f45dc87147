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

#endif
