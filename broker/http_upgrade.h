/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The HTTP half of a connection (PROTOCOL.md section 1): recognise the
 * `Upgrade: HMTP/0.9` request, and write the 101 (shaped like Resin 4.0's) or
 * an HTTP error. Pure functions over bytes, so they are tested alone. */
#ifndef BROKER_HTTP_UPGRADE_H
#define BROKER_HTTP_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define HTTP_MAX_REQUEST_HEADER 8192

typedef enum http_request_status {
    HTTP_REQUEST_INCOMPLETE, /* no blank line yet, nothing wrong so far */
    HTTP_REQUEST_UPGRADE,    /* a valid HMTP/0.9 upgrade request */
    HTTP_REQUEST_REJECT,     /* answer with status/reason and close */
} http_request_status;

typedef struct http_request {
    size_t header_len; /* UPGRADE: request bytes up to and including the blank line */
    int status;        /* REJECT: the HTTP status to answer with */
    char reason[160];  /* REJECT: one sentence for the body and the log */
    char method[16];   /* as far as it was read, for the log */
} http_request;

/* Examines the bytes received so far. Accepts CONNECT and GET, any path and
 * any Host (Resin's 2009 client sends "Host: null:8080"). */
http_request_status http_request_parse(const uint8_t *buf, size_t len, http_request *req);

/* "Thu, 01 Jan 1970 00:00:00 GMT" style, into out[30]. */
void http_format_date(int64_t unix_seconds, char out[30]);

/* The 101 answer. Resin sends status, Server, Content-Length: 0 and Date, and
 * no Upgrade header; upgrade_header adds `Upgrade: HMTP/0.9` and
 * `Connection: Upgrade` as RFC 7230 asks. */
void http_write_switching(hmtp_buf *out, const char *server, const char *date, bool upgrade_header);

/* An error answer with a short text/plain body; the caller closes after it. */
void http_write_error(hmtp_buf *out, int status, const char *text, const char *server,
                      const char *date);

const char *http_status_reason(int status);

#endif
