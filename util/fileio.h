/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "macro.h"

/* Reads from fd until EOF or limit bytes, into a NUL-terminated buffer
 * (*ret, *ret_size). size_hint (e.g. st_size) sizes the first allocation. */
int read_fd_bounded(int fd, size_t limit, size_t size_hint, char **ret, size_t *ret_size);

/* Reads a small file (a sysfs attribute, a /proc file) in full into a
 * NUL-terminated string. dirfd may be AT_FDCWD or -EBADF for absolute paths.
 * Files longer than max give -EFBIG. Returns the length. */
int read_small_file_at(int dirfd, const char *path, size_t max, char **ret);

/* Drops trailing whitespace in place (sysfs values end in "\n"). */
char *strip_trailing_whitespace(char *s);

/* Writes all of data to an already open fd, retrying on EINTR. */
int write_all(int fd, const void *data, size_t size);
