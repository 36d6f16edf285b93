/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>

#include "policy/device.h"
#include "uevent.h"

/* One host device as the daemon knows it: what libudev enumerated or the
 * last uevent said. Records live in the model's tables; consumers refer to
 * them by pointer (valid until the HIDDEN delta of a removal has been
 * delivered) or by id (never reused). */

struct attribute_cache;

struct device_snapshot {
        char *const *properties; /* KEY=VALUE; DEVPATH at least */
        enum subsystem_kind subsystem_kind;
        char *const *tags;       /* udev tags; none when no udevd runs */
};

struct device_devnum_key {
        uint32_t type; /* 'c' or 'b' */
        uint32_t major, minor;
};

struct device {
        struct policy_device pd; /* what the policy engine sees; points into this record */
        uint64_t id;
        char *devpath;           /* owned; pd.devpath and pd.sysname point into it */
        char *devname;           /* "/dev/loop0", or NULL */
        char **properties;       /* without per-event keys (ACTION, SEQNUM, SYNTH_*) */
        char **tags;
        char type;               /* 'c', 'b' or 0 */
        dev_t devnum;
        enum subsystem_kind subsystem_kind;
        int sysfs_fd;            /* borrowed from the model: where attributes are read */
        /* When udev (the host's, or devsieve's in its place) first knew the
         * device, CLOCK_MONOTONIC usec: a container's udev database says
         * "initialized" with it (I: lines, USEC_INITIALIZED). */
        uint64_t usec_initialized;

        struct device *parent;
        struct device *children; /* utlist, linked by sibling_prev/sibling_next */
        struct device *sibling_prev, *sibling_next;

        struct attribute_cache *attributes; /* read on demand, dropped on every event */

        struct device_devnum_key devnum_key;
        UT_hash_handle hh_devpath;
        UT_hash_handle hh_devnum;
};

int device_new(uint64_t id, int sysfs_fd, const struct device_snapshot *s, struct device **ret);
/* Replaces what the device says about itself (not its devpath). */
int device_update(struct device *d, const struct device_snapshot *s);
int device_set_devpath(struct device *d, const char *devpath);
void device_forget_attributes(struct device *d);
struct device *device_free(struct device *d);
DEFINE_POINTER_CLEANUP(struct device, device_free);

const char *device_property(const struct device *d, const char *key);
const char *device_subsystem(const struct device *d);
const char *device_sysname(const struct device *d);
/* Node path relative to /dev as the kernel names it ("loop0"), or NULL. */
const char *device_kernel_node(const struct device *d);
bool device_is_ancestor(const struct device *ancestor, const struct device *d);
