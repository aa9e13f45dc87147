/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs a parsed scenario against a server, statement by statement. */
#ifndef HMTP_CLIENT_RUNNER_H
#define HMTP_CLIENT_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "runner_options.h"
#include "scenario.h"

int runner_run(const scenario *sc, const runner_options *opt);

/* Splits "host:port" or "[v6]:port". */
bool runner_split_server(const char *server, char *host, size_t host_size, char *port, size_t port_size);

#endif
