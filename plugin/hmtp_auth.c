/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Login packets: finds the AuthQuery / GetPublicKeyQuery fields among the
 * decoded items, shows them as hmtp.auth.* / hmtp.pubkey.* and opens
 * encrypted credentials. All crypto and decoding (malloc-owned memory:
 * OpenSSL, the arena, the core decoder's stream) completes and is freed
 * before the first tree item is added, so an exception thrown by the tree
 * code cannot leak it. */
#include <string.h>

#include <openssl/crypto.h>

#include <epan/packet.h>
#include <epan/expert.h>

#include "hmtp.h"
#include "hmtp_auth.h"
#include "hmtp_crypto.h"
#include "hmtp_keys.h"
#include "hmtp_plugin.h"
#include "hmtp_tree.h"

/* The fields of one login object, pointers into dec->items (NULL: absent). */
typedef struct login {
    const hmtp_item *obj;
    bool is_auth; /* AuthQuery, else GetPublicKeyQuery */
    const hmtp_item *uid, *resource, *credentials;
    const hmtp_item *key_alg, *enc_key, *enc_data; /* of an EncryptedObject credential */
    const hmtp_item *algorithm, *format, *encoded;
} login;

static bool is_class(const hmtp_item *it, const char *cls)
{
    return it->kind == HESSIAN_OBJECT && it->v.object.cls && strcmp(it->v.object.cls, cls) == 0;
}

static bool named(const hmtp_item *it, const char *name)
{
    return it->role == HESSIAN_ROLE_FIELD && it->field_name && strcmp(it->field_name, name) == 0;
}

/* The packet's value, when it is a login object: its direct fields, and the
 * direct fields of an EncryptedObject in _credentials. */
static bool find_login(const hmtp_decoded *dec, login *l)
{
    memset(l, 0, sizeof *l);
    if (!dec->has_type)
        return false;
    unsigned i = 0;
    for (; i < dec->nitems; i++) {
        const hmtp_item *it = &dec->items[i];
        if (it->depth == 0 && it->kind != HESSIAN_CLASS_DEF && it->kind != HESSIAN_END &&
            hmtp_field_at(dec->type, it->top_index) == HMTP_FIELD_VALUE)
            break;
    }
    if (i == dec->nitems)
        return false;
    l->obj = &dec->items[i];
    l->is_auth = is_class(l->obj, HMTP_AUTH_QUERY_CLASS);
    if (!l->is_auth && !is_class(l->obj, HMTP_GET_PUBLIC_KEY_QUERY_CLASS))
        return false;
    bool in_encrypted = false;
    for (i++; i < dec->nitems && dec->items[i].depth > 0; i++) {
        const hmtp_item *it = &dec->items[i];
        if (it->depth == 1) {
            in_encrypted = false;
            if (named(it, "_uid"))
                l->uid = it;
            else if (named(it, "_resource"))
                l->resource = it;
            else if (named(it, "_credentials")) {
                l->credentials = it;
                in_encrypted = is_class(it, HMTP_ENCRYPTED_OBJECT_CLASS);
            } else if (named(it, "_algorithm"))
                l->algorithm = it;
            else if (named(it, "_format"))
                l->format = it;
            else if (named(it, "_encoded"))
                l->encoded = it;
        } else if (it->depth == 2 && in_encrypted) {
            if (named(it, "_keyAlgorithm"))
                l->key_alg = it;
            else if (named(it, "_encKey"))
                l->enc_key = it;
            else if (named(it, "_encData"))
                l->enc_data = it;
        }
    }
    return true;
}

static const char *string_of(const hmtp_item *it)
{
    return it && it->kind == HESSIAN_STRING ? it->v.str.data : NULL;
}

/* A string field, or its null/other kind in words. */
static proto_item *add_string_field(proto_tree *tree, int hf, tvbuff_t *tvb, const hmtp_item *it)
{
    if (!it)
        return NULL;
    if (it->kind == HESSIAN_STRING)
        return proto_tree_add_string(tree, hf, tvb, (int)it->offset, (int)it->length, it->v.str.data);
    return proto_tree_add_string_format_value(tree, hf, tvb, (int)it->offset, (int)it->length, "",
                                              "%s", hessian_kind_name(it->kind));
}

/* ---- GetPublicKeyQuery ---- */

static void add_public_key(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const login *l)
{
    unsigned bits = 0;
    hmtp_tool_error err = {0};
    bool have_key = l->encoded && l->encoded->kind == HESSIAN_BINARY;
    if (have_key) {
        hmtp_rsa *key = hmtp_rsa_from_spki(l->encoded->v.bin.data, l->encoded->v.bin.len, &err);
        if (key) {
            bits = hmtp_rsa_bits(key);
            hmtp_rsa_free(key);
        }
    }
    const char *alg = string_of(l->algorithm), *fmt = string_of(l->format);
    proto_item *ti = proto_tree_add_item(tree, hf_hmtp_pubkey, tvb, (int)l->obj->offset, (int)l->obj->length,
                                         ENC_NA);
    if (!have_key && !alg && !fmt)
        proto_item_set_text(ti, "Public key request (all fields null: asks the server for its key)");
    else if (bits)
        proto_item_set_text(ti, "Server public key: %s %u bits, %s", alg ? alg : "?", bits, fmt ? fmt : "?");
    else
        proto_item_set_text(ti, "Server public key: %s, %s", alg ? alg : "?", fmt ? fmt : "?");
    proto_tree *sub = proto_item_add_subtree(ti, ett_hmtp_auth);
    add_string_field(sub, hf_hmtp_pubkey_algorithm, tvb, l->algorithm);
    add_string_field(sub, hf_hmtp_pubkey_format, tvb, l->format);
    if (have_key) {
        const hmtp_item *e = l->encoded;
        proto_tree_add_uint(sub, hf_hmtp_pubkey_length, tvb, (int)e->offset, (int)e->length,
                            (guint32)e->v.bin.len);
        if (bits) {
            proto_item_set_generated(proto_tree_add_uint(sub, hf_hmtp_pubkey_bits, tvb, (int)e->offset,
                                                         (int)e->length, bits));
        } else {
            expert_add_info_format(pinfo, ti, &ei_hmtp_pubkey_invalid,
                                   "GetPublicKeyQuery._encoded is not an RSA SubjectPublicKeyInfo: %s", err.msg);
        }
    }
}

/* ---- EncryptedObject ---- */

typedef struct opened {
    bool ok;
    guint8 *plain; /* in pinfo->pool */
    size_t len;
    hmtp_decoded value;
    const char *key_path;
    unsigned key_bits;
    const char *why;     /* when !ok and no key was tried: the reason */
    wmem_array_t *tried; /* when !ok: one "with key file F: reason" per key (const char *) */
} opened;

/* Tries one key; on failure *why says why (no secrets in it). */
static bool try_key(wmem_allocator_t *pool, const hmtp_rsa *key, const hessian_value *eo, size_t wrapped,
                    opened *o, const char **why)
{
    hmtp_tool_error err = {0};
    unsigned bits = hmtp_rsa_bits(key);
    if (wrapped != (bits + 7) / 8) {
        /* PKCS#1 output is exactly as long as the modulus: say which key
         * size the capture needs instead of a bare padding error. */
        *why = wmem_strdup_printf(pool, "the key is %u-bit but _encKey is %zu bytes (wrapped with a %zu-bit key)",
                                  bits, wrapped, wrapped * 8);
        return false;
    }
    hmtp_buf plain;
    hmtp_buf_init(&plain);
    bool ok = hmtp_credentials_decrypt_bytes(key, eo, &plain, &err);
    if (!ok) {
        *why = wmem_strdup(pool, err.msg);
    } else {
        o->len = plain.len;
        o->plain = wmem_memdup(pool, plain.data, plain.len);
        hessian_stream s;
        hessian_stream_init(&s, NULL);
        hmtp_decode_body(pool, &s, hessian_stream_mark(&s), o->plain, o->len, &o->value);
        hessian_stream_free(&s);
        const hmtp_item *last = o->value.nitems ? &o->value.items[o->value.nitems - 1] : NULL;
        if (o->value.failed || o->value.ntop != 1 || !last || last->offset + last->length != o->len) {
            /* the last check of a wrong key: padding can pass by chance */
            *why = "the decrypted bytes are not one Hessian value (wrong key?)";
            ok = false;
        }
    }
    if (plain.data)
        OPENSSL_cleanse(plain.data, plain.len);
    hmtp_buf_free(&plain);
    o->key_bits = bits;
    return ok;
}

static void open_credentials(packet_info *pinfo, const login *l, opened *o)
{
    wmem_allocator_t *pool = pinfo->pool;
    memset(o, 0, sizeof *o);
    unsigned n = hmtp_keys_count();
    if (n == 0) {
        const char *load = hmtp_keys_load_errors();
        if (load[0])
            o->why = wmem_strdup_printf(pool, "no key of the HMTP \"RSA keys list\" preference loaded: %s", load);
        else
            o->why = "no RSA private key configured: add the broker's PEM key file to the HMTP "
                     "\"RSA keys list\" preference (Preferences → Protocols → HMTP, uat:" HMTP_KEYS_UAT ")";
        return;
    }
    if (!l->enc_key || l->enc_key->kind != HESSIAN_BINARY || !l->enc_data || l->enc_data->kind != HESSIAN_BINARY) {
        o->why = "EncryptedObject lacks the _encKey/_encData byte arrays";
        return;
    }
    hmtp_arena a;
    hmtp_arena_init(&a);
    const char *alg = string_of(l->key_alg);
    hessian_value *eo = hmtp_new_encrypted_object(&a, alg, l->enc_key->v.bin.data, l->enc_key->v.bin.len,
                                                  l->enc_data->v.bin.data, l->enc_data->v.bin.len);
    o->tried = wmem_array_new(pool, sizeof(const char *));
    if (!eo) {
        o->why = "out of memory";
    } else {
        for (unsigned i = 0; i < n && !o->ok; i++) {
            const char *why = NULL;
            o->ok = try_key(pool, hmtp_keys_get(i), eo, l->enc_key->v.bin.len, o, &why);
            if (o->ok) {
                o->key_path = hmtp_keys_path(i);
            } else {
                /* the file's base name keeps the message within an expert
                 * item's length; the tree's key file field has the path */
                char *base = g_path_get_basename(hmtp_keys_path(i));
                const char *line = wmem_strdup_printf(pool, "with key file %s: %s", base, why);
                g_free(base);
                wmem_array_append_one(o->tried, line);
            }
        }
    }
    hmtp_arena_free(&a);
}

static void add_credentials(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const login *l)
{
    const hmtp_item *c = l->credentials;
    if (!c)
        return;
    if (c->kind == HESSIAN_STRING) {
        proto_item_set_generated(proto_tree_add_boolean(tree, hf_hmtp_auth_encrypted, tvb, (int)c->offset,
                                                        (int)c->length, FALSE));
        proto_tree_add_string(tree, hf_hmtp_auth_password, tvb, (int)c->offset, (int)c->length, c->v.str.data);
        return;
    }
    if (!is_class(c, HMTP_ENCRYPTED_OBJECT_CLASS)) {
        add_string_field(tree, hf_hmtp_auth_password, tvb, c);
        return;
    }
    opened o;
    open_credentials(pinfo, l, &o); /* before any item: see the file comment */
    proto_item *ei = proto_tree_add_boolean(tree, hf_hmtp_auth_encrypted, tvb, (int)c->offset, (int)c->length, TRUE);
    proto_item_set_generated(ei);
    add_string_field(tree, hf_hmtp_auth_key_algorithm, tvb, l->key_alg);
    if (l->enc_key && l->enc_key->kind == HESSIAN_BINARY)
        proto_item_append_text(proto_tree_add_uint(tree, hf_hmtp_auth_enc_key_length, tvb, (int)l->enc_key->offset,
                                                   (int)l->enc_key->length, (guint32)l->enc_key->v.bin.len),
                               " (RSA-wrapped AES key, a %zu-bit modulus)", l->enc_key->v.bin.len * 8);
    if (l->enc_data && l->enc_data->kind == HESSIAN_BINARY)
        proto_tree_add_uint(tree, hf_hmtp_auth_enc_data_length, tvb, (int)l->enc_data->offset,
                            (int)l->enc_data->length, (guint32)l->enc_data->v.bin.len);
    if (!o.ok) {
        guint tried = o.tried ? wmem_array_get_count(o.tried) : 0;
        if (tried == 0)
            expert_add_info_format(pinfo, ei, &ei_hmtp_auth_undecrypted, "Credentials could not be decrypted: %s",
                                   o.why);
        for (guint i = 0; i < tried; i++)
            expert_add_info_format(pinfo, ei, &ei_hmtp_auth_undecrypted, "Credentials could not be decrypted %s",
                                   *(const char **)wmem_array_index(o.tried, i));
        return;
    }
    tvbuff_t *dtvb = tvb_new_child_real_data(tvb, o.plain, (guint)o.len, (gint)o.len);
    add_new_data_source(pinfo, dtvb, "Decrypted credentials");
    proto_item *di = proto_tree_add_item(tree, hf_hmtp_auth_decrypted, dtvb, 0, (int)o.len, ENC_NA);
    proto_item_set_text(di, "Decrypted credentials (with the %u-bit RSA key %s)", o.key_bits, o.key_path);
    proto_item_set_generated(di);
    proto_tree *dt = proto_item_add_subtree(di, ett_hmtp_auth_decrypted);
    proto_item_set_generated(proto_tree_add_string(dt, hf_hmtp_auth_key_file, dtvb, 0, 0, o.key_path));
    const hmtp_item *v = &o.value.items[0];
    if (v->kind == HESSIAN_STRING)
        proto_item_set_generated(proto_tree_add_string(dt, hf_hmtp_auth_password, dtvb, (int)v->offset,
                                                       (int)v->length, v->v.str.data));
    hmtp_tree_add_values(dtvb, pinfo, dt, &o.value);
}

static void add_auth(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const login *l)
{
    proto_item *ti = proto_tree_add_item(tree, hf_hmtp_auth, tvb, (int)l->obj->offset, (int)l->obj->length, ENC_NA);
    const char *uid = string_of(l->uid);
    bool encrypted = l->credentials && is_class(l->credentials, HMTP_ENCRYPTED_OBJECT_CLASS);
    proto_item_set_text(ti, "Login: %s (%s credentials)", uid ? uid : "null uid",
                        encrypted ? "encrypted" : l->credentials ? hessian_kind_name(l->credentials->kind) : "no");
    proto_tree *sub = proto_item_add_subtree(ti, ett_hmtp_auth);
    add_string_field(sub, hf_hmtp_auth_uid, tvb, l->uid);
    add_string_field(sub, hf_hmtp_auth_resource, tvb, l->resource);
    add_credentials(tvb, pinfo, sub, l);
}

void hmtp_auth_add(tvbuff_t *body_tvb, packet_info *pinfo, proto_tree *tree, const hmtp_decoded *dec)
{
    login l;
    if (!find_login(dec, &l))
        return;
    if (l.is_auth)
        add_auth(body_tvb, pinfo, tree, &l);
    else
        add_public_key(body_tvb, pinfo, tree, &l);
}
