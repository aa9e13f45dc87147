/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The broker's event loop (hmtp_loop: epoll and a timer heap, so a turn
 * costs what is ready, not what is open): the listener, every socket and
 * timer callback, and the one step after each event that settles what the
 * event queued (output to flush, connections to tear down), as redis's
 * beforeSleep drains deferred work in one place. Nothing below this file
 * calls it. */
#ifndef BROKER_BROKER_LOOP_H
#define BROKER_BROKER_LOOP_H

#include <gio/gio.h>

#include "broker.h"

/* Binds and listens (port 0: ephemeral); prints the "listening on" line and
 * writes the port file. */
broker *broker_new(broker_config *cfg, GError **error);
/* Runs until SIGINT/SIGTERM, then shuts down cleanly. False (error set)
 * when waiting for events failed; the connections are shut down all the
 * same. */
bool broker_run(broker *b, GError **error);
void broker_free(broker *b);

#endif
