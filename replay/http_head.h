/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The HTTP exchange that opens an HMTP connection (PROTOCOL.md section 1):
 * just enough of HTTP/1.x to read a request or status line and the headers
 * the upgrade depends on. */
#ifndef REPLAY_HTTP_HEAD_H
#define REPLAY_HTTP_HEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 16384 /* a head longer than this is not an HMTP upgrade */

typedef struct http_head {
    size_t head_len;       /* bytes up to and including the blank line */
    bool is_request;
    char method[16];       /* requests */
    char path[256];
    char host[256];
    char upgrade[64];      /* Upgrade header, "" when absent */
    int status;            /* responses */
    char reason[128];
    size_t content_length;
} http_head;

/* True when buf starts like a request line ("CONNECT /", "GET /", ...), as
 * far as the bytes present allow telling. */
bool http_looks_like_request(const uint8_t *buf, size_t len);
/* True when buf starts like "HTTP/1.". */
bool http_looks_like_response(const uint8_t *buf, size_t len);

/* 1: a complete head was parsed into out; 0: more bytes are needed;
 * -1: not an HTTP head (or one longer than HTTP_HEAD_MAX). */
int http_head_parse(const uint8_t *buf, size_t len, http_head *out);

/* True when the request asks for the HMTP upgrade (case-insensitive). */
bool http_is_hmtp_upgrade(const http_head *h);

#endif
