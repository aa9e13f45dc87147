/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One TCP connection of the capture: both directions reassembled, the HTTP
 * upgrade recognised, and the HMTP bytes framed into packets for a sink. */
#ifndef REPLAY_FLOW_H
#define REPLAY_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "net_parse.h"
#include "session.h"

typedef struct replay_flow replay_flow;

typedef struct replay_flow_config {
    uint16_t port;          /* 0: sessions only from an upgrade; else the HMTP server port */
    size_t max_packet;      /* HMTP body limit */
    size_t pending_cap;     /* out-of-order bytes held per direction */
    const replay_sink *sink;
    unsigned *next_session_id; /* shared by all flows of a capture */
} replay_flow_config;

/* endpoint 0 is the segment's sender. */
replay_flow *replay_flow_new(const replay_flow_config *cfg, const replay_segment *first, uint64_t frame);
/* Feeds a segment of this connection. */
void replay_flow_segment(replay_flow *f, const replay_segment *seg, uint64_t frame, double ts);
/* True once the connection is over (both FINs delivered, or a RST). */
bool replay_flow_done(const replay_flow *f);
/* True when a SYN from a fresh connection reuses this one's addresses. */
bool replay_flow_is_new_connection(const replay_flow *f, const replay_segment *seg);
/* Ends the flow (reporting holes as gaps) and frees it. */
void replay_flow_finish(replay_flow *f, uint64_t frame);

#endif
