/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTP upgrade head fuzzer. Input: the bytes a peer sends first. The reader
 * must answer the same however the bytes arrive: once complete, every
 * longer input is complete with the same length and every shorter one
 * waits; once wrong, every longer input is wrong. Complete heads end in LF
 * within the limit, and every text field is printable ASCII. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_upgrade.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, size_t a, size_t b)
{
    fprintf(stderr, "fuzz_http_upgrade: %s (%zu, %zu)\n", what, a, b);
    abort();
}

static void check_text(const char *s, size_t cap, const char *what)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        fail(what, n, cap);
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            fail(what, i, (size_t)(unsigned char)s[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hmtp_upgrade_head whole;
    hmtp_error err;
    int r = hmtp_upgrade_head_parse(data, size, &whole, &err);
    if (r < -1 || r > 1)
        fail("result out of range", (size_t)(r + 1), 0);
    check_text(whole.method, sizeof whole.method, "method");
    check_text(whole.path, sizeof whole.path, "path");
    check_text(whole.reason, sizeof whole.reason, "reason");
    check_text(whole.host, sizeof whole.host, "host");
    check_text(whole.upgrade, sizeof whole.upgrade, "upgrade");
    if (r == 1 && (whole.head_len == 0 || whole.head_len > size || whole.head_len > HMTP_UPGRADE_HEAD_MAX ||
                   data[whole.head_len - 1] != '\n'))
        fail("complete head length", whole.head_len, size);
    if (r == 1 && whole.kind == HMTP_UPGRADE_UNKNOWN)
        fail("complete head of no kind", 0, 0);
    if (r == -1 && (err.code != HMTP_ERR_BAD_HTTP && err.code != HMTP_ERR_TOO_LARGE))
        fail("error code", (size_t)err.code, 0);
    if (r == -1 && err.msg[0] == '\0')
        fail("error without a message", 0, 0);
    /* Prefixes: a few split points, and both sides of the head's end. */
    size_t splits[5] = {size / 2, size / 3, size ? data[0] % size : 0, whole.head_len, whole.head_len ? whole.head_len - 1 : 0};
    for (int i = 0; i < 5; i++) {
        size_t k = splits[i];
        if (k > size)
            continue;
        hmtp_upgrade_head part;
        int pr = hmtp_upgrade_head_parse(data, k, &part, NULL);
        if (pr == 1 && (r != 1 || part.head_len != whole.head_len))
            fail("a prefix is complete but the whole is not the same head", k, part.head_len);
        if (pr == -1 && r != -1)
            fail("a prefix is wrong but the whole is not", k, size);
        if (r == 1 && k < whole.head_len && pr != 0)
            fail("a prefix of a complete head does not wait", k, whole.head_len);
        /* "HTUP" may still be a method; "HTUP/" is neither, so only known kinds are compared */
        if (part.kind != HMTP_UPGRADE_UNKNOWN && whole.kind != HMTP_UPGRADE_UNKNOWN && whole.kind != part.kind)
            fail("the kind changed with more bytes", k, size);
    }
    return 0;
}
