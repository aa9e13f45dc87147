/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The C tests' one assertion header. Every failed check prints
 * "FILE:LINE: check failed: CONDITION: MESSAGE" (the typed forms print the
 * value got and the value wanted), counts, and the test goes on, so one run
 * shows every broken expectation; REQUIRE also returns false from the
 * enclosing function, for steps the rest of a case cannot do without.
 * main() returns check_summary() (or check_status() around its own verdict).
 *
 * The message is optional: CHECK(x == 1) and CHECK(x == 1, "for %s", name)
 * both work. It must be a string literal (it is pasted after a space). */
#ifndef HMTP_TESTS_CHECK_H
#define HMTP_TESTS_CHECK_H

/* what the tests' own helpers used to bring along, so tests keep building */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Failed and total checks of this process so far. */
extern int check_failures;
extern int check_count;

/* Counts one check; on failure prints file:line, cond and the message
 * (fmt starts with the space the macros paste in). Returns ok. */
bool check_report(bool ok, const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Compares two byte ranges; on mismatch prints both in hex around the first
 * difference. */
bool check_bytes_report(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len,
                        const char *file, int line, const char *what);
/* Prints "SUITE: N checks, M failed" and returns the exit status (0 or 1). */
int check_summary(const char *suite);
/* status, or 1 when status is 0 but a check failed: for a main whose verdict
 * comes from elsewhere (the broker's case tables). */
int check_status(int status);

#define CHECK(cond, ...)                                                                           \
    check_report(!!(cond), __FILE__, __LINE__, #cond, " " __VA_ARGS__)
#define REQUIRE(cond, ...)                                                                         \
    do {                                                                                           \
        if (!check_report(!!(cond), __FILE__, __LINE__, #cond, " " __VA_ARGS__))                   \
            return false;                                                                          \
    } while (0)

#define CHECK_INT(got, want, what)                                                                 \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        check_report(g_ == w_, __FILE__, __LINE__, #got " == " #want, " %s: got %lld, want %lld", \
                     (what), g_, w_);                                                              \
    } while (0)
#define CHECK_STR(got, want, what)                                                                 \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        check_report((g_ == NULL && w_ == NULL) || (g_ && w_ && strcmp(g_, w_) == 0), __FILE__,    \
                     __LINE__, #got " == " #want, " %s: got \"%s\", want \"%s\"", (what),          \
                     g_ ? g_ : "(null)", w_ ? w_ : "(null)");                                      \
    } while (0)
#define CHECK_BYTES(got, glen, want, wlen, what)                                                   \
    check_bytes_report((got), (glen), (want), (wlen), __FILE__, __LINE__, (what))

#endif
