/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Partial matching of a received value against a scenario pattern, so an
 * expectation names only what it cares about: an object pattern checks its
 * class and the fields it lists, a map pattern the entries it lists;
 * {"$any":...} matches anything; lists and scalars must match exactly (a
 * plain integer matches a Hessian int or long of that value). */
#ifndef HMTP_CLIENT_VALUE_MATCH_H
#define HMTP_CLIENT_VALUE_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "json_tree.h"
#include "value.h"

/* True when v matches pattern. Otherwise why (when not NULL) says where and
 * how they differ ("value._title: expected "a", got "b""). */
bool value_match(const json_node *pattern, const hessian_value *v, hmtp_tool_error *why);

#endif
