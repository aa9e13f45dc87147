/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A tiny assertion helper: a failed check prints where and what, counts, and
 * lets the test go on so one run shows every broken expectation. main()
 * returns check_summary(). */
#ifndef HMTP_TEST_CHECK_H
#define HMTP_TEST_CHECK_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern int check_failures;
extern int check_count;

bool check_report(bool ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prints "N checks, M failed" and returns the process exit status. */
int check_summary(const char *suite);
/* Compares two byte ranges; on mismatch prints both in hex around the first
 * difference. */
bool check_bytes_report(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len,
                        const char *file, int line, const char *what);

#define CHECK(cond, ...) check_report((cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_INT(got, want, what)                                                                 \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        check_report(g_ == w_, __FILE__, __LINE__, "%s: got %lld, want %lld", (what), g_, w_);     \
    } while (0)
#define CHECK_STR(got, want, what)                                                                 \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        check_report((g_ == NULL && w_ == NULL) || (g_ && w_ && strcmp(g_, w_) == 0), __FILE__,    \
                     __LINE__, "%s: got \"%s\", want \"%s\"", (what), g_ ? g_ : "(null)",          \
                     w_ ? w_ : "(null)");                                                          \
    } while (0)
#define CHECK_BYTES(got, glen, want, wlen, what)                                                   \
    check_bytes_report((got), (glen), (want), (wlen), __FILE__, __LINE__, (what))

#endif
