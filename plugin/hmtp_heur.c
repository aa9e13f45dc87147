/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include <epan/packet.h>
#include <epan/conversation.h>

#include "framing.h"
#include "hmtp.h"
#include "jid.h"
#include "hmtp_conv.h"
#include "hmtp_heur.h"
#include "hmtp_plugin.h"
#include "hmtp_tcp.h"

/* Resynchronising looks this far into a segment for a packet start. */
#define RESYNC_WINDOW 65536u
#define MAX_JID 1023u

static bool jid_like(const char *s, size_t len)
{
    if (!s)
        return true; /* null is a legal JID value */
    if (len == 0 || len > MAX_JID)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return false;
    hmtp_jid jid;
    return hmtp_jid_parse(s, len, &jid);
}

/* Decodes a whole candidate packet with a throwaway stream: the full HMTP
 * grammar is the strictest test there is. */
static bool body_is_packet(const guint8 *body, size_t len)
{
    hessian_stream stream;
    hessian_stream_init(&stream, NULL);
    hmtp_packet p;
    hmtp_packet_init(&p);
    hmtp_error err;
    hmtp_status st = hmtp_packet_decode(&p, &stream, hessian_stream_mark(&stream), body, len, &err);
    bool ok = st == HMTP_OK && hmtp_type_valid(p.type) && jid_like(p.to, p.to ? strlen(p.to) : 0) &&
              jid_like(p.from, p.from ? strlen(p.from) : 0);
    hmtp_packet_free(&p);
    hessian_stream_free(&stream);
    return ok;
}

bool hmtp_complete_packet_at(tvbuff_t *tvb, guint32 offset, size_t max_body)
{
    guint32 len = tvb_captured_length(tvb);
    if (offset >= len)
        return false;
    const guint8 *p = tvb_get_ptr(tvb, (gint)offset, (gint)(len - offset));
    hmtp_frame_info info;
    hmtp_error err;
    if (hmtp_frame_scan(p, len - offset, max_body, &info, &err) != HMTP_FRAME_COMPLETE || info.chunks == 0 ||
        info.body_len < 3)
        return false;
    guint8 *body = malloc(info.body_len);
    if (!body)
        return false;
    hmtp_frame_copy_body(p, info.wire_len, body);
    bool ok = body_is_packet(body, info.body_len);
    free(body);
    return ok;
}

/* Checks the first values of a body prefix: type int 0..13, then JIDs. */
static bool prefix_is_packet(const guint8 *data, size_t len)
{
    hessian_stream stream;
    hessian_stream_init(&stream, NULL);
    hessian_decoder d;
    hessian_decoder_init(&d, &stream, hessian_stream_mark(&stream), data, len);
    hessian_event ev;
    int values = 0;
    bool ok = true;
    while (ok && values < 3) {
        int rc = hessian_next(&d, &ev);
        if (rc <= 0) {
            /* running out of bytes is fine once type and to were seen */
            ok = rc < 0 && hessian_decoder_error(&d)->code == HMTP_ERR_TRUNCATED && values >= 2;
            break;
        }
        if (values == 0)
            ok = ev.kind == HESSIAN_INT && hmtp_type_valid(ev.v.i) && ev.code >= 0x90 && ev.code <= 0x9d;
        else
            ok = ev.kind == HESSIAN_NULL || (ev.kind == HESSIAN_STRING && jid_like(ev.v.str.data, ev.v.str.len));
        values++;
    }
    hessian_decoder_free(&d);
    hessian_stream_free(&stream);
    return ok && values >= 2;
}

bool hmtp_packet_prefix_at(tvbuff_t *tvb, guint32 offset)
{
    guint32 len = tvb_captured_length(tvb);
    if (offset >= len)
        return false;
    const guint8 *p = tvb_get_ptr(tvb, (gint)offset, (gint)(len - offset));
    size_t avail = len - offset;
    /* the first chunk's length: big-endian base-128, top bit = more follows */
    size_t chunk = 0, i = 0;
    for (;; i++) {
        if (i >= avail || i >= HMTP_MAX_LENGTH_BYTES)
            return false;
        chunk = (chunk << 7) | (p[i] & 0x7f);
        if (!(p[i] & 0x80))
            break;
    }
    i++;
    if (chunk < 3 || i >= avail)
        return false;
    size_t data = avail - i < chunk ? avail - i : chunk;
    return prefix_is_packet(p + i, data);
}

guint32 hmtp_find_boundary(tvbuff_t *tvb, guint32 from, size_t max_body)
{
    guint32 len = tvb_captured_length(tvb);
    if (from < len && (hmtp_complete_packet_at(tvb, from, max_body) || hmtp_packet_prefix_at(tvb, from)))
        return from;
    guint32 end = len - from > RESYNC_WINDOW ? from + RESYNC_WINDOW : len;
    for (guint32 off = from + 1; off < end; off++)
        if (hmtp_complete_packet_at(tvb, off, max_body))
            return off;
    return len;
}

/* A TCP payload that starts with a complete, fully valid HMTP packet, and
 * whose remaining bytes (if any) start another one. */
static hmtp_ws_bool dissect_hmtp_heur(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    if (!hmtp_complete_packet_at(tvb, 0, hmtp_pref_max_packet))
        return false;
    const guint8 *p = tvb_get_ptr(tvb, 0, -1);
    hmtp_frame_info info;
    hmtp_error err;
    if (hmtp_frame_scan(p, tvb_captured_length(tvb), hmtp_pref_max_packet, &info, &err) != HMTP_FRAME_COMPLETE)
        return false;
    if (info.wire_len < tvb_captured_length(tvb) && !hmtp_packet_prefix_at(tvb, (guint32)info.wire_len) &&
        !hmtp_complete_packet_at(tvb, (guint32)info.wire_len, hmtp_pref_max_packet))
        return false;
    conversation_t *conv = find_or_create_conversation(pinfo);
    conversation_set_dissector_from_frame_number(conv, pinfo->num, hmtp_tcp_handle);
    hmtp_conv *c = hmtp_conv_get(pinfo);
    c->synced[hmtp_conv_direction(c, pinfo)] = true;
    call_dissector_with_data(hmtp_tcp_handle, tvb, pinfo, tree, data);
    return true;
}

/* HTTP owns its ports (8080...) and offers data that is not HTTP to its own
 * heuristic list: a capture that starts after the upgrade reaches us only
 * this way. Only where the connection's start was not captured: with the
 * SYN in the capture, the upgrade (or its refusal) was seen too. */
static hmtp_ws_bool dissect_hmtp_heur_http(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    if (pinfo->ptype != PT_TCP || hmtp_tcp_saw_syn(pinfo))
        return false;
    return dissect_hmtp_heur(tvb, pinfo, tree, NULL); /* HTTP's data is not TCP's */
}

void hmtp_heur_register(dissector_handle_t hmtp_handle _U_)
{
    heur_dissector_add("tcp", dissect_hmtp_heur, "HMTP over TCP", "hmtp_tcp", proto_hmtp, HEURISTIC_ENABLE);
    heur_dissector_add("http", dissect_hmtp_heur_http, "HMTP on an HTTP port, capture started after the upgrade",
                       "hmtp_http", proto_hmtp, HEURISTIC_ENABLE);
}
