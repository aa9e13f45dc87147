/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Verdicts of an hmtp-replay JSON report (--report-json), shown on the
 * recorded reply frames they are about: the "Replay report file" preference
 * names the report; it is read once per capture file, checked against the
 * open capture, and looked up per frame. */
#ifndef HMTP_REPLAY_REPORT_H
#define HMTP_REPLAY_REPORT_H

#include <epan/packet.h>
#include <epan/prefs.h>

/* Registers the preference on module and the per-capture reset. */
void hmtp_replay_report_register(module_t *module);

/* Adds hmtp.replay.* fields and experts to tree for this frame: the verdict
 * when the frame is a compared reply of the report, or, on the first frame
 * shown, why the report is not used. Once per frame dissection. */
void hmtp_replay_report_mark(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree);

#endif
