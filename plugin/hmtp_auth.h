/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The login packets (PROTOCOL.md section 7) shown readably on top of the
 * generic payload tree: GetPublicKeyQuery (algorithm, format, key size),
 * AuthQuery (uid, resource, credentials) and its EncryptedObject, which is
 * decrypted with the RSA keys list when a key fits. */
#ifndef HMTP_AUTH_H
#define HMTP_AUTH_H

#include <epan/packet.h>

#include "hmtp_events.h"

/* body_tvb: the packet's de-chunked body; tree: the packet's subtree (may be
 * NULL: expert infos are still added). Adds nothing for packets that are not
 * a login step. */
void hmtp_auth_add(tvbuff_t *body_tvb, packet_info *pinfo, proto_tree *tree, const hmtp_decoded *dec);

#endif
