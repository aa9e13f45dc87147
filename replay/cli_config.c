/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli_config.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_parse.h"
#include "hmtp_crypto.h"
#include "learn.h"

void cli_options_free(cli_options *o)
{
    g_free(o->target), g_free(o->path), g_free(o->host_header), g_free(o->pace), g_free(o->types);
    g_free(o->sessions), g_free(o->login_user), g_free(o->login_password), g_free(o->report_json), g_free(o->junit);
    g_free(o->shard), g_free(o->ignore_file), g_free(o->reference), g_free(o->ignore_out);
    learn_rules_free(o->rules);
    g_strfreev(o->map_jid), g_strfreev(o->session_jid), g_strfreev(o->ignore);
    g_free(o->login_file), g_free(o->recorded_key), g_free(o->login_mode), g_strfreev(o->logins);
}

int cli_bad_usage(const char *fmt, const char *what)
{
    fprintf(stderr, "hmtp-replay: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n");
    return 2;
}

/* "presence" (the family 6..13), "message" (0, 1), "query" (2..5), a type
 * name such as presenceSubscribe, or a number. */
static bool parse_types(const char *list, bool *types, hmtp_tool_error *why)
{
    memset(types, 0, sizeof(bool) * HMTP_TYPE_COUNT);
    gchar **parts = g_strsplit(list, ",", -1);
    bool ok = true;
    for (gchar **p = parts; *p && ok; p++) {
        char *name = g_strstrip(*p);
        int lo = -1, hi = -1;
        if (strcmp(name, "presence-family") == 0 || strcmp(name, "presences") == 0 || strcmp(name, "presence") == 0)
            lo = HMTP_PRESENCE, hi = HMTP_PRESENCE_ERROR;
        else if (strcmp(name, "messages") == 0)
            lo = HMTP_MESSAGE, hi = HMTP_MESSAGE_ERROR;
        else if (strcmp(name, "query") == 0 || strcmp(name, "queries") == 0)
            lo = HMTP_QUERY_GET, hi = HMTP_QUERY_ERROR;
        else if (hmtp_type_from_name(name) >= 0)
            lo = hi = hmtp_type_from_name(name);
        else {
            char *end;
            long v = strtol(name, &end, 10);
            if (*name && !*end && hmtp_type_valid((int32_t)v))
                lo = hi = (int)v;
        }
        if (lo < 0) {
            hmtp_tool_fail(why, "--types: '%s' is not a packet type, a type number 0-13, or one of presence, messages, query", name);
            ok = false;
        }
        for (int t = lo; ok && t <= hi; t++)
            types[t] = true;
    }
    g_strfreev(parts);
    return ok;
}

/* "0,2,5-7" */
static bool parse_session_list(const char *list, bool *selected, unsigned n, hmtp_tool_error *why)
{
    gchar **parts = g_strsplit(list, ",", -1);
    bool ok = true;
    for (gchar **p = parts; *p && ok; p++) {
        char *s = g_strstrip(*p), *end;
        unsigned long lo = strtoul(s, &end, 10), hi = lo;
        if (end != s && *end == '-')
            hi = strtoul(end + 1, &end, 10);
        if (end == s || *end || hi < lo) {
            hmtp_tool_fail(why, "--session: '%s' is not an index or a range such as 2-5", s);
            ok = false;
            break;
        }
        if (hi >= n) {
            hmtp_tool_fail(why, "--session: index %lu is beyond the capture's %u sessions", hi, n);
            ok = false;
            break;
        }
        for (unsigned long i = lo; i <= hi; i++)
            selected[i] = true;
    }
    g_strfreev(parts);
    return ok;
}

static bool jid_matches(const char *pattern, const char *jid)
{
    if (!jid)
        return false;
    if (strcmp(pattern, jid) == 0)
        return true;
    size_t n = strlen(pattern);
    return strncmp(pattern, jid, n) == 0 && jid[n] == '/'; /* a bare pattern covers every resource */
}

static bool session_has_jid(const rec_session *s, char **jids)
{
    for (char **p = jids; *p; p++)
        if (jid_matches(*p, s->login_uid) || jid_matches(*p, s->login_jid))
            return true;
    return false;
}

/* --session and --session-jid: selected[i] for session i. */
bool cli_select_sessions(const cli_options *o, replay_store *store, bool *selected, hmtp_tool_error *why)
{
    unsigned n = store->sessions->len;
    if (o->sessions && !parse_session_list(o->sessions, selected, n, why))
        return false;
    for (unsigned i = 0; i < n; i++) {
        if (!o->sessions)
            selected[i] = true;
        if (o->session_jid && !session_has_jid(g_ptr_array_index(store->sessions, i), o->session_jid))
            selected[i] = false;
    }
    return true;
}

int cli_check_ranges(const cli_options *o)
{
    if (o->port < 0 || o->port > 65535)
        return cli_bad_usage("%s", "--port: not a TCP port (0-65535)");
    if (o->max_open < 1 || o->loops < 1 || o->scale < 1 || o->timeout_ms < 1 || o->settle_ms < 0 || o->window < 0)
        return cli_bad_usage("%s", "--max-connections, --loop, --sessions-scale and --timeout must be at least 1; --settle and --window not negative");
    if (o->speed <= 0)
        return cli_bad_usage("%s", "--speed must be greater than 0");
    return 0;
}

/* "uid:password"; the password may itself hold ':'. */
static bool add_login(GHashTable *passwords, const char *entry, const char *where, hmtp_tool_error *why)
{
    const char *colon = strchr(entry, ':');
    if (!colon || colon == entry) {
        hmtp_tool_fail(why, "%s: '%.60s' is not UID:PASSWORD", where, entry);
        return false;
    }
    g_hash_table_replace(passwords, g_strndup(entry, (gsize)(colon - entry)), g_strdup(colon + 1));
    return true;
}

static bool read_login_file(GHashTable *passwords, const char *path, hmtp_tool_error *why)
{
    gchar **lines = replay_option_file_lines("--login-file", path, why);
    if (!lines)
        return false;
    bool ok = true;
    for (guint i = 0; lines[i] && ok; i++) {
        char *line = lines[i];
        size_t n = strlen(line);
        if (n && line[n - 1] == '\r')
            line[n - 1] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char where[600];
        snprintf(where, sizeof where, "--login-file %s line %u", path, i + 1);
        ok = add_login(passwords, line, where, why);
    }
    g_strfreev(lines);
    return ok;
}

int cli_configure(cli_options *o, engine_config *cfg, jid_map *map, hmtp_tool_error *why)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->target = o->target;
    cfg->path = o->path;
    cfg->host_header = o->host_header;
    cfg->pace = PACE_CONVERSATION;
    cfg->speed = o->speed;
    if (o->top_speed || (o->pace && strcmp(o->pace, "top-speed") == 0))
        cfg->pace = PACE_TOP_SPEED;
    else if ((o->pace && strcmp(o->pace, "original") == 0) || o->speed != 1.0)
        cfg->pace = PACE_ORIGINAL;
    else if (o->pace && strcmp(o->pace, "session") == 0)
        cfg->pace = PACE_SESSION;
    else if (o->pace && strcmp(o->pace, "conversation") != 0) {
        hmtp_tool_fail(why, "--pace '%s': expected conversation, session, original or top-speed", o->pace);
        return -1;
    }
    cfg->max_open = o->serial ? 1 : (unsigned)o->max_open;
    cfg->timeout_ms = (unsigned)o->timeout_ms;
    cfg->settle_ms = (unsigned)o->settle_ms;
    cfg->window = (unsigned)o->window;
    cfg->ignore = o->ignore;
    if (o->ignore_file) {
        o->rules = g_array_new(FALSE, FALSE, sizeof(verify_rule));
        if (!learn_rules_load(o->ignore_file, o->rules, why))
            return -1;
        cfg->rules = (const verify_rule *)(void *)o->rules->data;
        cfg->n_rules = o->rules->len;
    }
    cfg->loops = (unsigned)o->loops;
    cfg->scale = (unsigned)o->scale;
    cfg->replay_incomplete = o->replay_incomplete;
    cfg->login_user = o->login_user;
    cfg->login_password = o->login_password;
    if (o->login_mode && strcmp(o->login_mode, "plain") == 0)
        cfg->login_plain = true;
    else if (o->login_mode && strcmp(o->login_mode, "encrypted") == 0)
        cfg->login_encrypt = true;
    else if (o->login_mode && strcmp(o->login_mode, "recorded") != 0) {
        hmtp_tool_fail(why, "--login-mode '%s': expected recorded, plain or encrypted", o->login_mode);
        return -1;
    }
    if (o->logins || o->login_file) {
        cfg->passwords = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        for (gchar **l = o->logins; l && *l; l++)
            if (!add_login(cfg->passwords, *l, "--login", why))
                return -1;
        if (o->login_file && !read_login_file(cfg->passwords, o->login_file, why))
            return -1;
    }
    if (o->recorded_key) {
        hmtp_tool_error err = {0};
        hmtp_rsa *key = hmtp_rsa_load_private_pem(o->recorded_key, &err);
        if (!key) {
            hmtp_tool_fail(why, "--recorded-key %s: %s", o->recorded_key, err.msg);
            return -1;
        }
        cfg->recorded_key = key;
    }
    cfg->progress = !o->no_progress && isatty(STDERR_FILENO);
    if (o->types) {
        cfg->type_filter = true;
        if (!parse_types(o->types, cfg->types, why))
            return -1;
    }
    for (gchar **m = o->map_jid; m && *m; m++)
        if (!jid_map_add_rule(map, *m, why))
            return -1;
    cfg->map = map;
    return 0;
}

void cli_config_free(engine_config *cfg)
{
    if (cfg->passwords)
        g_hash_table_destroy(cfg->passwords);
    if (cfg->recorded_key)
        hmtp_rsa_free((hmtp_rsa *)cfg->recorded_key);
    cfg->passwords = NULL;
    cfg->recorded_key = NULL;
}
