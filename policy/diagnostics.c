/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "policy-internal.h"

/* Errors and warnings about policy files, collected rather than printed. */

void policy_diagnostics_done(struct policy_diagnostics *d) {
        if (!d)
                return;
        for (size_t i = 0; i < d->n_items; i++) {
                free(d->items[i].file);
                free(d->items[i].message);
        }
        free(d->items);
        *d = (struct policy_diagnostics) {};
}

int policy_diagnostic_format(const struct policy_diagnostic *d, char **ret) {
        const char *severity = d->is_error ? "error" : "warning";
        int r;

        if (d->line == 0)
                r = asprintf(ret, "%s: %s: %s", d->file, severity, d->message);
        else if (d->column == 0)
                r = asprintf(ret, "%s:%u: %s: %s", d->file, d->line, severity, d->message);
        else
                r = asprintf(ret, "%s:%u:%u: %s: %s", d->file, d->line, d->column, severity, d->message);
        return r < 0 ? -ENOMEM : 0;
}

int policy_diagv(struct policy_parse_context *ctx, bool is_error, const char *file, unsigned line, unsigned column,
                 const char *format, va_list ap) {
        struct policy_diagnostics *d = ctx->diags;
        _cleanup_free_ char *message = NULL, *f = NULL;
        struct policy_diagnostic *items;

        if (vasprintf(&message, format, ap) < 0)
                return -ENOMEM;
        f = strdup(file);
        if (!f)
                return -ENOMEM;
        /* The struct has no room for a capacity: it doubles whenever the count
         * reaches a power of two, so a file full of errors is not quadratic. */
        if ((d->n_items & (d->n_items - 1)) == 0) {
                size_t a = d->n_items ? d->n_items * 2 : 1;
                if (a > SIZE_MAX / sizeof(*items))
                        return -ENOMEM;
                items = realloc(d->items, a * sizeof(*items));
                if (!items)
                        return -ENOMEM;
                d->items = items;
        }
        d->items[d->n_items++] = (struct policy_diagnostic) {
                .is_error = is_error,
                .file = TAKE_PTR(f),
                .line = line,
                .column = column,
                .message = TAKE_PTR(message),
        };

        if (!is_error)
                return 0;
        d->n_errors++;
        ctx->n_errors++;
        return -EINVAL;
}

int policy_diag(struct policy_parse_context *ctx, bool is_error, const char *file, unsigned line, unsigned column,
                const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = policy_diagv(ctx, is_error, file, line, column, format, ap);
        va_end(ap);
        return r;
}
