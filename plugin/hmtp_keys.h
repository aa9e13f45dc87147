/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The broker private keys the dissector may use to open encrypted login
 * credentials: the "RSA keys list" preference (a UAT of PEM files, like the
 * TLS dissector's), loaded once whenever the list changes and freed when it
 * changes again or Wireshark exits. */
#ifndef HMTP_KEYS_H
#define HMTP_KEYS_H

#include <epan/prefs.h>

#include "hmtp_crypto.h"

/* The UAT's name, for `-o uat:hmtp_rsa_keys:"/path/key.pem"`. */
#define HMTP_KEYS_UAT "hmtp_rsa_keys"

void hmtp_keys_register(module_t *module);

/* Keys that loaded, in list order. */
unsigned hmtp_keys_count(void);
const hmtp_rsa *hmtp_keys_get(unsigned i);
const char *hmtp_keys_path(unsigned i);
/* Why entries of the list did not load ("" when all did), for expert info. */
const char *hmtp_keys_load_errors(void);

#endif
