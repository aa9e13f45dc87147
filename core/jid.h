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

/* Characters: NULL when every character of s[0..len) may stand in a JID,
 * else why not, with *bad_at (if non-NULL) the byte offset of the first
 * offender. Refused: U+0000 (C code would stop reading there, so a check
 * would run on something other than what was sent) and every other control
 * character (U+0001-U+001F, U+007F-U+009F), which XMPP forbids in every part
 * of an address (RFC 7622 via PRECIS), and bytes that are not UTF-8. */
const char *hmtp_jid_check(const char *s, size_t len, size_t *bad_at);
static inline bool hmtp_jid_valid(const char *s, size_t len)
{
    return hmtp_jid_check(s, len, NULL) == NULL;
}

#endif
