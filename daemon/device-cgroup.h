/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "model.h"

/* A container's device cgroup kept in step with its visible set: a device
 * the container sees it may open with the policy's ACCESS, and devsieve
 * never grants anything else.
 *
 * The daemon calls device_cgroup_grant() with a batch of deltas before the
 * views and the relay apply it (a device is allowed before its node
 * appears) and device_cgroup_revoke() after (denied once its node is
 * gone). Only what devsieve itself added is ever taken away: the runtime's
 * own rules (the OCI default devices) stay.
 *
 * Single-threaded: the daemon's main loop owns every instance. Errors are
 * returned, and the last one is kept for `status`; a failing cgroup never
 * stops the views. */

enum device_cgroup_mode {
        DEVICE_CGROUP_AUTO, /* per container: v1 when its devices controller is mounted, else v2 */
        DEVICE_CGROUP_V1,
        DEVICE_CGROUP_V2,
        DEVICE_CGROUP_OFF,
        _DEVICE_CGROUP_MODE_MAX,
};

const char *device_cgroup_mode_to_string(enum device_cgroup_mode m);
int device_cgroup_mode_from_string(const char *s);

struct device_cgroup;

struct device_cgroup_stats {
        const char *mode;      /* "v1", "v2", "off" */
        const char *path;      /* within its hierarchy; NULL when none */
        size_t rules;          /* devices devsieve granted and still grants */
        uint64_t updates;      /* allow/deny writes or map updates done */
        uint64_t failures;
        const char *last_error; /* NULL when none */
        bool replaced;         /* someone else rewrote the decision (device_cgroup_check) */
        const char *off_reason; /* mode "off": why */
};

/* Finds pid's device cgroup (/proc/PID/cgroup) for mode and takes it over.
 * A process in its hierarchy's root cgroup (the host's own) is left alone:
 * *ret is then an instance in mode "off" saying why. name is for messages.
 * On failure *ret is still set when memory allows: an instance that grants
 * nothing and reports the error. */
int device_cgroup_new(enum device_cgroup_mode mode, const char *name, pid_t pid, struct device_cgroup **ret);
/* Whether g is pid's device cgroup in mode and works: a re-attach keeps it. */
bool device_cgroup_is_current(const struct device_cgroup *g, enum device_cgroup_mode mode, pid_t pid);
/* Takes back every grant that is still devsieve's (when the cgroup still
 * exists) and frees. */
struct device_cgroup *device_cgroup_free(struct device_cgroup *g);
/* Frees and leaves every grant in place: at a stop or upgrade the views
 * stay (held or repaired) and the next devsieved takes the cgroup over. */
struct device_cgroup *device_cgroup_forget(struct device_cgroup *g);
DEFINE_POINTER_CLEANUP(struct device_cgroup, device_cgroup_free);

/* Grants what c sees now (at attach, before any delta). */
int device_cgroup_grant_visible(struct device_cgroup *g, const struct container *c);
/* Widening half of a batch of deltas: new devices, added access. */
int device_cgroup_grant(struct device_cgroup *g, const struct delta *deltas, size_t n);
/* Narrowing half: hidden devices, dropped access. */
int device_cgroup_revoke(struct device_cgroup *g, const struct delta *deltas, size_t n);

/* Whether devsieve's decision still holds: v1, its rules are still in
 * devices.list; v2, its program is still the only one attached. A runtime
 * or systemd may have rewritten either since. Updates the stats. */
void device_cgroup_check(struct device_cgroup *g);
/* After device_cgroup_check() found the decision rewritten: puts
 * devsieve's rules (v1) or program (v2) back. */
int device_cgroup_restore(struct device_cgroup *g);
void device_cgroup_get_stats(const struct device_cgroup *g, struct device_cgroup_stats *ret);
