/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Framing fuzzer. Input: byte 0 picks the maximum body (high nibble) and
 * the number of piece sizes n (low nibble); bytes 1..n are piece sizes;
 * the rest is the wire stream. The incremental reader, fed in those pieces,
 * must find exactly the packets (offsets, sizes, bodies) and the error that
 * the stateless scanner finds on the whole stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PACKETS 4096

typedef struct ref_packet {
    size_t offset, wire_len, body_len, chunks;
} ref_packet;

static void fail(const char *what, size_t a, size_t b)
{
    fprintf(stderr, "fuzz_framing: %s (%zu vs %zu)\n", what, a, b);
    abort();
}

/* Scans the whole stream; returns the number of non-empty packets, sets
 * *invalid when the scan stopped on an invalid packet. */
static size_t scan_all(const uint8_t *s, size_t len, size_t max, ref_packet *out, bool *invalid)
{
    size_t pos = 0, n = 0;
    *invalid = false;
    while (pos < len && n < MAX_PACKETS) {
        hmtp_frame_info info;
        hmtp_error err;
        hmtp_frame_status st = hmtp_frame_scan(s + pos, len - pos, max, &info, &err);
        if (st == HMTP_FRAME_INVALID) {
            *invalid = true;
            break;
        }
        if (st == HMTP_FRAME_INCOMPLETE) {
            if (info.need < 1)
                fail("need below 1", info.need, 1);
            break;
        }
        if (info.wire_len < 1 || info.wire_len > len - pos || info.body_len > max)
            fail("scan sizes out of range", info.wire_len, len - pos);
        /* the chunk walker and the body copy agree with the scan */
        size_t cpos = 0, sum = 0, chunks = 0;
        hmtp_chunk c;
        bool saw_end = false;
        while (hmtp_frame_next_chunk(s + pos, info.wire_len, &cpos, &c)) {
            if (c.data_len == 0) {
                saw_end = true;
                if (c.data_offset != info.wire_len)
                    fail("terminator not last", c.data_offset, info.wire_len);
            } else {
                chunks++;
            }
            sum += c.data_len;
            if (chunks > info.wire_len)
                fail("chunk walk does not end", chunks, info.wire_len);
        }
        if (!saw_end || sum != info.body_len || chunks != info.chunks)
            fail("chunk walk disagrees with scan", sum, info.body_len);
        if (info.body_len > 0) {
            out[n].offset = pos;
            out[n].wire_len = info.wire_len;
            out[n].body_len = info.body_len;
            out[n].chunks = info.chunks;
            n++;
        }
        pos += info.wire_len;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t maxes[16] = {1, 2, 16, 127, 128, 255, 4093, 4096, 65536, 1 << 20, 16 << 20,
                                     16 << 20, 16 << 20, 16 << 20, 16 << 20, 16 << 20};
    if (size < 1)
        return 0;
    size_t nsizes = data[0] & 15, max = maxes[data[0] >> 4];
    if (size < 1 + nsizes)
        return 0;
    const uint8_t *sizes = data + 1, *stream = data + 1 + nsizes;
    size_t len = size - 1 - nsizes;

    static ref_packet ref[MAX_PACKETS];
    bool invalid;
    size_t nref = scan_all(stream, len, max, ref, &invalid);

    hmtp_reader *r = hmtp_reader_new(max);
    if (!r)
        return 0;
    size_t pos = 0, k = 0, got = 0;
    bool failed = false;
    while (pos < len && !failed && got < MAX_PACKETS) {
        size_t piece = nsizes ? (size_t)sizes[k++ % nsizes] + 1 : len - pos;
        if (piece > len - pos)
            piece = len - pos;
        const uint8_t *p = stream + pos;
        size_t left = piece;
        while (left > 0 && got < MAX_PACKETS) {
            size_t consumed = 0;
            hmtp_frame f;
            hmtp_error err;
            int rc = hmtp_reader_push(r, p, left, &consumed, &f, &err);
            if (rc < 0) {
                failed = true;
                break;
            }
            if (consumed > left || (rc == 0 && consumed != left))
                fail("push consumed a wrong count", consumed, left);
            if (rc == 1) {
                if (got >= nref)
                    fail("reader found more packets than the scan", got, nref);
                const ref_packet *w = &ref[got];
                if (f.wire_offset != w->offset || f.wire_len != w->wire_len || f.body_len != w->body_len ||
                    f.chunks != w->chunks)
                    fail("reader packet differs from scan", (size_t)f.wire_offset, w->offset);
                uint8_t *body = malloc(w->body_len);
                if (body) {
                    if (hmtp_frame_copy_body(stream + w->offset, w->wire_len, body) != w->body_len ||
                        memcmp(body, f.body, w->body_len) != 0)
                        fail("reader body differs from copy_body", got, 0);
                    free(body);
                }
                got++;
            }
            p += consumed;
            left -= consumed;
        }
        pos += piece;
    }
    if (got < MAX_PACKETS && nref < MAX_PACKETS) {
        if (got != nref)
            fail("reader found fewer packets than the scan", got, nref);
        if (failed != invalid)
            fail("reader and scan disagree on validity", failed, invalid);
        if (!failed && hmtp_reader_offset(r) != len)
            fail("reader offset is not the stream length", (size_t)hmtp_reader_offset(r), len);
    }
    hmtp_reader_free(r);
    return 0;
}
