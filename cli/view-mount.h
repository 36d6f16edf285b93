/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include <sys/types.h>

/* Mounting devsieve's views into a container that is being created, from
 * outside it: the host clones each view (open_tree) or devsieved hands a
 * clone over (a detached container's views), a child process enters
 * the container's mount namespace and moves the clones onto the targets
 * below the container's root file system. The container's root never needs
 * to reach the runtime directory. */

struct view_bind {
        /* The view as the host sees it (an absolute path), cloned there;
         * with fd, only its name in messages. */
        const char *source;
        /* A detached mount tree of the view (open_tree) that the caller
         * keeps and closes; 0 (what an initializer leaves it) for none:
         * stdin is never one. */
        int fd;
        const char *target; /* below the container's root, without a leading '/': "dev" */
        /* Mounts the runtime made below the target that stay on top of the
         * view (paths relative to the target, NULL-terminated): the view has
         * a directory or file of the same name for each. Missing ones are
         * skipped. */
        const char *const *keep;
        /* The target may be missing: it is made when its parent exists
         * (e.g. run/udev in the runtime's /run tmpfs); if that fails too
         * the view is left out, with a line on stderr, and the container
         * still starts. */
        bool optional;
};

/* Mounts each bind in the mount namespace of process pid (pidfd, opened
 * before the pid was trusted, guards against its reuse), the container's
 * root file system being rootfs as that namespace sees it. The runtime's
 * own mount at a target is replaced, its kept mounts moved onto the view.
 * Refuses a process that shares our own mount namespace. All or nothing as far as
 * the container can tell: on failure the container must not start. Errors
 * are logged naming the step and the path; returns a negative errno. */
int view_mount_into(int pidfd, pid_t pid, const char *rootfs, const struct view_bind *binds, size_t n_binds);
