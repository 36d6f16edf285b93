/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "mount-ns.h"
#include "mount-root.h"

/* Whether the mount fd is on is in a peer group: its line in
 * /proc/self/mountinfo (found by mount id) has a "shared:N" field. */
static int is_shared(int fd) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        struct statx sx;
        size_t size = 0;

        if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0)
                return negative_errno();
        if (!(sx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return negative_errno();
        while (getline(&line, &size, f) > 0) {
                char *end, *dash;
                unsigned long long id = strtoull(line, &end, 10);

                if (end == line || id != sx.stx_mnt_id)
                        continue;
                dash = strstr(line, " - ");
                if (dash)
                        *dash = '\0';
                return !!strstr(line, " shared:");
        }
        return -ENOENT;
}

/* In the host: what dir is on is shared. A shared mount (systemd makes
 * every mount shared) is left as it is: a clone of dir is its peer, so the
 * daemon's mounts below dir reach every namespace they reached when the
 * daemon mounted in the host (a runtime's slave bind of a view's
 * directory made before the view, too). Otherwise dir is bound onto itself
 * (unless a previous run left that bind) and the bind is made shared, a
 * peer group of its own; *ret_bound says whether the bind at dir is
 * devsieved's (made here or left by a previous run). */
static int make_shared(const char *dir, bool *ret_bound) {
        _cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        int root, shared;

        if (fd < 0)
                return negative_errno();
        shared = is_shared(fd);
        if (shared < 0)
                return shared;
        root = mount_root_at(AT_FDCWD, dir);
        if (root < 0)
                return root;
        /* A mount at dir itself is a previous devsieved's bind (one killed
         * together with its holder): released at the stop like our own. */
        *ret_bound = root;
        if (shared)
                return 0;
        if (!root) {
                if (mount(dir, dir, NULL, MS_BIND, NULL) < 0)
                        return negative_errno();
                *ret_bound = true;
        }
        if (mount(NULL, dir, NULL, MS_SHARED, NULL) < 0)
                return negative_errno();
        return 0;
}

static int create(const char *shared_dir, bool *ret_bound) {
        struct mount_attr slave = { .propagation = MS_SLAVE };
        _cleanup_close_ int peer = -EBADF;
        int r, root;

        r = make_shared(shared_dir, ret_bound);
        if (r < 0)
                return r;
        root = mount_root_at(AT_FDCWD, shared_dir);
        if (root < 0)
                return root;
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
        /* The slave copy of a mount at shared_dir goes (a host mount that
         * shared_dir is merely below stays, under the peer). */
        if (root && umount2(shared_dir, MNT_DETACH) < 0)
                return negative_errno();
        if (move_mount(peer, "", AT_FDCWD, shared_dir, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return negative_errno();
        return 0;
}

int mount_ns_enter_or_create(const char *join_path, const char *shared_dir, int *ret_host_fd, bool *ret_bound) {
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
                *ret_bound = false;
        } else {
                r = create(shared_dir, ret_bound);
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
