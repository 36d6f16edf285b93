/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fnmatch.h>

#include "policy-internal.h"

/* Match values: shell globs with '|' between alternatives, as in udev. They
 * are split once at load time; most alternatives are plain strings ("usb",
 * "loop0") and then cost one strcmp() instead of an fnmatch(). */

static bool has_glob_chars(const char *s) {
        /* fnmatch() also gives '\\' a meaning: it quotes the next character. */
        return strpbrk(s, "*?[\\") != NULL;
}

int policy_pattern_compile(const char *value, struct policy_pattern *ret) {
        _cleanup_free_ char *buffer = strdup(value);
        _cleanup_free_ struct policy_alternative *items = NULL;
        size_t n = 1;
        char *p;

        if (!buffer)
                return -ENOMEM;
        for (p = buffer; *p; p++)
                if (*p == '|')
                        n++;
        items = calloc(n, sizeof(*items));
        if (!items)
                return -ENOMEM;

        p = buffer;
        for (size_t i = 0; i < n; i++) {
                char *bar = strchr(p, '|');

                if (bar)
                        *bar = '\0';
                items[i] = (struct policy_alternative) {
                        .text = p,
                        .glob = has_glob_chars(p),
                };
                p = bar ? bar + 1 : p + strlen(p);
        }

        *ret = (struct policy_pattern) {
                .buffer = TAKE_PTR(buffer),
                .items = TAKE_PTR(items),
                .n_items = n,
        };
        return 0;
}

void policy_pattern_done(struct policy_pattern *p) {
        free(p->buffer);
        free(p->items);
        *p = (struct policy_pattern) {};
}

bool policy_pattern_match(const struct policy_pattern *p, const char *s) {
        for (size_t i = 0; i < p->n_items; i++) {
                const struct policy_alternative *a = &p->items[i];

                if (a->glob ? fnmatch(a->text, s, 0) == 0 : streq(a->text, s))
                        return true;
        }
        return false;
}
