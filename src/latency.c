#include "latency.h"

#include <time.h>

uint64_t latency_now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

/* Values below 2^SUB_BITS have a bucket each; above, each power of two [2^k, 2^(k+1))
 * is cut in 2^SUB_BITS equal parts. */
static unsigned bucket_of(uint64_t ns) {
        if (ns < (UINT64_C(1) << LATENCY_SUB_BITS))
                return (unsigned) ns;
        unsigned log = 63u - (unsigned) __builtin_clzll(ns);
        unsigned sub = (unsigned) (ns >> (log - LATENCY_SUB_BITS)) & ((1u << LATENCY_SUB_BITS) - 1);
        return ((log - LATENCY_SUB_BITS + 1) << LATENCY_SUB_BITS) + sub;
}

/* The largest value that falls into bucket b. */
static uint64_t bucket_upper(unsigned b) {
        if (b < (1u << LATENCY_SUB_BITS))
                return b;
        unsigned log = (b >> LATENCY_SUB_BITS) + LATENCY_SUB_BITS - 1;
        uint64_t sub = b & ((1u << LATENCY_SUB_BITS) - 1);
        uint64_t width = UINT64_C(1) << (log - LATENCY_SUB_BITS);
        uint64_t lower = (UINT64_C(1) << log) + sub * width;
        return lower + (width - 1);
}

void latency_record(struct latency_histogram *h, uint64_t ns) {
        h->buckets[bucket_of(ns)]++;
        h->count++;
        if (ns > h->max_ns)
                h->max_ns = ns;
}

uint64_t latency_percentile(const struct latency_histogram *h, double p) {
        if (h->count == 0)
                return 0;
        double rank = p / 100.0 * (double) h->count;
        uint64_t want = (uint64_t) rank, seen = 0;
        if ((double) want < rank || want == 0)
                want++; /* the nearest rank: rounded up, and at least the first */
        for (unsigned b = 0; b < LATENCY_BUCKETS; b++) {
                seen += h->buckets[b];
                if (seen >= want) {
                        uint64_t upper = bucket_upper(b);
                        return upper < h->max_ns ? upper : h->max_ns;
                }
        }
        return h->max_ns;
}
