/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Finding a packet boundary in bytes that did not start at one: a capture
 * that begins inside a packet, or a stream after bytes that do not frame.
 * One rule for every program (the Wireshark plugin, hmtp-replay):
 *
 *   offset c is a boundary when a whole packet P starts at c: P frames
 *   completely (at least one chunk, a body of 3 bytes or more, within the
 *   body limit) and its body decodes, with a fresh stream as after a capture
 *   start, as an HMTP packet of a known type whose to/from are JIDs or null;
 *   and the bytes after P begin another packet (hmtp_resync_prefix: its
 *   chunk length, a type written as a one-byte int 0..13, a to that is a
 *   JID or null; or a whole packet). A lone 0x00 right after P does not
 *   count as a start. Where the bytes end before they tell (at the end of a
 *   Wireshark segment, or of a stream), P counts; a streaming caller that
 *   may get more bytes waits for them (HMTP_RESYNC_NEED), so the first
 *   packet is decided when the next one's first bytes arrive, unless it
 *   takes P ending exactly where its bytes end (accept_at_edge).
 *
 * The second condition refuses a whole packet that a binary payload merely
 * contains: after it come the payload's other bytes, not a packet. A payload
 * holding a packet followed by the start of another, or a byte stream that
 * is itself a run of packets, cannot be told from real packets by any rule
 * over the bytes; the first boundary found is then inside that payload.
 *
 * Pure functions over a byte buffer; nothing is kept between calls. */
#ifndef HMTP_RESYNC_H
#define HMTP_RESYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How far the Wireshark plugin looks into one segment (64 KiB). */
#define HMTP_RESYNC_WINDOW ((size_t)64 << 10)

typedef enum hmtp_resync_answer {
    HMTP_RESYNC_NO,   /* not a packet (start) here */
    HMTP_RESYNC_YES,  /* a packet (start) here */
    HMTP_RESYNC_MORE, /* cannot tell from these bytes; more would tell */
} hmtp_resync_answer;

/* A whole packet starts at buf[0] (first condition above). YES: *wire_len is
 * its length. MORE: it does not frame completely within len bytes, but its
 * start looks like a packet (hmtp_resync_prefix) and its body as far as the
 * bytes go decodes as the beginning of one; *need is a lower bound of the
 * bytes still missing. */
hmtp_resync_answer hmtp_resync_packet(const uint8_t *buf, size_t len, size_t max_body, size_t *wire_len,
                                      size_t *need);

/* buf begins like a packet that may continue past len: a chunk length of 3
 * or more, then in that chunk's data a type int 0..13 in its one-byte form
 * and a to (and, when present, a from) that is null or a JID. MORE: the
 * bytes end before type and to could be read. */
hmtp_resync_answer hmtp_resync_prefix(const uint8_t *buf, size_t len);

typedef struct hmtp_resync_config {
    size_t max_body; /* framing limit (HMTP_DEFAULT_MAX_PACKET, a preference) */
    size_t window;   /* candidate offsets looked at: from .. from + window - 1 */
    /* No byte will follow buf: a candidate that does not frame completely is
     * refused instead of waited for. A segment-at-a-time caller (Wireshark)
     * sets it; a streaming caller sets it only when the stream has ended. */
    bool at_end;
    /* A packet start (hmtp_resync_prefix) at `from` itself is a boundary,
     * with no more proof: for a caller that knows `from` begins a TCP
     * segment, where a sender's packet is likely to begin. */
    bool prefix_at_from;
    /* A whole packet that ends exactly where buf ends counts without a look
     * at what follows: for a caller whose buf ends where a TCP segment did,
     * since senders end segments at packet ends, and waiting for the next
     * packet would hand this one on late. A payload's hidden packet that
     * ends at a segment's end is then taken for a packet. */
    bool accept_at_edge;
} hmtp_resync_config;

typedef enum hmtp_resync_status {
    HMTP_RESYNC_FOUND,   /* *at is the first boundary >= from */
    HMTP_RESYNC_NEED,    /* *at is the first offset still undecided (every one
                            before it is refused): call again with bytes up to
                            at least *need (an offset in buf); the bytes before
                            *at may be dropped */
    HMTP_RESYNC_NONE,    /* every offset of the window is refused (with at_end,
                            every offset up to len) */
} hmtp_resync_status;

/* The first boundary at or after from. `from` must be <= len. */
hmtp_resync_status hmtp_resync_find(const uint8_t *buf, size_t len, size_t from, const hmtp_resync_config *cfg,
                                    size_t *at, size_t *need);

#endif
