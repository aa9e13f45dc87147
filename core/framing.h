/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HMTP packet framing (PROTOCOL.md section 2):
 *   packet ::= chunk* 0x00 ; chunk ::= length data ; length is big-endian
 *   base-128 with the top bit meaning "more length bytes follow".
 * Two readers over the same rules: a stateless scanner for callers that hold
 * the bytes themselves (Wireshark's TCP reassembly), and an incremental
 * reader that is fed pieces of any size (the broker, replayer, hmtp-decode). */
#ifndef HMTP_FRAMING_H
#define HMTP_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

#define HMTP_DEFAULT_MAX_PACKET ((size_t)16 << 20) /* body bytes */
/* A chunk length longer than this many bytes is refused: 4 bytes already
 * describe 256 MiB, far beyond any sane packet. */
#define HMTP_MAX_LENGTH_BYTES 4

typedef enum hmtp_frame_status {
    HMTP_FRAME_COMPLETE,   /* a whole packet starts at buf[0] */
    HMTP_FRAME_INCOMPLETE, /* more bytes are needed; info->need says how many at least */
    HMTP_FRAME_INVALID,    /* oversized body or an over-long length field; err says which */
} hmtp_frame_status;

typedef struct hmtp_frame_info {
    size_t wire_len; /* bytes of the packet on the wire, including the final 0x00 */
    size_t body_len; /* sum of the chunk data lengths */
    size_t chunks;   /* number of non-empty chunks (0 for a lone 0x00) */
    size_t need;     /* INCOMPLETE: a lower bound (>= 1) of the bytes still missing */
} hmtp_frame_info;

/* Examines the packet that starts at buf[0]. On COMPLETE, info has the
 * packet's sizes; on INCOMPLETE, info->need is exact when the scan stopped
 * inside chunk data and 1 when it stopped inside a length field. */
hmtp_frame_status hmtp_frame_scan(const uint8_t *buf, size_t len, size_t max_body,
                                  hmtp_frame_info *info, hmtp_error *err);

typedef struct hmtp_chunk {
    size_t header_offset; /* offset of the first length byte, from the packet start */
    size_t header_len;    /* number of length bytes */
    size_t data_offset;   /* offset of the chunk data, from the packet start */
    size_t data_len;      /* 0 for the terminating chunk */
} hmtp_chunk;

/* Walks the chunks of a packet that hmtp_frame_scan() found COMPLETE.
 * Start with *pos = 0; returns false after the terminating 0x00 chunk has been
 * returned (the terminator is reported too, with data_len 0). */
bool hmtp_frame_next_chunk(const uint8_t *packet, size_t wire_len, size_t *pos, hmtp_chunk *chunk);

/* Copies the concatenated chunk data of a COMPLETE packet into body (which
 * must hold info->body_len bytes). Returns the number of bytes copied. */
size_t hmtp_frame_copy_body(const uint8_t *packet, size_t wire_len, uint8_t *body);

/* Appends body framed as Caucho's packet writer does with a full buffer:
 * chunks of at most 4094 bytes, then the closing 0x00 (for callers that
 * edit a body and send it again; chunk boundaries carry no meaning). */
bool hmtp_frame_write(hmtp_buf *out, const uint8_t *body, size_t len);

/* ---- incremental reader ---- */

typedef struct hmtp_frame {
    const uint8_t *body; /* valid until the next push, and only while the pushed bytes are
                            unchanged: a packet pushed whole in one chunk points into them */
    size_t body_len;
    uint64_t wire_offset; /* stream offset of the packet's first byte */
    size_t wire_len;
    size_t chunks;
} hmtp_frame;

typedef struct hmtp_reader hmtp_reader;

hmtp_reader *hmtp_reader_new(size_t max_body);
void hmtp_reader_free(hmtp_reader *r);

/* Consumes bytes from data until one packet is complete or the data runs out.
 * Returns 1 with *out filled when a packet completed (bytes after it are not
 * consumed: call again with data + *consumed), 0 when all len bytes were
 * consumed without completing one, -1 on a framing error (sticky: every later
 * call fails the same way). Empty packets (a lone 0x00) are skipped and
 * counted in hmtp_reader_empty_packets(). */
int hmtp_reader_push(hmtp_reader *r, const uint8_t *data, size_t len, size_t *consumed,
                     hmtp_frame *out, hmtp_error *err);

/* True when the reader is between packets (no partial packet buffered). */
bool hmtp_reader_at_boundary(const hmtp_reader *r);
/* Stream offset of the next byte the reader expects. */
uint64_t hmtp_reader_offset(const hmtp_reader *r);
uint64_t hmtp_reader_empty_packets(const hmtp_reader *r);
/* Bytes of memory the reader holds for the packet being read (its buffer's
 * capacity), for servers that bound what peers make them keep. A buffer
 * over HMTP_READER_KEEP is released once its packet has been handed out. */
size_t hmtp_reader_buffered(const hmtp_reader *r);
#define HMTP_READER_KEEP ((size_t)64 << 10)

#endif
