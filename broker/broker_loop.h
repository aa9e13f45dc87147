/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The broker's event loop: the listener, every socket and timer callback,
 * and the one step after each event that settles what the event queued
 * (output to flush, connections to tear down), as redis's beforeSleep
 * drains deferred work in one place. Nothing below this file calls it. */
#ifndef BROKER_BROKER_LOOP_H
#define BROKER_BROKER_LOOP_H

#include <gio/gio.h>

#include "broker.h"

/* Binds and listens (port 0: ephemeral); prints the "listening on" line and
 * writes the port file. */
broker *broker_new(broker_config *cfg, GError **error);
/* Runs until SIGINT/SIGTERM, then shuts down cleanly. */
void broker_run(broker *b);
void broker_free(broker *b);

#endif
