/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One direction of a TCP connection put back in order.
 *
 * Bytes are delivered exactly once, in stream order. Segments that arrive
 * early wait in a sorted list; retransmissions and overlaps are trimmed so the
 * first copy of every byte wins. A hole that can no longer be filled (the peer
 * acknowledged bytes the capture never showed, the connection ended, or too
 * much is waiting behind it) becomes a gap: the stream records the frame and
 * byte offset and delivers nothing more, because the HMTP framing after a hole
 * cannot be trusted. Offsets are 64-bit and count from the first data byte. */
#ifndef REPLAY_TCP_STREAM_H
#define REPLAY_TCP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*tcp_deliver_fn)(void *ctx, const uint8_t *data, size_t len, uint64_t frame, double ts);

typedef struct tcp_pending tcp_pending;

typedef struct tcp_stream {
    bool synced;        /* isn known (from a SYN or the first data seen) */
    bool saw_syn;
    uint32_t isn;       /* sequence number of data offset 0 */
    uint64_t next_off;  /* next byte to deliver */
    tcp_pending *pending; /* sorted by offset */
    size_t pending_bytes;
    size_t pending_cap; /* more than this waiting behind a hole makes it a gap */
    bool fin_seen;
    uint64_t fin_off;
    bool gap;
    uint64_t gap_off;   /* offset of the first missing byte */
    uint64_t gap_frame; /* frame at which the hole was found to be permanent */
    /* statistics */
    uint64_t retransmitted_bytes;
    uint64_t out_of_order_segments;
} tcp_stream;

void tcp_stream_init(tcp_stream *s, size_t pending_cap);
void tcp_stream_free(tcp_stream *s);

/* A segment sent in this direction. missing: payload bytes announced but not
 * captured (snapshot length), which makes a gap right after the data. */
void tcp_stream_segment(tcp_stream *s, uint32_t seq, uint8_t flags, const uint8_t *data, size_t len,
                        size_t missing, uint64_t frame, double ts, tcp_deliver_fn deliver, void *ctx);

/* The peer acknowledged up to ack: acknowledged bytes never seen are a gap. */
void tcp_stream_peer_ack(tcp_stream *s, uint32_t ack, uint64_t frame);

/* No more segments will come (RST, or end of capture): any hole is a gap. */
void tcp_stream_finish(tcp_stream *s, uint64_t frame);

/* Every byte up to the FIN has been delivered. */
bool tcp_stream_closed(const tcp_stream *s);

#endif
