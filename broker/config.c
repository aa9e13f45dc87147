/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

static void user_free(gpointer p)
{
    broker_user *u = p;
    g_free(u->uid);
    g_free(u->password);
    g_free(u);
}

void broker_config_init(broker_config *c)
{
    memset(c, 0, sizeof *c);
    c->listen_host = g_strdup("127.0.0.1");
    c->listen_port = 8080;
    c->domain = g_strdup(BROKER_DEFAULT_DOMAIN);
    c->users = g_ptr_array_new_with_free_func(user_free);
    c->pubsub_jids = g_ptr_array_new_with_free_func(g_free);
    c->server_header = g_strdup(BROKER_DEFAULT_SERVER_HEADER);
    c->max_connections = BROKER_DEFAULT_MAX_CONNECTIONS;
    c->max_packet = BROKER_DEFAULT_MAX_PACKET;
    c->max_subscriptions = BROKER_DEFAULT_MAX_SUBSCRIPTIONS;
    c->login_timeout = BROKER_DEFAULT_LOGIN_TIMEOUT;
    c->http_timeout = BROKER_DEFAULT_HTTP_TIMEOUT;
    c->idle_timeout = BROKER_DEFAULT_IDLE_TIMEOUT;
    c->max_per_ip = BROKER_DEFAULT_MAX_PER_IP;
    c->max_login_failures = BROKER_DEFAULT_MAX_LOGIN_FAILURES;
    c->login_delay_ms = BROKER_DEFAULT_LOGIN_DELAY_MS;
    c->memory_budget = BROKER_DEFAULT_MEMORY_BUDGET;
    c->output_limit = BROKER_DEFAULT_OUTPUT_LIMIT;
}

void broker_config_free(broker_config *c)
{
    g_free(c->listen_host);
    g_free(c->port_file);
    g_free(c->domain);
    g_ptr_array_free(c->users, TRUE);
    g_ptr_array_free(c->pubsub_jids, TRUE);
    g_free(c->query_service_jid);
    g_free(c->server_header);
    g_free(c->key_file);
    g_free(c->write_key_file);
    server_key_free(&c->key);
    memset(c, 0, sizeof *c);
}

bool broker_config_set_listen(broker_config *c, const char *addr, GError **error)
{
    /* HOST:PORT, with an IPv6 host in brackets: [::1]:8080 */
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "--listen '%s': expected ADDRESS:PORT, e.g. 127.0.0.1:8080", addr);
        return false;
    }
    char *host = g_strndup(addr, (gsize)(colon - addr));
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        char *inner = g_strndup(host + 1, strlen(host) - 2);
        g_free(host);
        host = inner;
    }
    if (strcmp(host, "localhost") == 0) {
        g_free(host);
        host = g_strdup("127.0.0.1");
    }
    GInetAddress *ia = g_inet_address_new_from_string(host);
    if (!ia) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "--listen '%s': '%s' is not a numeric IPv4 or IPv6 address", addr, host);
        g_free(host);
        return false;
    }
    g_object_unref(ia);
    char *end = NULL;
    guint64 port = g_ascii_strtoull(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port > 65535) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "--listen '%s': port '%s' is not a number from 0 to 65535", addr, colon + 1);
        g_free(host);
        return false;
    }
    g_free(c->listen_host);
    c->listen_host = host;
    c->listen_port = (uint16_t)port;
    return true;
}

bool broker_config_add_user(broker_config *c, const char *spec, const char *where, GError **error)
{
    const char *colon = strchr(spec, ':');
    if (!colon || colon == spec) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "%s: user '%s' must be UID:PASSWORD with a non-empty UID", where, spec);
        return false;
    }
    broker_user *u = g_new0(broker_user, 1);
    u->uid = g_strndup(spec, (gsize)(colon - spec));
    u->password = g_strdup(colon + 1);
    if (strchr(u->uid, '/')) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "%s: user id '%s' must not contain '/' (it would read as a resource)", where,
                    u->uid);
        user_free(u);
        return false;
    }
    g_ptr_array_add(c->users, u);
    return true;
}

bool broker_config_load_users_file(broker_config *c, const char *path, GError **error)
{
    char *text = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &text, &len, error))
        return false;
    if (memchr(text, '\0', len)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: contains a NUL byte; expected text lines UID:PASSWORD", path);
        g_free(text);
        return false;
    }
    char **lines = g_strsplit(text, "\n", -1);
    g_free(text);
    bool ok = true;
    for (guint i = 0; lines[i] && ok; i++) {
        char *line = lines[i];
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] == '\r')
            line[n - 1] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        char *where = g_strdup_printf("%s:%u", path, i + 1);
        ok = broker_config_add_user(c, line, where, error);
        g_free(where);
    }
    g_strfreev(lines);
    return ok;
}

char *broker_config_service_jid(const broker_config *c, const char *name)
{
    if (strchr(name, '@'))
        return g_strdup(name);
    return g_strdup_printf("%s@%s", name, c->domain);
}

const char *broker_config_password(const broker_config *c, const char *uid)
{
    for (guint i = 0; i < c->users->len; i++) {
        const broker_user *u = g_ptr_array_index(c->users, i);
        if (strcmp(u->uid, uid) == 0)
            return u->password;
    }
    return NULL;
}

bool broker_config_load_key(broker_config *c, GError **error)
{
    /* GError only because main() reads this with the option parser's errors */
    hmtp_tool_error err;
    if (server_key_setup(&c->key, c->key_file, c->write_key_file, &err))
        return true;
    g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, err.msg);
    return false;
}
