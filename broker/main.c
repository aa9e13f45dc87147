/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hmtp-broker: the reference HMTP/0.9 server. Options are documented in
 * README.md; this file only turns them into a broker_config. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <glib.h>

#include "broker_loop.h"
#include "config.h"
#include "log.h"

typedef struct raw_options {
    char *listen, *port_file, *domain, *users_file, *query_service, *server_header;
    char **users, **pubsub;
    gboolean allow_any, upgrade_header, real_date, verbose, presence_payloads, require_encrypted;
    gboolean random_resources;
    char *key_file, *write_key_file;
    char *max_connections, *max_packet, *max_subscriptions, *output_limit, *alter_reply, *login_timeout;
    char *http_timeout, *idle_timeout, *max_per_ip, *max_login_failures, *memory_budget, *login_delay;
} raw_options;

static void raw_free(raw_options *o)
{
    g_free(o->listen);
    g_free(o->port_file);
    g_free(o->domain);
    g_free(o->users_file);
    g_free(o->query_service);
    g_free(o->server_header);
    g_strfreev(o->users);
    g_strfreev(o->pubsub);
    g_free(o->max_connections);
    g_free(o->max_packet);
    g_free(o->max_subscriptions);
    g_free(o->login_timeout);
    g_free(o->http_timeout);
    g_free(o->idle_timeout);
    g_free(o->max_per_ip);
    g_free(o->max_login_failures);
    g_free(o->memory_budget);
    g_free(o->login_delay);
    g_free(o->output_limit);
    g_free(o->alter_reply);
    g_free(o->key_file);
    g_free(o->write_key_file);
}

/* A count with an optional k/K or m/M suffix (powers of 1024). */
static bool parse_size(const char *option, const char *text, guint64 min, guint64 max,
                       guint64 *out, GError **error)
{
    char *end = NULL;
    guint64 v = g_ascii_strtoull(text, &end, 10);
    if (end == text || text[0] == '-') {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "%s '%s': expected a number", option, text);
        return false;
    }
    if (*end == 'k' || *end == 'K') {
        v *= 1024;
        end++;
    } else if (*end == 'm' || *end == 'M') {
        v *= 1024 * 1024;
        end++;
    }
    if (*end != '\0' || v < min || v > max) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "%s '%s': expected a number from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT,
                    option, text, min, max);
        return false;
    }
    *out = v;
    return true;
}

static bool apply(const raw_options *o, broker_config *cfg, GError **error)
{
    if (o->listen && !broker_config_set_listen(cfg, o->listen, error))
        return false;
    if (o->domain) {
        if (!o->domain[0] || strpbrk(o->domain, "@/")) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--domain '%s': expected a non-empty name without '@' or '/'", o->domain);
            return false;
        }
        g_free(cfg->domain);
        cfg->domain = g_strdup(o->domain);
    }
    cfg->port_file = g_strdup(o->port_file);
    for (char **u = o->users; u && *u; u++)
        if (!broker_config_add_user(cfg, *u, "--user", error))
            return false;
    if (o->users_file && !broker_config_load_users_file(cfg, o->users_file, error))
        return false;
    cfg->allow_any_user = o->allow_any;
    if (o->pubsub) {
        for (char **p = o->pubsub; *p; p++)
            g_ptr_array_add(cfg->pubsub_jids, broker_config_service_jid(cfg, *p));
    } else {
        g_ptr_array_add(cfg->pubsub_jids, broker_config_service_jid(cfg, BROKER_DEFAULT_PUBSUB));
    }
    cfg->query_service_jid = broker_config_service_jid(
        cfg, o->query_service ? o->query_service : BROKER_DEFAULT_QUERY_SERVICE);
    cfg->upgrade_header = o->upgrade_header;
    cfg->presence_payloads = o->presence_payloads;
    cfg->random_resources = o->random_resources;
    cfg->real_date = o->real_date;
    if (o->server_header) {
        g_free(cfg->server_header);
        cfg->server_header = g_strdup(o->server_header);
    }
    guint64 v;
    if (o->max_connections) {
        if (!parse_size("--max-connections", o->max_connections, 1, 1000000, &v, error))
            return false;
        cfg->max_connections = (unsigned)v;
    }
    if (o->max_packet) {
        if (!parse_size("--max-packet", o->max_packet, 64, (guint64)256 << 20, &v, error))
            return false;
        cfg->max_packet = (size_t)v;
    }
    if (o->max_subscriptions) {
        if (!parse_size("--max-subscriptions", o->max_subscriptions, 0, 1000000, &v, error))
            return false;
        cfg->max_subscriptions = (unsigned)v;
    }
    if (o->login_timeout) {
        if (!parse_size("--login-timeout", o->login_timeout, 0, 86400, &v, error))
            return false;
        cfg->login_timeout = (unsigned)v;
    }
    if (o->http_timeout) {
        if (!parse_size("--http-timeout", o->http_timeout, 0, 86400, &v, error))
            return false;
        cfg->http_timeout = (unsigned)v;
    }
    if (o->idle_timeout) {
        if (!parse_size("--idle-timeout", o->idle_timeout, 0, 86400 * 7, &v, error))
            return false;
        cfg->idle_timeout = (unsigned)v;
    }
    if (o->max_per_ip) {
        if (!parse_size("--max-per-ip", o->max_per_ip, 1, 1000000, &v, error))
            return false;
        cfg->max_per_ip = (unsigned)v;
    }
    if (o->max_login_failures) {
        if (!parse_size("--max-login-failures", o->max_login_failures, 0, 1000000, &v, error))
            return false;
        cfg->max_login_failures = (unsigned)v;
    }
    if (o->login_delay) {
        if (!parse_size("--login-delay", o->login_delay, 0, 60000, &v, error))
            return false;
        cfg->login_delay_ms = (unsigned)v;
    }
    if (o->memory_budget) {
        if (!parse_size("--memory-budget", o->memory_budget, (guint64)1 << 20, (guint64)1 << 40, &v, error))
            return false;
        cfg->memory_budget = (size_t)v;
    }
    if (o->output_limit) {
        if (!parse_size("--output-limit", o->output_limit, 4096, (guint64)1 << 32, &v, error))
            return false;
        cfg->output_limit = (size_t)v;
    }
    if (o->alter_reply) {
        if (strcmp(o->alter_reply, "ping") != 0) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--alter-reply '%s': the only alterable reply is 'ping'", o->alter_reply);
            return false;
        }
        cfg->alter_ping = true;
    }
    cfg->verbose = o->verbose ? 1 : 0;
    cfg->key_file = g_strdup(o->key_file);
    cfg->write_key_file = g_strdup(o->write_key_file);
    cfg->require_encrypted = o->require_encrypted;
    return true;
}

/* Each connection is a descriptor: raise the soft limit toward what
 * --max-connections needs, and say so when the hard limit is lower (accept
 * then fails with EMFILE and the broker pauses accepting briefly). */
static void fit_descriptor_limit(unsigned max_connections)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)max_connections + BROKER_REFUSE_RESERVE + 32; /* + the 503 reserve */
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < want)
        broker_log("open files limited to %llu: fewer than --max-connections %u can be served",
                   (unsigned long long)rl.rlim_cur, max_connections);
}

int main(int argc, char **argv)
{
    raw_options o = {0};
    GOptionEntry entries[] = {
        {"listen", 0, 0, G_OPTION_ARG_STRING, &o.listen,
         "Address to listen on (default " BROKER_DEFAULT_LISTEN "; port 0: ephemeral)",
         "ADDR:PORT"},
        {"port-file", 0, 0, G_OPTION_ARG_FILENAME, &o.port_file,
         "Write the port number to FILE once listening", "FILE"},
        {"domain", 0, 0, G_OPTION_ARG_STRING, &o.domain, "Domain of JIDs (default localhost)",
         "DOMAIN"},
        {"user", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.users, "A user who may log in (repeatable)",
         "UID:PASSWORD"},
        {"users-file", 0, 0, G_OPTION_ARG_FILENAME, &o.users_file,
         "File of UID:PASSWORD lines ('#' comments)", "FILE"},
        {"allow-any-user", 0, 0, G_OPTION_ARG_NONE, &o.allow_any,
         "Accept any user id and password (demos and tests)", NULL},
        {"pubsub", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.pubsub,
         "Publish/subscribe service NAME@DOMAIN (repeatable; default news)", "NAME"},
        {"query-service", 0, 0, G_OPTION_ARG_STRING, &o.query_service,
         "Query service NAME@DOMAIN (default service)", "NAME"},
        {"upgrade-header", 0, 0, G_OPTION_ARG_NONE, &o.upgrade_header,
         "Add RFC 7230 Upgrade/Connection headers to the 101", NULL},
        {"presence-payloads", 0, 0, G_OPTION_ARG_NONE, &o.presence_payloads,
         "Presence the broker originates carries hmtp.BrokerPresence instead of null "
         "(for Caucho's stock client, which throws on null payloads)",
         NULL},
        {"random-resources", 0, 0, G_OPTION_ARG_NONE, &o.random_resources,
         "A login without a resource gets a random one, as Resin's server does "
         "(11 Base64 characters, which may start with '/'), instead of hmtp-N",
         NULL},
        {"real-date", 0, 0, G_OPTION_ARG_NONE, &o.real_date,
         "Send the current time in HTTP Date headers (default: a fixed 1970 date) and in a _date field of "
         "the ping answer (default: no such field)", NULL},
        {"server-header", 0, 0, G_OPTION_ARG_STRING, &o.server_header,
         "HTTP Server header (default " BROKER_DEFAULT_SERVER_HEADER ")", "TEXT"},
        {"max-connections", 0, 0, G_OPTION_ARG_STRING, &o.max_connections,
         "Open connections at most (default 4096)", "N"},
        {"max-packet", 0, 0, G_OPTION_ARG_STRING, &o.max_packet,
         "Largest packet body accepted, bytes (default 1M)", "BYTES"},
        {"max-subscriptions", 0, 0, G_OPTION_ARG_STRING, &o.max_subscriptions,
         "Subscriptions one client may hold (default 256)", "N"},
        {"login-timeout", 0, 0, G_OPTION_ARG_STRING, &o.login_timeout,
         "Close a connection not logged in after this many seconds (default 10; 0: never)", "SECONDS"},
        {"http-timeout", 0, 0, G_OPTION_ARG_STRING, &o.http_timeout,
         "Close a connection whose HTTP upgrade request is not complete after this many seconds (default 5; 0: never)",
         "SECONDS"},
        {"idle-timeout", 0, 0, G_OPTION_ARG_STRING, &o.idle_timeout,
         "Close a logged-in link with no byte in or out for this many seconds (default 300; 0: never)", "SECONDS"},
        {"max-per-ip", 0, 0, G_OPTION_ARG_STRING, &o.max_per_ip,
         "Open connections from one address at most (default 256)", "N"},
        {"max-login-failures", 0, 0, G_OPTION_ARG_STRING, &o.max_login_failures,
         "Close a link after this many refused logins (default 5; 0: never)", "N"},
        {"login-delay", 0, 0, G_OPTION_ARG_STRING, &o.login_delay,
         "Milliseconds a refused login's answer and the link's input wait, doubling per failure of the link or "
         "uid up to 8 s (default 250; 0: no delay)",
         "MS"},
        {"memory-budget", 0, 0, G_OPTION_ARG_STRING, &o.memory_budget,
         "Unfinished input and queued output of all links together; over it the biggest are closed (default 64M)",
         "BYTES"},
        {"output-limit", 0, 0, G_OPTION_ARG_STRING, &o.output_limit,
         "Unsent bytes per connection before it is dropped (default 4M)", "BYTES"},
        {"alter-reply", 0, 0, G_OPTION_ARG_STRING, &o.alter_reply,
         "Test aid: change one field of a reply (only 'ping')", "WHAT"},
        {"key", 0, 0, G_OPTION_ARG_FILENAME, &o.key_file,
         "RSA private key (PEM) for the encrypted login (default: generate one at start)", "FILE"},
        {"write-key", 0, 0, G_OPTION_ARG_FILENAME, &o.write_key_file,
         "Write the private key as PEM to FILE (to decrypt captures in Wireshark)", "FILE"},
        {"require-encrypted", 0, 0, G_OPTION_ARG_NONE, &o.require_encrypted,
         "Refuse plain passwords: only the encrypted login is accepted", NULL},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &o.verbose, "Log one line per packet", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx = g_option_context_new("- reference HMTP/0.9 server");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *error = NULL;
    broker_config cfg;
    broker_config_init(&cfg);
    int rc = 0;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || !apply(&o, &cfg, &error)) {
        fprintf(stderr, "hmtp-broker: %s (see --help)\n", error->message);
        rc = 2;
    } else if (argc > 1) {
        fprintf(stderr, "hmtp-broker: unexpected argument '%s' (see --help)\n", argv[1]);
        rc = 2;
    }
    if (rc == 0 && !broker_config_load_key(&cfg, &error)) {
        fprintf(stderr, "hmtp-broker: %s\n", error->message);
        rc = 2;
    }
    if (rc == 0) {
        broker_log_set_verbosity(cfg.verbose);
        fit_descriptor_limit(cfg.max_connections);
        if (!cfg.allow_any_user && cfg.users->len == 0)
            broker_log("no users configured: every login will be refused "
                       "(use --user, --users-file or --allow-any-user)");
        broker *b = broker_new(&cfg, &error);
        if (!b) {
            fprintf(stderr, "hmtp-broker: %s\n", error->message);
            rc = 1;
        } else {
            if (!broker_run(b, &error)) {
                fprintf(stderr, "hmtp-broker: %s\n", error->message);
                rc = 1;
            }
            broker_free(b);
            broker_log("stopped");
        }
    }
    g_clear_error(&error);
    g_option_context_free(ctx);
    broker_config_free(&cfg);
    raw_free(&o);
    return rc;
}
