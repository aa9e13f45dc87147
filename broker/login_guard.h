/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Slowing password guessing: after each refused login the link's input is
 * held for a delay that doubles with every failure of that link or of that
 * uid (whichever has more), and the link is closed after
 * --max-login-failures. A success clears the uid's count. Only the failing
 * link waits: a user whose uid is being guessed elsewhere still logs in at
 * once with the right password. */
#ifndef BROKER_LOGIN_GUARD_H
#define BROKER_LOGIN_GUARD_H

#include "conn.h"

#define LOGIN_GUARD_MAX_DELAY_MS 8000u
/* uids remembered at most; the table starts over when full, so guessing
 * random uids cannot grow it without bound */
#define LOGIN_GUARD_MAX_UIDS 10000u

/* uid may be NULL (a login too malformed to name one). */
void login_guard_failed(conn *c, const char *uid);
void login_guard_succeeded(conn *c, const char *uid);

#endif
