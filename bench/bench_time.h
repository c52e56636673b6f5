// SPDX-License-Identifier: MIT
// bench_time: the clock and the sort order the benchmarks share (header-only).
#ifndef FH_BENCH_TIME_H
#define FH_BENCH_TIME_H

#include <time.h>

// monotonic seconds
static inline double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
// qsort comparator for doubles, ascending
static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif
