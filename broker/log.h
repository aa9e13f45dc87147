/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The broker's log: one line per connection event on stderr, plus one line
 * per packet when verbose. Lines carry no clock values so that two runs over
 * the same input log the same text (tests compare them). */
#ifndef BROKER_LOG_H
#define BROKER_LOG_H

#include <stdbool.h>

/* 0: connection events only; 1 (-v): also one line per packet. */
void broker_log_set_verbosity(int level);
bool broker_log_packets(void);

/* "hmtp-broker: " + formatted text + newline, written with one call so lines
 * from concurrent processes sharing stderr do not interleave. */
void broker_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
