/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server_key.h"

#include <string.h>

bool server_key_setup(server_key *k, const char *pem_path, const char *write_path, GError **error)
{
    char err[HMTP_CRYPTO_ERR] = "";
    memset(k, 0, sizeof *k);
    hmtp_buf_init(&k->spki);
    if (pem_path) {
        k->rsa = hmtp_rsa_load_private_pem(pem_path, err);
        if (!k->rsa) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--key '%s': %s", pem_path, err);
            return false;
        }
    } else {
        k->rsa = hmtp_rsa_generate(HMTP_RSA_DEFAULT_BITS, err);
        if (!k->rsa) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "generating the RSA key: %s", err);
            return false;
        }
        k->generated = true;
    }
    /* The SPKI is the same for every key query: make it once. */
    if (!hmtp_rsa_spki(k->rsa, &k->spki)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                    "cannot encode the public key as SubjectPublicKeyInfo");
        server_key_free(k);
        return false;
    }
    if (write_path && !hmtp_rsa_save_private_pem(k->rsa, write_path, err)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--write-key '%s': %s", write_path, err);
        server_key_free(k);
        return false;
    }
    return true;
}

void server_key_free(server_key *k)
{
    hmtp_rsa_free(k->rsa);
    k->rsa = NULL;
    hmtp_buf_free(&k->spki);
}
