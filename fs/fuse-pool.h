/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "macro.h"

/* Serves the FUSE sessions of every container (/dev and /sys views) from a
 * few worker threads, so that one busy or stuck container cannot stall the
 * others and the main loop never waits on a request.
 *
 * Each session's /dev/fuse fd sits in one epoll set with EPOLLONESHOT: the
 * worker that wakes up reads a request. One that may block (a read or write
 * of the host's files, a change) it processes after re-arming the fd, so
 * that another worker can take the session's next request at once; quick
 * ones (lookups, attributes, listings, forgets) it answers with the fd
 * still disarmed and then reads the next request itself, up to a few dozen
 * in a row, before it re-arms. Handlers therefore run concurrently, also
 * for one session: views protect their state with their own lock.
 *
 * Kernel cache invalidations (fuse_lowlevel_notify_*) must come from a
 * thread that is not needed to answer requests, i.e. the main loop: the
 * kernel holds a directory's lock while a lookup in it waits for its reply,
 * and an invalidation of that directory waits for the same lock. */

struct fuse_session;
struct fuse_pool;

/* n_workers: 0 picks a default from the number of CPUs. */
int fuse_pool_new(unsigned n_workers, struct fuse_pool **ret);
/* Stops the workers; every session must have been removed. */
struct fuse_pool *fuse_pool_free(struct fuse_pool *p);
DEFINE_POINTER_CLEANUP(struct fuse_pool, fuse_pool_free);

/* Starts serving se (mounted already); makes its fd non-blocking. Returns
 * an id for fuse_pool_remove(). */
int fuse_pool_add(struct fuse_pool *p, struct fuse_session *se, uint64_t *ret_id);
/* Stops serving the session and waits until no worker is inside it; then
 * the caller may unmount and destroy it. */
void fuse_pool_remove(struct fuse_pool *p, uint64_t id);

/* Readable when a session ended on its own (unmounted by someone else, or
 * the connection was aborted); then fuse_pool_drain_exited() calls fn with
 * the id of each such session. Returns how many. */
int fuse_pool_exited_fd(const struct fuse_pool *p);
int fuse_pool_drain_exited(struct fuse_pool *p, void (*fn)(uint64_t id, void *userdata), void *userdata);

unsigned fuse_pool_workers(const struct fuse_pool *p);
