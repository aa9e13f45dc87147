/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "login_guard.h"

#include "broker.h"
#include "log.h"

/* The delay after the n-th failure (n >= 1), first being the first. */
static unsigned login_guard_delay_ms(unsigned first, unsigned n)
{
    unsigned ms = first;
    for (unsigned i = 1; i < n && ms < LOGIN_GUARD_MAX_DELAY_MS; i++)
        ms *= 2;
    return ms < LOGIN_GUARD_MAX_DELAY_MS ? ms : LOGIN_GUARD_MAX_DELAY_MS;
}

void login_guard_failed(conn *c, const char *uid)
{
    broker *b = c->b;
    unsigned n = ++c->login_failures;
    if (uid) {
        if (g_hash_table_size(b->login_failures) >= LOGIN_GUARD_MAX_UIDS &&
            !g_hash_table_contains(b->login_failures, uid)) {
            broker_log("login failure table full (%u uids): starting over", LOGIN_GUARD_MAX_UIDS);
            g_hash_table_remove_all(b->login_failures);
        }
        unsigned per_uid = GPOINTER_TO_UINT(g_hash_table_lookup(b->login_failures, uid)) + 1;
        g_hash_table_insert(b->login_failures, g_strdup(uid), GUINT_TO_POINTER(per_uid));
        if (per_uid > n)
            n = per_uid;
    }
    unsigned max = b->cfg->max_login_failures;
    if (max && c->login_failures >= max) {
        hmtp_tool_error why;
        hmtp_tool_fail(&why, "%u refused logins (--max-login-failures %u)", c->login_failures, max);
        conn_close_after_flush(c, why.msg);
        return;
    }
    if (b->cfg->login_delay_ms)
        conn_hold(c, login_guard_delay_ms(b->cfg->login_delay_ms, n));
}

void login_guard_succeeded(conn *c, const char *uid)
{
    c->login_failures = 0;
    g_hash_table_remove(c->b->login_failures, uid);
}
