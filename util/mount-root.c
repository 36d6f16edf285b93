/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "macro.h"
#include "mount-root.h"

int mount_root_at(int dirfd, const char *path) {
        int flags = AT_SYMLINK_NOFOLLOW | (path[0] ? 0 : AT_EMPTY_PATH);
        struct statx sx;

        if (statx(dirfd, path, flags, STATX_BASIC_STATS, &sx) < 0)
                return negative_errno();
        if (!(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                return -EOPNOTSUPP;
        return !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}
