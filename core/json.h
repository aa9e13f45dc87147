/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The JSON rendering of packets and values shared by hmtp-decode and
 * hmtp-replay dump (format in the README). */
#ifndef HMTP_JSON_H
#define HMTP_JSON_H

#include "buf.h"
#include "hmtp.h"
#include "value.h"

/* JSON string literal of UTF-8 text (invalid bytes become U+FFFD). */
void hmtp_json_string(hmtp_buf *out, const char *s, size_t len);
/* Shortest representation that reads back to the same bits, always with a
 * fraction or exponent; NaN and infinities as strings "NaN", "Infinity". */
void hmtp_json_double(hmtp_buf *out, double d);
/* An integer in decimal, as printf's %lld writes it (without printf: dump
 * writes several a packet). */
void hmtp_json_int(hmtp_buf *out, int64_t n);
/* The same digits into text (NUL-terminated, at most 20 characters and the
 * NUL); returns the length. */
#define HMTP_INT_TEXT_SIZE 21
size_t hmtp_int_text(char text[HMTP_INT_TEXT_SIZE], int64_t n);
void hmtp_json_value(hmtp_buf *out, const hessian_value *v);
/* The fields from "type" on: "type":9,"type_name":...,"error":null (no braces),
 * so callers can put their own fields (index, session, frame...) first. */
void hmtp_json_packet_fields(hmtp_buf *out, const hmtp_packet *p);

#endif
