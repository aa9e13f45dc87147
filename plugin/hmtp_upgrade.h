/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Taking over a TCP connection after its HTTP upgrade to HMTP/0.9.
 * Wireshark's HTTP dissector hands a connection to the "http.upgrade" table
 * only when the 101 response echoes an Upgrade header; Resin's does not. So
 * besides registering in that table, a postdissector watches the frames HTTP
 * dissected: a request carrying "Upgrade: HMTP/0.9" followed by a 101 from
 * the other side makes every later frame of the connection HMTP, both
 * directions. It reads the HTTP heads' bytes itself instead of HTTP's fields,
 * so Wireshark never has to build a protocol tree for it. */
#ifndef HMTP_UPGRADE_H
#define HMTP_UPGRADE_H

#include <epan/packet.h>

void hmtp_upgrade_register(dissector_handle_t hmtp_handle);

#endif
