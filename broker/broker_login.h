/* SPDX-License-Identifier: GPL-2.0-or-later */
/* In-band login (PROTOCOL.md section 3): querySet to=null carrying an
 * AuthQuery, answered by an AuthResult with the full JID or a queryError.
 * Turning _credentials into a password (plain, or an EncryptedObject made
 * with the key a GetPublicKeyQuery handed out) happens in one function,
 * credentials_password() in broker_login.c. Refusals are auth/forbidden, as Resin's. */
#ifndef BROKER_BROKER_LOGIN_H
#define BROKER_BROKER_LOGIN_H

#include "broker.h"
#include "conn.h"
#include "hmtp.h"

/* p is a querySet to=null whose value is an AuthQuery. */
void login_handle_auth(conn *c, hmtp_packet *p);
/* p is a queryGet to=null whose value is a GetPublicKeyQuery: answered with
 * the broker's RSA public key (GetPublicKeyQuery {"RSA", "X.509", SPKI}). */
void login_handle_public_key(conn *c, hmtp_packet *p);

#endif
