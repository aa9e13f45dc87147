/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <epan/packet.h>
#include <epan/conversation.h>
#include <epan/proto.h>

#include "hmtp_conv.h"
#include "hmtp_plugin.h"
#include "hmtp_upgrade.h"
#include "http_upgrade.h"

static dissector_handle_t hmtp_handle_for_upgrade;
static int proto_key; /* a private key for conversation data, see hmtp_upgrade_register */

/* Per connection, from the request asking for HMTP/0.9 to its answer. */
typedef struct upgrade_state {
    address client_addr; /* the side that asked */
    uint32_t client_port;
    bool answered; /* a final status (or 101) came back */
    bool upgraded; /* it was 101: the connection is HMTP now */
} upgrade_state;

/* Calls fn on the bytes of every data source of the frame (the frame
 * itself, and e.g. a reassembled HTTP head) until one returns true. */
typedef bool (*bytes_fn)(const uint8_t *buf, size_t len, void *arg);

static bool any_source(packet_info *pinfo, bytes_fn fn, void *arg)
{
    for (GSList *l = pinfo->data_src; l; l = l->next) {
        tvbuff_t *tvb = get_data_source_tvb((const struct data_source *)l->data);
        unsigned len = tvb ? tvb_captured_length(tvb) : 0;
        if (len && fn(tvb_get_ptr(tvb, 0, (int)len), len, arg))
            return true;
    }
    return false;
}

/* A source holds a whole frame (link, IP and TCP headers in front of the
 * HTTP bytes) or a reassembled head, so the request line is looked for
 * where core's reader accepts one. Only the line holding a " HTTP/1."
 * is tried, which keeps the search linear in the bytes of a text body. */
static bool asks_for_hmtp(const uint8_t *buf, size_t len, void *arg)
{
    (void)arg;
    static const char version[] = " HTTP/1.";
    const uint8_t *end = buf + len, *from = buf, *v;
    while (from < end && (v = memmem(from, (size_t)(end - from), version, sizeof version - 1))) {
        const uint8_t *p = v;
        while (p > from && p[-1] != '\n')
            p--;
        for (; p < v; p++) {
            if (!hmtp_upgrade_may_be_request(p, (size_t)(end - p)))
                continue;
            hmtp_upgrade_head h;
            int r = hmtp_upgrade_head_parse(p, (size_t)(end - p), &h, NULL);
            if (!h.method[0])
                continue; /* no request line starts here */
            if (h.upgrade_hmtp)
                return true; /* even from a head cut short or wrong further on */
            if (r != 1)
                return false;
            v = p + h.head_len - (sizeof version - 1); /* a pipelined request may follow */
            break;
        }
        from = v + sizeof version - 1;
    }
    return false;
}

/* The answer's code at every "HTTP/1." of the source: the first 101 or
 * final one wins; an informational one (100 Continue) is kept meanwhile. */
static bool find_status(const uint8_t *buf, size_t len, void *arg)
{
    unsigned *code = arg;
    const uint8_t *end = buf + len;
    for (const uint8_t *p = buf; p < end; p++) {
        p = memchr(p, 'H', (size_t)(end - p));
        if (!p)
            break;
        if ((size_t)(end - p) < 12 || memcmp(p, "HTTP/1.", 7) != 0)
            continue;
        hmtp_upgrade_head h;
        hmtp_upgrade_head_parse(p, (size_t)(end - p), &h, NULL);
        unsigned c = h.status > 0 ? (unsigned)h.status : 0;
        if (c && (!*code || *code < 200))
            *code = c;
        if (c == 101 || c >= 200)
            return true;
    }
    return false;
}

static bool from_client(const upgrade_state *st, const packet_info *pinfo)
{
    return pinfo->srcport == st->client_port && addresses_equal(&pinfo->src, &st->client_addr);
}

/* Runs after every frame's dissection, first pass only, and asks for no
 * fields: it needs no protocol tree. Only frames HTTP took part in are
 * looked at, and then only their bytes. */
static int upgrade_watch(tvbuff_t *tvb _U_, packet_info *pinfo, proto_tree *tree _U_, void *data _U_)
{
    if (PINFO_FD_VISITED(pinfo) || pinfo->ptype != PT_TCP || !proto_is_frame_protocol(pinfo->layers, "http"))
        return 0;
    conversation_t *conv = find_conversation_pinfo(pinfo, 0);
    if (!conv)
        return 0;
    upgrade_state *st = conversation_get_proto_data(conv, proto_key);
    if (st && st->upgraded)
        return 0;
    if (!st || st->answered || from_client(st, pinfo)) {
        /* a request; after a refusal the client may ask again */
        if (any_source(pinfo, asks_for_hmtp, NULL)) {
            if (!st) {
                st = wmem_new0(wmem_file_scope(), upgrade_state);
                conversation_add_proto_data(conv, proto_key, st);
            }
            copy_address_wmem(wmem_file_scope(), &st->client_addr, &pinfo->src);
            st->client_port = pinfo->srcport;
            st->answered = false;
        }
        return 0;
    }
    unsigned code = 0;
    any_source(pinfo, find_status, &code);
    if (code == 101) {
        /* Everything after this frame, both ways, is HMTP. */
        st->answered = st->upgraded = true;
        hmtp_conv_mark_upgrade(pinfo, conv, pinfo->num + 1);
        conversation_set_dissector_from_frame_number(conv, pinfo->num + 1, hmtp_handle_for_upgrade);
    } else if (code >= 200) {
        st->answered = true; /* refused: the connection stays HTTP */
    }
    return 0;
}

void hmtp_upgrade_register(dissector_handle_t hmtp_handle)
{
    hmtp_handle_for_upgrade = hmtp_handle;
    proto_key = proto_hessian; /* a second id of ours, so the key never clashes with hmtp_conv */
    /* The 101 that echoes the header: HTTP's own hand-off. */
    dissector_add_string("http.upgrade", "hmtp/0.9", hmtp_handle);
    /* The bare 101 (Resin's): watched here. */
    register_postdissector(create_dissector_handle(upgrade_watch, proto_hmtp));
}
