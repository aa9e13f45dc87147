/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dump.h"

#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "buf.h"
#include "hmtp.h"
#include "json.h"

/* Class definitions live per direction of a connection, so each open session
 * keeps two decoder streams; they go when the session ends. */
typedef struct dump_session {
    hessian_stream stream[2];
} dump_session;

typedef struct dump_state {
    const replay_dump_options *opt;
    FILE *out, *diag;
    GHashTable *open; /* session id -> dump_session* */
    hmtp_buf line;
    /* One packet and one decoder for every packet in turn: a packet is
       written out before the next is read, so their memory is reused. */
    hmtp_packet packet;
    hessian_decoder decoder;
    unsigned problems;
} dump_state;

static void free_session(gpointer p)
{
    dump_session *s = p;
    hessian_stream_free(&s->stream[0]);
    hessian_stream_free(&s->stream[1]);
    g_free(s);
}

static void on_begin(void *ctx, const replay_session_info *s)
{
    dump_state *st = ctx;
    dump_session *ds = g_new0(dump_session, 1);
    hessian_stream_init(&ds->stream[0], NULL);
    hessian_stream_init(&ds->stream[1], NULL);
    g_hash_table_insert(st->open, GUINT_TO_POINTER(s->id), ds);
    if (!st->opt->json) {
        if (s->upgrade_seen)
            fprintf(st->out, "session %u: %s -> %s, upgrade %s (Host %s), frame %" PRIu64 "\n", s->id, s->client,
                    s->server, s->path, s->host[0] ? s->host : "-", s->first_frame);
        else
            fprintf(st->out, "session %u: %s -> %s, found by port (no upgrade in the capture), frame %" PRIu64 "\n",
                    s->id, s->client, s->server, s->first_frame);
    }
}

/* The first packet of a direction of a session found by --port comes after
 * the bytes skipped to its first packet boundary. */
static bool first_after_resync(const replay_session_info *s, const replay_wire_packet *w)
{
    return !s->upgrade_seen && w->index == 0;
}

static void text_packet(dump_state *st, const replay_session_info *s, const replay_wire_packet *w,
                        const hmtp_packet *p, hmtp_status rc, const hmtp_error *err)
{
    hmtp_buf *b = &st->line;
    if (first_after_resync(s, w))
        hmtp_buf_printf(b, "  #%u %s skipped %" PRIu64 " bytes to the first packet boundary\n", s->id,
                        w->dir == REPLAY_C2S ? "C>S" : "S>C", s->skipped[w->dir]);
    hmtp_buf_printf(b, "  #%u %s frame %" PRIu64 " ", s->id, w->dir == REPLAY_C2S ? "C>S" : "S>C", w->frame);
    if (rc != HMTP_OK) {
        hmtp_buf_printf(b, "undecodable packet (%zu body bytes): %s at body offset %zu", w->body_len, err->msg,
                        err->offset);
        return;
    }
    const char *name = hmtp_type_name(p->type);
    hmtp_buf_printf(b, "%s to=%s from=%s", name ? name : "?", p->to ? p->to : "null", p->from ? p->from : "null");
    if (p->has_id)
        hmtp_buf_printf(b, " id=%" PRId64, p->id);
    hmtp_buf_printf(b, " value=");
    hmtp_json_value(b, p->value);
    if (p->error_value) {
        hmtp_buf_printf(b, " error=");
        hmtp_json_value(b, p->error_value);
    }
}

static void put(hmtp_buf *b, const char *s)
{
    hmtp_buf_append(b, s, strlen(s));
}

/* A capture time as printf's "%.6f" writes it, without printf (whose
 * floating-point path was a quarter of dump --json's time): whole seconds
 * and the rounded microseconds. Only a fraction within a hair of a rounding
 * boundary, where the product below could round the other way, or a time
 * out of the ordinary range, goes to printf. */
static void put_time(hmtp_buf *b, double ts)
{
    if (!(ts >= 0 && ts < 9e15)) {
        hmtp_buf_printf(b, "%.6f", ts);
        return;
    }
    double whole = floor(ts);
    double us = (ts - whole) * 1e6; /* ts - whole is exact */
    double below = floor(us);
    if (fabs(us - below - 0.5) < 1e-6) {
        hmtp_buf_printf(b, "%.6f", ts);
        return;
    }
    uint64_t sec = (uint64_t)whole, frac = (uint64_t)below + (us - below > 0.5);
    if (frac == 1000000) {
        sec++;
        frac = 0;
    }
    hmtp_json_int(b, (int64_t)sec);
    char digits[7] = ".000000";
    for (int i = 6; i > 0; i--, frac /= 10)
        digits[i] = (char)('0' + frac % 10);
    hmtp_buf_append(b, digits, sizeof digits);
}

/* The fields before the packet's own, appended piece by piece rather than
 * through one printf: formatting them was half of dump --json's time. */
static void json_packet(dump_state *st, const replay_session_info *s, const replay_wire_packet *w,
                        const hmtp_packet *p, hmtp_status rc, const hmtp_error *err)
{
    hmtp_buf *b = &st->line;
    put(b, "{\"session\":");
    hmtp_json_int(b, s->id);
    put(b, ",\"direction\":\"");
    put(b, replay_dir_name(w->dir));
    put(b, "\",\"frame\":");
    hmtp_json_int(b, (int64_t)w->frame);
    put(b, ",\"time\":");
    put_time(b, w->ts);
    put(b, ",\"index\":");
    hmtp_json_int(b, (int64_t)w->index);
    put(b, ",\"offset\":");
    hmtp_json_int(b, (int64_t)w->stream_offset);
    put(b, ",\"length\":");
    hmtp_json_int(b, (int64_t)w->wire_len);
    hmtp_buf_append_byte(b, ',');
    if (first_after_resync(s, w))
        hmtp_buf_printf(b, "\"skipped\":%" PRIu64 ",", s->skipped[w->dir]);
    if (rc == HMTP_OK) {
        hmtp_json_packet_fields(b, p);
    } else {
        hmtp_buf_printf(b, "\"decode_error\":{\"code\":\"%s\",\"offset\":%zu,\"message\":", hmtp_status_name(rc),
                        err->offset);
        hmtp_json_string(b, err->msg, strlen(err->msg));
        hmtp_buf_printf(b, "}");
    }
    hmtp_buf_append_byte(b, '}');
}

static void on_packet(void *ctx, const replay_session_info *s, const replay_wire_packet *w)
{
    dump_state *st = ctx;
    dump_session *ds = g_hash_table_lookup(st->open, GUINT_TO_POINTER(s->id));
    if (!ds)
        return;
    hessian_stream *hs = &ds->stream[w->dir];
    hmtp_packet *p = &st->packet;
    hmtp_packet_reset(p);
    hmtp_error err;
    hmtp_error_clear(&err);
    hmtp_status rc =
        hmtp_packet_decode_with(p, &st->decoder, hs, hessian_stream_mark(hs), w->body, w->body_len, &err);
    if (rc != HMTP_OK) {
        st->problems++;
        fprintf(st->diag, "hmtp-replay: session %u %s frame %" PRIu64 ": cannot decode packet: %s (body offset %zu)\n",
                s->id, replay_dir_name(w->dir), w->frame, err.msg, err.offset);
    }
    hmtp_buf_reset(&st->line);
    if (st->opt->json)
        json_packet(st, s, w, p, rc, &err);
    else
        text_packet(st, s, w, p, rc, &err);
    hmtp_buf_append_byte(&st->line, '\n');
    fwrite(st->line.data, 1, st->line.len, st->out);
}

static void on_end(void *ctx, const replay_session_info *s)
{
    dump_state *st = ctx;
    g_hash_table_remove(st->open, GUINT_TO_POINTER(s->id));
    if (s->incomplete) {
        st->problems++;
        fprintf(st->diag, "hmtp-replay: session %u (%s -> %s) is incomplete at frame %" PRIu64 ": %s\n", s->id,
                s->client, s->server, s->broken_frame, s->broken_reason);
    }
    for (int d = 0; d < 2; d++)
        if (!s->upgrade_seen && s->packets[d] == 0 && s->skipped[d] > 0 && !(s->incomplete && (int)s->broken_dir == d))
            fprintf(st->diag,
                    "hmtp-replay: session %u (%s -> %s): the %s stream's %" PRIu64
                    " bytes hold no packet boundary (the capture starts inside its last packet)\n",
                    s->id, s->client, s->server, replay_dir_name((replay_dir)d), s->skipped[d]);
    if (!st->opt->json) {
        fprintf(st->out, "session %u ends: %s, %" PRIu64 " client and %" PRIu64 " server packets", s->id,
                s->incomplete ? s->broken_reason : replay_end_name(s->end), s->packets[REPLAY_C2S],
                s->packets[REPLAY_S2C]);
        if (!s->upgrade_seen)
            fprintf(st->out, ", %" PRIu64 " and %" PRIu64 " bytes skipped to the first packet boundary",
                    s->skipped[REPLAY_C2S], s->skipped[REPLAY_S2C]);
        fputc('\n', st->out);
    }
}

static void on_refused(void *ctx, const replay_session_info *s)
{
    dump_state *st = ctx;
    fprintf(st->diag, "hmtp-replay: %s -> %s: upgrade refused with HTTP %d %s (frame %" PRIu64 "), not a session\n",
            s->client, s->server, s->status, s->reason, s->first_frame);
}

int replay_dump(const char *path, const replay_dump_options *opt, FILE *out, FILE *diag)
{
    dump_state st = {.opt = opt, .out = out, .diag = diag};
    st.open = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, free_session);
    hmtp_buf_init(&st.line);
    hmtp_packet_init(&st.packet);
    memset(&st.decoder, 0, sizeof st.decoder);
    replay_sink sink = {&st, on_begin, on_packet, on_end, on_refused};
    replay_capture_stats stats;
    hmtp_tool_error err;
    int rc = replay_capture_read(path, &opt->capture, &sink, &stats, &err);
    g_hash_table_destroy(st.open);
    hmtp_buf_free(&st.line);
    hmtp_packet_free(&st.packet);
    hessian_decoder_free(&st.decoder);
    if (rc < 0) {
        fprintf(diag, "hmtp-replay: %s\n", err.msg);
        return 2;
    }
    if (stats.malformed_frames)
        fprintf(diag, "hmtp-replay: %" PRIu64 " frame(s) could not be parsed, first at frame %" PRIu64 ": %s\n",
                stats.malformed_frames, stats.first_malformed_frame, stats.first_malformed);
    if (stats.truncated && stats.sessions == 0) {
        /* nothing readable before the damage: an unreadable capture */
        fprintf(diag, "hmtp-replay: cannot read capture %s: %s\n", path, stats.truncated_msg);
        return 2;
    }
    if (stats.truncated) {
        fprintf(diag, "hmtp-replay: %s: %s\n", path, stats.truncated_msg);
        st.problems++;
    }
    if (stats.sessions == 0)
        fprintf(diag, "hmtp-replay: %s: no HMTP session found in %" PRIu64 " frames%s\n", path, stats.frames,
                opt->capture.port ? "" : " (a capture that starts after the upgrade needs --port)");
    return st.problems ? 1 : 0;
}
