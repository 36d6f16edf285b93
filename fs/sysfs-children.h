/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "macro.h"

/* The child device directories below a device's sysfs directory, as the
 * /sys views need them to cover the children a container does not see:
 * scanned once per device and shared by every view, instead of once per
 * view and mount (a hot-plugged device seen by a hundred containers, a
 * container created with the same devices as the others). An entry stays
 * until a device is added, removed or moved at or below its directory (the
 * daemon calls sysfs_children_forget() for every such host event), so it
 * is as current as the daemon's picture of the host's devices, and for a
 * limited time (a udevd's events come late): the next host event drops it
 * after that. Main loop only: nothing here is locked. */

struct sysfs_children;

/* How long the daemon uses a scan: a child device made after it stays
 * uncovered in a view mounted meanwhile until the daemon reads the
 * child's event. Kernel events come within a millisecond; a udevd's only
 * once its rules ran, so a scan is not trusted for long. What sharing is
 * for (one change seen by many containers, containers created in a row)
 * fits in it. */
#define SYSFS_CHILDREN_MAX_AGE_USEC (1000 * 1000)

/* A scan is used for max_age_usec at most (0: never reused). */
int sysfs_children_new(uint64_t max_age_usec, struct sysfs_children **ret);
struct sysfs_children *sysfs_children_free(struct sysfs_children *c);
DEFINE_POINTER_CLEANUP(struct sysfs_children, sysfs_children_free);

/* The child device directories below path (relative to the sysfs
 * directory open at sysfs_fd, no leading '/'): the names relative to
 * path ("loop0p1", "net/eth0"), deepest CHILD_SCAN_DEPTH, not below a
 * child device. Owned by the cache: valid until the next call of any
 * function here. *ret is NULL when there is none. */
int sysfs_children_get(struct sysfs_children *c, int sysfs_fd, const char *path, char *const **ret);

/* A device appeared, went or moved at devpath ("/devices/..."): the
 * entries of its ancestors, its own and those below it go. */
void sysfs_children_forget(struct sysfs_children *c, const char *devpath);

/* Scans and hits since the start, and the scans held now (status,
 * benchmarks). */
void sysfs_children_get_stats(const struct sysfs_children *c, uint64_t *ret_scans, uint64_t *ret_hits,
                              uint64_t *ret_entries);
