/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "procfs-filter.h"

/* One line of the input: [start, end), end past the '\n' if there is one. */
struct line {
        const char *start;
        size_t len;
};

static bool next_line(const char **p, const char *end, struct line *ret) {
        const char *nl;

        if (*p >= end)
                return false;
        nl = memchr(*p, '\n', (size_t) (end - *p));
        ret->start = *p;
        ret->len = nl ? (size_t) (nl + 1 - *p) : (size_t) (end - *p);
        *p += ret->len;
        return true;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* The n-th (from 0) white-space separated field of a line: its start and
 * length, or false when the line has fewer fields. */
static bool line_field(const struct line *l, unsigned n, const char **ret, size_t *ret_len) {
        const char *p = l->start, *end = l->start + l->len;

        for (;;) {
                const char *f;

                while (p < end && is_blank(*p))
                        p++;
                if (p >= end || *p == '\n')
                        return false;
                f = p;
                while (p < end && !is_blank(*p) && *p != '\n')
                        p++;
                if (n-- == 0) {
                        *ret = f;
                        *ret_len = (size_t) (p - f);
                        return true;
                }
        }
}

/* A decimal number that fits an unsigned int, nothing else. */
static bool parse_uint(const char *s, size_t len, unsigned *ret) {
        unsigned long v = 0;

        if (len == 0 || len > 10)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned long) (s[i] - '0');
        }
        if (v > 0xffffffffUL)
                return false;
        *ret = (unsigned) v;
        return true;
}

static bool name_is_printable(const char *name) {
        if (!name || !*name)
                return false;
        for (const char *c = name; *c; c++)
                if ((unsigned char) *c <= ' ' || *c == 0x7f)
                        return false;
        return true;
}

/* Writes l as the container must see it: as is, renamed, or not at all.
 * name_field is where the device's name is: both files start with major
 * and minor. */
static int filter_block_line(FILE *out, const struct line *l, unsigned name_field, procfs_block_name_fn fn,
                             void *userdata) {
        const char *maj, *min, *name;
        size_t maj_len, min_len, name_len;
        unsigned major, minor;
        const char *wanted;

        if (!line_field(l, 0, &maj, &maj_len) || !line_field(l, 1, &min, &min_len) ||
            !line_field(l, name_field, &name, &name_len) || !parse_uint(maj, maj_len, &major) ||
            !parse_uint(min, min_len, &minor))
                return fwrite(l->start, 1, l->len, out) == l->len ? 0 : -ENOMEM;

        wanted = fn(major, minor, userdata);
        if (!name_is_printable(wanted))
                return 0;
        if (fwrite(l->start, 1, (size_t) (name - l->start), out) != (size_t) (name - l->start) ||
            fputs(wanted, out) < 0)
                return -ENOMEM;
        name += name_len;
        return fwrite(name, 1, (size_t) (l->start + l->len - name), out) == (size_t) (l->start + l->len - name)
                       ? 0
                       : -ENOMEM;
}

static int finish(FILE **out, char **buf, size_t *buf_size, char **ret, size_t *ret_size) {
        /* fclose() sets buf and size for the last time. */
        if (fclose(TAKE_PTR(*out)) != 0) {
                free(*buf);
                *buf = NULL;
                return -ENOMEM;
        }
        *ret = TAKE_PTR(*buf);
        *ret_size = *buf_size;
        return 0;
}

static int filter_block_text(const char *text, size_t size, unsigned name_field, procfs_block_name_fn fn,
                             void *userdata, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *out = NULL;
        const char *p = text, *end = text + size;
        size_t buf_size = 0;
        struct line l;
        int r;

        out = open_memstream(&buf, &buf_size);
        if (!out)
                return -ENOMEM;
        while (next_line(&p, end, &l)) {
                r = filter_block_line(out, &l, name_field, fn, userdata);
                if (r < 0)
                        return r;
        }
        return finish(&out, &buf, &buf_size, ret, ret_size);
}

int procfs_filter_partitions(const char *text, size_t size, procfs_block_name_fn fn, void *userdata, char **ret,
                             size_t *ret_size) {
        /* "%4d  %7d %10llu %pg\n" */
        return filter_block_text(text, size, 3, fn, userdata, ret, ret_size);
}

int procfs_filter_diskstats(const char *text, size_t size, procfs_block_name_fn fn, void *userdata, char **ret,
                            size_t *ret_size) {
        /* "%4d %7d %pg " and the counters */
        return filter_block_text(text, size, 2, fn, userdata, ret, ret_size);
}

static bool line_is_empty(const struct line *l) {
        return l->len == 0 || l->start[0] == '\n';
}

/* The block's "S: Sysfs=" value; false when it has none. */
static bool block_sysfs_path(const char *start, const char *end, char **ret) {
        const char *p = start;
        struct line l;

        while (next_line(&p, end, &l)) {
                static const char key[] = "S: Sysfs=";
                size_t n;

                if (l.len < sizeof(key) - 1 || memcmp(l.start, key, sizeof(key) - 1) != 0)
                        continue;
                n = l.len - (sizeof(key) - 1);
                if (n > 0 && l.start[l.len - 1] == '\n')
                        n--;
                /* Not strndup(): the text need not be NUL-terminated. */
                *ret = malloc(n + 1);
                if (*ret) {
                        memcpy(*ret, l.start + sizeof(key) - 1, n);
                        (*ret)[n] = '\0';
                }
                return true;
        }
        return false;
}

static const char handlers_key[] = "H: Handlers=";

/* The "H: Handlers=" line of a kept block, each handler as the container
 * names it. */
static int write_handlers(FILE *out, const struct line *l, const char *sysfs, procfs_input_handler_fn fn,
                          void *userdata) {
        const char *p = l->start + sizeof(handlers_key) - 1, *end = l->start + l->len;

        if (end > p && end[-1] == '\n')
                end--;
        if (fputs(handlers_key, out) < 0)
                return -ENOMEM;
        while (p < end) {
                _cleanup_free_ char *handler = NULL;
                const char *h = p, *name;

                while (p < end && *p != ' ')
                        p++;
                if (p > h) {
                        handler = malloc((size_t) (p - h) + 1);
                        if (!handler)
                                return -ENOMEM;
                        memcpy(handler, h, (size_t) (p - h));
                        handler[p - h] = '\0';
                        name = fn(sysfs, handler, userdata);
                        if (name_is_printable(name) && fprintf(out, "%s ", name) < 0)
                                return -ENOMEM;
                }
                while (p < end && *p == ' ')
                        p++;
        }
        return fputc('\n', out) == EOF ? -ENOMEM : 0;
}

static int write_block(FILE *out, const char *block, const char *block_end, const char *sysfs,
                       procfs_input_handler_fn fn, void *userdata) {
        const char *p = block;
        struct line l;
        int r;

        while (next_line(&p, block_end, &l)) {
                if (l.len >= sizeof(handlers_key) - 1 &&
                    memcmp(l.start, handlers_key, sizeof(handlers_key) - 1) == 0) {
                        r = write_handlers(out, &l, sysfs, fn, userdata);
                        if (r < 0)
                                return r;
                } else if (fwrite(l.start, 1, l.len, out) != l.len)
                        return -ENOMEM;
        }
        return 0;
}

int procfs_filter_input_devices(const char *text, size_t size, procfs_input_visible_fn fn,
                                procfs_input_handler_fn handler_fn, void *userdata, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *out = NULL;
        const char *p = text, *end = text + size;
        size_t buf_size = 0;
        struct line l;

        out = open_memstream(&buf, &buf_size);
        if (!out)
                return -ENOMEM;
        while (p < end) {
                const char *block = p, *block_end;
                _cleanup_free_ char *sysfs = NULL;
                bool keep;

                /* A block: its lines up to and with the empty line that ends it. */
                while (next_line(&p, end, &l) && !line_is_empty(&l))
                        ;
                block_end = p;
                if (!block_sysfs_path(block, block_end, &sysfs))
                        keep = false;
                else if (!sysfs)
                        return -ENOMEM;
                else
                        keep = fn(sysfs, userdata);
                /* A block naming no device (a stray empty line) says nothing. */
                if (!keep && block_end - block == 1 && block[0] == '\n' &&
                    fwrite(block, 1, 1, out) != 1)
                        return -ENOMEM;
                if (keep) {
                        int r = write_block(out, block, block_end, sysfs, handler_fn, userdata);
                        if (r < 0)
                                return r;
                }
        }
        return finish(&out, &buf, &buf_size, ret, ret_size);
}

static int hex_digit(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "%02x%02x\t": bus and devfn, or -1. */
static int pci_slot(const struct line *l) {
        int v = 0;

        if (l->len < 5 || l->start[4] != '\t')
                return -1;
        for (size_t i = 0; i < 4; i++) {
                int d = hex_digit(l->start[i]);
                if (d < 0)
                        return -1;
                v = v * 16 + d;
        }
        return v;
}

static unsigned pci_slot_count(const char *text, const char *end, int slot) {
        const char *p = text;
        unsigned n = 0;
        struct line l;

        while (next_line(&p, end, &l))
                n += pci_slot(&l) == slot;
        return n;
}

int procfs_filter_pci_devices(const char *text, size_t size, procfs_pci_visible_fn fn, void *userdata, char **ret,
                              size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *out = NULL;
        const char *p = text, *end = text + size;
        size_t buf_size = 0;
        struct line l;

        out = open_memstream(&buf, &buf_size);
        if (!out)
                return -ENOMEM;
        while (next_line(&p, end, &l)) {
                int slot = pci_slot(&l);

                if (slot < 0 || !fn((unsigned) slot >> 8, (unsigned) slot & 0xff, userdata))
                        continue;
                /* Quadratic only in the devices a container sees. */
                if (pci_slot_count(text, end, slot) != 1)
                        continue;
                if (fwrite(l.start, 1, l.len, out) != l.len)
                        return -ENOMEM;
        }
        return finish(&out, &buf, &buf_size, ret, ret_size);
}
