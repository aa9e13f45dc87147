/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "check.h"

#include <stdarg.h>
#include <stdio.h>

int check_failures;
int check_count;

/* Cap the noise: a broken loop over every byte position would otherwise
 * bury the first, most useful, failures. */
enum { CHECK_PRINT_MAX = 200 };

bool check_report(bool ok, const char *file, int line, const char *cond, const char *fmt, ...)
{
    check_count++;
    if (ok)
        return true;
    check_failures++;
    if (check_failures <= CHECK_PRINT_MAX) {
        fprintf(stderr, "%s:%d: check failed: %s", file, line, cond);
        /* fmt is " " plus the caller's message, if it gave one */
        if (fmt[0] != '\0' && fmt[1] != '\0') {
            fputc(':', stderr);
            va_list ap;
            va_start(ap, fmt);
            vfprintf(stderr, fmt, ap);
            va_end(ap);
        }
        fputc('\n', stderr);
    }
    return false;
}

static void print_hex_window(const char *label, const uint8_t *p, size_t len, size_t at)
{
    size_t from = at > 8 ? at - 8 : 0;
    size_t to = at + 16 < len ? at + 16 : len;
    fprintf(stderr, "    %s (len %zu) @%zu:", label, len, from);
    for (size_t i = from; i < to; i++)
        fprintf(stderr, i == at ? " [%02x]" : " %02x", p[i]);
    fputc('\n', stderr);
}

bool check_bytes_report(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len,
                        const char *file, int line, const char *what)
{
    size_t n = got_len < want_len ? got_len : want_len;
    size_t diff = 0;
    while (diff < n && got[diff] == want[diff])
        diff++;
    bool ok = got_len == want_len && diff == n;
    if (!check_report(ok, file, line, "bytes equal", " %s: bytes differ at %zu", what, diff) &&
        check_failures <= CHECK_PRINT_MAX) {
        print_hex_window("got ", got, got_len, diff);
        print_hex_window("want", want, want_len, diff);
    }
    return ok;
}

int check_summary(const char *suite)
{
    printf("%s: %d checks, %d failed\n", suite, check_count, check_failures);
    return check_failures == 0 ? 0 : 1;
}

int check_status(int status)
{
    return status == 0 && check_failures > 0 ? 1 : status;
}
