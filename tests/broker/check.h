/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The end-to-end programs' one assertion: a failed check prints where and
 * why, and makes the case function return false. */
#ifndef HMTP_TESTS_BROKER_CHECK_H
#define HMTP_TESTS_BROKER_CHECK_H

#include <stdio.h>

#define CHECK(cond, ...)                                                                        \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);            \
            fprintf(stderr, __VA_ARGS__);                                                       \
            fputc('\n', stderr);                                                                \
            return false;                                                                       \
        }                                                                                       \
    } while (0)

#endif
