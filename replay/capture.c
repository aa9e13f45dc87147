/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "capture.h"

#include <glib.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "flow.h"
#include "framing.h"
#include "net_parse.h"

/* Flows in a hash table by their address pair (either direction finds the
 * same flow) and in a list in creation order, so that sessions still open at
 * the end of the capture are reported in a stable order. */
typedef struct flow_key {
    replay_addr a, b;
    uint16_t pa, pb;
} flow_key;

typedef struct flow_entry {
    flow_key key;
    replay_flow *flow;
    GList *link; /* in the creation-order list */
} flow_entry;

static void make_key(const replay_segment *seg, flow_key *k)
{
    memset(k, 0, sizeof *k);
    int order = memcmp(&seg->src, &seg->dst, sizeof seg->src);
    if (order < 0 || (order == 0 && seg->sport <= seg->dport)) {
        k->a = seg->src, k->b = seg->dst, k->pa = seg->sport, k->pb = seg->dport;
    } else {
        k->a = seg->dst, k->b = seg->src, k->pa = seg->dport, k->pb = seg->sport;
    }
}

static guint key_hash(gconstpointer p)
{
    const uint8_t *bytes = p;
    guint h = 2166136261u;
    for (size_t i = 0; i < sizeof(flow_key); i++)
        h = (h ^ bytes[i]) * 16777619u;
    return h;
}

static gboolean key_equal(gconstpointer x, gconstpointer y) { return memcmp(x, y, sizeof(flow_key)) == 0; }

typedef struct capture_state {
    GHashTable *flows; /* flow_key* -> flow_entry* (key owned by the entry) */
    GQueue order;
    replay_flow_config cfg;
    replay_capture_stats *stats;
} capture_state;

static void end_flow(capture_state *st, flow_entry *e, uint64_t frame)
{
    g_queue_delete_link(&st->order, e->link);
    g_hash_table_remove(st->flows, &e->key);
    replay_flow_finish(e->flow, frame);
    g_free(e);
}

static void handle_segment(capture_state *st, const replay_segment *seg, uint64_t frame, double ts)
{
    flow_key key;
    make_key(seg, &key);
    flow_entry *e = g_hash_table_lookup(st->flows, &key);
    if (e && replay_flow_is_new_connection(e->flow, seg)) {
        end_flow(st, e, frame);
        e = NULL;
    }
    if (!e) {
        /* A stray ACK or RST of a connection we never saw opens nothing. */
        if (seg->len == 0 && !(seg->flags & TCP_FLAG_SYN))
            return;
        e = g_new0(flow_entry, 1);
        e->key = key;
        e->flow = replay_flow_new(&st->cfg, seg, frame);
        if (!e->flow) {
            g_free(e);
            return;
        }
        g_hash_table_insert(st->flows, &e->key, e);
        g_queue_push_tail(&st->order, e);
        e->link = st->order.tail;
        guint open = g_hash_table_size(st->flows);
        if (open > st->stats->peak_flows)
            st->stats->peak_flows = open;
    }
    replay_flow_segment(e->flow, seg, frame, ts);
    if (replay_flow_done(e->flow))
        end_flow(st, e, frame);
}

/* Counts refusals on the way to the caller's sink. */
typedef struct counting_sink {
    const replay_sink *inner;
    replay_capture_stats *stats;
} counting_sink;

static void count_begin(void *ctx, const replay_session_info *s)
{
    counting_sink *c = ctx;
    c->stats->sessions++;
    if (c->inner->begin)
        c->inner->begin(c->inner->ctx, s);
}
static void count_packet(void *ctx, const replay_session_info *s, const replay_wire_packet *p)
{
    counting_sink *c = ctx;
    if (c->inner->packet)
        c->inner->packet(c->inner->ctx, s, p);
}
static void count_end(void *ctx, const replay_session_info *s)
{
    counting_sink *c = ctx;
    if (c->inner->end)
        c->inner->end(c->inner->ctx, s);
}
static void count_refused(void *ctx, const replay_session_info *s)
{
    counting_sink *c = ctx;
    c->stats->refused++;
    if (c->inner->refused)
        c->inner->refused(c->inner->ctx, s);
}

int replay_capture_read(const char *path, const replay_capture_options *opt, const replay_sink *sink,
                        replay_capture_stats *stats, hmtp_tool_error *err)
{
    memset(stats, 0, sizeof *stats);
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pc = pcap_open_offline(path, pcap_err);
    if (!pc) {
        hmtp_tool_fail(err, "cannot read capture %s: %s", path, pcap_err);
        return -1;
    }
    int dlt = pcap_datalink(pc);
    if (!replay_dlt_supported(dlt)) {
        const char *name = pcap_datalink_val_to_name(dlt);
        hmtp_tool_fail(err, "capture %s: link type %d (%s) is not supported", path, dlt, name ? name : "unknown");
        pcap_close(pc);
        return -1;
    }
    stats->snaplen = pcap_snapshot(pc);
    counting_sink counter = {sink, stats};
    replay_sink wrapped = {&counter, count_begin, count_packet, count_end, count_refused};
    unsigned next_id = 0;
    capture_state st = {
        .flows = g_hash_table_new(key_hash, key_equal),
        .cfg = {.port = opt->port,
                .max_packet = opt->max_packet ? opt->max_packet : HMTP_DEFAULT_MAX_PACKET,
                .pending_cap = opt->pending_cap ? opt->pending_cap : ((size_t)4 << 20),
                .sink = &wrapped,
                .next_session_id = &next_id},
        .stats = stats,
    };
    g_queue_init(&st.order);

    struct pcap_pkthdr *hdr;
    const u_char *data;
    int r;
    while ((r = pcap_next_ex(pc, &hdr, &data)) == 1) {
        uint64_t frame = ++stats->frames;
        double ts = (double)hdr->ts.tv_sec + (double)hdr->ts.tv_usec / 1e6;
        replay_segment seg;
        hmtp_tool_error why;
        replay_parse_result pr = replay_parse_frame(dlt, data, hdr->caplen, &seg, &why);
        if (pr == REPLAY_PARSE_OTHER) {
            stats->other_frames++;
        } else if (pr == REPLAY_PARSE_MALFORMED) {
            if (stats->malformed_frames++ == 0) {
                stats->first_malformed_frame = frame;
                g_strlcpy(stats->first_malformed, why.msg, sizeof stats->first_malformed); /* net_parse's reasons are short literals */
            }
        } else {
            stats->tcp_segments++;
            if (seg.missing && stats->snaplen_cut_frames++ == 0)
                stats->first_snaplen_cut_frame = frame;
            handle_segment(&st, &seg, frame, ts);
        }
    }
    if (r == PCAP_ERROR) {
        stats->truncated = true;
        snprintf(stats->truncated_msg, sizeof stats->truncated_msg, "the capture breaks after frame %llu: %s",
                 (unsigned long long)stats->frames, pcap_geterr(pc));
    }
    /* Connections still open when the capture ends: report them in the
       order they started. */
    while (!g_queue_is_empty(&st.order))
        end_flow(&st, g_queue_peek_head(&st.order), stats->frames);
    g_hash_table_destroy(st.flows);
    pcap_close(pc);
    return 0;
}
