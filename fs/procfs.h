/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "view-delta.h"
#include "fuse-pool.h"
#include "macro.h"

/* The /proc files that name devices, as each container must see them:
 * partitions, diskstats, bus/input/devices and bus/pci holding only the
 * devices the container sees, under its names.
 *
 * One FUSE mount serves every container (libfuse takes a pthread key per
 * session and glibc has 1024: a third session per container would lower
 * the daemon's limit again), one directory per container:
 *
 *     MOUNTPOINT/NAME/{partitions,diskstats,bus/input/devices,bus/pci/devices}
 *     MOUNTPOINT/NAME/bus/pci/BB/DD.F   (each visible PCI device's configuration space)
 *
 * The root is 0700 and root's alone; a container gets a bind mount of its
 * own directory, from which no path leads to a sibling.
 *
 * A file's text is the kernel's, read when it is opened and filtered
 * against the container's devices at that moment; reads at any offset of
 * one open file see the same text. docs/procfs-view.md has the design. */

struct procfs;
struct procfs_container;

/* Mounts at mountpoint (an existing directory). */
int procfs_new(struct fuse_pool *pool, const char *mountpoint, struct procfs **ret);
/* Takes over fd, the /dev/fuse descriptor of the mount at mountpoint a
 * previous devsieved made, which the holder kept (fs_session_adopt()):
 * until procfs_adopted() only this process's requests are answered, and
 * file and directory handles of the previous daemons (those not of
 * generation, this process's on the connection: fs/handles.h) are opened
 * again at their first use. Container numbers from next_number on are
 * new; the previous daemon's come back with procfs_adopt_number(). fd is
 * taken in every case (closed on failure). */
int procfs_adopt(struct fuse_pool *pool, const char *mountpoint, int fd, uint64_t next_number, uint32_t generation,
                 struct procfs **ret);
/* This process's generation of handles on the connection, for the holder. */
uint32_t procfs_generation(const struct procfs *p);
/* Every container is back: requests put off are sent again by the kernel. */
int procfs_adopted(struct procfs *p);
/* The next procfs_add_container() takes number (its inodes are the ones
 * the kernel holds) unless it is taken. */
void procfs_adopt_number(struct procfs *p, uint64_t number);
bool procfs_adopting_number(const struct procfs *p);
/* The number the next new container gets: the next daemon must not give
 * one again (the kernel may hold inodes of a removed container). */
uint64_t procfs_next_number(const struct procfs *p);
uint64_t procfs_container_number(const struct procfs_container *c);
/* The mount's /dev/fuse descriptor, for the holder. */
int procfs_fd(const struct procfs *p);
/* Every container must have been removed. */
struct procfs *procfs_free(struct procfs *p);
DEFINE_POINTER_CLEANUP(struct procfs, procfs_free);
/* The connection's id in the pool (fuse_pool_drain_exited()). */
uint64_t procfs_pool_id(const struct procfs *p);

/* Main loop only, like everything below. A directory MOUNTPOINT/NAME for
 * the container, empty of devices until deltas come; -EEXIST if taken. */
int procfs_add_container(struct procfs *p, const char *name, struct procfs_container **ret);
void procfs_remove_container(struct procfs_container *c);
void procfs_container_apply(struct procfs_container *c, const struct delta *deltas, size_t n_deltas);
/* The files belong to the container's root (host ids) once it is known;
 * host root until then. */
void procfs_container_set_root_owner(struct procfs_container *c, uid_t uid, gid_t gid);

struct procfs_container_stats {
        uint64_t devices;     /* visible devices in the view's copy */
        uint64_t opens;       /* files opened (and filtered) */
        uint64_t open_errors; /* opens that failed: the kernel's file could not be read or filtered */
        uint64_t dropped;     /* devices left out of the copy for lack of memory */
};
void procfs_container_get_stats(struct procfs_container *c, struct procfs_container_stats *ret);

/* The kernel's files this view filters, relative to /proc, and the name
 * of the container's copy relative to its directory (the same). */
extern const char *const procfs_files[];
