/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The HMTP dissector: finds packet boundaries in the TCP stream, shows each
 * packet's chunks and de-chunked body, decodes the body with the core and
 * hands the result to the tree builder, the request tracker and the tap. */
#include <inttypes.h>
#include <string.h>

#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/expert.h>
#include <epan/conversation.h>

#include "framing.h"
#include "hmtp.h"
#include "json.h"
#include "hmtp_auth.h"
#include "hmtp_conv.h"
#include "hmtp_events.h"
#include "hmtp_follow.h"
#include "hmtp_heur.h"
#include "hmtp_keys.h"
#include "hmtp_plugin.h"
#include "hmtp_replay_report.h"
#include "hmtp_stats.h"
#include "hmtp_tcp.h"
#include "hmtp_track.h"
#include "hmtp_tree.h"
#include "hmtp_upgrade.h"

void proto_register_hmtp(void);
void proto_reg_handoff_hmtp(void);

guint hmtp_pref_max_packet = (guint)HMTP_DEFAULT_MAX_PACKET;
hmtp_ws_bool hmtp_pref_desegment = true;
dissector_handle_t hmtp_tcp_handle;

/* ---- one HMTP packet ---- */

/* The chunk headers and the end marker, in a collapsed subtree. */
static void add_chunks(tvbuff_t *tvb, proto_tree *tree, const guint8 *wire, size_t wire_len, size_t nchunks)
{
    proto_item *ti;
    proto_tree *chunks = proto_tree_add_subtree_format(tree, tvb, 0, (int)wire_len, ett_hmtp_chunks, &ti,
                                                       "Framing: %zu chunk%s", nchunks, nchunks == 1 ? "" : "s");
    size_t pos = 0;
    hmtp_chunk ch;
    unsigned n = 0;
    while (hmtp_frame_next_chunk(wire, wire_len, &pos, &ch)) {
        if (ch.data_len == 0) {
            proto_tree_add_item(chunks, hf_hmtp_end, tvb, (int)ch.header_offset, (int)ch.header_len, ENC_NA);
            continue;
        }
        proto_tree *sub = proto_tree_add_subtree_format(chunks, tvb, (int)ch.header_offset,
                                                        (int)(ch.header_len + ch.data_len), ett_hmtp_chunk, NULL,
                                                        "Chunk %u: %zu bytes", ++n, ch.data_len);
        proto_tree_add_uint(sub, hf_hmtp_chunk_length, tvb, (int)ch.header_offset, (int)ch.header_len,
                            (guint32)ch.data_len);
        proto_tree_add_item(sub, hf_hmtp_chunk_data, tvb, (int)ch.data_offset, (int)ch.data_len, ENC_NA);
    }
}

/* The body as its own tvb: a subset of the packet when it is one chunk (so
 * clicks highlight the frame bytes), else a new data source ("De-chunked"). */
static tvbuff_t *body_tvb_of(tvbuff_t *tvb, packet_info *pinfo, const guint8 *wire, const hmtp_frame_info *info)
{
    if (info->chunks <= 1) {
        size_t pos = 0;
        hmtp_chunk ch;
        if (info->chunks == 1 && hmtp_frame_next_chunk(wire, info->wire_len, &pos, &ch))
            return tvb_new_subset_length(tvb, (int)ch.data_offset, (int)ch.data_len);
        return tvb_new_subset_length(tvb, 0, 0);
    }
    guint8 *body = wmem_alloc(pinfo->pool, info->body_len);
    hmtp_frame_copy_body(wire, info->wire_len, body);
    tvbuff_t *body_tvb = tvb_new_child_real_data(tvb, body, (guint)info->body_len, (gint)info->body_len);
    add_new_data_source(pinfo, body_tvb, "De-chunked HMTP body");
    return body_tvb;
}

static size_t required_values(int32_t type)
{
    return 4 + (hmtp_type_has_id(type) ? 1 : 0) + (hmtp_type_has_error(type) ? 1 : 0);
}

static void add_packet_experts(packet_info *pinfo, proto_item *pi, const hmtp_decoded *dec)
{
    if (dec->failed)
        expert_add_info_format(pinfo, pi, &ei_hmtp_malformed, "Malformed HMTP packet: %s at body offset %zu: %s",
                               hmtp_status_name(dec->err_code), dec->err_offset, dec->err_msg);
    if (!dec->has_type && dec->nitems > 0)
        expert_add_info_format(pinfo, pi, &ei_hmtp_malformed, "Malformed HMTP packet: the type is not an int");
    else if (dec->has_type && !hmtp_type_valid(dec->type))
        expert_add_info_format(pinfo, pi, &ei_hmtp_unknown_type, "Unknown HMTP packet type %" PRId32, dec->type);
    else if (dec->has_type && !dec->failed && dec->ntop < required_values(dec->type))
        expert_add_info_format(pinfo, pi, &ei_hmtp_malformed,
                               "Malformed HMTP packet: a %s needs %zu values, the body holds %u",
                               hmtp_type_name(dec->type), required_values(dec->type), dec->ntop);
    if (dec->bad_jid)
        expert_add_info_format(pinfo, pi, &ei_hmtp_malformed, "Malformed HMTP packet: %s", dec->bad_jid);
    if (dec->missing_classes)
        expert_add_info_format(pinfo, pi, &ei_hmtp_class_not_seen,
                               "%u object%s of class #%" PRId32 "%s whose definition was not captured",
                               dec->missing_classes, dec->missing_classes == 1 ? "" : "s",
                               dec->first_missing_class, dec->missing_classes > 1 ? " and others" : "");
    if (dec->has_type && hmtp_type_has_error(dec->type))
        expert_add_info_format(pinfo, pi, &ei_hmtp_error_packet, "%s: %s/%s%s%s", hmtp_type_name(dec->type),
                               dec->error_type ? dec->error_type : "?", dec->error_group ? dec->error_group : "?",
                               dec->error_text ? ": " : "", dec->error_text ? dec->error_text : "");
}

/* The class of a query's payload object, without its package
 * ("GetPublicKeyQuery"); NULL for other packets and payloads. */
static const char *payload_class(wmem_allocator_t *pool, const hmtp_decoded *dec)
{
    if (!dec->has_type || !hmtp_type_has_id(dec->type))
        return NULL;
    for (unsigned i = 0; i < dec->nitems; i++) {
        const hmtp_item *it = &dec->items[i];
        if (it->depth != 0 || it->kind == HESSIAN_CLASS_DEF ||
            hmtp_field_at(dec->type, it->top_index) != HMTP_FIELD_VALUE)
            continue;
        if (it->kind != HESSIAN_OBJECT)
            return NULL;
        if (!it->v.object.cls)
            return wmem_strdup_printf(pool, "class #%" PRId32, it->v.object.class_index);
        const char *dot = strrchr(it->v.object.cls, '.');
        return dot && dot[1] ? dot + 1 : it->v.object.cls;
    }
    return NULL;
}

/* Pieces appended as they are: the printf variants format every piece
 * twice (size, then text) and this runs for every packet. */
static const char *packet_summary(packet_info *pinfo, const hmtp_decoded *dec)
{
    wmem_allocator_t *pool = pinfo->pool;
    const char *name = !dec->has_type ? "malformed"
                       : hmtp_type_name(dec->type)
                           ? hmtp_type_name(dec->type)
                           : wmem_strdup_printf(pool, "type %" PRId32, dec->type);
    wmem_strbuf_t *s = wmem_strbuf_new(pool, name);
    if (dec->has_id) {
        char id[HMTP_INT_TEXT_SIZE];
        hmtp_int_text(id, dec->id);
        wmem_strbuf_append(s, " id=");
        wmem_strbuf_append(s, id);
    }
    const char *cls = payload_class(pool, dec);
    if (cls) {
        wmem_strbuf_append_c(s, ' ');
        wmem_strbuf_append(s, cls);
    }
    /* A null JID is no address: "→ null" would read like one. */
    if (dec->from && dec->to) {
        wmem_strbuf_append_c(s, ' ');
        wmem_strbuf_append(s, hmtp_jid_display(pool, dec->from));
        wmem_strbuf_append(s, " → ");
        wmem_strbuf_append(s, hmtp_jid_display(pool, dec->to));
    } else if (dec->to) {
        wmem_strbuf_append(s, " → ");
        wmem_strbuf_append(s, hmtp_jid_display(pool, dec->to));
    } else if (dec->from) {
        wmem_strbuf_append(s, " from ");
        wmem_strbuf_append(s, hmtp_jid_display(pool, dec->from));
    }
    return wmem_strbuf_get_str(s);
}

static void queue_tap(packet_info *pinfo, const hmtp_decoded *dec)
{
    hmtp_tap_info *info = wmem_new0(pinfo->pool, hmtp_tap_info);
    info->has_type = dec->has_type;
    info->type = dec->type;
    info->to = dec->to;
    info->from = dec->from;
    info->error_group = dec->error_group;
    info->malformed = dec->failed;
    hmtp_stats_queue(pinfo, info);
}

/* One whole packet: tvb holds exactly its wire bytes. */
static void dissect_packet(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, hmtp_conv *conv, guint8 dir,
                           const hmtp_frame_info *info)
{
    const guint8 *wire = tvb_get_ptr(tvb, 0, (gint)info->wire_len);
    guint32 index = hmtp_pdu_next_index(pinfo);
    hmtp_pdu *pdu = hmtp_pdu_get(pinfo, index);
    bool first_visit = pdu == NULL;
    if (first_visit) {
        pdu = hmtp_pdu_add(pinfo, index);
        pdu->dir = dir;
        pdu->mark = hessian_stream_mark(&conv->stream[dir]);
    }

    tvbuff_t *body_tvb = body_tvb_of(tvb, pinfo, wire, info);
    hmtp_decoded dec;
    const guint8 *body = tvb_get_ptr(body_tvb, 0, (gint)info->body_len);
    hmtp_decode_body(pinfo->pool, &conv->stream[pdu->dir], pdu->mark, body, info->body_len, &dec);
    if (first_visit)
        hmtp_track_first_pass(conv, pdu, &dec);
    hmtp_follow_queue(tvb, pinfo, &conv->stream[pdu->dir], pdu->mark, body, info->body_len);

    const char *summary = packet_summary(pinfo, &dec);
    col_append_sep_str(pinfo->cinfo, COL_INFO, ", ", summary);

    proto_item *pi = proto_tree_add_item(tree, hf_hmtp_packet, tvb, 0, (int)info->wire_len, ENC_NA);
    proto_item_set_text(pi, "HMTP %s (%zu bytes)", summary, info->wire_len);
    proto_tree *pt = proto_item_add_subtree(pi, ett_hmtp_packet);
    if (pt) {
        proto_item_set_generated(proto_tree_add_uint(pt, hf_hmtp_direction, tvb, 0, 0, pdu->dir));
        proto_item_set_generated(proto_tree_add_uint(pt, hf_hmtp_wire_length, tvb, 0, (int)info->wire_len,
                                                     (guint32)info->wire_len));
        proto_item_set_generated(proto_tree_add_uint(pt, hf_hmtp_body_length, tvb, 0, (int)info->wire_len,
                                                     (guint32)info->body_len));
        proto_item_set_generated(proto_tree_add_uint(pt, hf_hmtp_chunks, tvb, 0, (int)info->wire_len,
                                                     (guint32)info->chunks));
        add_chunks(tvb, pt, wire, info->wire_len, info->chunks);
    }
    hmtp_track_show(tvb, pinfo, pt, pi, pdu);
    add_packet_experts(pinfo, pi, &dec);
    if (dec.failed)
        hmtp_conv_tcp_hint(pinfo, pi, pinfo->num, "Malformed HMTP packet");
    queue_tap(pinfo, &dec);
    hmtp_tree_add_body(body_tvb, pinfo, pt, &dec);
    hmtp_auth_add(body_tvb, pinfo, pt, &dec);
}

/* ---- the stream ---- */


/* First pass: where this frame's data reaches a packet boundary when the
 * direction is not known to be on one (capture started mid-packet). */
static guint32 find_skip(tvbuff_t *tvb, packet_info *pinfo, hmtp_conv *conv, guint8 dir)
{
    guint32 skip = hmtp_frame_skip_get(pinfo);
    if (skip != G_MAXUINT32)
        return skip;
    if (PINFO_FD_VISITED(pinfo))
        return 0;
    /* Bytes TCP hands over after a hole or out of order need not continue
     * the stream: check for a packet boundary as after a capture start. */
    if (hmtp_tcp_frame_suspect(pinfo))
        conv->synced[dir] = false;
    if (conv->synced[dir])
        return 0;
    guint32 len = tvb_captured_length(tvb);
    skip = hmtp_find_boundary(tvb, 0, hmtp_pref_max_packet);
    if (skip < len)
        conv->synced[dir] = true;
    else
        skip = len;
    hmtp_frame_skip_set(pinfo, skip);
    return skip;
}

static void add_skipped(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, guint32 skip)
{
    proto_item *pi = proto_tree_add_item(tree, hf_hmtp_skipped, tvb, 0, (int)skip, ENC_NA);
    expert_add_info_format(pinfo, pi, &ei_hmtp_resync,
                           "Not at a packet boundary: skipped %u bytes to the next recognisable HMTP packet%s",
                           skip, skip == tvb_captured_length(tvb) ? " (none in this segment)" : "");
    col_append_sep_fstr(pinfo->cinfo, COL_INFO, ", ", "[%u bytes skipped to a packet boundary]", skip);
    hmtp_conv_tcp_hint(pinfo, pi, pinfo->num, "Resynchronised");
}

static int dissect_hmtp_stream(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    col_set_str(pinfo->cinfo, COL_PROTOCOL, "HMTP");
    col_clear(pinfo->cinfo, COL_INFO);
    hmtp_conv *conv = hmtp_conv_get(pinfo);
    guint8 dir = hmtp_conv_direction(conv, pinfo);
    /* The protocol item is added only once there is something to show, so a
     * segment that merely waits for reassembly looks the same on every pass. */
    proto_tree *ht = NULL;
#define HMTP_TREE() (ht ? ht : (ht = proto_item_add_subtree(proto_tree_add_item(tree, proto_hmtp, tvb, 0, -1, ENC_NA), ett_hmtp)))

    guint32 len = tvb_captured_length(tvb);
    guint32 offset = find_skip(tvb, pinfo, conv, dir);
    if (offset)
        add_skipped(tvb, pinfo, HMTP_TREE(), offset);
    while (offset < len) {
        const guint8 *p = tvb_get_ptr(tvb, (gint)offset, (gint)(len - offset));
        hmtp_frame_info info;
        hmtp_error err;
        hmtp_frame_status st = hmtp_frame_scan(p, len - offset, hmtp_pref_max_packet, &info, &err);
        if (st == HMTP_FRAME_INCOMPLETE) {
            if (pinfo->can_desegment && hmtp_pref_desegment && len == tvb_reported_length(tvb)) {
                pinfo->desegment_offset = (int)offset;
                pinfo->desegment_len = (guint32)info.need;
                return (int)len;
            }
            proto_item *pi = proto_tree_add_item(HMTP_TREE(), hf_hmtp_chunk_data, tvb, (int)offset, -1, ENC_NA);
            expert_add_info_format(pinfo, pi, &ei_hmtp_malformed,
                                   "Truncated HMTP packet: at least %zu more bytes needed", info.need);
            col_append_sep_str(pinfo->cinfo, COL_INFO, ", ", "[truncated packet]");
            hmtp_conv_tcp_hint(pinfo, pi, pinfo->num, "Truncated HMTP packet");
            break;
        }
        if (st == HMTP_FRAME_INVALID) {
            bool oversized = err.code == HMTP_ERR_TOO_LARGE;
            proto_item *pi = proto_tree_add_item(HMTP_TREE(), hf_hmtp_chunk_data, tvb, (int)offset, -1, ENC_NA);
            if (oversized)
                expert_add_info_format(pinfo, pi, &ei_hmtp_oversized,
                                       "%s (limit %u bytes, preference hmtp.max_packet): the rest of this "
                                       "direction is resynchronised at the next recognisable packet",
                                       err.msg, hmtp_pref_max_packet);
            else
                expert_add_info_format(pinfo, pi, &ei_hmtp_malformed,
                                       "Bad HMTP framing: %s: the rest of this direction is resynchronised at "
                                       "the next recognisable packet",
                                       err.msg);
            col_append_sep_str(pinfo->cinfo, COL_INFO, ", ", oversized ? "[oversized packet]" : "[bad framing]");
            hmtp_conv_tcp_hint(pinfo, pi, pinfo->num, oversized ? "Oversized HMTP packet" : "Bad HMTP framing");
            if (!PINFO_FD_VISITED(pinfo))
                conv->synced[dir] = false;
            break;
        }
        tvbuff_t *pdu_tvb = tvb_new_subset_length(tvb, (gint)offset, (gint)info.wire_len);
        if (info.chunks == 0) {
            /* a lone 0x00 between packets: legal, nothing to show but its byte */
            proto_tree_add_item(HMTP_TREE(), hf_hmtp_end, pdu_tvb, 0, 1, ENC_NA);
        } else {
            dissect_packet(pdu_tvb, pinfo, HMTP_TREE(), conv, dir, &info);
        }
        offset += (guint32)info.wire_len;
    }
    if (ht)
        hmtp_replay_report_mark(tvb, pinfo, ht);
    return (int)len;
#undef HMTP_TREE
}

/* ---- registration ---- */

void proto_register_hmtp(void)
{
    hmtp_register_fields();
    module_t *module = prefs_register_protocol(proto_hmtp, NULL);
    prefs_register_uint_preference(module, "max_packet", "Largest packet body (bytes)",
                                   "HMTP packets whose de-chunked body is larger are flagged as oversized and "
                                   "not reassembled or decoded",
                                   10, &hmtp_pref_max_packet);
    prefs_register_bool_preference(module, "desegment", "Reassemble HMTP packets spanning TCP segments",
                                   "Whether the HMTP dissector should reassemble packets spanning several TCP "
                                   "segments (needs TCP's \"Allow subdissectors to reassemble TCP streams\")",
                                   &hmtp_pref_desegment);
    hmtp_keys_register(module);
    hmtp_replay_report_register(module);
    hmtp_events_register();
    hmtp_tcp_handle = register_dissector("hmtp", dissect_hmtp_stream, proto_hmtp);
    hmtp_follow_register();
    hmtp_stats_register();
}

void proto_reg_handoff_hmtp(void)
{
    /* Port range preference (empty by default) and "Decode As" on TCP. */
    dissector_add_uint_range_with_preference("tcp.port", "", hmtp_tcp_handle);
    hmtp_upgrade_register(hmtp_tcp_handle);
    hmtp_heur_register(hmtp_tcp_handle);
}
