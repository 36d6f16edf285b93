/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* The holder: a small process of devsieved's own that keeps the views'
 * /dev/fuse descriptors open while no devsieved runs, so that a crash, a
 * kill -9 or an upgrade is a pause inside the containers instead of
 * ENOTCONN: the kernel keeps a FUSE connection while any process holds
 * its descriptor, and requests wait for a reader.
 *
 * devsieved forks it at start (before any thread exists) when none
 * answers at RUNTIME/holder.sock, and stays connected to it. It holds
 * nothing but descriptors (no libfuse, no state beyond a name, the
 * connection's "MAJ:MIN" and its next view slot per descriptor) and hands
 * them over SCM_RIGHTS to the next devsieved on that runtime directory.
 * It ends when told (a clean stop of devsieved: the connections then end
 * with it), or when no devsieved has been connected for
 * HOLDER_ORPHAN_TIMEOUT_SEC: then it closes the descriptors (the views
 * die, and the next devsieved repairs them). Its mount namespace is the
 * daemon's: a daemon that keeps its mounts in a namespace of its own can
 * join the holder's (/proc/PID/ns/mnt) after a crash. */

#define HOLDER_SOCKET "holder.sock"
#define HOLDER_ORPHAN_TIMEOUT_SEC 600

struct holder;

/* Connects to the holder of runtime_dir, or forks a new one. Main thread,
 * before any other thread is started (fork). */
int holder_open(const char *runtime_dir, struct holder **ret);
/* Connects to a running holder only: -ENOENT or -ECONNREFUSED when none
 * answers (a fresh start: the caller makes its mount namespace, then
 * holder_open() forks the holder into it). */
int holder_connect(const char *runtime_dir, struct holder **ret);
/* Closes the connection; the holder keeps what it holds (and starts its
 * orphan timeout). */
struct holder *holder_free(struct holder *h);
DEFINE_POINTER_CLEANUP(struct holder, holder_free);

/* The descriptor the holder kept under name (from a previous devsieved):
 * its connection "MAJ:MIN", the next view slot and this process's
 * generation of file handles on it (fs/handles.h: the holder raised it
 * when it handed the descriptors over, so it is higher than that of every
 * process that served the connection before); -ENOENT when none. The
 * caller owns *ret_fd. ret_generation may be NULL. */
int holder_take(struct holder *h, const char *name, int *ret_fd, char ret_connection[32], uint64_t *ret_next_slot,
                uint64_t *ret_generation);
/* Hands fd (a dup is sent; the caller keeps its own) to the holder under
 * name, replacing what it kept under that name, with the generation of
 * handles this process gives on it (1 on a connection it mounted). */
int holder_keep(struct holder *h, const char *name, int fd, const char *connection, uint64_t next_slot,
                uint64_t generation);
/* Updates the next view slot kept under name. */
int holder_set_slot(struct holder *h, const char *name, uint64_t next_slot);
/* The holder closes everything and exits; returns once it did. */
int holder_quit(struct holder *h);
pid_t holder_pid(const struct holder *h);
/* Whether this devsieved took the descriptors of a previous one. */
bool holder_adopted(const struct holder *h);
