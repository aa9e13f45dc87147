/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Resynchronisation fuzzer. Input: byte 0 picks the window (low nibble,
 * in units of 64 bytes; 0 = the whole input) and the flags (bits 4-6:
 * prefix_at_from, accept_at_edge, the piece size for the streaming pass);
 * byte 1 is `from`; the rest is the stream. Whatever the bytes, a boundary
 * found is inside the window and starts a whole packet (or, at `from`
 * with prefix_at_from, a packet start); NEED asks for more than there is;
 * and a streaming search fed in pieces, dropping what it is told to, ends
 * (never loops) and finds a boundary that is one by the same tests. */
#include <stdio.h>
#include <stdlib.h>

#include "framing.h"
#include "resync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BODY 4096

static void fail(const char *what, size_t a, size_t b)
{
    fprintf(stderr, "fuzz_resync: %s (%zu, %zu)\n", what, a, b);
    abort();
}

static void check_found(const uint8_t *s, size_t len, size_t from, const hmtp_resync_config *cfg, size_t at)
{
    if (at < from || at >= len || at - from >= cfg->window)
        fail("boundary outside the window", at, from);
    size_t wire, need;
    bool whole = hmtp_resync_packet(s + at, len - at, cfg->max_body, &wire, &need) == HMTP_RESYNC_YES;
    bool start = cfg->prefix_at_from && at == from && hmtp_resync_prefix(s + at, len - at) == HMTP_RESYNC_YES;
    if (!whole && !start)
        fail("boundary that starts no packet", at, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const uint8_t *s = data + 2;
    size_t len = size - 2, from = data[1] < len ? data[1] : len;
    hmtp_resync_config cfg = {
        .max_body = MAX_BODY,
        .window = (data[0] & 0x0f) ? (size_t)(data[0] & 0x0f) * 64 : len + 1,
        .at_end = true,
        .prefix_at_from = data[0] & 0x10,
        .accept_at_edge = data[0] & 0x20,
    };
    size_t at = 0, need = 0;
    if (hmtp_resync_find(s, len, from, &cfg, &at, &need) == HMTP_RESYNC_FOUND)
        check_found(s, len, from, &cfg, at);

    /* streaming, from 0, in pieces of 1 or 7 bytes */
    size_t piece = data[0] & 0x40 ? 7 : 1, base = 0, fed = 0;
    cfg.prefix_at_from = false;
    cfg.at_end = false;
    need = 0;
    for (size_t calls = 0;; calls++) {
        if (calls > 4 * len + 8)
            fail("streaming search does not end", calls, len);
        if (fed == len)
            cfg.at_end = true;
        else
            fed = fed + piece > len ? len : fed + piece;
        if (!cfg.at_end && fed - base < need)
            continue;
        size_t window = (data[0] & 0x0f) ? (size_t)(data[0] & 0x0f) * 64 : len + 1;
        cfg.window = base < window ? window - base : 0;
        hmtp_resync_status st = hmtp_resync_find(s + base, fed - base, 0, &cfg, &at, &need);
        if (st == HMTP_RESYNC_FOUND) {
            check_found(s + base, fed - base, 0, &cfg, at);
            break;
        }
        if (st == HMTP_RESYNC_NONE)
            break;
        if (cfg.at_end)
            fail("NEED at the end of the stream", at, need);
        if (at > fed - base || need <= fed - base)
            fail("NEED for bytes there are", at, need);
        base += at;
        need -= at;
    }
    return 0;
}
