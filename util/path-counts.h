/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Whether anything lies below a directory, in O(depth): a count, per
 * directory, of the paths added strictly below it. For tables that are
 * asked "what is below here" on every change (a /sys view's mounts and
 * shown devices, hundreds per view) where the answer is nearly always
 * "nothing". Paths are '/'-separated, without a leading '/'. Not locked. */

struct path_count;

struct path_counts {
        struct path_count *dirs;
        /* An update failed for lack of memory: the counts are not to be
         * trusted any more, and path_counts_any_below() says "maybe". */
        bool lost;
};

void path_counts_add(struct path_counts *c, const char *path);
/* path must have been added: the counts of its directories go down. */
void path_counts_remove(struct path_counts *c, const char *path);
/* False only if no path strictly below dir is added (and not removed). */
bool path_counts_any_below(const struct path_counts *c, const char *dir);
void path_counts_clear(struct path_counts *c);
