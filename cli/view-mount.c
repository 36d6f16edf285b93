/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "mount-root.h"
#include "view-mount.h"

/* How many runtime mounts one target may keep on top of its view. */
#define VIEW_KEEP_MAX 8

static int openat2_beneath(int dirfd, const char *path, uint64_t flags, uint64_t resolve) {
        struct open_how how = { .flags = flags | O_CLOEXEC, .resolve = resolve };
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

        return fd < 0 ? negative_errno() : (int) fd;
}

/* The target, resolved as if the container's root were "/": a symlink in
 * an image cannot send the view to a host path. */
static int open_in_root(int root_fd, const char *path) {
        return openat2_beneath(root_fd, path, O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/* Makes the last component of path in its existing parent (resolved in
 * the container's root, like the target itself) and opens it; -ENOENT when
 * the parent is missing or cannot take it (a read-only root). */
static int make_target(int root_fd, const char *path) {
        _cleanup_free_ char *parent = strdup(path);
        _cleanup_close_ int parent_fd = -EBADF;
        char *slash;

        if (!parent)
                return -ENOMEM;
        slash = strrchr(parent, '/');
        if (!slash)
                return -ENOENT;
        *slash = '\0';
        parent_fd = openat2_beneath(root_fd, parent, O_DIRECTORY, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        if (parent_fd < 0 || (mkdirat(parent_fd, slash + 1, 0755) < 0 && errno != EEXIST))
                return -ENOENT;
        return openat2_beneath(parent_fd, slash + 1, O_PATH | O_DIRECTORY, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
}

/* A clone of the view that receives what the host's view gets later (the
 * /sys view's device mounts on hot-plug) but sends nothing back: what the
 * runtime keeps on top, and anything the container mounts, stays in the
 * container. */
static int clone_view(const char *source, int *ret_fd) {
        struct mount_attr attr = { .propagation = MS_SLAVE };
        _cleanup_close_ int fd = -EBADF;

        fd = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
        if (fd < 0)
                return log_error_errno(errno, "Failed to clone the view %s: %m", source);
        if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return log_error_errno(errno, "Failed to make the clone of %s a slave mount: %m", source);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* A tree devsieved cloned: made a slave here too (whatever the daemon
 * did), for the same reason as above. */
static int use_view(const struct view_bind *b, int *ret_fd) {
        struct mount_attr attr = { .propagation = MS_SLAVE };
        _cleanup_close_ int fd = fcntl(b->fd, F_DUPFD_CLOEXEC, 3);

        if (fd < 0)
                return log_error_errno(errno, "Failed to take %s: %m", b->source);
        if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return log_error_errno(errno, "Failed to make %s a slave mount: %m", b->source);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The runtime's mount at dir/name, if something is mounted exactly there. */
static int open_kept_mount(int dir_fd, const char *name, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = openat2_beneath(dir_fd, name, O_PATH | O_NOFOLLOW, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
        if (fd == -ENOENT || fd == -ELOOP || fd == -ENOTDIR) {
                *ret_fd = -EBADF;
                return 0;
        }
        if (fd < 0)
                return fd;
        r = mount_root_at(fd, "");
        if (r < 0)
                return r;
        *ret_fd = r ? TAKE_FD(fd) : -EBADF;
        return 0;
}

/* The kernel puts nothing beneath, and moves no mount off, a mount whose
 * parent is shared (LXC's are), and the view must not propagate to the
 * runtime's peers: the runtime's mount at the target becomes private. It
 * goes away right after. */
static int make_private(int fd) {
        struct mount_attr attr = { .propagation = MS_PRIVATE };

        return mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0 ? negative_errno() : 0;
}

/* "ROOTFS/" for messages, "/" alone when the root is "/" (LXC). */
static const char *root_prefix(const char *rootfs) {
        return streq(rootfs, "/") ? "" : rootfs;
}

static void close_all(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                fds[i] = safe_close(fds[i]);
}

/* Linux 6.5; glibc 2.36's headers predate it. */
#ifndef MOVE_MOUNT_BENEATH
#define MOVE_MOUNT_BENEATH 0x00000200
#endif

/* The runtime's mounts to keep, from below its mount at the target. */
static int open_kept(int target_fd, const char *rootfs, const struct view_bind *b, int *kept, size_t *ret_n) {
        size_t n = 0;
        int r;

        for (const char *const *k = b->keep; k && *k; k++, n++) {
                if (n >= VIEW_KEEP_MAX)
                        return log_error_errno(E2BIG, "Too many mounts to keep over %s/%s.", root_prefix(rootfs),
                                               b->target);
                *ret_n = n + 1;
                r = open_kept_mount(target_fd, *k, &kept[n]);
                if (r < 0)
                        return log_error_errno(r, "Cannot look at the runtime's mount %s/%s/%s: %m",
                                               root_prefix(rootfs), b->target, *k);
        }
        return 0;
}

/* Moves the kept mounts onto the view (reached through view_fd even while
 * something is mounted over it). */
static int move_kept(int view_fd, const char *rootfs, const struct view_bind *b, const int *kept, size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int at = -EBADF;

                if (kept[i] < 0)
                        continue;
                at = openat2_beneath(view_fd, b->keep[i], O_PATH | O_NOFOLLOW, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
                if (at < 0)
                        return log_error_errno(at, "The view %s has no %s for the runtime's mount %s/%s/%s: %m",
                                               b->source, b->keep[i], root_prefix(rootfs), b->target, b->keep[i]);
                if (move_mount(kept[i], "", at, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        return log_error_errno(errno, "Failed to keep the runtime's mount %s/%s/%s over the view: %m",
                                               root_prefix(rootfs), b->target, b->keep[i]);
        }
        return 0;
}

/* Runs in the container's mount namespace. The runtime's own mount at the
 * target (its /dev tmpfs, its sysfs) is replaced, not covered: a container
 * root that unmounts the view must not find the host's whole /sys below.
 * The view goes beneath it, the mounts to keep move onto the view, then
 * the runtime's mount goes, with whatever else was mounted on it. */
static int mount_one(int root_fd, const char *rootfs, const struct view_bind *b, int view_fd) {
        int kept[VIEW_KEEP_MAX] = { -EBADF, -EBADF, -EBADF, -EBADF, -EBADF, -EBADF, -EBADF, -EBADF };
        _cleanup_close_ int target_fd = -EBADF;
        size_t n_kept = 0;
        int r;

        target_fd = open_in_root(root_fd, b->target);
        if (target_fd == -ENOENT && b->optional)
                target_fd = make_target(root_fd, b->target);
        if (target_fd == -ENOENT && b->optional) {
                log_info("%s/%s does not exist and cannot be made: the view %s is left out.", root_prefix(rootfs),
                         b->target, b->source);
                return 0;
        }
        if (target_fd < 0)
                return log_error_errno(target_fd, "Cannot mount the view %s at %s/%s: %m", b->source,
                                       root_prefix(rootfs), b->target);
        r = mount_root_at(target_fd, "");
        if (r < 0)
                return log_error_errno(r, "Cannot tell whether %s/%s is a mount point: %m", root_prefix(rootfs),
                                       b->target);
        if (r == 0) {
                /* A plain directory of the root file system. */
                if (move_mount(view_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        return log_error_errno(errno, "Failed to mount the view %s at %s/%s: %m", b->source,
                                               root_prefix(rootfs), b->target);
                return 0;
        }

        r = open_kept(target_fd, rootfs, b, kept, &n_kept);
        if (r >= 0) {
                r = make_private(target_fd);
                if (r < 0)
                        log_error_errno(r, "Failed to make the runtime's mount %s/%s private: %m",
                                        root_prefix(rootfs), b->target);
        }
        if (r >= 0 && move_mount(view_fd, "", target_fd, "",
                                 MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH | MOVE_MOUNT_BENEATH) < 0)
                r = log_error_errno(errno, "Failed to mount the view %s beneath the runtime's mount %s/%s: %m",
                                    b->source, root_prefix(rootfs), b->target);
        if (r >= 0)
                r = move_kept(view_fd, rootfs, b, kept, n_kept);
        close_all(kept, n_kept);
        if (r < 0)
                return r;

        /* umount2() takes only a path, and the container's /proc (LXC's,
         * after pivot_root) does not know our pid: "." from inside. */
        if (fchdir(target_fd) < 0 || umount2(".", MNT_DETACH) < 0)
                r = log_error_errno(errno, "Failed to unmount the runtime's mount %s/%s from over the view: %m",
                                    root_prefix(rootfs), b->target);
        if (fchdir(root_fd) < 0 && r >= 0)
                r = log_error_errno(errno, "Cannot return to %s: %m", rootfs);
        return r;
}

static int same_namespace(int ns_fd) {
        struct stat a, b;

        if (fstat(ns_fd, &a) < 0 || stat("/proc/self/ns/mnt", &b) < 0)
                return negative_errno();
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The child: clones on the host, then into the container's namespace. */
static int child_mount(int pidfd, pid_t pid, const char *rootfs, const struct view_bind *binds, size_t n_binds) {
        _cleanup_close_ int ns_fd = -EBADF, root_fd = -EBADF;
        int views[n_binds];
        char path[64];
        int r = 0;

        for (size_t i = 0; i < n_binds; i++)
                views[i] = -EBADF;
        for (size_t i = 0; r >= 0 && i < n_binds; i++)
                r = binds[i].fd > 0 ? use_view(&binds[i], &views[i]) : clone_view(binds[i].source, &views[i]);
        if (r < 0)
                return r;

        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int) pid);
        ns_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (ns_fd < 0)
                return log_error_errno(errno, "Cannot open the mount namespace of process %d: %m", (int) pid);
        /* Alive now, so the namespace is its and not a reused pid's. */
        if (pidfd_send_signal(pidfd, 0, NULL, 0) < 0)
                return log_error_errno(errno, "Process %d exited before its views were mounted.", (int) pid);
        r = same_namespace(ns_fd);
        if (r < 0)
                return log_error_errno(r, "Cannot compare the mount namespace of process %d with ours: %m",
                                       (int) pid);
        if (r > 0)
                return log_error_errno(EINVAL,
                                       "Process %d is in the host's mount namespace, not a container's: not mounting "
                                       "over %s.",
                                       (int) pid, rootfs);
        if (setns(ns_fd, CLONE_NEWNS) < 0)
                return log_error_errno(errno, "Cannot enter the mount namespace of process %d: %m", (int) pid);

        root_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return log_error_errno(errno, "Cannot open the container's root file system %s: %m", rootfs);

        /* Extra binds (the /proc files, a /run/udev view) are more entries
         * in the caller's table: this loop mounts them all alike. */
        r = 0;
        for (size_t i = 0; r >= 0 && i < n_binds; i++)
                r = mount_one(root_fd, rootfs, &binds[i], views[i]);
        for (size_t i = 0; i < n_binds; i++)
                safe_close(views[i]);
        return r;
}

int view_mount_into(int pidfd, pid_t pid, const char *rootfs, const struct view_bind *binds, size_t n_binds) {
        int status;
        pid_t child;

        /* setns() changes the whole process: do it in a child, which dies
         * with every reference to the clones it did not move. */
        fflush(stderr);
        child = fork();
        if (child < 0)
                return log_error_errno(errno, "Failed to fork: %m");
        if (child == 0)
                _exit(child_mount(pidfd, pid, rootfs, binds, n_binds) < 0 ? EXIT_FAILURE : EXIT_SUCCESS);

        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "Failed to wait for the mounting process: %m");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -EIO; /* the child said why */
        return 0;
}
