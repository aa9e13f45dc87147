/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Encrypted HMTP login (PROTOCOL.md section 7), as Resin's HmtpClient of
 * late January 2009 does it:
 *   1. queryGet GetPublicKeyQuery -> the server's RSA key, X.509
 *      SubjectPublicKeyInfo DER in _encoded;
 *   2. a fresh AES-128 key, wrapped with RSA PKCS#1 v1.5 (Java "RSA");
 *   3. the password as a bare Hessian string, encrypted with AES-128-ECB and
 *      PKCS#5 padding (Java "AES") -> EncryptedObject {_keyAlgorithm "AES",
 *      _encKey, _encData} as AuthQuery._credentials.
 * Errors fill the caller's hmtp_tool_error (core/error.h) and never contain
 * secrets. */
#ifndef HMTP_CRYPTO_H
#define HMTP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "error.h"
#include "hmtp.h"
#include "value.h"

#define HMTP_RSA_DEFAULT_BITS 1024 /* Java's KeyPairGenerator("RSA") default of 2009 */

typedef struct hmtp_rsa hmtp_rsa;

hmtp_rsa *hmtp_rsa_generate(unsigned bits, hmtp_tool_error *err);
/* A PEM private key (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY"). */
hmtp_rsa *hmtp_rsa_load_private_pem(const char *path, hmtp_tool_error *err);
/* Writes the private key as unencrypted PKCS#8 PEM, mode 0600. */
bool hmtp_rsa_save_private_pem(const hmtp_rsa *key, const char *path, hmtp_tool_error *err);
/* A public key from X.509 SubjectPublicKeyInfo DER (GetPublicKeyQuery._encoded). */
hmtp_rsa *hmtp_rsa_from_spki(const uint8_t *der, size_t len, hmtp_tool_error *err);
/* Appends the SubjectPublicKeyInfo DER of the (public part of the) key. */
bool hmtp_rsa_spki(const hmtp_rsa *key, hmtp_buf *out);
unsigned hmtp_rsa_bits(const hmtp_rsa *key);
void hmtp_rsa_free(hmtp_rsa *key);

/* RSA PKCS#1 v1.5 encryption of a short secret (the AES key). */
bool hmtp_rsa_wrap(const hmtp_rsa *pub, const uint8_t *secret, size_t len, hmtp_buf *out,
                   hmtp_tool_error *err);
bool hmtp_rsa_unwrap(const hmtp_rsa *priv, const uint8_t *wrapped, size_t len, hmtp_buf *out,
                     hmtp_tool_error *err);
/* AES-128-ECB with PKCS#5 padding. */
bool hmtp_aes_encrypt(const uint8_t key[16], const uint8_t *plain, size_t len, hmtp_buf *out,
                      hmtp_tool_error *err);
bool hmtp_aes_decrypt(const uint8_t key[16], const uint8_t *cipher, size_t len, hmtp_buf *out,
                      hmtp_tool_error *err);
bool hmtp_random_bytes(uint8_t *out, size_t len);

/* Client side: an EncryptedObject value carrying `password` for the server
 * whose SubjectPublicKeyInfo is given. */
hessian_value *hmtp_credentials_encrypt(hmtp_arena *a, const uint8_t *server_spki, size_t spki_len,
                                        const char *password, hmtp_tool_error *err);

/* Server (and dissector) side: the decrypted plaintext of an EncryptedObject
 * (a bare Hessian value, no packet framing) appended to `plain`. */
bool hmtp_credentials_decrypt_bytes(const hmtp_rsa *priv, const hessian_value *encrypted_object, hmtp_buf *plain,
                                    hmtp_tool_error *err);
/* ... and decoded: the password string, allocated in `a`; NULL (with err)
 * also when it holds U+0000, which a C string cannot carry whole. */
char *hmtp_credentials_decrypt_password(const hmtp_rsa *priv, const hessian_value *encrypted_object,
                                        hmtp_arena *a, hmtp_tool_error *err);

/* Client side, step 1: what the answer p to a GetPublicKeyQuery says
 * (public_key_answer.c). Read once here for every program that asks. */
typedef enum hmtp_public_key_answer {
    HMTP_PUBLIC_KEY_FOUND,   /* *der, *der_len: the SubjectPublicKeyInfo, in p's arena */
    HMTP_PUBLIC_KEY_REFUSED, /* a queryError: p->error (the core's BamError fields) says why */
    HMTP_PUBLIC_KEY_MISSING, /* no queryResult holding a GetPublicKeyQuery with a byte[] _encoded */
} hmtp_public_key_answer;

hmtp_public_key_answer hmtp_public_key_answer_read(const hmtp_packet *p, const uint8_t **der, size_t *der_len);

#endif
