/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

hmtp_status hmtp_fail(hmtp_error *err, hmtp_status code, size_t offset, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        err->offset = offset;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void hmtp_error_clear(hmtp_error *err)
{
    if (err) {
        err->code = HMTP_OK;
        err->offset = 0;
        err->msg[0] = '\0';
    }
}

const char *hmtp_status_name(hmtp_status code)
{
    switch (code) {
    case HMTP_OK: return "ok";
    case HMTP_ERR_TRUNCATED: return "truncated";
    case HMTP_ERR_BAD_CODE: return "bad-code";
    case HMTP_ERR_UNEXPECTED_END: return "unexpected-end";
    case HMTP_ERR_DEPTH: return "too-deep";
    case HMTP_ERR_TOO_LARGE: return "too-large";
    case HMTP_ERR_BAD_FRAMING: return "bad-framing";
    case HMTP_ERR_LIMIT: return "limit";
    case HMTP_ERR_BAD_UTF8: return "bad-utf8";
    case HMTP_ERR_BAD_REF: return "bad-ref";
    case HMTP_ERR_BAD_TYPE_REF: return "bad-type-ref";
    case HMTP_ERR_BAD_VALUE: return "bad-value";
    case HMTP_ERR_BAD_PACKET: return "bad-packet";
    case HMTP_ERR_UNKNOWN_TYPE: return "unknown-type";
    case HMTP_ERR_BAD_STRING: return "bad-string";
    case HMTP_ERR_NOMEM: return "out-of-memory";
    case HMTP_ERR_BAD_HTTP: return "bad-http";
    }
    return "unknown";
}

static void tool_vfail(hmtp_tool_error *err, size_t offset, const char *fmt, va_list ap)
{
    if (err) {
        err->offset = offset;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
}

bool hmtp_tool_fail(hmtp_tool_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tool_vfail(err, 0, fmt, ap);
    va_end(ap);
    return false;
}

bool hmtp_tool_fail_at(hmtp_tool_error *err, size_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tool_vfail(err, offset, fmt, ap);
    va_end(ap);
    return false;
}
