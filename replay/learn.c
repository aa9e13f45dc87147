/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "learn.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli_parse.h"
#include "hmtp.h"

/* Values shown per line: enough to see what kind of noise it is. */
#define VALUES_SHOWN 4

/* A field that differs from the recording, keyed by the recorded reply it
 * was paired with and its path. */
static char *diff_key(const verify_diff *d) { return g_strdup_printf("%" PRIu64 "\t%s", d->frame, d->path); }

static bool learnable(const verify_diff *d)
{
    /* "order" is where a reply arrived, not a field of it */
    return d->kind == DIFF_DIFFERENT && d->path && strcmp(d->path, "order") != 0;
}

/* One run's differences for one job: key -> verify_diff, and the recorded
 * frames whose fields it does not know in full: no reply (compared with
 * nothing), or more differences than verify lists (a field not listed may
 * differ too; taking it for "as recorded" could learn a real change). */
typedef struct run_view {
    GHashTable *fields;
    GHashTable *unknown; /* frame (as a key) */
} run_view;

static void view_init(run_view *v, const job_result *j)
{
    v->fields = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    v->unknown = g_hash_table_new(g_int64_hash, g_int64_equal);
    GHashTable *per_frame = g_hash_table_new(g_int64_hash, g_int64_equal); /* frame -> differences listed */
    for (guint k = 0; k < verify_diff_count(&j->verdict); k++) {
        verify_diff *d = g_ptr_array_index(j->verdict.diffs, k);
        if (d->kind == DIFF_MISSING)
            g_hash_table_add(v->unknown, &d->frame);
        if (d->kind != DIFF_DIFFERENT)
            continue;
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(per_frame, &d->frame)) + 1;
        g_hash_table_insert(per_frame, &d->frame, GUINT_TO_POINTER(n));
        if (n >= VERIFY_MAX_DIFFS)
            g_hash_table_add(v->unknown, &d->frame);
        if (learnable(d))
            g_hash_table_insert(v->fields, diff_key(d), d);
    }
    g_hash_table_destroy(per_frame);
}

static void view_free(run_view *v)
{
    g_hash_table_destroy(v->fields);
    g_hash_table_destroy(v->unknown);
}

/* A date as the reports show it ({"$date":MS}) with its UTC time beside
 * it: a reviewer sees at once that it is a clock. */
static char *readable(const char *v)
{
    static const char prefix[] = "{\"$date\":";
    if (strncmp(v, prefix, sizeof prefix - 1) != 0)
        return g_strdup(v);
    char *end;
    long long ms = strtoll(v + sizeof prefix - 1, &end, 10);
    long long sec = ms / 1000, rem = ms % 1000;
    if (rem < 0) { /* before 1970: the second below, plus a positive part */
        rem += 1000;
        sec--;
    }
    GDateTime *t = strcmp(end, "}") == 0 ? g_date_time_new_from_unix_utc(sec) : NULL;
    if (!t)
        return g_strdup(v);
    char *day = g_date_time_format(t, "%Y-%m-%dT%H:%M:%S");
    char *out = g_strdup_printf("%s (%s.%03lldZ)", v, day, rem);
    g_free(day);
    g_date_time_unref(t);
    return out;
}

static void add_value(GPtrArray *values, const char *v)
{
    char *shown = readable(v);
    for (guint i = 0; i < values->len; i++) {
        if (strcmp(g_ptr_array_index(values, i), shown) == 0) {
            g_free(shown);
            return;
        }
    }
    if (values->len < VALUES_SHOWN)
        g_ptr_array_add(values, shown);
    else
        g_free(shown);
}

static void learn_line(learn_result *out, const verify_diff *d, const char *va, const char *vb)
{
    const char *type = hmtp_type_name(d->type);
    char *line = type ? g_strdup_printf("%s %s %s", type, d->cls ? d->cls : "-", d->path)
                      : g_strdup_printf("%d %s %s", (int)d->type, d->cls ? d->cls : "-", d->path);
    GPtrArray *values = g_tree_lookup(out->lines, line);
    if (!values) {
        values = g_ptr_array_new_with_free_func(g_free);
        g_tree_insert(out->lines, line, values);
    } else {
        g_free(line);
    }
    add_value(values, va);
    add_value(values, vb);
    out->noisy++;
}

/* The fields of one session run that differ between run a and run b. */
static void learn_job(const job_result *ja, const job_result *jb, learn_result *out)
{
    run_view a, b;
    view_init(&a, ja);
    view_init(&b, jb);
    GHashTableIter it;
    gpointer key, val;
    g_hash_table_iter_init(&it, a.fields);
    while (g_hash_table_iter_next(&it, &key, &val)) {
        const verify_diff *da = val, *db = g_hash_table_lookup(b.fields, key);
        if (g_hash_table_contains(b.unknown, &da->frame) || g_hash_table_contains(a.unknown, &da->frame))
            out->unjudged++;
        else if (db && strcmp(da->actual, db->actual) == 0)
            out->real++; /* the same new value twice: a real change */
        else
            learn_line(out, da, da->actual, db ? db->actual : da->expected); /* b answered as recorded */
    }
    g_hash_table_iter_init(&it, b.fields);
    while (g_hash_table_iter_next(&it, &key, &val)) {
        const verify_diff *db = val;
        if (g_hash_table_contains(a.fields, key))
            continue; /* seen above */
        if (g_hash_table_contains(a.unknown, &db->frame) || g_hash_table_contains(b.unknown, &db->frame))
            out->unjudged++;
        else
            learn_line(out, db, db->expected, db->actual); /* a answered as recorded */
    }
    for (guint k = 0; k < verify_diff_count(&ja->verdict); k++)
        out->unexpected += ((verify_diff *)g_ptr_array_index(ja->verdict.diffs, k))->kind == DIFF_UNEXPECTED;
    for (guint k = 0; k < verify_diff_count(&jb->verdict); k++)
        out->unexpected += ((verify_diff *)g_ptr_array_index(jb->verdict.diffs, k))->kind == DIFF_UNEXPECTED;
    view_free(&a);
    view_free(&b);
}

static void values_free(gpointer p) { g_ptr_array_free(p, TRUE); }

void learn_collect(const replay_results *a, const replay_results *b, learn_result *out)
{
    memset(out, 0, sizeof *out);
    out->lines = g_tree_new_full((GCompareDataFunc)(void (*)(void))strcmp, NULL, g_free, values_free);
    /* both runs read back side by side, in run order */
    results_cursor ca, cb;
    results_cursor_begin(a, &ca);
    results_cursor_begin(b, &cb);
    const job_result *ja, *jb;
    while ((ja = results_cursor_next(&ca)) && (jb = results_cursor_next(&cb))) {
        if (ja->session != jb->session || ja->copy != jb->copy || ja->loop != jb->loop)
            continue; /* not the same session run: nothing to compare it with */
        if (ja->outcome == JOB_DONE && jb->outcome == JOB_DONE)
            learn_job(ja, jb, out);
    }
    results_cursor_end(&ca);
    results_cursor_end(&cb);
}

typedef struct write_ctx {
    FILE *f;
} write_ctx;

static gboolean write_line(gpointer key, gpointer value, gpointer data)
{
    write_ctx *w = data;
    GPtrArray *values = value;
    fprintf(w->f, "%s  #", (const char *)key);
    for (guint i = 0; i < values->len; i++)
        fprintf(w->f, "%s %s", i ? " |" : "", (const char *)g_ptr_array_index(values, i));
    fputc('\n', w->f);
    return FALSE;
}

bool learn_write(const learn_result *r, const char *header, const char *file)
{
    FILE *f = fopen(file, "w");
    if (!f)
        return false;
    fputs(header, f);
    write_ctx w = {f};
    g_tree_foreach(r->lines, write_line, &w);
    bool ok = !ferror(f);
    int err = errno;
    if (fclose(f) != 0)
        return false;
    errno = err;
    return ok;
}

void learn_result_free(learn_result *r)
{
    if (r->lines)
        g_tree_destroy(r->lines);
    memset(r, 0, sizeof *r);
}

/* One "TYPE CLASS PATH  # values" line, comment already cut off. */
static bool parse_rule(char *line, verify_rule *rule, const char *file, unsigned lineno, hmtp_tool_error *why)
{
    char *type = line, *cls, *path;
    cls = type + strcspn(type, " \t");
    if (*cls)
        *cls++ = '\0';
    cls += strspn(cls, " \t");
    path = cls + strcspn(cls, " \t");
    if (*path)
        *path++ = '\0';
    path += strspn(path, " \t");
    if (!*cls || !*path)
        return hmtp_tool_fail(why, "%s line %u: expected TYPE CLASS PATH (CLASS - for a payload that is not an object)",
                              file, lineno);
    int32_t t = hmtp_type_from_name(type);
    if (t < 0) {
        char *end;
        long v = strtol(type, &end, 10);
        if (*end || end == type || !hmtp_type_valid((int32_t)v))
            return hmtp_tool_fail(why, "%s line %u: '%.60s' is not a packet type", file, lineno, type);
        t = (int32_t)v;
    }
    rule->type = t;
    rule->cls = strcmp(cls, "-") == 0 ? NULL : g_strdup(cls);
    rule->path = g_strdup(path);
    return true;
}

bool learn_rules_load(const char *file, GArray *rules, hmtp_tool_error *why)
{
    gchar **lines = replay_option_file_lines("--ignore-file", file, why);
    if (!lines)
        return false;
    bool ok = true;
    for (guint i = 0; lines[i] && ok; i++) {
        char *line = lines[i] + strspn(lines[i], " \t");
        /* the values seen follow " #"; a line that starts with # is a comment */
        char *hash = line[0] == '#' ? line : strstr(line, " #");
        if (!hash)
            hash = strstr(line, "\t#");
        if (hash)
            *hash = '\0';
        size_t n = strlen(line);
        while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (!n)
            continue;
        verify_rule rule;
        ok = parse_rule(line, &rule, file, i + 1, why);
        if (ok)
            g_array_append_val(rules, rule);
    }
    g_strfreev(lines);
    return ok;
}

void learn_rules_free(GArray *rules)
{
    if (!rules)
        return;
    for (guint i = 0; i < rules->len; i++) {
        verify_rule *r = &g_array_index(rules, verify_rule, i);
        g_free(r->cls);
        g_free(r->path);
    }
    g_array_free(rules, TRUE);
}
