/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "flow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "framing.h"
#include "http_upgrade.h"
#include "resync.h"
#include "tcp_stream.h"

typedef enum flow_state {
    FLOW_UNDECIDED, /* collecting the first bytes of each side */
    FLOW_HMTP,      /* a session: bytes go to the HMTP framers */
    FLOW_IGNORED,   /* not HMTP, or a refused upgrade */
} flow_state;

typedef struct flow_side {
    replay_flow *flow;
    int endpoint;
} flow_side;

/* Bytes that arrived together, so that packets found in bytes held while
 * looking for a boundary keep the frame that completed them. */
typedef struct flow_piece {
    size_t end; /* in flow_resync.bytes */
    uint64_t frame;
    double ts;
} flow_piece;

/* A direction of a session found by --port starts wherever the capture
 * did, maybe inside a packet: its bytes are held here until
 * hmtp_resync_find() settles the first packet boundary. */
typedef struct flow_resync {
    bool active;
    hmtp_buf bytes;   /* from HMTP stream offset `base` */
    uint64_t base;
    size_t need;      /* bytes.len worth another look */
    flow_piece *pieces;
    size_t npieces, cap;
} flow_resync;

struct replay_flow {
    replay_flow_config cfg;
    replay_addr addr[2];
    uint16_t port[2];
    tcp_stream stream[2]; /* stream[i]: bytes sent by endpoint i */
    flow_side side[2];
    int client;           /* endpoint index of the client, -1 while unknown */
    bool syn_seen[2];
    bool reset;
    flow_state state;
    hmtp_buf head[2];     /* UNDECIDED: bytes received so far */
    hmtp_reader *reader[2]; /* by replay_dir */
    hmtp_buf raw[2];      /* by replay_dir: wire bytes of the packet being framed */
    uint64_t raw_base[2]; /* HMTP stream offset of raw[d].data[0] */
    uint64_t count[2];
    bool broken[2];       /* a framing error stopped this direction */
    flow_resync sync[2];  /* by replay_dir */
    replay_session_info info;
};

const char *replay_dir_name(replay_dir d) { return d == REPLAY_C2S ? "c2s" : "s2c"; }

const char *replay_end_name(replay_end e)
{
    switch (e) {
    case REPLAY_END_OPEN: return "open";
    case REPLAY_END_CLOSED: return "closed";
    case REPLAY_END_RESET: return "reset";
    case REPLAY_END_CAPTURE: return "capture-ended";
    case REPLAY_END_GAP: return "gap";
    case REPLAY_END_FRAMING: return "framing-error";
    }
    return "?";
}

static void on_bytes(void *ctx, const uint8_t *data, size_t len, uint64_t frame, double ts);

replay_flow *replay_flow_new(const replay_flow_config *cfg, const replay_segment *first, uint64_t frame)
{
    replay_flow *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->cfg = *cfg;
    f->addr[0] = first->src;
    f->addr[1] = first->dst;
    f->port[0] = first->sport;
    f->port[1] = first->dport;
    f->client = -1;
    for (int i = 0; i < 2; i++) {
        tcp_stream_init(&f->stream[i], cfg->pending_cap);
        f->side[i].flow = f;
        f->side[i].endpoint = i;
        hmtp_buf_init(&f->head[i]);
        hmtp_buf_init(&f->raw[i]);
    }
    f->info.first_frame = frame;
    f->info.end = REPLAY_END_OPEN;
    return f;
}

static int endpoint_of(const replay_flow *f, const replay_segment *seg)
{
    return f->port[0] == seg->sport && memcmp(&f->addr[0], &seg->src, sizeof seg->src) == 0 ? 0 : 1;
}

static replay_dir dir_of(const replay_flow *f, int endpoint)
{
    return endpoint == f->client ? REPLAY_C2S : REPLAY_S2C;
}

static __attribute__((format(printf, 6, 7))) void mark_broken(replay_flow *f, replay_dir d, replay_end why, uint64_t frame,
                                             uint64_t offset, const char *fmt, ...)
{
    f->broken[d] = true;
    if (f->info.incomplete)
        return; /* the first problem is the one worth reporting */
    f->info.incomplete = true;
    f->info.end = why;
    f->info.broken_dir = d;
    f->info.broken_frame = frame;
    f->info.broken_offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->info.broken_reason, sizeof f->info.broken_reason, fmt, ap);
    va_end(ap);
}

/* TCP stream offset of a byte the direction's framer counts at `off` (it
 * starts at the first packet boundary). */
static uint64_t stream_off(const replay_flow *f, replay_dir d, uint64_t off)
{
    return f->info.hmtp_start[d] + f->info.skipped[d] + off;
}

/* Frames HMTP bytes of one direction and hands every packet to the sink. */
static void feed_hmtp(replay_flow *f, replay_dir d, const uint8_t *data, size_t len, uint64_t frame, double ts)
{
    if (f->broken[d] || len == 0)
        return;
    if (!hmtp_buf_append(&f->raw[d], data, len)) {
        mark_broken(f, d, REPLAY_END_FRAMING, frame, stream_off(f, d, f->raw_base[d]),
                    "out of memory holding a packet");
        return;
    }
    while (len > 0) {
        size_t used = 0;
        hmtp_frame out;
        hmtp_error err;
        hmtp_error_clear(&err);
        int r = hmtp_reader_push(f->reader[d], data, len, &used, &out, &err);
        data += used;
        len -= used;
        if (r < 0) {
            uint64_t off = stream_off(f, d, err.offset);
            mark_broken(f, d, REPLAY_END_FRAMING, frame, off, "HMTP framing error at stream offset %llu: %s",
                        (unsigned long long)off, err.msg);
            return;
        }
        if (r == 0)
            break;
        size_t at = (size_t)(out.wire_offset - f->raw_base[d]);
        replay_wire_packet p = {
            .dir = d,
            .frame = frame,
            .ts = ts,
            .stream_offset = stream_off(f, d, out.wire_offset),
            .index = f->count[d]++,
            .wire = f->raw[d].data + at,
            .wire_len = out.wire_len,
            .body = out.body,
            .body_len = out.body_len,
        };
        f->info.packets[d] = f->count[d];
        if (f->cfg.sink->packet)
            f->cfg.sink->packet(f->cfg.sink->ctx, &f->info, &p);
        uint64_t end = out.wire_offset + out.wire_len;
        hmtp_buf_consume(&f->raw[d], (size_t)(end - f->raw_base[d]));
        f->raw_base[d] = end;
    }
}

/* Candidates for the first boundary: it lies within one packet of where the
 * capture starts, and a packet's wire length is at most twice its body
 * plus one (a chunk holds a byte or more behind a length byte or more). */
static size_t resync_window(const replay_flow *f)
{
    return 2 * f->cfg.max_packet + 1;
}

static void resync_free(flow_resync *r)
{
    r->active = false;
    hmtp_buf_free(&r->bytes);
    free(r->pieces);
    r->pieces = NULL;
    r->npieces = r->cap = 0;
}

static bool resync_hold(flow_resync *r, const uint8_t *data, size_t len, uint64_t frame, double ts)
{
    if (r->npieces == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        flow_piece *p = realloc(r->pieces, cap * sizeof *p);
        if (!p)
            return false;
        r->pieces = p;
        r->cap = cap;
    }
    if (!hmtp_buf_append(&r->bytes, data, len))
        return false;
    r->pieces[r->npieces++] = (flow_piece){r->bytes.len, frame, ts};
    return true;
}

/* Drops the bytes before `at`, found to hold no boundary. */
static void resync_drop(flow_resync *r, size_t at)
{
    hmtp_buf_consume(&r->bytes, at);
    r->base += at;
    size_t keep = 0;
    for (size_t i = 0; i < r->npieces; i++) {
        if (r->pieces[i].end <= at)
            continue;
        r->pieces[keep] = r->pieces[i];
        r->pieces[keep++].end -= at;
    }
    r->npieces = keep;
}

/* Holds a direction's first bytes until its first packet boundary is
 * settled, then frames from there, each piece with its own frame. at_end:
 * the direction ends here. */
static void resync_push(replay_flow *f, replay_dir d, const uint8_t *data, size_t len, uint64_t frame, double ts,
                        bool at_end)
{
    flow_resync *r = &f->sync[d];
    if (len && !resync_hold(r, data, len, frame, ts)) {
        mark_broken(f, d, REPLAY_END_FRAMING, frame, stream_off(f, d, r->base), "out of memory holding bytes");
        resync_free(r);
        return;
    }
    if (!at_end && r->bytes.len < r->need)
        return;
    size_t window = resync_window(f);
    hmtp_resync_config cfg = {
        .max_body = f->cfg.max_packet,
        .window = r->base < window ? window - (size_t)r->base : 0,
        .at_end = at_end,
        .accept_at_edge = true, /* packets are handed on in the order they completed */
    };
    size_t at = 0, need = 0;
    hmtp_resync_status st = hmtp_resync_find(r->bytes.data, r->bytes.len, 0, &cfg, &at, &need);
    if (st == HMTP_RESYNC_NEED) {
        resync_drop(r, at);
        r->need = need - at;
        return;
    }
    if (st == HMTP_RESYNC_NONE) {
        f->info.skipped[d] = r->base + r->bytes.len;
        if (!at_end) {
            mark_broken(f, d, REPLAY_END_FRAMING, frame, stream_off(f, d, 0),
                        "no HMTP packet boundary in the first %zu bytes of the %s stream (a session found by --port "
                        "is looked for one from where the capture starts)",
                        window, replay_dir_name(d));
        }
        resync_free(r);
        return;
    }
    f->info.skipped[d] = r->base + at;
    flow_resync held = *r;
    *r = (flow_resync){0}; /* feed_hmtp below must not come back here */
    size_t start = 0;
    for (size_t i = 0; i < held.npieces; i++) {
        size_t from = start > at ? start : at;
        if (held.pieces[i].end > from)
            feed_hmtp(f, d, held.bytes.data + from, held.pieces[i].end - from, held.pieces[i].frame,
                      held.pieces[i].ts);
        start = held.pieces[i].end;
    }
    resync_free(&held);
}

/* HMTP bytes of a direction: to the framer, or first to the search for a
 * boundary. */
static void feed_dir(replay_flow *f, replay_dir d, const uint8_t *data, size_t len, uint64_t frame, double ts)
{
    if (f->broken[d] || len == 0)
        return;
    if (f->sync[d].active)
        resync_push(f, d, data, len, frame, ts, false);
    else
        feed_hmtp(f, d, data, len, frame, ts);
}

static void start_session(replay_flow *f, size_t skip_c2s, size_t skip_s2c, uint64_t frame, double ts)
{
    f->state = FLOW_HMTP;
    for (int d = 0; d < 2; d++) {
        f->reader[d] = hmtp_reader_new(f->cfg.max_packet);
        if (!f->reader[d]) {
            f->state = FLOW_IGNORED;
            return;
        }
    }
    char text[64];
    replay_endpoint_format(&f->addr[f->client], f->port[f->client], text, sizeof text);
    snprintf(f->info.client, sizeof f->info.client, "%s", text);
    replay_endpoint_format(&f->addr[1 - f->client], f->port[1 - f->client], text, sizeof text);
    snprintf(f->info.server, sizeof f->info.server, "%s", text);
    f->info.id = (*f->cfg.next_session_id)++;
    f->info.hmtp_start[REPLAY_C2S] = skip_c2s;
    f->info.hmtp_start[REPLAY_S2C] = skip_s2c;
    /* Without the upgrade, nothing says the capture started between two
       packets. */
    f->sync[REPLAY_C2S].active = f->sync[REPLAY_S2C].active = !f->info.upgrade_seen;
    if (f->cfg.sink->begin)
        f->cfg.sink->begin(f->cfg.sink->ctx, &f->info);
    hmtp_buf c = f->head[f->client], s = f->head[1 - f->client];
    /* The heads may already hold HMTP bytes that followed the HTTP exchange. */
    if (c.len > skip_c2s)
        feed_dir(f, REPLAY_C2S, c.data + skip_c2s, c.len - skip_c2s, frame, ts);
    if (s.len > skip_s2c)
        feed_dir(f, REPLAY_S2C, s.data + skip_s2c, s.len - skip_s2c, frame, ts);
    hmtp_buf_free(&f->head[0]);
    hmtp_buf_free(&f->head[1]);
}

static void ignore_flow(replay_flow *f)
{
    f->state = FLOW_IGNORED;
    hmtp_buf_free(&f->head[0]);
    hmtp_buf_free(&f->head[1]);
}

/* Decides, from the bytes each side sent first, whether this connection is
 * an HMTP session and where its HMTP bytes start. */
static void try_decide(replay_flow *f, uint64_t frame, double ts)
{
    uint16_t port = f->cfg.port;
    if (f->client < 0) {
        if (port && f->port[0] == port && f->port[1] != port)
            f->client = 1;
        else if (port && f->port[1] == port && f->port[0] != port)
            f->client = 0;
        for (int i = 0; i < 2 && f->client < 0; i++)
            if (f->head[i].len > 0 && hmtp_upgrade_may_be_request(f->head[i].data, f->head[i].len))
                f->client = i;
        if (f->client < 0) {
            if (f->head[0].len > 0 || f->head[1].len > 0)
                ignore_flow(f); /* data that is not an HTTP request, and no --port */
            return;
        }
    }
    int c = f->client, s = 1 - c;
    if (f->head[c].len == 0) {
        if (port && f->port[s] == port && f->head[s].len > 0 && !hmtp_upgrade_may_be_response(f->head[s].data, f->head[s].len))
            start_session(f, 0, 0, frame, ts); /* mid-connection capture: the server spoke first */
        return;
    }
    if (!hmtp_upgrade_may_be_request(f->head[c].data, f->head[c].len)) {
        if (port && f->port[s] == port)
            start_session(f, 0, 0, frame, ts);
        else
            ignore_flow(f);
        return;
    }
    hmtp_upgrade_head req, resp;
    int r = hmtp_upgrade_head_parse(f->head[c].data, f->head[c].len, &req, NULL);
    if (r < 0 || (r > 0 && !req.upgrade_hmtp)) {
        ignore_flow(f);
        return;
    }
    if (r == 0 || f->head[c].len < req.head_len + req.content_length)
        return;
    r = hmtp_upgrade_head_parse(f->head[s].data, f->head[s].len, &resp, NULL);
    if (r == 0)
        return;
    f->info.upgrade_seen = true;
    snprintf(f->info.path, sizeof f->info.path, "%s", req.path);
    snprintf(f->info.host, sizeof f->info.host, "%s", req.host);
    if (r < 0 || resp.kind != HMTP_UPGRADE_RESPONSE) {
        ignore_flow(f);
        return;
    }
    f->info.status = resp.status;
    snprintf(f->info.reason, sizeof f->info.reason, "%s", resp.reason);
    if (resp.status != 101) {
        char text[64];
        replay_endpoint_format(&f->addr[c], f->port[c], f->info.client, sizeof f->info.client);
        replay_endpoint_format(&f->addr[s], f->port[s], text, sizeof text);
        snprintf(f->info.server, sizeof f->info.server, "%s", text);
        if (f->cfg.sink->refused)
            f->cfg.sink->refused(f->cfg.sink->ctx, &f->info);
        ignore_flow(f);
        return;
    }
    start_session(f, req.head_len + req.content_length, resp.head_len, frame, ts);
}

static void on_bytes(void *ctx, const uint8_t *data, size_t len, uint64_t frame, double ts)
{
    flow_side *side = ctx;
    replay_flow *f = side->flow;
    int e = side->endpoint;
    if (f->state == FLOW_HMTP) {
        feed_dir(f, dir_of(f, e), data, len, frame, ts);
        return;
    }
    if (f->state == FLOW_IGNORED)
        return;
    if (f->head[e].len + len > 4 * HMTP_UPGRADE_HEAD_MAX || !hmtp_buf_append(&f->head[e], data, len)) {
        ignore_flow(f);
        return;
    }
    if (f->info.first_frame == 0)
        f->info.first_frame = frame;
    try_decide(f, frame, ts);
}

/* Turns a stream gap into the session's verdict. */
static void check_gap(replay_flow *f, int e)
{
    tcp_stream *st = &f->stream[e];
    if (!st->gap || f->state != FLOW_HMTP)
        return;
    replay_dir d = dir_of(f, e);
    if (f->broken[d])
        return;
    mark_broken(f, d, REPLAY_END_GAP, st->gap_frame, st->gap_off,
                "missing TCP segment in the %s stream at byte offset %llu (found at frame %llu)", replay_dir_name(d),
                (unsigned long long)st->gap_off, (unsigned long long)st->gap_frame);
}

void replay_flow_segment(replay_flow *f, const replay_segment *seg, uint64_t frame, double ts)
{
    int e = endpoint_of(f, seg);
    if (seg->flags & TCP_FLAG_SYN) {
        f->syn_seen[e] = true;
        if (f->client < 0)
            f->client = (seg->flags & TCP_FLAG_ACK) ? 1 - e : e;
    }
    if (seg->flags & TCP_FLAG_RST)
        f->reset = true;
    tcp_stream_segment(&f->stream[e], seg->seq, seg->flags, seg->payload, seg->len, seg->missing, frame, ts,
                       on_bytes, &f->side[e]);
    if (seg->flags & TCP_FLAG_ACK)
        tcp_stream_peer_ack(&f->stream[1 - e], seg->ack, frame);
    check_gap(f, e);
    check_gap(f, 1 - e);
}

bool replay_flow_done(const replay_flow *f)
{
    return f->reset || (tcp_stream_closed(&f->stream[0]) && tcp_stream_closed(&f->stream[1]));
}

bool replay_flow_is_new_connection(const replay_flow *f, const replay_segment *seg)
{
    if (!(seg->flags & TCP_FLAG_SYN) || (seg->flags & TCP_FLAG_ACK))
        return false;
    const tcp_stream *st = &f->stream[endpoint_of(f, seg)];
    return st->synced && st->isn != seg->seq + 1;
}

void replay_flow_finish(replay_flow *f, uint64_t frame)
{
    for (int e = 0; e < 2; e++) {
        tcp_stream_finish(&f->stream[e], frame);
        check_gap(f, e);
    }
    if (f->state == FLOW_HMTP) {
        for (int d = 0; d < 2; d++) {
            flow_resync *r = &f->sync[d];
            if (r->active && !f->broken[d])
                resync_push(f, (replay_dir)d, NULL, 0, frame, r->npieces ? r->pieces[r->npieces - 1].ts : 0, true);
            resync_free(r);
            if (!f->broken[d] && !hmtp_reader_at_boundary(f->reader[d])) {
                uint64_t off = stream_off(f, (replay_dir)d, hmtp_reader_offset(f->reader[d]));
                mark_broken(f, (replay_dir)d, REPLAY_END_FRAMING, frame, off,
                            "the %s stream ends inside an HMTP packet (stream offset %llu)",
                            replay_dir_name((replay_dir)d), (unsigned long long)off);
            }
        }
        if (!f->info.incomplete)
            f->info.end = f->reset ? REPLAY_END_RESET
                          : (tcp_stream_closed(&f->stream[0]) && tcp_stream_closed(&f->stream[1])) ? REPLAY_END_CLOSED
                                                                                               : REPLAY_END_CAPTURE;
        if (f->cfg.sink->end)
            f->cfg.sink->end(f->cfg.sink->ctx, &f->info);
    }
    for (int i = 0; i < 2; i++) {
        tcp_stream_free(&f->stream[i]);
        hmtp_buf_free(&f->head[i]);
        hmtp_buf_free(&f->raw[i]);
        if (f->reader[i])
            hmtp_reader_free(f->reader[i]);
    }
    free(f);
}
