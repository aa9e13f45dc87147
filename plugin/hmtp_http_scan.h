/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The two facts about an HTTP head the upgrade watcher needs, read straight
 * from bytes (a frame or a reassembled segment), so that no HTTP field and
 * hence no protocol tree is needed to learn them. */
#ifndef HMTP_HTTP_SCAN_H
#define HMTP_HTTP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Some line of buf is an `Upgrade:` header (any case) whose comma-separated
 * list names `token` (any case), e.g. "Upgrade: HMTP/0.9". */
bool hmtp_http_asks_upgrade(const uint8_t *buf, size_t len, const char *token);

/* The answer an HTTP/1.x response in buf gives: the code of the first
 * status line that is 101 or final (>= 200); else the first informational
 * code (100 Continue: the answer is still to come); 0 when buf holds no
 * status line. */
unsigned hmtp_http_status(const uint8_t *buf, size_t len);

#endif
