/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include <epan/packet.h>
#include <epan/conversation.h>
#include <epan/proto.h>

#include "hmtp_conv.h"
#include "hmtp_plugin.h"
#include "hmtp_upgrade.h"


#define UPGRADE_TOKEN "HMTP/0.9"

static dissector_handle_t hmtp_handle_for_upgrade;
static int hf_http_upgrade = -1, hf_http_method = -1, hf_http_code = -1;

/* Per-connection note of an upgrade request not yet answered. */
typedef struct upgrade_state {
    guint32 request_frame;
    bool done;
} upgrade_state;

static int proto_key; /* address only: a private key for conversation data */

static field_info *first_field(proto_tree *tree, int hf)
{
    if (hf < 0 || !tree)
        return NULL;
    GPtrArray *arr = proto_get_finfo_ptr_array(tree, hf);
    return arr && arr->len ? g_ptr_array_index(arr, 0) : NULL;
}

static bool asks_for_hmtp(proto_tree *tree)
{
    GPtrArray *arr = hf_http_upgrade >= 0 && tree ? proto_get_finfo_ptr_array(tree, hf_http_upgrade) : NULL;
    for (guint i = 0; arr && i < arr->len; i++) {
        field_info *fi = g_ptr_array_index(arr, i);
        const char *v = fvalue_get_string(HMTP_FINFO_VALUE(fi));
        while (v && (*v == ' ' || *v == '\t'))
            v++;
        if (v && g_ascii_strncasecmp(v, UPGRADE_TOKEN, strlen(UPGRADE_TOKEN)) == 0)
            return true;
    }
    return false;
}

static int upgrade_postdissector(tvbuff_t *tvb _U_, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    if (PINFO_FD_VISITED(pinfo) || !tree || pinfo->ptype != PT_TCP)
        return 0;
    field_info *method = first_field(tree, hf_http_method);
    field_info *code = first_field(tree, hf_http_code);
    if (!method && !code)
        return 0;
    conversation_t *conv = find_conversation_pinfo(pinfo, 0);
    if (!conv)
        return 0;
    upgrade_state *st = conversation_get_proto_data(conv, proto_key);
    if (method && asks_for_hmtp(tree)) {
        if (!st) {
            st = wmem_new0(wmem_file_scope(), upgrade_state);
            conversation_add_proto_data(conv, proto_key, st);
        }
        st->request_frame = pinfo->num;
        return 0;
    }
    if (!code || !st || st->done)
        return 0;
    guint32 status = fvalue_get_uinteger(HMTP_FINFO_VALUE(code));
    if (status == 101) {
        /* Everything after this frame, both ways, is HMTP. */
        st->done = true;
        hmtp_conv_mark_upgrade(pinfo, conv, pinfo->num + 1);
        conversation_set_dissector_from_frame_number(conv, pinfo->num + 1, hmtp_handle_for_upgrade);
    } else if (status >= 200) {
        st->done = true; /* refused: the connection stays HTTP */
    }
    return 0;
}

void hmtp_upgrade_register(dissector_handle_t hmtp_handle)
{
    hmtp_handle_for_upgrade = hmtp_handle;
    proto_key = proto_hessian; /* a second id of ours, so the key never clashes with hmtp_conv */
    /* The 101 that echoes the header: HTTP's own hand-off. */
    dissector_add_string("http.upgrade", "hmtp/0.9", hmtp_handle);

    hf_http_upgrade = proto_registrar_get_id_byname("http.upgrade");
    hf_http_method = proto_registrar_get_id_byname("http.request.method");
    hf_http_code = proto_registrar_get_id_byname("http.response.code");
    if (hf_http_upgrade < 0 || hf_http_method < 0 || hf_http_code < 0)
        return; /* no HTTP dissector: nothing to watch */
    dissector_handle_t post = create_dissector_handle(upgrade_postdissector, proto_hmtp);
    register_postdissector(post);
    GArray *wanted = g_array_new(FALSE, FALSE, (guint)sizeof(int));
    g_array_append_val(wanted, hf_http_upgrade);
    g_array_append_val(wanted, hf_http_method);
    g_array_append_val(wanted, hf_http_code);
    set_postdissector_wanted_hfids(post, wanted);
}
