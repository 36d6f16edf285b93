/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "mount-ns.h"

static int is_mount_root(const char *path) {
        struct statx sx;

        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
                return negative_errno();
        if (!(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                return -EOPNOTSUPP;
        return !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* In the host: dir is a mount whose peer group holds it alone. Bound onto
 * itself unless a previous run did it already (no stacking); private
 * first, so that it leaves any group it was copied into (a bind inside a
 * shared /run joins /run's). */
static int make_own_peer_group(const char *dir) {
        int r = is_mount_root(dir);

        if (r < 0)
                return r;
        if (r == 0 && mount(dir, dir, NULL, MS_BIND, NULL) < 0)
                return negative_errno();
        if (mount(NULL, dir, NULL, MS_PRIVATE, NULL) < 0 || mount(NULL, dir, NULL, MS_SHARED, NULL) < 0)
                return negative_errno();
        return 0;
}

static int create(const char *shared_dir) {
        struct mount_attr slave = { .propagation = MS_SLAVE };
        _cleanup_close_ int peer = -EBADF;
        int r;

        r = make_own_peer_group(shared_dir);
        if (r < 0)
                return r;
        /* A clone of a shared mount is a peer of it; made before the new
         * namespace exists, it is not touched when every mount there
         * becomes a slave. */
        peer = open_tree(AT_FDCWD, shared_dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (peer < 0)
                return negative_errno();
        if (unshare(CLONE_NEWNS) < 0)
                return negative_errno();
        if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &slave, sizeof(slave)) < 0)
                return negative_errno();
        if (umount2(shared_dir, MNT_DETACH) < 0)
                return negative_errno();
        if (move_mount(peer, "", AT_FDCWD, shared_dir, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return negative_errno();
        return 0;
}

int mount_ns_enter_or_create(const char *join_path, const char *shared_dir, int *ret_host_fd) {
        _cleanup_close_ int host = -EBADF, ns = -EBADF;
        int r;

        host = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (host < 0)
                return negative_errno();
        if (join_path) {
                ns = open(join_path, O_RDONLY | O_CLOEXEC);
                if (ns < 0)
                        return negative_errno();
                if (setns(ns, CLONE_NEWNS) < 0)
                        return negative_errno();
        } else {
                r = create(shared_dir);
                if (r < 0)
                        return r;
        }
        *ret_host_fd = TAKE_FD(host);
        return 0;
}

int mount_ns_release(int host_fd, const char *shared_dir) {
        int status;
        pid_t pid;

        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                /* Only async-signal-safe calls: the parent may have threads. */
                if (setns(host_fd, CLONE_NEWNS) < 0 || umount2(shared_dir, MNT_DETACH) < 0)
                        _exit(errno);
                _exit(0);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        if (!WIFEXITED(status))
                return -EIO;
        return -WEXITSTATUS(status);
}
