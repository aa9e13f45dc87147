/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>

#include <epan/packet.h>
#include <epan/expert.h>

#include "hmtp.h"
#include "hmtp_conv.h"
#include "json.h"
#include "hmtp_plugin.h"
#include "hmtp_track.h"

/* "dir:id", written without printf into key (this runs for every query and
 * answer); only a request's key is copied to file scope, to stay in the map. */
#define QUERY_KEY_SIZE (4 + HMTP_INT_TEXT_SIZE)
static const char *query_key(char key[QUERY_KEY_SIZE], guint8 dir, int64_t id)
{
    key[0] = dir ? '1' : '0';
    key[1] = ':';
    hmtp_int_text(key + 2, id);
    return key;
}

static const char *presence_key(guint8 dir, int32_t kind, const char *side, const char *jid)
{
    return wmem_strdup_printf(wmem_file_scope(), "%u:%d:%s:%s", dir, kind, side, jid ? jid : "");
}

static void link_answer(hmtp_pdu *answer, hmtp_pdu *request)
{
    answer->request_frame = request->frame;
    nstime_delta(&answer->response_time, &answer->time, &request->time);
    request->response_frame = answer->frame;
}

static void forget_request(wmem_map_t *map, hmtp_pdu *request)
{
    for (int i = 0; i < 2; i++)
        if (request->keys[i] && wmem_map_lookup(map, request->keys[i]) == request)
            wmem_map_remove(map, request->keys[i]);
}

static void track_query(hmtp_conv *c, hmtp_pdu *pdu, const hmtp_decoded *dec)
{
    if (!dec->has_id)
        return;
    char key[QUERY_KEY_SIZE];
    if (dec->type == HMTP_QUERY_GET || dec->type == HMTP_QUERY_SET) {
        pdu->request = true;
        pdu->keys[0] = wmem_strdup(wmem_file_scope(), query_key(key, pdu->dir, dec->id));
        wmem_map_insert(c->pending_queries, pdu->keys[0], pdu);
        return;
    }
    pdu->answer = true;
    hmtp_pdu *request = wmem_map_lookup(c->pending_queries, query_key(key, !pdu->dir, dec->id));
    if (request) {
        link_answer(pdu, request);
        forget_request(c->pending_queries, request);
    }
}

/* The request kinds a presence answer can answer, most specific first. */
static int answered_kinds(int32_t type, int32_t kinds[3])
{
    switch (type) {
    case HMTP_PRESENCE_SUBSCRIBED:
        kinds[0] = HMTP_PRESENCE_SUBSCRIBE;
        return 1;
    case HMTP_PRESENCE_UNSUBSCRIBED:
        kinds[0] = HMTP_PRESENCE_UNSUBSCRIBE;
        return 1;
    case HMTP_PRESENCE:
        kinds[0] = HMTP_PRESENCE_PROBE;
        return 1;
    case HMTP_PRESENCE_ERROR:
        kinds[0] = HMTP_PRESENCE_SUBSCRIBE;
        kinds[1] = HMTP_PRESENCE_UNSUBSCRIBE;
        kinds[2] = HMTP_PRESENCE_PROBE;
        return 3;
    default:
        return 0;
    }
}

static void track_presence(hmtp_conv *c, hmtp_pdu *pdu, const hmtp_decoded *dec)
{
    int32_t t = dec->type;
    if (t == HMTP_PRESENCE_SUBSCRIBE || t == HMTP_PRESENCE_UNSUBSCRIBE || t == HMTP_PRESENCE_PROBE) {
        pdu->request = true;
        /* Keyed both ways: the answer comes from the JID the request went to,
         * or (clients write from = null) goes to the JID the request came from. */
        pdu->keys[0] = presence_key(pdu->dir, t, "to", dec->to);
        pdu->keys[1] = presence_key(pdu->dir, t, "from", dec->from);
        wmem_map_insert(c->pending_presence, pdu->keys[0], pdu);
        if (dec->from)
            wmem_map_insert(c->pending_presence, pdu->keys[1], pdu);
        return;
    }
    int32_t kinds[3];
    int n = answered_kinds(t, kinds);
    for (int i = 0; i < n; i++) {
        hmtp_pdu *request = NULL;
        if (dec->from)
            request = wmem_map_lookup(c->pending_presence, presence_key(!pdu->dir, kinds[i], "to", dec->from));
        if (!request && dec->to)
            request = wmem_map_lookup(c->pending_presence, presence_key(!pdu->dir, kinds[i], "from", dec->to));
        if (request) {
            pdu->answer = true;
            link_answer(pdu, request);
            forget_request(c->pending_presence, request);
            return;
        }
    }
    /* A plain presence is usually unsolicited; the others always answer something. */
    if (n > 0 && t != HMTP_PRESENCE)
        pdu->answer = true;
}

void hmtp_track_first_pass(hmtp_conv *c, hmtp_pdu *pdu, const hmtp_decoded *dec)
{
    if (!dec->has_type)
        return;
    if (hmtp_type_has_id(dec->type))
        track_query(c, pdu, dec);
    else if (hmtp_type_is_presence(dec->type))
        track_presence(c, pdu, dec);
}

void hmtp_track_show(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, proto_item *pkt_item,
                     const hmtp_pdu *pdu)
{
    proto_item *pi;
    if (pdu->request) {
        if (pdu->response_frame) {
            pi = proto_tree_add_uint(tree, hf_hmtp_response_in, tvb, 0, 0, pdu->response_frame);
            proto_item_set_generated(pi);
        } else if (PINFO_FD_VISITED(pinfo)) {
            expert_add_info(pinfo, pkt_item, &ei_hmtp_no_response);
            /* the answer may sit in a segment TCP kept from us, anywhere later */
            hmtp_conv_tcp_hint(pinfo, pkt_item, G_MAXUINT32, "Request never answered");
        }
    }
    if (pdu->answer) {
        if (pdu->request_frame) {
            pi = proto_tree_add_uint(tree, hf_hmtp_request_in, tvb, 0, 0, pdu->request_frame);
            proto_item_set_generated(pi);
            pi = proto_tree_add_time(tree, hf_hmtp_response_time, tvb, 0, 0, &pdu->response_time);
            proto_item_set_generated(pi);
        } else {
            expert_add_info(pinfo, pkt_item, &ei_hmtp_no_request);
            hmtp_conv_tcp_hint(pinfo, pkt_item, pinfo->num, "Answer without its request");
        }
    }
}
