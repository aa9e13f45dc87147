/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "server_key.h"

#include <string.h>

bool server_key_setup(server_key *k, const char *pem_path, const char *write_path, hmtp_tool_error *err)
{
    hmtp_tool_error why;
    memset(k, 0, sizeof *k);
    hmtp_buf_init(&k->spki);
    if (pem_path) {
        k->rsa = hmtp_rsa_load_private_pem(pem_path, &why);
        if (!k->rsa)
            return hmtp_tool_fail(err, "--key '%s': %s", pem_path, why.msg);
    } else {
        k->rsa = hmtp_rsa_generate(HMTP_RSA_DEFAULT_BITS, &why);
        if (!k->rsa)
            return hmtp_tool_fail(err, "generating the RSA key: %s", why.msg);
        k->generated = true;
    }
    /* The SPKI is the same for every key query: make it once. */
    if (!hmtp_rsa_spki(k->rsa, &k->spki)) {
        server_key_free(k);
        return hmtp_tool_fail(err, "cannot encode the public key as SubjectPublicKeyInfo");
    }
    if (write_path && !hmtp_rsa_save_private_pem(k->rsa, write_path, &why)) {
        server_key_free(k);
        return hmtp_tool_fail(err, "--write-key '%s': %s", write_path, why.msg);
    }
    return true;
}

void server_key_free(server_key *k)
{
    hmtp_rsa_free(k->rsa);
    k->rsa = NULL;
    hmtp_buf_free(&k->spki);
}
