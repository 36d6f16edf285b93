/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Whether path (relative to dirfd; "" for dirfd itself) is the root of a
 * mount: 1 or 0, -EOPNOTSUPP where the kernel does not say (before 5.8).
 * A symlink is not followed. */
int mount_root_at(int dirfd, const char *path);
