/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "view-delta.h"
#include "fuse-pool.h"
#include "mux.h"
#include "macro.h"

/* A container's /sys: the visible devices, their ancestors and the
 * listings tools walk (class/, bus/, block/, dev/), nothing else.
 *
 * libudev accepts a device directory only when it is on sysfs itself
 * (systemd's sd-device fstatfs()es it for SYSFS_MAGIC), so the view is
 * two layers: a FUSE filesystem holds the skeleton, the listings and the ancestors, and each visible device's
 * directory is the real sysfs directory, bind-mounted read-only on top,
 * with its uevent file (and the attributes the policy lets the container
 * write) overmounted by the view's own files, and the directories of child
 * devices the container does not see covered by an empty one.
 * docs/sysfs-view.md has the design and its trade-offs. */

struct sysfs_view;
struct sysfs_children;

/* A container wrote an event into one of its uevent files: the event's
 * properties (KEY=VALUE, ACTION first) as its own kernel would send them.
 * Called from a FUSE worker; takes properties. */
typedef void (*sysfs_event_fn)(char **properties, void *userdata);

struct sysfs_view_stats {
        uint64_t devices;          /* visible devices shown */
        uint64_t mounts;           /* device, cover and pass-through mounts in place */
        uint64_t covered;          /* hidden child devices covered */
        uint64_t synthetic_events; /* events the container wrote */
        uint64_t mount_errors;     /* devices that could not be shown (logged by the caller's stats) */
        uint64_t apply_errors;     /* deltas that could not be applied (the others were) */
};

/* The one FUSE connection every container's /sys skeleton is served from,
 * mounted at mountpoint. */
int sysfs_view_mux_new(struct fuse_pool *pool, const char *mountpoint, struct fs_mux **ret);
/* The kernel must look path (relative to /sys) up again (devfs_expire()). */
void sysfs_view_expire(struct sysfs_view *v, const char *path);
/* The connection a previous devsieved mounted at mountpoint (fs_mux_adopt():
 * fd is taken in every case). */
int sysfs_view_mux_adopt(struct fuse_pool *pool, const char *mountpoint, int fd, uint64_t next_slot,
                         uint32_t generation, struct fs_mux **ret);

/* A new view in mux, bound at mountpoint (an existing empty directory) as a
 * shared mount, so that what is later mounted below it reaches the copies
 * containers hold. root_uid/root_gid: host ids of the container's root,
 * owner of the uevent files. children: the scans of device directories
 * every view shares (sysfs-children.h); it must outlive the view. */
int sysfs_view_new(struct fs_mux *mux, struct sysfs_children *children, const char *mountpoint,
                   const char *container_name, uid_t root_uid, gid_t root_gid, sysfs_event_fn on_event,
                   void *userdata, struct sysfs_view **ret);
struct sysfs_view *sysfs_view_free(struct sysfs_view *v);
DEFINE_POINTER_CLEANUP(struct sysfs_view, sysfs_view_free);

/* Main loop only, like everything below. */
void sysfs_view_apply(struct sysfs_view *v, const struct delta *deltas, size_t n_deltas);
/* A host device appeared or went away (after the model's deltas for it):
 * one the container does not see, appearing inside a device directory it
 * does see, is covered at once. */
void sysfs_view_host_event(struct sysfs_view *v, const char *devpath, bool added);
/* Read-only pass-through of non-device sysfs: the defaults every program
 * needs plus the policy's expose paths ("/sys/..."). */
int sysfs_view_set_exposed(struct sysfs_view *v, char *const *paths);
void sysfs_view_set_root_owner(struct sysfs_view *v, uid_t uid, gid_t gid);

void sysfs_view_get_stats(struct sysfs_view *v, struct sysfs_view_stats *ret);
/* The view's slot in its connection (fs/mux.h): its bind's root is /SLOT. */
uint64_t sysfs_view_get_slot(const struct sysfs_view *v);
