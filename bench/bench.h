/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Benchmarks report medians and ratios against a baseline measured in the
 * same run: these machines are noisy, an absolute time means little. */

static inline uint64_t bench_now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* CPU time of the calling thread: for in-process work measured on a shared
 * machine, where wall-clock time also counts the time other processes held
 * the CPU (at a load average of 20 on two CPUs, most of it). */
static inline uint64_t bench_cpu_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* Sorts samples in place and returns the given percentile (50 = median). */
uint64_t bench_percentile(uint64_t *samples, size_t n, unsigned percentile);

void bench_print_header(void);
/* One table row: what, the measured and the baseline median in
 * microseconds, and their ratio. */
void bench_print_row(const char *what, double value_us, const char *baseline, double baseline_us);
