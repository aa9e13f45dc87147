/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "jidmap.h"

#include <stdio.h>
#include <string.h>

#include "jid.h"

void jid_map_init(jid_map *m)
{
    m->full = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    m->bare = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    m->domain = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

void jid_map_free(jid_map *m)
{
    g_hash_table_destroy(m->full);
    g_hash_table_destroy(m->bare);
    g_hash_table_destroy(m->domain);
}

void jid_map_add_full(jid_map *m, const char *old_jid, const char *new_jid)
{
    g_hash_table_replace(m->full, g_strdup(old_jid), g_strdup(new_jid));
}

void jid_map_add_missing(jid_map *dst, const jid_map *src)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, src->full);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (!g_hash_table_contains(dst->full, k))
            jid_map_add_full(dst, k, v);
}

bool jid_map_add_rule(jid_map *m, const char *rule, hmtp_tool_error *why)
{
    const char *eq = strchr(rule, '=');
    if (!eq || eq == rule || !eq[1]) {
        hmtp_tool_fail(why, "--map-jid '%s': expected OLD=NEW", rule);
        return false;
    }
    char *old = g_strndup(rule, (size_t)(eq - rule));
    const char *new_jid = eq + 1;
    hmtp_jid a, b;
    if (!hmtp_jid_parse(old, strlen(old), &a) || !hmtp_jid_parse(new_jid, strlen(new_jid), &b)) {
        hmtp_tool_fail(why, "--map-jid '%s': '%s' or '%s' is not a JID", rule, old, new_jid);
        g_free(old);
        return false;
    }
    /* Both sides must be of the same form, or the result would not be a JID
       of the kind the rule promises. */
    bool old_full = a.resource != NULL, new_full = b.resource != NULL;
    bool old_bare = !old_full && a.user, new_bare = !new_full && b.user;
    if (old_full != new_full || old_bare != new_bare) {
        hmtp_tool_fail(why, "--map-jid '%s': both sides must be full JIDs, bare JIDs or domains", rule);
        g_free(old);
        return false;
    }
    GHashTable *t = old_full ? m->full : old_bare ? m->bare : m->domain;
    g_hash_table_replace(t, old, g_strdup(new_jid));
    return true;
}

bool jid_map_empty(const jid_map *m)
{
    return !g_hash_table_size(m->full) && !g_hash_table_size(m->bare) && !g_hash_table_size(m->domain);
}

/* Runs for every JID of every packet sent and every reply compared: a
 * table that is empty (most maps, most of the time) is not looked into. */
char *jid_map_apply(const jid_map *m, const char *jid)
{
    if (!jid)
        return NULL;
    const char *exact = g_hash_table_size(m->full) ? g_hash_table_lookup(m->full, jid) : NULL;
    if (exact)
        return g_strdup(exact);
    if (!g_hash_table_size(m->bare) && !g_hash_table_size(m->domain))
        return NULL;
    hmtp_jid j;
    if (!hmtp_jid_parse(jid, strlen(jid), &j))
        return NULL;
    const char *resource = j.resource ? j.resource - 1 : ""; /* with its '/' */
    if (j.user && g_hash_table_size(m->bare)) {
        char *bare = g_strndup(jid, j.bare_len);
        const char *to = g_hash_table_lookup(m->bare, bare);
        g_free(bare);
        if (to)
            return g_strconcat(to, resource, NULL);
    }
    if (g_hash_table_size(m->domain)) {
        char *domain = g_strndup(j.domain, j.domain_len);
        const char *to = g_hash_table_lookup(m->domain, domain);
        g_free(domain);
        if (to) {
            if (j.user) {
                char *user = g_strndup(j.user, j.user_len);
                char *out = g_strconcat(user, "@", to, resource, NULL);
                g_free(user);
                return out;
            }
            return g_strconcat(to, resource, NULL);
        }
    }
    return NULL;
}
