/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "jid.h"

#include <string.h>

#include "utf8.h"

bool hmtp_jid_parse(const char *s, size_t len, hmtp_jid *out)
{
    memset(out, 0, sizeof *out);
    if (!s)
        return false;
    const char *slash = memchr(s, '/', len);
    size_t bare = slash ? (size_t)(slash - s) : len;
    /* The user part ends at the last '@' of the bare JID, so a domain never
       contains '@'; a resource may contain anything. */
    const char *at = NULL;
    for (size_t i = 0; i < bare; i++)
        if (s[i] == '@')
            at = s + i;
    if (at) {
        out->user = s;
        out->user_len = (size_t)(at - s);
        out->domain = at + 1;
    } else {
        out->domain = s;
    }
    out->domain_len = (size_t)(s + bare - out->domain);
    out->bare_len = bare;
    if (slash) {
        out->resource = slash + 1;
        out->resource_len = len - bare - 1;
    }
    return out->domain_len > 0;
}

const char *hmtp_jid_check(const char *s, size_t len, size_t *bad_at)
{
    const uint8_t *u = (const uint8_t *)s;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n;
        if (bad_at)
            *bad_at = i;
        if (hmtp_utf8_next(u + i, len - i, &cp, &n) != HMTP_UTF8_OK)
            return "bytes that are not UTF-8";
        if (cp == 0)
            return "U+0000";
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
            return "a control character";
        i += n;
    }
    return NULL;
}
