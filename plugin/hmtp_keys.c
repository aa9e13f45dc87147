/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The RSA keys list. A list rather than one filename: one capture may hold
 * logins to several brokers, each with its own key, and the TLS dissector's
 * RSA keys list has taught users this shape. Unlike TLS, a key needs no
 * address or port: the dissector tries each key on an EncryptedObject and a
 * wrong key is rejected by the RSA padding, the AES-128 key length, the AES
 * padding and the Hessian decode of the result. */
#include <string.h>

#include <epan/packet.h>
#include <epan/uat.h>
#include <wsutil/report_message.h>

#include "hmtp_keys.h"
#include "hmtp_ws_compat.h"

typedef struct key_rec {
    char *path;
} key_rec;

static key_rec *recs;
static guint nrecs;

typedef struct loaded_key {
    hmtp_rsa *key;
    char *path;
} loaded_key;

static GArray *loaded;  /* of loaded_key; NULL until the list first changes */
static GString *errors; /* load failures of the current list */

UAT_FILENAME_CB_DEF(key_rec, path, key_rec)

static void *rec_copy(void *dest, const void *src, size_t len _U_)
{
    key_rec *d = dest;
    const key_rec *s = src;
    d->path = g_strdup(s->path);
    return d;
}

static void rec_free(void *r)
{
    key_rec *k = r;
    g_free(k->path);
    k->path = NULL;
}

static hmtp_ws_bool rec_update(void *r, char **error)
{
    key_rec *k = r;
    if (!k->path || !k->path[0]) {
        *error = g_strdup("a key file is required");
        return false;
    }
    return true;
}

static void unload(void)
{
    if (loaded) {
        for (guint i = 0; i < loaded->len; i++) {
            loaded_key *lk = &g_array_index(loaded, loaded_key, i);
            hmtp_rsa_free(lk->key);
            g_free(lk->path);
        }
        g_array_set_size(loaded, 0);
    }
    if (errors)
        g_string_truncate(errors, 0);
}

/* Called after the list is read (profile file, `-o uat:`) or edited: loading
 * here, once, keeps file I/O and PEM parsing out of packet dissection. */
static void reload(void)
{
    unload();
    if (!loaded)
        loaded = g_array_new(FALSE, TRUE, sizeof(loaded_key));
    if (!errors)
        errors = g_string_new(NULL);
    for (guint i = 0; i < nrecs; i++) {
        hmtp_tool_error err = {0};
        hmtp_rsa *key = hmtp_rsa_load_private_pem(recs[i].path, &err);
        if (!key) {
            g_string_append_printf(errors, "%s%s: %s", errors->len ? "; " : "", recs[i].path, err.msg);
            continue;
        }
        loaded_key lk = {key, g_strdup(recs[i].path)};
        g_array_append_val(loaded, lk);
    }
    if (errors->len)
        report_failure("HMTP RSA keys list: %s", errors->str);
}

static void shutdown_keys(void)
{
    unload();
    if (loaded)
        g_array_free(loaded, TRUE);
    if (errors)
        g_string_free(errors, TRUE);
    loaded = NULL;
    errors = NULL;
}

void hmtp_keys_register(module_t *module)
{
    static uat_field_t fields[] = {
        UAT_FLD_FILENAME_OTHER(key_rec, path, "Key file",
                               uat_fld_chk_str, "PEM private key of an HMTP broker (PKCS#1 or PKCS#8, unencrypted)"),
        UAT_END_FIELDS};
    uat_t *uat = uat_new("HMTP RSA keys", sizeof(key_rec), HMTP_KEYS_UAT, TRUE, &recs, &nrecs,
                         UAT_AFFECTS_DISSECTION, NULL, rec_copy, rec_update, rec_free, reload, NULL, fields);
    prefs_register_uat_preference(module, "rsa_keys", "RSA keys list",
                                  "Private keys of HMTP brokers (PEM files, e.g. what the broker's --write-key "
                                  "wrote), used to decrypt EncryptedObject login credentials",
                                  uat);
    register_shutdown_routine(shutdown_keys);
}

unsigned hmtp_keys_count(void)
{
    return loaded ? loaded->len : 0;
}

const hmtp_rsa *hmtp_keys_get(unsigned i)
{
    return i < hmtp_keys_count() ? g_array_index(loaded, loaded_key, i).key : NULL;
}

const char *hmtp_keys_path(unsigned i)
{
    return i < hmtp_keys_count() ? g_array_index(loaded, loaded_key, i).path : NULL;
}

const char *hmtp_keys_load_errors(void)
{
    return errors ? errors->str : "";
}
