/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "latency.h"

#include <math.h>

unsigned latency_bucket(double ms)
{
    if (!(ms > LATENCY_BASE_MS)) /* also NaN */
        return 0;
    double i = floor(log(ms / LATENCY_BASE_MS) / log(LATENCY_GROWTH));
    return i >= LATENCY_BUCKETS - 1 ? LATENCY_BUCKETS - 1 : (unsigned)i;
}

double latency_bucket_value(unsigned bucket)
{
    return LATENCY_BASE_MS * pow(LATENCY_GROWTH, (double)bucket + 0.5);
}

void latency_hist_add(latency_hist *h, double ms)
{
    h->count[latency_bucket(ms)]++;
    h->total++;
    if (ms > h->max_ms)
        h->max_ms = ms;
}

double latency_hist_percentile(const latency_hist *h, double p)
{
    if (h->total == 0)
        return 0;
    /* the same rank as the exact percentile of report.c: ceil(p/100 * n) */
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->total), seen = 0;
    if (rank == 0)
        rank = 1;
    if (rank >= h->total)
        return h->max_ms; /* the slowest reply is known exactly */
    for (unsigned i = 0; i < LATENCY_BUCKETS; i++) {
        seen += h->count[i];
        if (seen >= rank) {
            double v = latency_bucket_value(i);
            return v < h->max_ms ? v : h->max_ms;
        }
    }
    return h->max_ms;
}

void latency_hist_take(latency_hist *h, GArray *samples)
{
    for (guint i = 0; i < samples->len; i++)
        latency_hist_add(h, g_array_index(samples, double, i));
    g_array_set_size(samples, 0);
}
