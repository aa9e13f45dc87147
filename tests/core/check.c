/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "check.h"

#include <stdarg.h>

int check_failures;
int check_count;

bool check_report(bool ok, const char *file, int line, const char *fmt, ...)
{
    check_count++;
    if (ok)
        return true;
    check_failures++;
    /* Cap the noise: a broken loop over every byte position would otherwise
     * bury the first, most useful, failures. */
    if (check_failures <= 200) {
        fprintf(stderr, "%s:%d: FAIL: ", file, line);
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
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
    if (!check_report(ok, file, line, "%s: bytes differ at %zu", what, diff))
        if (check_failures <= 200) {
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
