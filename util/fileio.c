/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <sys/param.h>

#include "fileio.h"

int read_fd_bounded(int fd, size_t limit, size_t size_hint, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated;

        /* Start at the size fstat() promised (sysfs and procfs promise 0 or
         * 4096, so that is only a hint) and grow up to the limit. */
        allocated = MIN(MAX(size_hint, (size_t) 4095), limit) + 1;
        buf = malloc(allocated);
        if (!buf)
                return -ENOMEM;

        while (size < limit) {
                ssize_t n;

                if (size + 1 >= allocated) {
                        size_t a = MIN(allocated * 2, limit + 1);
                        char *b = realloc(buf, a);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        allocated = a;
                }
                n = read(fd, buf + size, allocated - 1 - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        buf[size] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

int read_small_file_at(int dirfd, const char *path, size_t max, char **ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r;

        fd = openat(dirfd < 0 ? AT_FDCWD : dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        /* One byte more than allowed tells a file that is too long. */
        r = read_fd_bounded(fd, max + 1, 0, &buf, &size);
        if (r < 0)
                return r;
        if (size > max)
                return -EFBIG;
        *ret = TAKE_PTR(buf);
        return (int) size;
}

char *strip_trailing_whitespace(char *s) {
        size_t n = strlen(s);

        while (n > 0 && isspace((unsigned char) s[n - 1]))
                s[--n] = '\0';
        return s;
}

int write_all(int fd, const void *data, size_t size) {
        const char *p = data;

        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += n;
                size -= (size_t) n;
        }
        return 0;
}
