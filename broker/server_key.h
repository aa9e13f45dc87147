/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The broker's RSA key pair for the encrypted login (PROTOCOL.md section 7).
 * Resin makes one pair per server and hands out its public half in answer to
 * GetPublicKeyQuery; the broker does the same, from a PEM file (the same key,
 * hence the same bytes, on every run) or generated at start. The private key
 * can be written out so that a capture can be decrypted in Wireshark. */
#ifndef BROKER_SERVER_KEY_H
#define BROKER_SERVER_KEY_H

#include <stdbool.h>

#include "buf.h"
#include "error.h"
#include "hmtp_crypto.h"

typedef struct server_key {
    hmtp_rsa *rsa;   /* NULL until server_key_setup succeeds */
    hmtp_buf spki;   /* X.509 SubjectPublicKeyInfo DER: GetPublicKeyQuery._encoded */
    bool generated;  /* false: loaded from a file */
} server_key;

/* Loads pem_path, or generates a key when pem_path is NULL; then writes the
 * private key to write_path when it is not NULL. The error names the file and
 * the reason. */
bool server_key_setup(server_key *k, const char *pem_path, const char *write_path, hmtp_tool_error *err);
void server_key_free(server_key *k);

#endif
