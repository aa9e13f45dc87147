/* SPDX-License-Identifier: GPL-2.0-or-later */
/* See shard.h. Ties are collected as bare JIDs per session while the capture
 * is read (the login JIDs of other sessions may be learned later), and
 * resolved at the split with a union-find over the sessions. */
#include "shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmtp.h"
#include "jid.h"

enum { NOTES_MAX = 20 }; /* group lines in the notes; the rest are counted */

typedef struct shard_seen {
    GHashTable *peers;    /* bare JIDs addressed or heard from (owned keys) */
    GHashTable *msg_to;   /* bare JIDs this session sent a message to */
    GHashTable *msg_from; /* bare JIDs this session received a message from */
} shard_seen;

struct shard_plan {
    unsigned sessions;
    unsigned *parent;
    uint64_t *work;      /* client packets + 1 */
    char **bare;         /* the session's login JID, bare; NULL if none seen */
    shard_seen *seen;
    unsigned *shard;
    GPtrArray *notes;    /* char*, NULL-terminated */
};

bool shard_spec_parse(const char *text, shard_spec *out, hmtp_tool_error *why)
{
    const char *slash = strchr(text, '/');
    char *end = NULL;
    if (!slash) {
        hmtp_tool_fail(why, "--shard %s: expected K/N or auto/N", text);
        return false;
    }
    errno = 0;
    unsigned long n = strtoul(slash + 1, &end, 10);
    if (errno || end == slash + 1 || *end || n == 0 || n > 100000) {
        hmtp_tool_fail(why, "--shard %s: N must be a number from 1 to 100000", text);
        return false;
    }
    unsigned long k;
    if ((size_t)(slash - text) == 4 && strncmp(text, "auto", 4) == 0) {
        const char *index = getenv("JOB_COMPLETION_INDEX");
        if (!index || !*index) {
            hmtp_tool_fail(why, "--shard %s: auto needs JOB_COMPLETION_INDEX (set in each pod of a "
                                   "Kubernetes Indexed Job), and it is not set", text);
            return false;
        }
        errno = 0;
        k = strtoul(index, &end, 10);
        if (errno || end == index || *end) {
            hmtp_tool_fail(why, "--shard %s: JOB_COMPLETION_INDEX=%s is not a number", text, index);
            return false;
        }
    } else {
        errno = 0;
        k = strtoul(text, &end, 10);
        if (errno || end == text || end != slash) {
            hmtp_tool_fail(why, "--shard %s: K must be a number or auto", text);
            return false;
        }
    }
    if (k >= n) {
        hmtp_tool_fail(why, "--shard %s: shard %lu does not exist: shards are numbered 0 to %lu", text, k, n - 1);
        return false;
    }
    out->k = (unsigned)k;
    out->n = (unsigned)n;
    return true;
}

shard_plan *shard_plan_new(unsigned sessions)
{
    shard_plan *p = g_new0(shard_plan, 1);
    p->sessions = sessions;
    p->parent = g_new(unsigned, sessions ? sessions : 1);
    p->work = g_new(uint64_t, sessions ? sessions : 1);
    p->bare = g_new0(char *, sessions ? sessions : 1);
    p->seen = g_new0(shard_seen, sessions ? sessions : 1);
    p->shard = g_new0(unsigned, sessions ? sessions : 1);
    for (unsigned i = 0; i < sessions; i++) {
        p->parent[i] = i;
        p->work[i] = 1;
        p->seen[i].peers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        p->seen[i].msg_to = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        p->seen[i].msg_from = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    }
    p->notes = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(p->notes, NULL);
    return p;
}

void shard_plan_free(shard_plan *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->sessions; i++) {
        g_free(p->bare[i]);
        g_hash_table_destroy(p->seen[i].peers);
        g_hash_table_destroy(p->seen[i].msg_to);
        g_hash_table_destroy(p->seen[i].msg_from);
    }
    g_free(p->parent);
    g_free(p->work);
    g_free(p->bare);
    g_free(p->seen);
    g_free(p->shard);
    g_ptr_array_free(p->notes, TRUE);
    g_free(p);
}

/* "user@domain" of a JID, newly allocated; NULL for NULL or unparsable. */
static char *bare_of(const char *jid)
{
    hmtp_jid j;
    if (!jid || !hmtp_jid_parse(jid, strlen(jid), &j))
        return NULL;
    return g_strndup(jid, j.bare_len);
}

static void add_to(GHashTable *set, const char *jid)
{
    char *b = bare_of(jid);
    if (b)
        g_hash_table_add(set, b);
}

void shard_plan_jid(shard_plan *p, unsigned session, const char *jid)
{
    if (session >= p->sessions || !jid)
        return;
    g_free(p->bare[session]);
    p->bare[session] = bare_of(jid);
}

void shard_plan_packet(shard_plan *p, unsigned session, replay_dir dir, int32_t type, const char *to,
                       const char *from)
{
    if (session >= p->sessions)
        return;
    shard_seen *s = &p->seen[session];
    if (dir == REPLAY_C2S) {
        p->work[session]++;
        add_to(s->peers, to);
        if (type == HMTP_MESSAGE)
            add_to(s->msg_to, to);
    } else {
        add_to(s->peers, from);
        if (type == HMTP_MESSAGE)
            add_to(s->msg_from, from);
    }
}

static unsigned find(shard_plan *p, unsigned s)
{
    while (p->parent[s] != s) {
        p->parent[s] = p->parent[p->parent[s]];
        s = p->parent[s];
    }
    return s;
}

/* Ties a and b; the JID that tied them is remembered for the notes. */
static void tie(shard_plan *p, unsigned a, unsigned b, const char *why, GHashTable *why_sets)
{
    unsigned ra = find(p, a), rb = find(p, b);
    if (ra != rb) {
        /* the lower session id stays the root: the same tree in every process */
        if (rb < ra) {
            unsigned t = ra;
            ra = rb;
            rb = t;
        }
        p->parent[rb] = ra;
        p->work[ra] += p->work[rb];
    }
    g_hash_table_add(why_sets, g_strdup_printf("%u\t%s", ra, why));
}

typedef struct shard_group {
    unsigned root;
    uint64_t work;
    unsigned members;
} shard_group;

static int by_work_desc(const void *a, const void *b)
{
    const shard_group *x = a, *y = b;
    if (x->work != y->work)
        return x->work > y->work ? -1 : 1;
    return x->root < y->root ? -1 : x->root > y->root;
}

/* "0-3,7,9-10" */
static void append_ranges(GString *out, const unsigned *ids, unsigned n)
{
    for (unsigned i = 0; i < n;) {
        unsigned j = i;
        while (j + 1 < n && ids[j + 1] == ids[j] + 1)
            j++;
        if (i)
            g_string_append_c(out, ',');
        if (j == i)
            g_string_append_printf(out, "%u", ids[i]);
        else
            g_string_append_printf(out, "%u-%u", ids[i], ids[j]);
        i = j + 1;
    }
}

/* g_ptr_array_sort hands the comparator pointers to the elements: the
 * names themselves are one step further. */
static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void shard_plan_split(shard_plan *p, unsigned n)
{
    if (n == 0)
        n = 1;
    /* owners: bare JID -> the sessions logged in as it */
    GHashTable *owners = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_array_unref);
    for (unsigned s = 0; s < p->sessions; s++) {
        if (!p->bare[s])
            continue;
        GArray *a = g_hash_table_lookup(owners, p->bare[s]);
        if (!a) {
            a = g_array_new(FALSE, FALSE, sizeof(unsigned));
            g_hash_table_insert(owners, p->bare[s], a);
        }
        g_array_append_val(a, s);
    }
    GHashTable *why_sets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    /* direct ties, and the first sender/receiver of each service's messages */
    GHashTable *svc_sender = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTable *svc_receiver = g_hash_table_new(g_str_hash, g_str_equal);
    for (unsigned s = 0; s < p->sessions; s++) {
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, p->seen[s].peers);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
            GArray *a = g_hash_table_lookup(owners, key);
            for (guint i = 0; a && i < a->len; i++)
                if (g_array_index(a, unsigned, i) != s)
                    tie(p, s, g_array_index(a, unsigned, i), key, why_sets);
        }
        /* each bare JID of a user also ties that user's own sessions */
        if (p->bare[s]) {
            GArray *a = g_hash_table_lookup(owners, p->bare[s]);
            for (guint i = 0; i < a->len; i++)
                if (g_array_index(a, unsigned, i) != s)
                    tie(p, s, g_array_index(a, unsigned, i), p->bare[s], why_sets);
        }
        g_hash_table_iter_init(&it, p->seen[s].msg_to);
        while (g_hash_table_iter_next(&it, &key, NULL))
            if (!g_hash_table_contains(owners, key) && !g_hash_table_contains(svc_sender, key))
                g_hash_table_insert(svc_sender, key, GUINT_TO_POINTER(s + 1));
        g_hash_table_iter_init(&it, p->seen[s].msg_from);
        while (g_hash_table_iter_next(&it, &key, NULL))
            if (!g_hash_table_contains(owners, key) && !g_hash_table_contains(svc_receiver, key))
                g_hash_table_insert(svc_receiver, key, GUINT_TO_POINTER(s + 1));
    }
    /* services: every sender and every receiver of a service's messages in
       one group, when it has at least one of each */
    for (unsigned s = 0; s < p->sessions; s++) {
        GHashTable *sets[2] = {p->seen[s].msg_to, p->seen[s].msg_from};
        for (int k = 0; k < 2; k++) {
            GHashTableIter it;
            gpointer key;
            g_hash_table_iter_init(&it, sets[k]);
            while (g_hash_table_iter_next(&it, &key, NULL)) {
                gpointer snd = g_hash_table_lookup(svc_sender, key), rcv = g_hash_table_lookup(svc_receiver, key);
                if (!snd || !rcv)
                    continue;
                unsigned anchor = GPOINTER_TO_UINT(snd) - 1;
                if (anchor != s)
                    tie(p, s, anchor, key, why_sets);
                unsigned other = GPOINTER_TO_UINT(rcv) - 1;
                if (other != s)
                    tie(p, s, other, key, why_sets);
            }
        }
    }
    g_hash_table_destroy(svc_sender);
    g_hash_table_destroy(svc_receiver);
    g_hash_table_destroy(owners);

    /* groups, largest first, each to the least loaded shard */
    GArray *groups = g_array_new(FALSE, FALSE, sizeof(shard_group));
    unsigned *members = g_new0(unsigned, p->sessions ? p->sessions : 1);
    for (unsigned s = 0; s < p->sessions; s++)
        members[find(p, s)]++;
    for (unsigned s = 0; s < p->sessions; s++)
        if (find(p, s) == s)
            g_array_append_val(groups, ((shard_group){.root = s, .work = p->work[s], .members = members[s]}));
    g_array_sort(groups, by_work_desc);
    uint64_t *load = g_new0(uint64_t, n);
    unsigned *root_shard = g_new0(unsigned, p->sessions ? p->sessions : 1);
    for (guint i = 0; i < groups->len; i++) {
        shard_group *g = &g_array_index(groups, shard_group, i);
        unsigned best = 0;
        for (unsigned k = 1; k < n; k++)
            if (load[k] < load[best])
                best = k;
        load[best] += g->work;
        root_shard[g->root] = best;
    }
    for (unsigned s = 0; s < p->sessions; s++)
        p->shard[s] = root_shard[find(p, s)];

    /* notes: the groups of more than one session, in session order */
    g_ptr_array_set_size(p->notes, 0);
    unsigned listed = 0, unlisted = 0;
    unsigned *ids = g_new(unsigned, p->sessions ? p->sessions : 1);
    for (unsigned r = 0; r < p->sessions; r++) {
        if (find(p, r) != r || members[r] < 2)
            continue;
        if (listed == NOTES_MAX) {
            unlisted++;
            continue;
        }
        unsigned m = 0;
        for (unsigned s = r; s < p->sessions; s++)
            if (find(p, s) == r)
                ids[m++] = s;
        GString *line = g_string_new("sessions ");
        append_ranges(line, ids, m);
        g_string_append_printf(line, " replayed together in shard %u: tied by ", root_shard[r]);
        /* the JIDs that tied them: collected per root of the moment, so look
           through every entry whose session now has this root */
        GPtrArray *names = g_ptr_array_new();
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, why_sets);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
            const char *tab = strchr(key, '\t');
            if (find(p, (unsigned)strtoul(key, NULL, 10)) == r)
                g_ptr_array_add(names, (gpointer)(tab + 1));
        }
        g_ptr_array_sort(names, compare_names);
        const char *prev = NULL;
        unsigned shown = 0;
        for (guint i = 0; i < names->len; i++) {
            const char *nm = *(const char **)&names->pdata[i];
            if (prev && strcmp(prev, nm) == 0)
                continue;
            if (shown == 8) {
                g_string_append(line, ", ...");
                break;
            }
            g_string_append_printf(line, "%s%s", shown ? ", " : "", nm);
            prev = nm, shown++;
        }
        g_ptr_array_free(names, TRUE);
        g_ptr_array_add(p->notes, g_string_free(line, FALSE));
        listed++;
    }
    if (unlisted)
        g_ptr_array_add(p->notes, g_strdup_printf("and %u more groups of tied sessions", unlisted));
    g_ptr_array_add(p->notes, NULL);
    g_free(ids);
    g_free(members);
    g_free(root_shard);
    g_free(load);
    g_array_free(groups, TRUE);
    g_hash_table_destroy(why_sets);
}

unsigned shard_of(const shard_plan *p, unsigned session)
{
    return session < p->sessions ? p->shard[session] : 0;
}

const char *const *shard_plan_notes(const shard_plan *p)
{
    return (const char *const *)p->notes->pdata;
}
