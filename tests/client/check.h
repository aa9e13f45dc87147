/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal assertion helper for the client's unit tests: report every
 * failure with its line, keep going, exit non-zero at the end. */
#ifndef HMTP_TESTS_CLIENT_CHECK_H
#define HMTP_TESTS_CLIENT_CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(cond, ...)                                                                                           \
    do {                                                                                                           \
        if (!(cond)) {                                                                                             \
            check_failures++;                                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                               \
            fprintf(stderr, __VA_ARGS__);                                                                          \
            fputc('\n', stderr);                                                                                   \
        }                                                                                                          \
    } while (0)

#endif
