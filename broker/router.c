/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "router.h"

#include <string.h>

#include "jid.h"

static void links_free(gpointer p)
{
    g_ptr_array_free(p, TRUE);
}

void router_init(broker *b)
{
    /* Keys of by_full are the connections' own jid strings (not owned here);
     * by_bare owns its keys. */
    b->by_full = g_hash_table_new(g_str_hash, g_str_equal);
    b->by_bare = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, links_free);
}

void router_free(broker *b)
{
    g_hash_table_destroy(b->by_full);
    g_hash_table_destroy(b->by_bare);
}

char *router_bare_of(const char *jid)
{
    hmtp_jid j;
    if (!jid || !hmtp_jid_parse(jid, strlen(jid), &j))
        return NULL;
    return g_strndup(jid, j.bare_len);
}

bool router_add(broker *b, conn *c)
{
    if (g_hash_table_contains(b->by_full, c->jid))
        return false;
    g_hash_table_insert(b->by_full, c->jid, c);
    char *bare = router_bare_of(c->jid);
    if (!bare)
        return true; /* cannot happen: the broker built this JID */
    GPtrArray *links = g_hash_table_lookup(b->by_bare, bare);
    if (!links) {
        links = g_ptr_array_new();
        g_hash_table_insert(b->by_bare, bare, links);
    } else {
        g_free(bare);
    }
    g_ptr_array_add(links, c);
    return true;
}

void router_remove(broker *b, conn *c)
{
    if (!c->jid || g_hash_table_lookup(b->by_full, c->jid) != c)
        return;
    g_hash_table_remove(b->by_full, c->jid);
    char *bare = router_bare_of(c->jid);
    if (!bare)
        return;
    GPtrArray *links = g_hash_table_lookup(b->by_bare, bare);
    if (links) {
        g_ptr_array_remove(links, c); /* keeps the order of the others */
        if (links->len == 0)
            g_hash_table_remove(b->by_bare, bare);
    }
    g_free(bare);
}

conn *router_lookup(broker *b, const char *jid)
{
    if (!jid)
        return NULL;
    conn *c = g_hash_table_lookup(b->by_full, jid);
    if (c)
        return c;
    hmtp_jid j;
    if (!hmtp_jid_parse(jid, strlen(jid), &j) || j.resource)
        return NULL; /* a full JID that is not connected */
    GPtrArray *links = g_hash_table_lookup(b->by_bare, jid);
    return links && links->len > 0 ? g_ptr_array_index(links, 0) : NULL;
}
