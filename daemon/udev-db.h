/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "macro.h"
#include "model.h"

/* One container's udev database: a directory (RUNTIME/containers/NAME/udev)
 * that the runtime binds read-only at the container's /run/udev, so that
 * libudev inside finds what a udevd would have left there:
 *
 *   control            empty; libudev's sign that udev runs
 *   data/ID            per visible device (udev-data.h), nothing for hidden ones
 *   tags/TAG/ID        empty, per tag of a visible device
 *
 * Plain files on a tmpfs the daemon mounts there (a plain directory where
 * it may not mount), written by the main loop: no FUSE session per
 * container, and the kernel serves the reads. Each
 * file is written to a temporary name and renamed, so a reader sees the old
 * or the new one, never half. See docs/udev.md. */

struct udev_db;

struct udev_db_stats {
        uint64_t written; /* data files written */
        uint64_t removed; /* data files removed */
        uint64_t failed; /* writes or removals that failed (each logged) */
};

/* Creates dir (a tmpfs, or the one an earlier daemon left there) and its
 * skeleton; whatever an earlier daemon wrote there goes.
 * name is the container's, for logs. */
int udev_db_new(const char *dir, const char *name, struct udev_db **ret);
/* Removes the directory and everything in it (control first). */
struct udev_db *udev_db_free(struct udev_db *db);
DEFINE_POINTER_CLEANUP(struct udev_db, udev_db_free);


/* Main loop only, before the relay hears of the same deltas: a container
 * that hears of a device finds its data, one that hears it is gone finds
 * none. Failures are logged and counted, the other devices still go. */
void udev_db_apply(struct udev_db *db, const struct delta *deltas, size_t n_deltas);

/* The data file's text for the device with this id, as the container
 * reads it; -ENOENT when there is none. The caller frees *ret. */
int udev_db_read(const struct udev_db *db, const char *id, char **ret);

const char *udev_db_path(const struct udev_db *db);
void udev_db_get_stats(const struct udev_db *db, struct udev_db_stats *ret);
