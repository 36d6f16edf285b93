/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Detached mount trees (open_tree/move_mount): a view's piece is built off
 * to the side, with whatever must cover parts of it already in place, and
 * then moved into the view in one step, so a container never sees it half
 * made. Every tree is made private first: a clone of a shared mount (the
 * host's /sys is one) would otherwise carry what is mounted on it back to
 * the host. */

/* A read-only (also nosuid, nodev, noexec), private clone of dirfd/path;
 * recursive takes what is mounted below it along. */
int mount_tree_clone(int dirfd, const char *path, bool recursive, int *ret_fd);
/* A writable private clone, for files whose writes the view answers. */
int mount_tree_clone_file(int dirfd, const char *path, int *ret_fd);
/* An empty read-only directory of its own (a tiny tmpfs), for covering
 * what a container must not see. */
int mount_tree_empty_dir(int *ret_fd);
/* Mounts source (a detached tree; consumed) at path below tree_fd's root,
 * or at an absolute path when tree_fd is AT_FDCWD. */
int mount_tree_attach(int source_fd, int tree_fd, const char *path);
