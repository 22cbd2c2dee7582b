/* latency_percentile() against exact nearest-rank percentiles: within the 1/16 a bucket
 * spans, never below the true value, never above the largest recorded. */
#include <stdlib.h>

#include "latency.h"
#include "tests.h"

static struct latency_histogram *new_histogram(void) {
        struct latency_histogram *h = calloc(1, sizeof *h);
        ck_assert_ptr_nonnull(h);
        return h;
}

START_TEST(empty) {
        struct latency_histogram *h = new_histogram();
        ck_assert_uint_eq(latency_percentile(h, 50), 0);
        ck_assert_uint_eq(latency_percentile(h, 99), 0);
        free(h);
}
END_TEST

/* Small values have a bucket each: exact. */
START_TEST(small_exact) {
        struct latency_histogram *h = new_histogram();
        for (uint64_t v = 1; v <= 10; v++)
                latency_record(h, v);
        ck_assert_uint_eq(h->count, 10);
        ck_assert_uint_eq(latency_percentile(h, 50), 5);
        ck_assert_uint_eq(latency_percentile(h, 100), 10);
        ck_assert_uint_eq(latency_percentile(h, 0), 1);
        free(h);
}
END_TEST

/* 1..100,000 ns in steps of 7: each percentile within 1/16 above the exact one. */
START_TEST(bounded_error) {
        struct latency_histogram *h = new_histogram();
        uint64_t n = 0;
        for (uint64_t v = 1; v <= 100000; v += 7, n++)
                latency_record(h, v);
        static const double ps[] = { 1, 10, 50, 90, 99, 99.9, 100 };
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
                uint64_t rank = (uint64_t) (ps[i] / 100.0 * (double) n);
                if ((double) rank < ps[i] / 100.0 * (double) n)
                        rank++;
                uint64_t exact = 1 + (rank - 1) * 7;
                uint64_t got = latency_percentile(h, ps[i]);
                ck_assert_msg(got >= exact && got <= exact + exact / 16, "p%g: %llu for %llu", ps[i],
                              (unsigned long long) got, (unsigned long long) exact);
        }
        ck_assert_uint_eq(latency_percentile(h, 100), h->max_ns);
        free(h);
}
END_TEST

/* The extremes of uint64_t land in buckets of their own, in order. */
START_TEST(extremes) {
        struct latency_histogram *h = new_histogram();
        latency_record(h, 0);
        latency_record(h, UINT64_MAX);
        ck_assert_uint_eq(latency_percentile(h, 50), 0);
        ck_assert_uint_eq(latency_percentile(h, 100), UINT64_MAX);
        free(h);
}
END_TEST

Suite *latency_suite(void) {
        Suite *s = suite_create("latency");
        TCase *tc = tcase_create("percentiles");
        tcase_add_test(tc, empty);
        tcase_add_test(tc, small_exact);
        tcase_add_test(tc, bounded_error);
        tcase_add_test(tc, extremes);
        suite_add_tcase(s, tc);
        return s;
}
