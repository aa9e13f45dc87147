/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JIDs: [user@]domain[/resource]. */
#ifndef HMTP_JID_H
#define HMTP_JID_H

#include <stdbool.h>
#include <stddef.h>

typedef struct hmtp_jid {
    const char *user; /* NULL when absent; points into the parsed string */
    size_t user_len;
    const char *domain;
    size_t domain_len;
    const char *resource; /* NULL when absent */
    size_t resource_len;
    size_t bare_len; /* length of "user@domain" (or "domain") prefix */
} hmtp_jid;

/* Splits s at the first '/' (resource) and the last '@' before it (user).
 * Returns false for an empty domain. */
bool hmtp_jid_parse(const char *s, size_t len, hmtp_jid *out);

#endif
