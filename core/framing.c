/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "framing.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Reads one base-128 length. Returns 1 with *value and *nbytes set, 0 when
 * the bytes end inside the length, -1 when it is longer than allowed. */
static int read_length(const uint8_t *p, size_t avail, size_t *value, size_t *nbytes)
{
    size_t v = 0;
    for (size_t i = 0; i < HMTP_MAX_LENGTH_BYTES; i++) {
        if (i >= avail)
            return 0;
        v = (v << 7) | (p[i] & 0x7f);
        if (!(p[i] & 0x80)) {
            *value = v;
            *nbytes = i + 1;
            return 1;
        }
    }
    return -1;
}

hmtp_frame_status hmtp_frame_scan(const uint8_t *buf, size_t len, size_t max_body,
                                  hmtp_frame_info *info, hmtp_error *err)
{
    memset(info, 0, sizeof *info);
    if (len == 0) { /* buf may be NULL then */
        info->need = 1;
        return HMTP_FRAME_INCOMPLETE;
    }
    size_t pos = 0;
    for (;;) {
        size_t chunk_len, hdr;
        int rc = read_length(buf + pos, len - pos, &chunk_len, &hdr);
        if (rc == 0) {
            info->need = 1;
            return HMTP_FRAME_INCOMPLETE;
        }
        if (rc < 0) {
            hmtp_fail(err, HMTP_ERR_BAD_FRAMING, pos, "chunk length field longer than %d bytes",
                      HMTP_MAX_LENGTH_BYTES);
            return HMTP_FRAME_INVALID;
        }
        if (chunk_len == 0) {
            info->wire_len = pos + hdr;
            return HMTP_FRAME_COMPLETE;
        }
        if (chunk_len > max_body - info->body_len) {
            hmtp_fail(err, HMTP_ERR_TOO_LARGE, pos,
                      "packet body exceeds the maximum of %zu bytes (chunk of %zu after %zu)", max_body,
                      chunk_len, info->body_len);
            return HMTP_FRAME_INVALID;
        }
        info->body_len += chunk_len;
        info->chunks++;
        pos += hdr;
        if (chunk_len > len - pos) {
            /* the rest of this chunk plus at least the terminating 0x00 */
            info->need = chunk_len - (len - pos) + 1;
            return HMTP_FRAME_INCOMPLETE;
        }
        pos += chunk_len;
    }
}

bool hmtp_frame_next_chunk(const uint8_t *packet, size_t wire_len, size_t *pos, hmtp_chunk *chunk)
{
    if (*pos >= wire_len)
        return false;
    size_t value, hdr;
    if (read_length(packet + *pos, wire_len - *pos, &value, &hdr) != 1 || value > wire_len - *pos - hdr)
        return false;
    chunk->header_offset = *pos;
    chunk->header_len = hdr;
    chunk->data_offset = *pos + hdr;
    chunk->data_len = value;
    /* After the terminator, *pos runs past the end so the next call stops. */
    *pos = value == 0 ? wire_len + 1 : *pos + hdr + value;
    return true;
}

size_t hmtp_frame_copy_body(const uint8_t *packet, size_t wire_len, uint8_t *body)
{
    size_t pos = 0, n = 0;
    hmtp_chunk c;
    while (hmtp_frame_next_chunk(packet, wire_len, &pos, &c)) {
        memcpy(body + n, packet + c.data_offset, c.data_len);
        n += c.data_len;
    }
    return n;
}

bool hmtp_frame_write(hmtp_buf *out, const uint8_t *body, size_t len)
{
    const size_t chunk_max = 4094; /* the writer's buffer less its 2-byte header */
    for (size_t pos = 0; pos < len;) {
        size_t n = len - pos < chunk_max ? len - pos : chunk_max;
        if (n >= 0x80)
            hmtp_buf_append_byte(out, (uint8_t)(0x80 | (n >> 7)));
        hmtp_buf_append_byte(out, (uint8_t)(n & 0x7f));
        hmtp_buf_append(out, body + pos, n);
        pos += n;
    }
    return hmtp_buf_append_byte(out, 0x00);
}

/* ---- incremental reader ---- */

enum reader_state { READ_LENGTH, READ_DATA };

struct hmtp_reader {
    size_t max_body;
    enum reader_state state;
    size_t length_value; /* length being accumulated */
    size_t length_bytes;
    size_t chunk_left;   /* data bytes left in the current chunk */
    size_t chunks;
    uint64_t offset;       /* stream offset of the next byte */
    uint64_t packet_start; /* stream offset of the current packet's first byte */
    bool in_packet;
    bool delivered; /* body holds a packet already handed out */
    hmtp_buf body;
    uint64_t empty_packets;
    bool failed;
    hmtp_error error;
};

hmtp_reader *hmtp_reader_new(size_t max_body)
{
    hmtp_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->max_body = max_body ? max_body : HMTP_DEFAULT_MAX_PACKET;
    hmtp_buf_init(&r->body);
    return r;
}

void hmtp_reader_free(hmtp_reader *r)
{
    if (!r)
        return;
    hmtp_buf_free(&r->body);
    free(r);
}

bool hmtp_reader_at_boundary(const hmtp_reader *r)
{
    return !r->in_packet;
}

uint64_t hmtp_reader_offset(const hmtp_reader *r)
{
    return r->offset;
}

size_t hmtp_reader_buffered(const hmtp_reader *r)
{
    return r->body.cap;
}

uint64_t hmtp_reader_empty_packets(const hmtp_reader *r)
{
    return r->empty_packets;
}

static int reader_fail(hmtp_reader *r, hmtp_error *err)
{
    r->failed = true;
    if (err)
        *err = r->error;
    return -1;
}

#define PREFETCH_AHEAD 4096 /* bytes: a few packets ahead of the one read */

/* The common case, a whole packet in the bytes pushed from a packet
 * boundary: its chunk headers are walked in place, not byte by byte through
 * the state machine. A single-chunk packet (nearly all: Caucho's writer
 * splits bodies at 4094 bytes) is handed out where it lies in the caller's
 * bytes, which outlive the frame as every caller uses it (until the next
 * push, the bytes unchanged); a multi-chunk one is copied into the reader's
 * buffer with one reserve and a memcpy per chunk. Returns the packet's wire
 * length with *out filled, or 0 when the bytes hold no whole non-empty
 * packet within the limits: the state machine then reads them as before,
 * so errors, empty packets and packets split across pushes are its alone. */
static size_t take_whole_packet(hmtp_reader *r, const uint8_t *p, size_t avail, hmtp_frame *out)
{
    size_t pos = 0, body = 0, chunks = 0, first = 0;
    for (;;) {
        size_t chunk_len, hdr;
        if (read_length(p + pos, avail - pos, &chunk_len, &hdr) != 1)
            return 0;
        pos += hdr;
        if (chunk_len == 0) /* the terminator: 0x00, or a zero written long (0x80 0x00) */
            break;
        if (chunk_len > r->max_body - body || chunk_len > avail - pos)
            return 0;
        if (chunks == 0)
            first = pos;
        body += chunk_len;
        chunks++;
        pos += chunk_len;
    }
    if (chunks == 0)
        return 0;
    size_t wire_len = pos;
    if (chunks == 1) {
        out->body = p + first;
    } else {
        if (!hmtp_buf_reserve(&r->body, body))
            return 0;
        size_t at = 0, n = 0;
        hmtp_chunk c;
        while (hmtp_frame_next_chunk(p, wire_len, &at, &c)) {
            memcpy(r->body.data + n, p + c.data_offset, c.data_len);
            n += c.data_len;
        }
        r->body.len = body;
        out->body = r->body.data;
    }
    /* Only the chunk headers and the terminator are read here, a cache miss
       each on bytes not read yet: ask for the bytes a little ahead, as much
       as this packet took, so the next packets' headers are in cache (what
       a copy gets from the hardware prefetcher's view of a linear walk). */
    for (size_t ahead = PREFETCH_AHEAD; ahead < wire_len + PREFETCH_AHEAD && ahead < avail; ahead += 64)
        __builtin_prefetch(p + ahead);
    out->body_len = body;
    out->wire_offset = r->offset;
    out->wire_len = wire_len;
    out->chunks = chunks;
    r->offset += wire_len;
    r->delivered = true;
    return wire_len;
}

int hmtp_reader_push(hmtp_reader *r, const uint8_t *data, size_t len, size_t *consumed,
                     hmtp_frame *out, hmtp_error *err)
{
    *consumed = 0;
    if (r->failed)
        return reader_fail(r, err);
    if (r->delivered) {
        /* A big packet's buffer is not kept for the small ones after it: a
           server with many links would hold the largest body of each. */
        if (r->body.cap > HMTP_READER_KEEP)
            hmtp_buf_free(&r->body);
        else
            hmtp_buf_reset(&r->body);
        r->delivered = false;
    }
    size_t i = 0;
    while (i < len) {
        if (!r->in_packet) {
            size_t n = take_whole_packet(r, data + i, len - i, out);
            if (n) {
                *consumed = i + n;
                return 1;
            }
        }
        if (r->state == READ_DATA) {
            size_t n = len - i < r->chunk_left ? len - i : r->chunk_left;
            if (!hmtp_buf_append(&r->body, data + i, n)) {
                hmtp_fail(&r->error, HMTP_ERR_NOMEM, (size_t)r->offset,
                          "out of memory buffering a packet body of %zu bytes", r->body.len + n);
                return reader_fail(r, err);
            }
            i += n;
            r->offset += n;
            r->chunk_left -= n;
            if (r->chunk_left == 0)
                r->state = READ_LENGTH;
            continue;
        }
        uint8_t byte = data[i++];
        if (!r->in_packet) {
            r->in_packet = true;
            r->packet_start = r->offset;
        }
        r->offset++;
        r->length_value = (r->length_value << 7) | (byte & 0x7f);
        r->length_bytes++;
        if (byte & 0x80) {
            if (r->length_bytes >= HMTP_MAX_LENGTH_BYTES) {
                hmtp_fail(&r->error, HMTP_ERR_BAD_FRAMING, (size_t)(r->offset - r->length_bytes),
                          "chunk length field longer than %d bytes", HMTP_MAX_LENGTH_BYTES);
                return reader_fail(r, err);
            }
            continue;
        }
        size_t chunk_len = r->length_value;
        r->length_value = 0;
        r->length_bytes = 0;
        if (chunk_len == 0) {
            r->in_packet = false;
            if (r->chunks == 0) {
                r->empty_packets++;
                continue;
            }
            out->body = r->body.data;
            out->body_len = r->body.len;
            out->wire_offset = r->packet_start;
            out->wire_len = (size_t)(r->offset - r->packet_start);
            out->chunks = r->chunks;
            r->chunks = 0;
            r->delivered = true;
            *consumed = i;
            return 1;
        }
        if (chunk_len > r->max_body - r->body.len) {
            hmtp_fail(&r->error, HMTP_ERR_TOO_LARGE, (size_t)r->packet_start,
                      "packet at stream offset %llu exceeds the maximum body of %zu bytes",
                      (unsigned long long)r->packet_start, r->max_body);
            return reader_fail(r, err);
        }
        r->chunks++;
        r->chunk_left = chunk_len;
        r->state = READ_DATA;
    }
    *consumed = i;
    return 0;
}
