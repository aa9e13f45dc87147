/* SPDX-License-Identifier: GPL-2.0-or-later */
/* RSA keys and the two ciphers, on OpenSSL 3's EVP interface. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "hmtp_crypto.h"

struct hmtp_rsa {
    EVP_PKEY *pkey;
};

static void set_err(hmtp_tool_error *err, const char *what)
{
    unsigned long e = ERR_get_error();
    char detail[120] = "";
    if (e)
        ERR_error_string_n(e, detail, sizeof detail);
    ERR_clear_error();
    hmtp_tool_fail(err, "%s%s%s", what, e ? ": " : "", detail);
}

static hmtp_rsa *wrap_pkey(EVP_PKEY *pkey, hmtp_tool_error *err)
{
    if (!pkey)
        return NULL;
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        EVP_PKEY_free(pkey);
        hmtp_tool_fail(err, "the key is not an RSA key");
        return NULL;
    }
    hmtp_rsa *k = OPENSSL_zalloc(sizeof *k);
    if (!k) {
        EVP_PKEY_free(pkey);
        hmtp_tool_fail(err, "out of memory");
        return NULL;
    }
    k->pkey = pkey;
    return k;
}

hmtp_rsa *hmtp_rsa_generate(unsigned bits, hmtp_tool_error *err)
{
    EVP_PKEY *pkey = EVP_RSA_gen(bits);
    if (!pkey) {
        set_err(err, "RSA key generation failed");
        return NULL;
    }
    return wrap_pkey(pkey, err);
}

hmtp_rsa *hmtp_rsa_load_private_pem(const char *path, hmtp_tool_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        hmtp_tool_fail(err, "cannot open key file '%s': %s", path, strerror(errno));
        return NULL;
    }
    EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!pkey) {
        char what[HMTP_TOOL_ERROR_MAX];
        snprintf(what, sizeof what, "'%s' holds no PEM private key", path);
        set_err(err, what);
        return NULL;
    }
    return wrap_pkey(pkey, err);
}

bool hmtp_rsa_save_private_pem(const hmtp_rsa *key, const char *path, hmtp_tool_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        hmtp_tool_fail(err, "cannot write key file '%s': %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    bool ok = PEM_write_PrivateKey(f, key->pkey, NULL, NULL, 0, NULL, NULL) == 1;
    ok &= fclose(f) == 0;
    if (!ok)
        hmtp_tool_fail(err, "writing key file '%s' failed", path);
    return ok;
}

hmtp_rsa *hmtp_rsa_from_spki(const uint8_t *der, size_t len, hmtp_tool_error *err)
{
    const unsigned char *p = der;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)len);
    if (!pkey || p != der + len) {
        EVP_PKEY_free(pkey);
        set_err(err, "the public key is not a valid X.509 SubjectPublicKeyInfo");
        return NULL;
    }
    return wrap_pkey(pkey, err);
}

bool hmtp_rsa_spki(const hmtp_rsa *key, hmtp_buf *out)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key->pkey, &der);
    if (n <= 0)
        return false;
    bool ok = hmtp_buf_append(out, der, (size_t)n);
    OPENSSL_free(der);
    return ok;
}

unsigned hmtp_rsa_bits(const hmtp_rsa *key)
{
    return (unsigned)EVP_PKEY_get_bits(key->pkey);
}

void hmtp_rsa_free(hmtp_rsa *key)
{
    if (!key)
        return;
    EVP_PKEY_free(key->pkey);
    OPENSSL_free(key);
}

static bool rsa_crypt(const hmtp_rsa *key, bool encrypt, const uint8_t *in, size_t len, hmtp_buf *out,
                      hmtp_tool_error *err)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key->pkey, NULL);
    bool ok = ctx && (encrypt ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
    size_t n = 0;
    if (ok)
        ok = (encrypt ? EVP_PKEY_encrypt(ctx, NULL, &n, in, len) : EVP_PKEY_decrypt(ctx, NULL, &n, in, len)) == 1;
    if (ok)
        ok = hmtp_buf_reserve(out, n);
    if (ok)
        ok = (encrypt ? EVP_PKEY_encrypt(ctx, out->data + out->len, &n, in, len)
                      : EVP_PKEY_decrypt(ctx, out->data + out->len, &n, in, len)) == 1;
    if (ok)
        out->len += n;
    else
        set_err(err, encrypt ? "RSA PKCS#1 v1.5 encryption failed"
                             : "RSA PKCS#1 v1.5 decryption failed (wrong key or corrupt data)");
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

bool hmtp_rsa_wrap(const hmtp_rsa *pub, const uint8_t *secret, size_t len, hmtp_buf *out,
                   hmtp_tool_error *err)
{
    return rsa_crypt(pub, true, secret, len, out, err);
}

bool hmtp_rsa_unwrap(const hmtp_rsa *priv, const uint8_t *wrapped, size_t len, hmtp_buf *out,
                     hmtp_tool_error *err)
{
    if (len * 8 != hmtp_rsa_bits(priv))
        return hmtp_tool_fail(err, "wrapped key is %zu bytes, the %u-bit RSA key needs %u", len,
                              hmtp_rsa_bits(priv), hmtp_rsa_bits(priv) / 8);
    return rsa_crypt(priv, false, wrapped, len, out, err);
}

static bool aes_crypt(bool encrypt, const uint8_t key[16], const uint8_t *in, size_t len, hmtp_buf *out,
                      hmtp_tool_error *err)
{
    if (!encrypt && (len == 0 || len % 16 != 0))
        return hmtp_tool_fail(err, "AES data is %zu bytes, not a positive multiple of 16", len);
    if (len > (size_t)INT32_MAX - 32)
        return hmtp_tool_fail(err, "AES data too large");
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0;
    bool ok = ctx && EVP_CipherInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL, encrypt ? 1 : 0) == 1 &&
              hmtp_buf_reserve(out, len + 16);
    if (ok)
        ok = EVP_CipherUpdate(ctx, out->data + out->len, &n1, in, (int)len) == 1;
    if (ok)
        ok = EVP_CipherFinal_ex(ctx, out->data + out->len + n1, &n2) == 1;
    if (ok)
        out->len += (size_t)(n1 + n2);
    else
        set_err(err, encrypt ? "AES-128-ECB encryption failed"
                             : "AES-128-ECB decryption failed: bad padding (wrong key or corrupt data)");
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

bool hmtp_aes_encrypt(const uint8_t key[16], const uint8_t *plain, size_t len, hmtp_buf *out,
                      hmtp_tool_error *err)
{
    return aes_crypt(true, key, plain, len, out, err);
}

bool hmtp_aes_decrypt(const uint8_t key[16], const uint8_t *cipher, size_t len, hmtp_buf *out,
                      hmtp_tool_error *err)
{
    return aes_crypt(false, key, cipher, len, out, err);
}

bool hmtp_random_bytes(uint8_t *out, size_t len)
{
    return RAND_bytes(out, (int)len) == 1;
}
