/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include <epan/packet.h>
#include <epan/addr_resolv.h>
#include <epan/tap.h>

#include "buf.h"
#include "hmtp.h"
#include "json.h"
#include "hmtp_conv.h"
#include "hmtp_follow.h"
#include "hmtp_plugin.h"
#include "hmtp_ws_compat.h"

static int hmtp_follow_tap = -1;

char *hmtp_connection_filter(guint32 tcp_stream)
{
    return g_strdup_printf("tcp.stream eq %u", tcp_stream);
}

/* One packet as text: a header line, then its payload (and error) as JSON. */
static void render(hmtp_buf *out, const hmtp_packet *p)
{
    const char *name = hmtp_type_name(p->type);
    if (name)
        hmtp_buf_printf(out, "%s", name);
    else
        hmtp_buf_printf(out, "type %d", (int)p->type);
    if (p->has_id)
        hmtp_buf_printf(out, " id=%lld", (long long)p->id);
    hmtp_buf_printf(out, " from=%s to=%s\n  value: ", p->from ? p->from : "null", p->to ? p->to : "null");
    hmtp_json_value(out, p->value);
    if (hmtp_type_has_error(p->type) && p->error_value) {
        hmtp_buf_printf(out, "\n  error: %s/%s%s%s", p->error.type ? p->error.type : "?",
                        p->error.group ? p->error.group : "?", p->error.text ? ": " : "",
                        p->error.text ? p->error.text : "");
    }
    hmtp_buf_append_byte(out, '\n');
}

void hmtp_follow_queue(tvbuff_t *tvb, packet_info *pinfo, hessian_stream *stream, hessian_mark mark,
                       const guint8 *body, size_t body_len)
{
    if (!have_tap_listener(hmtp_follow_tap))
        return;
    hmtp_packet p;
    hmtp_packet_init(&p);
    hmtp_error err;
    hmtp_buf text;
    hmtp_buf_init(&text);
    if (hmtp_packet_decode(&p, stream, mark, body, body_len, &err) == HMTP_OK)
        render(&text, &p);
    else
        hmtp_buf_printf(&text, "malformed HMTP packet: %s at body offset %zu\n", err.msg[0] ? err.msg : "?",
                        err.offset);
    hmtp_packet_free(&p);
    /* Copied to packet scope before anything that could throw. */
    guint len = text.failed ? 0 : (guint)text.len;
    guint8 *data = len ? wmem_memdup(pinfo->pool, text.data, len) : NULL;
    hmtp_buf_free(&text);
    if (!len)
        return;
    tvbuff_t *text_tvb = tvb_new_child_real_data(tvb, data, len, (gint)len);
    tap_queue_packet(hmtp_follow_tap, pinfo, text_tvb);
}

/* ---- the follower's callbacks ---- */

static guint32 connection_of(packet_info *pinfo, bool *ok)
{
    hmtp_conv *c = proto_is_frame_protocol(pinfo->layers, "hmtp") ? hmtp_conv_find(pinfo) : NULL;
    *ok = c && c->tcp_stream_known;
    return *ok ? c->tcp_stream : 0;
}

static gchar *follow_conv_filter(epan_dissect_t *edt _U_, packet_info *pinfo, guint *stream, guint *sub_stream _U_)
{
    bool ok;
    guint32 s = connection_of(pinfo, &ok);
    if (!ok)
        return NULL;
    *stream = s;
    return hmtp_connection_filter(s);
}

static gchar *follow_index_filter(guint stream, guint sub_stream _U_)
{
    return hmtp_connection_filter(stream);
}

static gchar *follow_address_filter(address *src, address *dst, int src_port, int dst_port)
{
    const char *ip = src->type == AT_IPv6 ? "ipv6" : "ip";
    char *a = address_to_str(NULL, src), *b = address_to_str(NULL, dst);
    gchar *f = g_strdup_printf("((%s.src eq %s and tcp.srcport eq %d) and (%s.dst eq %s and tcp.dstport eq %d)) or "
                               "((%s.src eq %s and tcp.srcport eq %d) and (%s.dst eq %s and tcp.dstport eq %d))",
                               ip, a, src_port, ip, b, dst_port, ip, b, dst_port, ip, a, src_port);
    wmem_free(NULL, a);
    wmem_free(NULL, b);
    return f;
}

/* ---- the conversation filter ---- */

static hmtp_ws_bool conv_filter_valid(HMTP_CONV_FILTER_ARGS)
{
    bool ok;
    connection_of(pinfo, &ok);
    return ok;
}

static gchar *conv_filter_build(HMTP_CONV_FILTER_ARGS)
{
    bool ok;
    guint32 s = connection_of(pinfo, &ok);
    return ok ? hmtp_connection_filter(s) : NULL;
}

void hmtp_follow_register(void)
{
    hmtp_follow_tap = register_tap("hmtp_follow");
    HMTP_REGISTER_FOLLOW(proto_hmtp, "hmtp_follow", follow_conv_filter, follow_index_filter, follow_address_filter,
                         tcp_port_to_display);
    HMTP_REGISTER_CONV_FILTER("hmtp", "HMTP", conv_filter_valid, conv_filter_build);
}
