/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "tcp_stream.h"

#include <stdlib.h>
#include <string.h>

struct tcp_pending {
    tcp_pending *next;
    uint64_t off;
    size_t len;
    uint64_t frame;
    double ts;
    uint8_t data[];
};

void tcp_stream_init(tcp_stream *s, size_t pending_cap)
{
    memset(s, 0, sizeof *s);
    s->pending_cap = pending_cap;
}

static void drop_pending(tcp_stream *s)
{
    tcp_pending *p = s->pending;
    while (p) {
        tcp_pending *next = p->next;
        free(p);
        p = next;
    }
    s->pending = NULL;
    s->pending_bytes = 0;
}

void tcp_stream_free(tcp_stream *s) { drop_pending(s); }

static void mark_gap(tcp_stream *s, uint64_t frame)
{
    if (s->gap)
        return;
    s->gap = true;
    s->gap_off = s->next_off;
    s->gap_frame = frame;
    drop_pending(s);
}

/* Sequence number to stream offset, taking the value nearest next_off so
 * that wrap-around of the 32-bit space is invisible. */
static int64_t seq_to_off(const tcp_stream *s, uint32_t seq)
{
    uint32_t here = s->isn + (uint32_t)s->next_off;
    int32_t delta = (int32_t)(seq - here);
    return (int64_t)s->next_off + delta;
}

/* Delivers [off, off+len) minus what was already delivered. */
static void deliver_from(tcp_stream *s, uint64_t off, const uint8_t *data, size_t len, uint64_t frame, double ts,
                         tcp_deliver_fn deliver, void *ctx)
{
    uint64_t end = off + len;
    if (end <= s->next_off) {
        s->retransmitted_bytes += len;
        return;
    }
    size_t skip = (size_t)(s->next_off - off);
    s->retransmitted_bytes += skip;
    s->next_off = end;
    deliver(ctx, data + skip, len - skip, frame, ts);
}

static void drain_pending(tcp_stream *s, tcp_deliver_fn deliver, void *ctx)
{
    while (s->pending && s->pending->off <= s->next_off && !s->gap) {
        tcp_pending *p = s->pending;
        s->pending = p->next;
        s->pending_bytes -= p->len;
        deliver_from(s, p->off, p->data, p->len, p->frame, p->ts, deliver, ctx);
        free(p);
    }
}

static void add_pending(tcp_stream *s, uint64_t off, const uint8_t *data, size_t len, uint64_t frame, double ts)
{
    tcp_pending **at = &s->pending;
    while (*at && (*at)->off <= off) {
        /* A copy that starts at the same place and is no longer adds nothing. */
        if ((*at)->off == off && (*at)->len >= len) {
            s->retransmitted_bytes += len;
            return;
        }
        at = &(*at)->next;
    }
    tcp_pending *p = malloc(sizeof *p + len);
    if (!p) {
        mark_gap(s, frame); /* cannot hold it: say so rather than lose it silently */
        return;
    }
    p->off = off;
    p->len = len;
    p->frame = frame;
    p->ts = ts;
    memcpy(p->data, data, len);
    p->next = *at;
    *at = p;
    s->pending_bytes += len;
    s->out_of_order_segments++;
    if (s->pending_bytes > s->pending_cap)
        mark_gap(s, frame);
}

void tcp_stream_segment(tcp_stream *s, uint32_t seq, uint8_t flags, const uint8_t *data, size_t len,
                        size_t missing, uint64_t frame, double ts, tcp_deliver_fn deliver, void *ctx)
{
    if (flags & 0x02 /* SYN */) {
        if (!s->synced || (!s->saw_syn && s->next_off == 0)) {
            s->isn = seq + 1;
            s->synced = true;
        }
        s->saw_syn = true;
        seq++; /* the SYN takes one sequence number; data (rare) follows it */
    }
    if (!s->synced) {
        if (len == 0 && !(flags & 0x01))
            return; /* a bare ACK tells nothing about where data starts */
        s->isn = seq; /* capture started mid-connection: start here */
        s->synced = true;
    }
    int64_t off = seq_to_off(s, seq);
    if (off < 0) {
        /* Before the start we chose: keep only what lies after it. */
        if ((uint64_t)(-off) >= len) {
            s->retransmitted_bytes += len;
            len = 0;
        } else {
            data += (size_t)(-off);
            len -= (size_t)(-off);
        }
        off = 0;
    }
    if (flags & 0x01 /* FIN */) {
        uint64_t fin = (uint64_t)off + len + missing;
        if (!s->fin_seen || fin < s->fin_off)
            s->fin_off = fin;
        s->fin_seen = true;
    }
    if (s->gap || (len == 0 && missing == 0))
        return;
    if ((uint64_t)off <= s->next_off) {
        deliver_from(s, (uint64_t)off, data, len, frame, ts, deliver, ctx);
        drain_pending(s, deliver, ctx);
    } else if (len > 0) {
        add_pending(s, (uint64_t)off, data, len, frame, ts);
    }
    if (missing > 0 && !s->gap) {
        /* The snapshot length cut this segment: what follows is lost for good
           once the delivered bytes reach the cut. */
        if (s->next_off >= (uint64_t)off + len)
            mark_gap(s, frame);
    }
}

void tcp_stream_peer_ack(tcp_stream *s, uint32_t ack, uint64_t frame)
{
    if (!s->synced || s->gap)
        return;
    int64_t acked = seq_to_off(s, ack);
    /* One past the data is the FIN's own sequence number, not a lost byte. */
    if (acked > (int64_t)s->next_off + 1 || (acked == (int64_t)s->next_off + 1 && s->pending))
        mark_gap(s, frame);
}

void tcp_stream_finish(tcp_stream *s, uint64_t frame)
{
    if (s->gap)
        return;
    if (s->pending || (s->fin_seen && s->next_off < s->fin_off))
        mark_gap(s, frame);
}

bool tcp_stream_closed(const tcp_stream *s) { return s->fin_seen && !s->gap && s->next_off >= s->fin_off; }
