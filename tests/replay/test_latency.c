/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The latency histogram that shard reports are merged with: every value is
 * within 1% of its bucket's middle over the whole range, percentiles by the
 * same rank as the exact ones, and histograms add. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "latency.h"

static int failures;
#define CHECK(cond)                                                                                                  \
    do {                                                                                                             \
        if (!(cond)) {                                                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                                \
            failures++;                                                                                              \
        }                                                                                                            \
    } while (0)

static double rel_error(double value)
{
    return fabs(latency_bucket_value(latency_bucket(value)) - value) / value;
}

static void test_error_bound(void)
{
    double worst = 0;
    /* from 1 microsecond to 40 minutes, 200 steps per factor of 10 */
    for (double v = 0.001; v < 2.4e6; v *= pow(10, 1.0 / 200)) {
        double e = rel_error(v);
        if (e > worst)
            worst = e;
    }
    CHECK(worst <= 0.01);
    /* bucket edges, both sides */
    for (unsigned b = 1; b < 1000; b += 37) {
        double edge = LATENCY_BASE_MS * pow(LATENCY_GROWTH, b);
        CHECK(rel_error(edge * (1 + 1e-9)) <= 0.01);
        CHECK(rel_error(edge * (1 - 1e-9)) <= 0.01);
    }
    CHECK(latency_bucket(0) == 0 && latency_bucket(-1) == 0 && latency_bucket(NAN) == 0);
    CHECK(latency_bucket(1e12) == LATENCY_BUCKETS - 1);
}

static void test_percentiles(void)
{
    latency_hist a = {0}, b = {0}, all = {0};
    /* 1..1000 ms split over two "shards" by parity */
    for (int i = 1; i <= 1000; i++) {
        latency_hist_add(i % 2 ? &a : &b, i);
        latency_hist_add(&all, i);
    }
    latency_hist sum = {0};
    for (unsigned k = 0; k < LATENCY_BUCKETS; k++)
        sum.count[k] = a.count[k] + b.count[k];
    sum.total = a.total + b.total;
    sum.max_ms = a.max_ms > b.max_ms ? a.max_ms : b.max_ms;
    const double ps[] = {50, 90, 99};
    const double exact[] = {500, 900, 990}; /* the nearest rank of 1..1000 */
    for (int i = 0; i < 3; i++) {
        double got = latency_hist_percentile(&sum, ps[i]);
        CHECK(fabs(got - exact[i]) / exact[i] <= 0.01);
        CHECK(got == latency_hist_percentile(&all, ps[i]));
    }
    CHECK(latency_hist_percentile(&sum, 100) == 1000 && sum.max_ms == 1000 && sum.total == 1000);
    latency_hist empty = {0};
    CHECK(latency_hist_percentile(&empty, 50) == 0);
}

int main(void)
{
    test_error_bound();
    test_percentiles();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("ok latency\n");
    return 0;
}
