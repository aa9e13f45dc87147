/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <epan/packet.h>
#include <epan/stats_tree.h>
#include <epan/tap.h>

#include "hmtp.h"
#include "hmtp_stats.h"

static int hmtp_tap = -1;

static int st_packets = -1, st_types = -1, st_to = -1, st_from = -1, st_errors = -1;

static const char *const ST_PACKETS = "HMTP packets";
static const char *const ST_TYPES = "By type";
static const char *const ST_TO = "By JID (to)";
static const char *const ST_FROM = "By JID (from)";
static const char *const ST_ERRORS = "By error group";

static void stats_init(stats_tree *st)
{
    st_packets = stats_tree_create_node(st, ST_PACKETS, 0, STAT_DT_INT, TRUE);
    st_types = stats_tree_create_node(st, ST_TYPES, st_packets, STAT_DT_INT, TRUE);
    st_to = stats_tree_create_node(st, ST_TO, st_packets, STAT_DT_INT, TRUE);
    st_from = stats_tree_create_node(st, ST_FROM, st_packets, STAT_DT_INT, TRUE);
    st_errors = stats_tree_create_node(st, ST_ERRORS, st_packets, STAT_DT_INT, TRUE);
}

static tap_packet_status stats_packet(stats_tree *st, packet_info *pinfo _U_, epan_dissect_t *edt _U_,
                                      const void *data, tap_flags_t flags _U_)
{
    const hmtp_tap_info *info = data;
    tick_stat_node(st, ST_PACKETS, 0, TRUE);
    const char *name = info->has_type ? hmtp_type_name(info->type) : NULL;
    tick_stat_node(st, ST_TYPES, st_packets, TRUE);
    tick_stat_node(st, name ? name : (info->malformed ? "(malformed)" : "(unknown type)"), st_types, FALSE);
    tick_stat_node(st, ST_TO, st_packets, TRUE);
    tick_stat_node(st, info->to ? info->to : "null", st_to, FALSE);
    tick_stat_node(st, ST_FROM, st_packets, TRUE);
    tick_stat_node(st, info->from ? info->from : "null", st_from, FALSE);
    if (info->error_group) {
        tick_stat_node(st, ST_ERRORS, st_packets, TRUE);
        tick_stat_node(st, info->error_group, st_errors, FALSE);
    }
    return TAP_PACKET_REDRAW;
}

void hmtp_stats_register(void)
{
    hmtp_tap = register_tap("hmtp");
    stats_tree_register_plugin("hmtp", "hmtp", "HMTP/Packets", 0, stats_packet, stats_init, NULL);
}

void hmtp_stats_queue(packet_info *pinfo, const hmtp_tap_info *info)
{
    tap_queue_packet(hmtp_tap, pinfo, info);
}
