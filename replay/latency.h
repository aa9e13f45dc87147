/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reply latencies as a fixed log-scale histogram, so that the reports of
 * shards replayed apart can be merged: percentiles cannot be merged from
 * percentiles, and every sample of a long run would make the JSON as large
 * as the capture. Bucket i holds [BASE * GROWTH^i, BASE * GROWTH^(i+1)) ms
 * and stands for its geometric middle, at most 1% from any value in it.
 * Every process uses the same buckets, so histograms add bucket by bucket. */
#ifndef REPLAY_LATENCY_H
#define REPLAY_LATENCY_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define LATENCY_BASE_MS 0.001 /* bucket 0 also takes everything faster */
#define LATENCY_GROWTH 1.02   /* sqrt(1.02) - 1 < 1%: the error of a bucket's middle */
#define LATENCY_BUCKETS 1100  /* up to 0.001 * 1.02^1100 ms, about 48 minutes; slower goes in the last */

typedef struct latency_hist {
    uint64_t count[LATENCY_BUCKETS];
    uint64_t total;
    double max_ms; /* exact */
} latency_hist;

unsigned latency_bucket(double ms);
double latency_bucket_value(unsigned bucket);
void latency_hist_add(latency_hist *h, double ms);
/* Adds the samples (double, ms) and empties the array: a run's replies
 * land in a small scratch array, the histogram keeps them at fixed size. */
void latency_hist_take(latency_hist *h, GArray *samples);
/* The p-th percentile (0 < p <= 100) by the nearest rank, as the middle of
 * its bucket (never above the exact maximum, which the last rank is);
 * 0 when empty. */
double latency_hist_percentile(const latency_hist *h, double p);

#endif
