/* SPDX-License-Identifier: GPL-2.0-or-later */
/* EncryptedObject credentials: building them (client) and opening them
 * (server, dissector). */
#include <string.h>

#include <openssl/crypto.h>

#include "hmtp.h"
#include "hmtp_crypto.h"
#include "writer.h"

hessian_value *hmtp_credentials_encrypt(hmtp_arena *a, const uint8_t *server_spki, size_t spki_len,
                                        const char *password, hmtp_tool_error *err)
{
    hmtp_rsa *pub = hmtp_rsa_from_spki(server_spki, spki_len, err);
    if (!pub)
        return NULL;
    hessian_value *result = NULL;
    uint8_t key[16];
    hmtp_buf wrapped, plain, cipher;
    hmtp_buf_init(&wrapped);
    hmtp_buf_init(&plain);
    hmtp_buf_init(&cipher);
    /* The password as Hessian2Output writes a lone String outside a packet. */
    hessian_writer w;
    hessian_writer_init(&w, &plain);
    hessian_write_string(&w, password, strlen(password));
    hessian_writer_flush(&w);
    if (!hmtp_random_bytes(key, sizeof key)) {
        hmtp_tool_fail(err, "no random bytes for the AES key");
    } else if (w.failed || plain.failed) {
        hmtp_tool_fail(err, "out of memory");
    } else if (hmtp_rsa_wrap(pub, key, sizeof key, &wrapped, err) &&
               hmtp_aes_encrypt(key, plain.data, plain.len, &cipher, err)) {
        result = hmtp_new_encrypted_object(a, "AES", wrapped.data, wrapped.len, cipher.data, cipher.len);
        if (!result)
            hmtp_tool_fail(err, "out of memory");
    }
    OPENSSL_cleanse(key, sizeof key);
    if (plain.data)
        OPENSSL_cleanse(plain.data, plain.len);
    hessian_writer_free(&w);
    hmtp_buf_free(&wrapped);
    hmtp_buf_free(&plain);
    hmtp_buf_free(&cipher);
    hmtp_rsa_free(pub);
    return result;
}

static const hessian_value *binary_field(const hessian_value *obj, const char *name, hmtp_tool_error *err)
{
    const hessian_value *v = hessian_object_field(obj, name);
    if (!v || v->kind != HESSIAN_BINARY) {
        hmtp_tool_fail(err, "EncryptedObject.%s is %s, not a byte array", name,
                       v ? hessian_kind_name(v->kind) : "missing");
        return NULL;
    }
    return v;
}

bool hmtp_credentials_decrypt_bytes(const hmtp_rsa *priv, const hessian_value *eo, hmtp_buf *plain,
                                    hmtp_tool_error *err)
{
    if (!hmtp_value_is_object(eo, HMTP_ENCRYPTED_OBJECT_CLASS))
        return hmtp_tool_fail(err, "credentials are not a %s", HMTP_ENCRYPTED_OBJECT_CLASS);
    const char *alg = hessian_value_string(hessian_object_field(eo, "_keyAlgorithm"));
    if (!alg || strcmp(alg, "AES") != 0)
        return hmtp_tool_fail(err, "unsupported key algorithm '%s' (only AES)", alg ? alg : "null");
    const hessian_value *enc_key = binary_field(eo, "_encKey", err);
    const hessian_value *enc_data = enc_key ? binary_field(eo, "_encData", err) : NULL;
    if (!enc_data)
        return false;
    hmtp_buf key;
    hmtp_buf_init(&key);
    bool ok = hmtp_rsa_unwrap(priv, enc_key->v.bin.data, enc_key->v.bin.len, &key, err);
    if (ok && key.len != 16) {
        hmtp_tool_fail(err, "unwrapped key is %zu bytes, AES-128 needs 16", key.len);
        ok = false;
    }
    if (ok)
        ok = hmtp_aes_decrypt(key.data, enc_data->v.bin.data, enc_data->v.bin.len, plain, err);
    if (key.data)
        OPENSSL_cleanse(key.data, key.len);
    hmtp_buf_free(&key);
    return ok;
}

char *hmtp_credentials_decrypt_password(const hmtp_rsa *priv, const hessian_value *eo, hmtp_arena *a,
                                        hmtp_tool_error *err)
{
    hmtp_buf plain;
    hmtp_buf_init(&plain);
    char *password = NULL;
    if (hmtp_credentials_decrypt_bytes(priv, eo, &plain, err)) {
        hessian_stream s;
        hessian_stream_init(&s, NULL);
        hessian_decoder d;
        hessian_decoder_init(&d, &s, hessian_stream_mark(&s), plain.data, plain.len);
        hessian_event ev;
        int rc = hessian_next(&d, &ev);
        if (rc == 1 && ev.kind == HESSIAN_STRING && ev.offset + ev.length == plain.len &&
            memchr(ev.v.str.data, '\0', ev.v.str.len)) {
            /* A C string would end early: "secret\0junk" must not pass as "secret". */
            hmtp_tool_fail(err, "the decrypted password holds U+0000");
        } else if (rc == 1 && ev.kind == HESSIAN_STRING && ev.offset + ev.length == plain.len) {
            password = hmtp_arena_strndup(a, ev.v.str.data, ev.v.str.len);
            if (!password)
                hmtp_tool_fail(err, "out of memory");
        } else {
            hmtp_tool_fail(err, "decrypted credentials are not a single Hessian string");
        }
        hessian_decoder_free(&d);
        hessian_stream_free(&s);
    }
    if (plain.data)
        OPENSSL_cleanse(plain.data, plain.len);
    hmtp_buf_free(&plain);
    return password;
}
