/* Durations in a histogram of fixed size: recording one costs no allocation and no
 * system call, so the supervisor can time every decision (supervise.h). Buckets are
 * log-linear, 16 to each power of two: a percentile is known to within 1/16 (6%). */
#pragma once

#include <stdint.h>

#define LATENCY_SUB_BITS 4
#define LATENCY_BUCKETS  ((64 - LATENCY_SUB_BITS + 1) << LATENCY_SUB_BITS)

struct latency_histogram {
        uint64_t count;
        uint64_t max_ns;
        uint64_t buckets[LATENCY_BUCKETS];
};

/* CLOCK_MONOTONIC in nanoseconds (the vDSO: no system call). */
uint64_t latency_now_ns(void);

/* Count one duration of ns nanoseconds. */
void latency_record(struct latency_histogram *h, uint64_t ns);

/* The duration that p percent of those recorded do not exceed (nearest rank), as the upper
 * bound of its bucket, capped by the largest recorded; 0 when nothing was recorded. */
uint64_t latency_percentile(const struct latency_histogram *h, double p);
