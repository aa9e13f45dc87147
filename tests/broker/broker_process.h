/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Starts hmtp-broker on an ephemeral loopback port for one test and stops it
 * afterwards; the child dies with the test process even if the test crashes
 * (PR_SET_PDEATHSIG), so no broker outlives a failed run. */
#ifndef TESTS_BROKER_PROCESS_H
#define TESTS_BROKER_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct broker_process {
    pid_t pid;
    uint16_t port;
    char dir[256];      /* temporary folder: port file and log */
    char log_path[300]; /* the broker's stderr */
    char error[400];
} broker_process;

/* args: extra options, NULL-terminated. --listen 127.0.0.1:0 and --port-file
 * are added. Waits up to 10 s for the port file. */
bool broker_start(broker_process *b, const char *exe, const char *const *args);
/* SIGTERM, wait up to 10 s (SIGKILL after); returns the exit status, or -1
 * when it had to be killed or died by a signal. Removes the folder. */
int broker_stop(broker_process *b);
bool broker_alive(broker_process *b);
/* Starts the broker with args, runs fn, then checks that the broker is still
 * alive and exits 0 on SIGTERM (under ASan: no leaks). */
typedef bool (*broker_case_fn)(broker_process *b);
bool broker_with(const char *exe, const char *const *args, broker_case_fn fn);
/* A test program's cases, chosen by name on the command line: each runs in
 * a broker started with args (through broker_with), or, with args NULL,
 * starts what it needs itself and gets fn(NULL). */
typedef struct broker_case {
    const char *name;
    const char *const *args;
    broker_case_fn fn;
} broker_case;
/* The main of such a program: argv is PROG BROKER_EXE CASE; *exe gets
 * BROKER_EXE, before (may be NULL) sees the chosen case before it runs.
 * Prints "CASE: ok|FAILED" and returns the exit status: 0, 1, or 2 for bad
 * usage or an unknown case. */
int broker_cases_main(int argc, char **argv, const broker_case *cases, size_t ncases, const char **exe,
                      void (*before)(const broker_case *c));
/* True when the log holds needle (waits up to timeout_ms for it to appear). */
bool broker_log_has(broker_process *b, const char *needle, int timeout_ms);
/* Number of log lines holding needle, now. */
int broker_log_count(broker_process *b, const char *needle);

#endif
