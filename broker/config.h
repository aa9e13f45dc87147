/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The broker's settings, filled from the command line (main.c) and checked
 * here, so that everything after start-up can trust them. */
#ifndef BROKER_CONFIG_H
#define BROKER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

typedef struct broker_user {
    char *uid;
    char *password;
} broker_user;

typedef struct broker_config {
    char *listen_host; /* numeric address */
    uint16_t listen_port; /* 0: ephemeral */
    char *port_file;
    char *domain;
    GPtrArray *users; /* broker_user*, in the order given; first match wins */
    bool allow_any_user;
    GPtrArray *pubsub_jids; /* char*: full JIDs of the publish/subscribe services */
    char *query_service_jid;
    bool upgrade_header; /* add RFC 7230 Upgrade/Connection to the 101 */
    bool real_date;      /* Date header from the clock instead of the fixed epoch */
    char *server_header;
    unsigned max_connections;
    size_t max_packet;
    unsigned max_subscriptions;
    size_t output_limit;
    int verbose;
    bool alter_ping; /* --alter-reply ping: a test aid for the replayer */
    bool presence_payloads; /* presence the broker originates carries hmtp.BrokerPresence */
} broker_config;

#define BROKER_DEFAULT_LISTEN "127.0.0.1:8080"
#define BROKER_DEFAULT_DOMAIN "localhost"
#define BROKER_DEFAULT_PUBSUB "news"
#define BROKER_DEFAULT_QUERY_SERVICE "service"
#define BROKER_DEFAULT_SERVER_HEADER "Resin/4.0.0"
#define BROKER_DEFAULT_MAX_CONNECTIONS 4096u
#define BROKER_DEFAULT_MAX_PACKET ((size_t)1 << 20)
#define BROKER_DEFAULT_MAX_SUBSCRIPTIONS 256u
#define BROKER_DEFAULT_OUTPUT_LIMIT ((size_t)4 << 20)

void broker_config_init(broker_config *c);
void broker_config_free(broker_config *c);

/* Each returns false with *error set (a sentence naming the bad text). */
bool broker_config_set_listen(broker_config *c, const char *addr, GError **error);
bool broker_config_add_user(broker_config *c, const char *uid_colon_password, const char *where,
                            GError **error);
bool broker_config_load_users_file(broker_config *c, const char *path, GError **error);
/* NAME becomes NAME@domain; a NAME with '@' is taken as a whole JID. Call
 * after the domain is final. */
char *broker_config_service_jid(const broker_config *c, const char *name);

/* The password of uid, or NULL when the user is not configured. */
const char *broker_config_password(const broker_config *c, const char *uid);

#endif
