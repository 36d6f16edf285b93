/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "bench.h"

static int compare_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

uint64_t bench_percentile(uint64_t *samples, size_t n, unsigned percentile) {
        size_t i;

        if (n == 0)
                return 0;
        qsort(samples, n, sizeof(*samples), compare_u64);
        i = (n - 1) * percentile / 100;
        return samples[i];
}

void bench_print_header(void) {
        printf("%-44s %12s  %-34s %12s %8s\n", "measurement", "median us", "baseline", "median us", "ratio");
}

void bench_print_row(const char *what, double value_us, const char *baseline, double baseline_us) {
        printf("%-44s %12.2f  %-34s %12.2f %7.2fx\n", what, value_us, baseline, baseline_us,
               baseline_us > 0 ? value_us / baseline_us : 0.0);
        fflush(stdout);
}
