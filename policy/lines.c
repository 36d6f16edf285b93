/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy-internal.h"

/* Splits a policy file into logical lines: comments and blank lines go,
 * backslash-newline continuations are joined, and every piece remembers
 * where it came from. */

void policy_line_done(struct policy_line *l) {
        free(l->text);
        free(l->segments);
        *l = (struct policy_line) {};
}

static int line_append(struct policy_line *l, const char *s, size_t n, unsigned line, unsigned column) {
        bool join = l->n_segments > 0;
        size_t need = l->length + join + n + 1;

        if (need > l->allocated) {
                size_t a = need < 256 ? 256 : need * 2;
                char *t = realloc(l->text, a);
                if (!t)
                        return -ENOMEM;
                l->text = t;
                l->allocated = a;
        }
        if (l->n_segments >= l->allocated_segments) {
                size_t a = l->allocated_segments ? l->allocated_segments * 2 : 4;
                struct policy_segment *t = realloc(l->segments, a * sizeof(*t));
                if (!t)
                        return -ENOMEM;
                l->segments = t;
                l->allocated_segments = a;
        }

        if (join)
                l->text[l->length++] = ' ';
        l->segments[l->n_segments++] = (struct policy_segment) {
                .offset = l->length,
                .line = line,
                .column = column,
        };
        memcpy(l->text + l->length, s, n);
        l->length += n;
        l->text[l->length] = '\0';
        return 0;
}

/* Collects one logical line. It may come out empty when it consisted only
 * of lone backslashes. */
static int read_logical_line(struct policy_line_reader *r, struct policy_line *l) {
        bool continuing = false, too_long = false;
        int k;

        while (r->pos < r->size) {
                const char *start = r->text + r->pos;
                const char *nl = memchr(start, '\n', r->size - r->pos);
                const char *end = nl ? nl : r->text + r->size;
                const char *p = start, *e = end;
                unsigned line = ++r->line;
                bool more;

                r->pos = nl ? (size_t) (nl - r->text) + 1 : r->size;

                if (e > p && e[-1] == '\r')
                        e--;
                while (p < e && is_blank(*p))
                        p++;
                if (p == e) {
                        /* A blank line ends a continuation: the user forgot a
                         * line or left a stray backslash. */
                        if (continuing)
                                break;
                        continue;
                }
                /* As in systemd unit files, a comment line may sit between
                 * continued lines without ending them. */
                if (*p == '#')
                        continue;

                more = e[-1] == '\\';
                if (more)
                        e--;
                while (e > p && is_blank(e[-1]))
                        e--;

                if (!continuing)
                        l->line = line;
                if (e > p && !too_long) {
                        if (l->length + 1 + (size_t) (e - p) > POLICY_LINE_MAX)
                                too_long = true;
                        else {
                                k = line_append(l, p, (size_t) (e - p), line, (unsigned) (p - start) + 1);
                                if (k < 0)
                                        return k;
                        }
                }

                continuing = more;
                if (!more)
                        break;
        }

        return too_long ? -E2BIG : 0;
}

int policy_line_reader_next(struct policy_line_reader *r, struct policy_line *l) {
        for (;;) {
                int k;

                l->length = 0;
                l->n_segments = 0;
                l->line = 0;
                if (l->text)
                        l->text[0] = '\0';

                if (r->pos >= r->size)
                        return 0;
                k = read_logical_line(r, l);
                if (k < 0)
                        return k;
                if (l->n_segments > 0)
                        return 1;
        }
}
