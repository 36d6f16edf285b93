/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* devsieved's own mount namespace (docs/fuse-sessions.md, "Mount
 * namespaces"). Every view mount the daemon makes is made there, so the
 * host's mount table does not carry them: the host's mounts are slaves in
 * it (the daemon still sees /sys, /run, the runtime directory and what the
 * host mounts later) and nothing mounted in it goes back, except below one
 * directory, the host-side containers directory, which is a peer of a
 * mount of its own in the host: views mounted there (for runtimes that
 * bind RUNTIME/containers/NAME/...) appear in the host as before.
 *
 * Called before the process has threads: setns() and unshare() of a mount
 * namespace refuse a process with threads. */

/* Joins the namespace at join_path (/proc/PID/ns/mnt of a process that
 * lives in a devsieved namespace, e.g. one that keeps it across a restart;
 * shared_dir must be the same as when it was made) or, when join_path is
 * NULL, makes one: the process moves into a new namespace whose every
 * mount is a slave, and a peer of shared_dir (an existing directory) in
 * the current namespace is mounted at shared_dir there. When what
 * shared_dir is on is shared already (systemd makes every mount shared),
 * that mount is the peer, so the daemon's mounts below shared_dir reach
 * every namespace they would reach if it mounted in the host; otherwise
 * shared_dir is bound onto itself (unless it is a mount already, from a
 * previous run) and made shared. *ret_bound says the bind at shared_dir
 * is devsieved's to release: made here, or left by a previous devsieved
 * that was killed with its holder.
 * *ret_host_fd is the namespace the process was in (for
 * mount_ns_release). Errors are returned, naming nothing: the caller
 * logs. */
int mount_ns_enter_or_create(const char *join_path, const char *shared_dir, int *ret_host_fd, bool *ret_bound);

/* Detaches the bind of shared_dir made by mount_ns_enter_or_create() in
 * the namespace host_fd names (from a child process: this one may have
 * threads by now). What a daemon that stops calls; the namespace itself
 * ends with its last process. */
int mount_ns_release(int host_fd, const char *shared_dir);
