/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a run is given (the command line's choices) and the tool's exit
 * codes: read by the runner and by every statement handler. */
#ifndef HMTP_CLIENT_RUNNER_OPTIONS_H
#define HMTP_CLIENT_RUNNER_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "client_login.h"

/* The tool's exit codes. */
enum {
    RUN_PASSED = 0,
    RUN_EXPECTATION_FAILED = 1, /* the server did something the scenario did not expect */
    RUN_SCENARIO_ERROR = 2,     /* usage, scenario syntax, or a statement that cannot run */
    RUN_UNREACHABLE = 3,        /* connect failed or the upgrade was refused */
};

typedef struct runner_options {
    const char *host; /* default server (connect server= overrides); NULL: none */
    const char *port;
    int64_t timeout_ms; /* default wait of expect, login, connect */
    bool verbose;       /* one line per packet sent and received */
    bool json;          /* every received packet as JSON on out */
    login_mode mode;
    FILE *out; /* --json and print */
    FILE *log; /* -v lines */
    FILE *err; /* failure messages */
} runner_options;

#endif
