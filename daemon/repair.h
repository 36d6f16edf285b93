/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Dead views inside a running container. A view whose connection died (the
 * daemon was killed with nobody holding its /dev/fuse descriptor, or the
 * connection was aborted) answers ENOTCONN for good, in the host and in
 * every mount namespace that has a copy. The container's process keeps
 * running; what can be done for it without restarting it is to put a live
 * view over the dead one in its own mount namespace: a clone of the host's
 * bind (open_tree), moved there (setns + move_mount). New path lookups then
 * reach the live view; a directory or file the container held open on the
 * dead one stays dead. */

/* Covers every mount in pid's mount namespace that is a bind of the view
 * root ("/SLOT") of the connection ("MAJ:MIN", both as mountinfo shows
 * them), dead, and the topmost at its mountpoint, with a clone of
 * host_path (recursive: with what is mounted below it), a slave of the
 * host's mount where that is shared: what the daemon mounts below it later
 * (the /sys view's device directories) arrives, nothing goes back. The connection's
 * number names one connection on the host for as long as any of its mounts
 * exists, so another daemon's views are never taken for ours. Returns how
 * many were covered; on failure *ret_error says which mountpoint and step. */
int repair_dead_views(pid_t pid, const char *connection, const char *root, const char *host_path, bool recursive,
                      char **ret_error);
