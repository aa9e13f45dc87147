/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reads a pcap or pcapng file frame by frame and feeds its TCP connections
 * to flows, which find the HMTP sessions and report them to a sink. Finished
 * connections are freed at once: memory follows the connections open at the
 * same time, not the size of the file. */
#ifndef REPLAY_CAPTURE_H
#define REPLAY_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "session.h"

typedef struct replay_capture_options {
    uint16_t port;        /* 0: find sessions by their upgrade only */
    size_t max_packet;    /* 0: the core default */
    size_t pending_cap;   /* 0: 4 MiB of out-of-order data per direction */
} replay_capture_options;

typedef struct replay_capture_stats {
    uint64_t frames;
    uint64_t tcp_segments;
    uint64_t other_frames;     /* not TCP over IP */
    uint64_t malformed_frames; /* could not be parsed */
    uint64_t first_malformed_frame;
    char first_malformed[160];
    unsigned sessions;
    unsigned refused;          /* upgrades answered with another status than 101 */
    uint64_t peak_flows;       /* connections open at the same time, at most */
    bool truncated;            /* the file itself is damaged or cut short */
    char truncated_msg[256];   /* "after frame N: libpcap's reason" */
    /* TCP frames the snapshot length cut (their sessions get a gap) */
    uint64_t snaplen_cut_frames;
    uint64_t first_snaplen_cut_frame;
    int snaplen;               /* the file's snapshot length */
} replay_capture_stats;

/* Returns 0 when the file was read to its end (check stats->truncated for a
 * damaged tail: everything before it was delivered), -1 when it could not
 * be opened or uses an unsupported link type (err says why). */
int replay_capture_read(const char *path, const replay_capture_options *opt, const replay_sink *sink,
                        replay_capture_stats *stats, hmtp_tool_error *err);

#endif
