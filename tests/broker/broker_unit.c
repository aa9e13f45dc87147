/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the broker's pure parts: the configuration parsers. (The
 * HTTP upgrade head, date and answers are core's: tests/core/test_http_upgrade.c.) */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "config.h"


static void test_config(void)
{
    broker_config c;
    broker_config_init(&c);
    GError *e = NULL;
    CHECK(broker_config_set_listen(&c, "127.0.0.1:0", &e) && c.listen_port == 0, "port 0");
    CHECK(broker_config_set_listen(&c, "[::1]:9000", &e) && strcmp(c.listen_host, "::1") == 0 &&
               c.listen_port == 9000,
           "IPv6");
    CHECK(!broker_config_set_listen(&c, "127.0.0.1:70000", &e) && e, "port range");
    g_clear_error(&e);
    CHECK(!broker_config_set_listen(&c, "example.com:80", &e) && e, "names are refused");
    g_clear_error(&e);
    CHECK(!broker_config_set_listen(&c, "8080", &e) && e, "no colon");
    g_clear_error(&e);
    CHECK(broker_config_add_user(&c, "ferg:se:cret", "t", &e), "colon in password");
    CHECK(strcmp(broker_config_password(&c, "ferg"), "se:cret") == 0, "password");
    CHECK(broker_config_password(&c, "nobody") == NULL, "unknown user");
    CHECK(!broker_config_add_user(&c, ":pw", "t", &e) && e, "empty uid");
    g_clear_error(&e);
    CHECK(!broker_config_add_user(&c, "a/b:pw", "t", &e) && e, "slash in uid");
    g_clear_error(&e);
    char *j = broker_config_service_jid(&c, "news");
    CHECK(strcmp(j, "news@localhost") == 0, "%s", j);
    g_free(j);
    j = broker_config_service_jid(&c, "feed@cnn.com");
    CHECK(strcmp(j, "feed@cnn.com") == 0, "%s", j);
    g_free(j);
    CHECK(!broker_config_load_users_file(&c, "/nonexistent/users", &e) && e, "missing file");
    g_clear_error(&e);
    broker_config_free(&c);
}

int main(void)
{
    test_config();
    return check_summary("broker_unit");
}
