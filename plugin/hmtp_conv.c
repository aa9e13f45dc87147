/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <epan/packet.h>
#include <epan/conversation.h>
#include <epan/proto_data.h>

#include "hmtp_conv.h"
#include "hmtp_plugin.h"
#include "hmtp_tcp.h"

/* proto_data keys: per-frame packet records use 1..n; these sit above. */
#define KEY_PDU_COUNTER 0x7fff0001u
#define KEY_FRAME_SKIP 0x7fff0002u

static hmtp_ws_bool free_streams(wmem_allocator_t *allocator _U_, wmem_cb_event_t event _U_, void *data)
{
    hmtp_conv *c = data;
    hessian_stream_free(&c->stream[0]);
    hessian_stream_free(&c->stream[1]);
    return false; /* one-shot: the scope is going away */
}

static hmtp_conv *conv_new(void)
{
    hmtp_conv *c = wmem_new0(wmem_file_scope(), hmtp_conv);
    hessian_stream_init(&c->stream[0], NULL);
    hessian_stream_init(&c->stream[1], NULL);
    c->pending_queries = wmem_map_new(wmem_file_scope(), g_str_hash, g_str_equal);
    c->pending_presence = wmem_map_new(wmem_file_scope(), g_str_hash, g_str_equal);
    wmem_register_callback(wmem_file_scope(), free_streams, c);
    return c;
}

static hmtp_conv *conv_of(conversation_t *conv)
{
    hmtp_conv *c = conversation_get_proto_data(conv, proto_hmtp);
    if (!c) {
        c = conv_new();
        conversation_add_proto_data(conv, proto_hmtp, c);
    }
    return c;
}

hmtp_conv *hmtp_conv_get(packet_info *pinfo)
{
    hmtp_conv *c = conv_of(find_or_create_conversation(pinfo));
    if (!c->server_known) {
        /* Without an upgrade to tell, the side that speaks first is taken as
         * the client: HMTP clients open with their login query. */
        c->server_known = true;
        copy_address_wmem(wmem_file_scope(), &c->server_addr, &pinfo->dst);
        c->server_port = pinfo->destport;
    }
    if (!c->tcp_stream_known)
        c->tcp_stream_known = hmtp_tcp_stream(pinfo, &c->tcp_stream);
    return c;
}

hmtp_conv *hmtp_conv_find(packet_info *pinfo)
{
    conversation_t *conv = find_conversation_pinfo(pinfo, 0);
    return conv ? conversation_get_proto_data(conv, proto_hmtp) : NULL;
}

void hmtp_conv_tcp_hint(packet_info *pinfo, proto_item *pi, guint32 upto, const char *what)
{
    hmtp_conv *c = hmtp_conv_find(pinfo);
    if (c)
        hmtp_tcp_hint(pinfo, &c->tcp_trouble, pi, upto, what);
}

guint8 hmtp_conv_direction(const hmtp_conv *c, const packet_info *pinfo)
{
    if (c->server_known && pinfo->srcport == c->server_port && addresses_equal(&pinfo->src, &c->server_addr))
        return HMTP_TO_CLIENT;
    return HMTP_TO_SERVER;
}

void hmtp_conv_mark_upgrade(packet_info *pinfo, conversation_t *conv, guint32 next_frame)
{
    hmtp_conv *c = conv_of(conv);
    if (c->hmtp_start_frame)
        return;
    /* Called on the 101 response: its sender is the server. */
    c->server_known = true;
    copy_address_wmem(wmem_file_scope(), &c->server_addr, &pinfo->src);
    c->server_port = pinfo->srcport;
    c->hmtp_start_frame = next_frame;
    c->synced[0] = c->synced[1] = true;
}

hmtp_pdu *hmtp_pdu_get(packet_info *pinfo, guint32 n)
{
    return p_get_proto_data(wmem_file_scope(), pinfo, proto_hmtp, n + 1);
}

hmtp_pdu *hmtp_pdu_add(packet_info *pinfo, guint32 n)
{
    hmtp_pdu *p = wmem_new0(wmem_file_scope(), hmtp_pdu);
    p->frame = pinfo->num;
    p->time = pinfo->abs_ts;
    p_add_proto_data(wmem_file_scope(), pinfo, proto_hmtp, n + 1, p);
    return p;
}

guint32 hmtp_pdu_next_index(packet_info *pinfo)
{
    /* Counted in packet scope so that every pass over a frame numbers its
     * packets the same way, whatever order frames are visited in. */
    guint32 *count = p_get_proto_data(pinfo->pool, pinfo, proto_hmtp, KEY_PDU_COUNTER);
    if (!count) {
        count = wmem_new0(pinfo->pool, guint32);
        p_add_proto_data(pinfo->pool, pinfo, proto_hmtp, KEY_PDU_COUNTER, count);
    }
    return (*count)++;
}

guint32 hmtp_frame_skip_get(packet_info *pinfo)
{
    guint32 *skip = p_get_proto_data(wmem_file_scope(), pinfo, proto_hmtp, KEY_FRAME_SKIP);
    return skip ? *skip : G_MAXUINT32;
}

void hmtp_frame_skip_set(packet_info *pinfo, guint32 skip)
{
    guint32 *p = wmem_new(wmem_file_scope(), guint32);
    *p = skip;
    p_add_proto_data(wmem_file_scope(), pinfo, proto_hmtp, KEY_FRAME_SKIP, p);
}
