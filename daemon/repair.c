/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mountpoint.h"
#include "repair.h"
#include "strv.h"

#define REPAIR_MAX 16

/* The topmost mount at e's mountpoint is e: nothing mounted later covers it. */
static bool is_topmost(const struct mount_table *t, size_t i) {
        for (size_t j = i + 1; j < t->n; j++)
                if (streq(t->entries[j].mountpoint, t->entries[i].mountpoint))
                        return false;
        return true;
}

/* mountinfo shows a root whose dentry was dropped (the connection's root
 * entry is invalidated when the connection dies) as "ROOT//deleted". */
static bool same_root(const char *mount_root, const char *root) {
        size_t n = strlen(root);

        return strncmp(mount_root, root, n) == 0 && (mount_root[n] == 0 || streq(mount_root + n, "//deleted"));
}

static bool is_dead_in(pid_t pid, const char *mountpoint) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "/proc/%d/root%s", (int) pid, mountpoint) < 0)
                return false;
        return path_is_dead(path);
}

static int find_dead(pid_t pid, const char *connection, const char *root, char ***ret) {
        _cleanup_(mount_table_done) struct mount_table t = {};
        _cleanup_strv_free_ char **dead = NULL;
        int r;

        r = mount_table_read(pid, &t);
        if (r < 0)
                return r;
        for (size_t i = 0; i < t.n; i++) {
                const struct mount_entry *e = &t.entries[i];

                if (!streq(e->devnum, connection) || !same_root(e->root, root) || !is_topmost(&t, i) ||
                    !is_dead_in(pid, e->mountpoint))
                        continue;
                if (strv_length(dead) >= REPAIR_MAX)
                        return -E2BIG;
                r = strv_extend(&dead, e->mountpoint);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(dead);
        return 0;
}

/* In a child: setns into a mount namespace is refused to a process with
 * threads (they share its root and cwd). Only system calls after fork. */
/* A clone of a shared mount is a peer of it: what the daemon mounts below
 * the host's /sys view later (device directories) arrives, but so would
 * what the container mounts below its copy arrive in the host. A slave,
 * as the runtime's copy of a shared mount is, only receives. */
static void receive_only(const char *mountpoint) {
        (void) mount(NULL, mountpoint, NULL, MS_SLAVE | MS_REC, NULL);
}

static int move_into(int ns_fd, int root_fd, const int *trees, char *const *mountpoints, size_t n) {
        pid_t pid;
        int status;

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if (setns(ns_fd, CLONE_NEWNS) < 0 || fchdir(root_fd) < 0 || chroot(".") < 0)
                        _exit(100); /* not an errno of move_mount's */
                for (size_t i = 0; i < n; i++) {
                        if (move_mount(trees[i], "", AT_FDCWD, mountpoints[i], MOVE_MOUNT_F_EMPTY_PATH) >= 0) {
                                receive_only(mountpoints[i]);
                                continue;
                        }
                        /* ENOENT: the dead root's entry was invalidated and
                         * nothing can be mounted on it; without it (unless
                         * it is locked in the container's user namespace)
                         * the place below is free. */
                        if (errno != ENOENT || umount2(mountpoints[i], MNT_DETACH) < 0 ||
                            move_mount(trees[i], "", AT_FDCWD, mountpoints[i], MOVE_MOUNT_F_EMPTY_PATH) < 0)
                                _exit(errno < 100 ? errno : EIO);
                        receive_only(mountpoints[i]);
                }
                _exit(0);
        }
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        if (!WIFEXITED(status))
                return -EINTR;
        if (WEXITSTATUS(status) == 100)
                return -EPERM;
        return -WEXITSTATUS(status);
}

int repair_dead_views(pid_t pid, const char *connection, const char *root, const char *host_path, bool recursive,
                      char **ret_error) {
        _cleanup_strv_free_ char **dead = NULL;
        _cleanup_close_ int ns_fd = -EBADF, root_fd = -EBADF;
        int trees[REPAIR_MAX];
        char path[64];
        size_t n;
        int r;

        *ret_error = NULL;
        r = find_dead(pid, connection, root, &dead);
        if (r < 0)
                return asprintf(ret_error, "reading the mounts of process %d: %s", (int) pid, strerror(-r)) < 0
                               ? -ENOMEM
                               : r;
        n = strv_length(dead);
        if (n == 0)
                return 0;

        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int) pid);
        ns_fd = open(path, O_RDONLY | O_CLOEXEC);
        snprintf(path, sizeof(path), "/proc/%d/root", (int) pid);
        root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ns_fd < 0 || root_fd < 0)
                return asprintf(ret_error, "opening the namespace of process %d: %m", (int) pid) < 0 ? -ENOMEM
                                                                                                      : -errno;
        /* One clone per place: moving a detached tree attaches it. */
        for (size_t i = 0; i < n; i++) {
                trees[i] = open_tree(AT_FDCWD, host_path,
                                     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
                if (trees[i] < 0) {
                        r = -errno;
                        for (size_t j = 0; j < i; j++)
                                close(trees[j]);
                        return asprintf(ret_error, "cloning %s: %s", host_path, strerror(-r)) < 0 ? -ENOMEM : r;
                }
        }
        r = move_into(ns_fd, root_fd, trees, dead, n);
        for (size_t i = 0; i < n; i++)
                close(trees[i]);
        if (r < 0)
                return asprintf(ret_error, "moving a live view over %s in process %d's mount namespace: %s", dead[0],
                                (int) pid, strerror(-r)) < 0
                               ? -ENOMEM
                               : r;
        return (int) n;
}
