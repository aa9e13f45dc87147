/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The "hmtp" tap and its statistics tree (Statistics > HMTP, and
 * `tshark -z hmtp,tree`): packets by type, by JID and by error group. */
#ifndef HMTP_STATS_H
#define HMTP_STATS_H

#include <epan/packet.h>

typedef struct hmtp_tap_info {
    bool has_type;
    int32_t type;
    const char *to, *from; /* NULL: null JID */
    const char *error_group;
    bool malformed;
} hmtp_tap_info;

void hmtp_stats_register(void);
/* Queues one HMTP packet for the taps; info must live in pinfo->pool. */
void hmtp_stats_queue(packet_info *pinfo, const hmtp_tap_info *info);

#endif
