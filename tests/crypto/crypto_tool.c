/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test driver for the crypto module, so that vectors made by the openssl
 * command line (an independent implementation) can be checked both ways:
 *   crypto_tool decrypt KEY.pem ENCKEY.bin ENCDATA.bin   -> prints the password
 *   crypto_tool encrypt SPKI.der PASSWORD OUTPREFIX      -> OUTPREFIX.key OUTPREFIX.data */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmtp.h"
#include "hmtp_crypto.h"

static bool read_file(const char *path, hmtp_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    uint8_t tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        hmtp_buf_append(out, tmp, n);
    bool ok = !ferror(f) && !out->failed;
    fclose(f);
    return ok;
}

static bool write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static int decrypt(const char *pem, const char *key_path, const char *data_path)
{
    hmtp_tool_error err = {0};
    hmtp_rsa *priv = hmtp_rsa_load_private_pem(pem, &err);
    if (!priv) {
        fprintf(stderr, "crypto_tool: %s\n", err.msg);
        return 2;
    }
    hmtp_buf key, data;
    hmtp_buf_init(&key);
    hmtp_buf_init(&data);
    if (!read_file(key_path, &key) || !read_file(data_path, &data)) {
        fprintf(stderr, "crypto_tool: cannot read %s or %s\n", key_path, data_path);
        return 2;
    }
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *eo = hmtp_new_encrypted_object(&a, "AES", key.data, key.len, data.data, data.len);
    char *password = hmtp_credentials_decrypt_password(priv, eo, &a, &err);
    int rc = 0;
    if (password) {
        printf("%s\n", password);
    } else {
        fprintf(stderr, "crypto_tool: %s\n", err.msg);
        rc = 1;
    }
    hmtp_arena_free(&a);
    hmtp_buf_free(&key);
    hmtp_buf_free(&data);
    hmtp_rsa_free(priv);
    return rc;
}

static int encrypt(const char *spki_path, const char *password, const char *prefix)
{
    hmtp_buf spki;
    hmtp_buf_init(&spki);
    if (!read_file(spki_path, &spki)) {
        fprintf(stderr, "crypto_tool: cannot read %s\n", spki_path);
        return 2;
    }
    hmtp_tool_error err = {0};
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *eo = hmtp_credentials_encrypt(&a, spki.data, spki.len, password, &err);
    int rc = 0;
    if (!eo) {
        fprintf(stderr, "crypto_tool: %s\n", err.msg);
        rc = 1;
    } else {
        const hessian_value *k = hessian_object_field(eo, "_encKey");
        const hessian_value *d = hessian_object_field(eo, "_encData");
        char path[4096];
        snprintf(path, sizeof path, "%s.key", prefix);
        bool ok = write_file(path, k->v.bin.data, k->v.bin.len);
        snprintf(path, sizeof path, "%s.data", prefix);
        ok &= write_file(path, d->v.bin.data, d->v.bin.len);
        if (!ok) {
            fprintf(stderr, "crypto_tool: cannot write %s.*\n", prefix);
            rc = 2;
        }
    }
    hmtp_arena_free(&a);
    hmtp_buf_free(&spki);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "decrypt") == 0)
        return decrypt(argv[2], argv[3], argv[4]);
    if (argc == 5 && strcmp(argv[1], "encrypt") == 0)
        return encrypt(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: crypto_tool decrypt KEY.pem ENCKEY ENCDATA | encrypt SPKI.der PASSWORD OUTPREFIX\n");
    return 2;
}
