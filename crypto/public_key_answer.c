/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hmtp_crypto.h"

hmtp_public_key_answer hmtp_public_key_answer_read(const hmtp_packet *p, const uint8_t **der, size_t *der_len)
{
    *der = NULL;
    *der_len = 0;
    /* A refusal echoes the query (or carries nothing): its reason is the
     * BamError the core already read into p->error, whatever the value. */
    if (p->type == HMTP_QUERY_ERROR)
        return HMTP_PUBLIC_KEY_REFUSED;
    const hessian_value *enc = hessian_object_field(p->value, "_encoded");
    if (p->type != HMTP_QUERY_RESULT || !hmtp_value_is_object(p->value, HMTP_GET_PUBLIC_KEY_QUERY_CLASS) || !enc ||
        enc->kind != HESSIAN_BINARY)
        return HMTP_PUBLIC_KEY_MISSING;
    *der = enc->v.bin.data;
    *der_len = enc->v.bin.len;
    return HMTP_PUBLIC_KEY_FOUND;
}
