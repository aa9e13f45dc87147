/* SPDX-License-Identifier: GPL-2.0-or-later */
/* In-band login (PROTOCOL.md section 3): querySet to=null carrying an
 * AuthQuery, answered by an AuthResult with the full JID or a queryError.
 * Turning _credentials into a password happens in one function
 * (login_credentials_password), where the encrypted form (EncryptedObject
 * after a GetPublicKeyQuery) will be added. */
#ifndef BROKER_LOGIN_H
#define BROKER_LOGIN_H

#include "broker.h"
#include "hmtp.h"

/* p is a querySet to=null whose value is an AuthQuery. */
void login_handle_auth(conn *c, hmtp_packet *p);
/* p is a queryGet to=null whose value is a GetPublicKeyQuery: encryption is
 * not offered yet, so this answers feature-not-implemented. */
void login_handle_public_key(conn *c, hmtp_packet *p);

#endif
