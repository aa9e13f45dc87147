/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The benchmark's traffic: a realistic mix of HMTP packets written with the
 * core writer into one in-memory stream (one direction of a connection). */
#ifndef HMTP_BENCH_MIX_H
#define HMTP_BENCH_MIX_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "hmtp.h"

typedef struct bench_mix_stats {
    size_t packets;
    size_t presence, messages, queries, large;
} bench_mix_stats;

/* Called with every packet after it was written, so a peer can encode the
 * same logical data; returns false to stop (out of memory). */
typedef bool (*bench_mix_each)(const hmtp_packet *p, void *ctx);

/* Appends packets to out until it holds at least target bytes. False when
 * the writer or `each` (may be NULL) failed. */
bool bench_mix_generate(hmtp_buf *out, size_t target, bench_mix_stats *stats, bench_mix_each each,
                        void *ctx);

#endif
