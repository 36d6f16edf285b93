/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "devfs-file.h"
#include <sys/param.h>

#include "macro.h"

int devfs_file_new(uint64_t *usage, uint64_t limit, struct devfs_file **ret) {
        struct devfs_file *f = calloc(1, sizeof(*f));

        if (!f)
                return -ENOMEM;
        f->usage = usage;
        f->limit = limit;
        *ret = f;
        return 0;
}

int devfs_file_set_overhead(struct devfs_file *f, uint64_t overhead) {
        uint64_t others = *f->usage - f->overhead;

        if (overhead > f->overhead && (others > f->limit || overhead > f->limit - others))
                return -ENOSPC;
        *f->usage = others + overhead;
        f->overhead = overhead;
        return 0;
}

void devfs_file_free(struct devfs_file *f) {
        if (!f)
                return;
        *f->usage -= f->allocated + f->overhead;
        free(f->data);
        free(f);
}

/* Grows or shrinks the buffer to hold size bytes, zero-filling new ones. */
static int resize(struct devfs_file *f, size_t size) {
        size_t want = size;
        char *p;

        if (size > f->allocated) {
                /* Double, so appending byte by byte stays linear. */
                if (want < f->allocated * 2)
                        want = f->allocated * 2;
                if (want - f->allocated > f->limit - MIN(*f->usage, f->limit))
                        want = size;
                if (want - f->allocated > f->limit - MIN(*f->usage, f->limit))
                        return -ENOSPC;
        } else if (size == 0)
                want = 0;
        else
                want = f->allocated; /* keep the buffer; shrinking is not worth a copy */

        if (want != f->allocated) {
                if (want == 0) {
                        free(f->data);
                        p = NULL;
                } else if (!(p = realloc(f->data, want)))
                        return -ENOMEM;
                *f->usage = *f->usage - f->allocated + want;
                f->data = p;
                f->allocated = want;
        }
        if (size > f->size)
                memset(f->data + f->size, 0, size - f->size);
        f->size = size;
        return 0;
}

size_t devfs_file_read(const struct devfs_file *f, char *buf, size_t size, off_t offset) {
        size_t n;

        if (offset < 0 || (size_t) offset >= f->size)
                return 0;
        n = MIN(size, f->size - (size_t) offset);
        memcpy(buf, f->data + offset, n);
        return n;
}

ssize_t devfs_file_write(struct devfs_file *f, const char *buf, size_t size, off_t offset) {
        int r;

        if (offset < 0 || (uint64_t) offset + size > f->limit)
                return offset < 0 ? -EINVAL : -EFBIG;
        if ((size_t) offset + size > f->size) {
                r = resize(f, (size_t) offset + size);
                if (r < 0)
                        return r;
        }
        memcpy(f->data + offset, buf, size);
        return (ssize_t) size;
}

int devfs_file_truncate(struct devfs_file *f, off_t size) {
        if (size < 0)
                return -EINVAL;
        if ((uint64_t) size > f->limit)
                return -EFBIG;
        return resize(f, (size_t) size);
}
