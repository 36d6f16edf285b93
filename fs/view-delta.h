/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>

#include "policy/device.h"

/* What the model hands the views: a host device, how one container sees
 * it, and one change of that (a delta). Data only. The model (daemon/)
 * makes, owns and changes these records and includes this header to define
 * them; the views read them on the main loop, during their *_apply(), and
 * keep copies of what their FUSE workers need. Here, so that fs/ builds
 * without daemon/. */

struct attribute_cache;
struct uevent;

/* Where a device's subsystem is listed in sysfs: /sys/class/S or /sys/bus/S. */
enum subsystem_kind {
        SUBSYSTEM_KIND_NONE,
        SUBSYSTEM_KIND_CLASS,
        SUBSYSTEM_KIND_BUS,
};

struct device_devnum_key {
        uint32_t type; /* 'c' or 'b' */
        uint32_t major, minor;
};

/* One host device as the daemon knows it: what libudev enumerated or the
 * last uevent said. Records live in the model's tables; consumers refer to
 * them by pointer (valid until the HIDDEN delta of a removal has been
 * delivered) or by id (never reused). */
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

/* One device the container sees, fully resolved: every consumer (the /dev
 * and /sys views, the relay, the device cgroup) works from this and never
 * evaluates the policy itself. Immutable once delivered in a delta. */
struct visible_device {
        struct device *device;

        /* What the policy (or a runtime override) asks for. */
        char *wanted_node;      /* relative to /dev; NULL for a device without a node */
        char **wanted_symlinks; /* relative to /dev */

        /* What the container gets once name conflicts are resolved. */
        char *node;      /* NULL: no node, or it lost its name (see conflicts) */
        char **symlinks; /* the granted subset of wanted_symlinks */
        char **conflicts; /* why a wanted name was not granted (names_assign) */
        char **warnings;  /* where the policy could not be followed exactly, e.g. unmapped ids */

        uid_t uid;       /* host ids, through the container's maps */
        gid_t gid;
        uid_t container_uid; /* as the policy says */
        gid_t container_gid;
        mode_t mode;     /* permission bits */
        unsigned access; /* POLICY_ACCESS_* */
        char **writable_attributes;
        char *decided_by; /* "FILE:LINE" or "runtime override" */

        UT_hash_handle hh; /* in container->visible, keyed by device pointer */
};

enum delta_kind {
        DELTA_VISIBLE, /* the container sees a device it did not see before */
        DELTA_CHANGED, /* still visible; its resolved view changed or a host event touched it */
        DELTA_HIDDEN,  /* the container no longer sees it */
};

struct delta {
        enum delta_kind kind;
        struct device *device;
        const struct visible_device *old; /* NULL for DELTA_VISIBLE */
        const struct visible_device *new; /* NULL for DELTA_HIDDEN */
        /* The host event on this very device, or NULL when the delta comes
         * from a reload, override, id-map change, an ancestor's event or a
         * name handed over from another device. */
        const struct uevent *event;
};
