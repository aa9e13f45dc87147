/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Decoded HMTP body -> tree items on the de-chunked body tvb: the header
 * fields (hmtp.type/to/from/id), the value and error subtrees made of
 * hessian.* items that read like the object they show. */
#ifndef HMTP_TREE_H
#define HMTP_TREE_H

#include <epan/packet.h>

#include "hmtp_events.h"

void hmtp_tree_add_body(tvbuff_t *body_tvb, packet_info *pinfo, proto_tree *tree, const hmtp_decoded *dec);

/* Bare Hessian values (no HMTP header), e.g. decrypted credentials: each
 * top-level value straight under tree. */
void hmtp_tree_add_values(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const hmtp_decoded *dec);

/* "a@b → c@d" style text of a JID for the Info column ("null" when NULL). */
const char *hmtp_jid_display(wmem_allocator_t *pool, const char *jid);

#endif
