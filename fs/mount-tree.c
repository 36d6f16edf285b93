/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "mount-tree.h"
#include "macro.h"

static int clone_with(int dirfd, const char *path, bool recursive, uint64_t set, uint64_t clear, int *ret_fd) {
        struct mount_attr attr = { .attr_set = set, .attr_clr = clear, .propagation = MS_PRIVATE };
        unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) |
                         (*path ? 0 : AT_EMPTY_PATH);
        _cleanup_close_ int fd = -EBADF;

        fd = open_tree(dirfd, path, flags | AT_NO_AUTOMOUNT | AT_SYMLINK_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return negative_errno();
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int mount_tree_clone(int dirfd, const char *path, bool recursive, int *ret_fd) {
        return clone_with(dirfd, path, recursive,
                          MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0, ret_fd);
}

int mount_tree_clone_file(int dirfd, const char *path, int *ret_fd) {
        return clone_with(dirfd, path, false, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                          MOUNT_ATTR_RDONLY, ret_fd);
}

int mount_tree_empty_dir(int *ret_fd) {
        _cleanup_close_ int fs = -EBADF, mnt = -EBADF;

        fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
        if (fs < 0)
                return negative_errno();
        if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0555", 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_STRING, "size", "4k", 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", "1", 0) < 0 ||
            fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return negative_errno();
        mnt = fsmount(fs, FSMOUNT_CLOEXEC,
                      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        if (mnt < 0)
                return negative_errno();
        *ret_fd = TAKE_FD(mnt);
        return 0;
}

int mount_tree_attach(int source_fd, int tree_fd, const char *path) {
        _cleanup_close_ int fd = source_fd;

        if (move_mount(fd, "", tree_fd, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return negative_errno();
        return 0;
}
