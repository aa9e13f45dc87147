/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Scenario JSON -> Hessian values, in the rendering hmtp-decode prints
 * (core/json.h), plus explicit-kind forms ($int, $long, $double) and value
 * generators ($repeat, $random_binary) so big payloads need no big files.
 * The README lists every form. */
#ifndef HMTP_CLIENT_JSON_VALUE_H
#define HMTP_CLIENT_JSON_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "error.h"
#include "json_tree.h"
#include "value.h"

/* Generated values larger than this are refused: they could not be sent in
 * one packet anyway (16 MiB is the default packet limit) and a typo such as
 * an extra zero should fail fast, not eat the machine's memory. */
#define JSON_VALUE_MAX_GENERATED ((size_t)64 << 20)

/* Builds the Hessian value that node describes, in arena. Errors name the
 * offset of the offending node. */
bool json_to_value(const json_node *node, hmtp_arena *arena, hessian_value **out, hmtp_tool_error *err);

/* Checks the form of node without building it (scenario syntax check):
 * the same rules as json_to_value; $any is accepted when pattern is true. */
bool json_value_check(const json_node *node, bool pattern, hmtp_tool_error *err);

/* The pseudo-random bytes of {"$random_binary":n,"$seed":s}: splitmix64
 * seeded with s, each 64-bit output giving 8 bytes, least significant
 * first. Written down here so the bytes can be reproduced elsewhere. */
void json_random_bytes(uint64_t seed, uint8_t *out, size_t n);

#endif
