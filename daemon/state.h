/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon.h"

/* What survives devsieved: each container's registration, written to
 * RUNTIME/containers/NAME/container.json (temp file + rename, so a crash
 * leaves the old or the new one, never half) whenever it changes: create,
 * attach, the process's exit, an override. Hot-plug never writes: what a
 * container sees follows from this and the host's devices. docs/restart.md
 * has the format. Main loop only. */

#define STATE_FILE "container.json"

struct saved_override {
        char *devpath;
        char type; /* 'b', 'c' or 0: the device must still have this node */
        unsigned major, minor;
        struct override *override; /* device_id unset */
};

struct saved_container {
        char *name;
        char *policy_source;
        enum relay_mode relay;
        pid_t pid;           /* 0: not attached (or the process exited) */
        bool exited;         /* it was attached and its process exited */
        uint64_t start_time; /* /proc/PID/stat field 22: tells a reused pid apart */
        bool device_cgroup;  /* false: its runtime manages its device cgroup */
        bool detached;       /* its views are in RUNTIME/views/containers/NAME (daemon_open_views()) */
        /* Which mounts were its views: the connection ("MAJ:MIN") and the
         * bind's root ("/SLOT"), as mountinfo shows them. */
        char dev_connection[32], dev_root[32], sys_connection[32], sys_root[32];
        /* Its directory of the /proc view: the connection and its number
         * there (the high bits of its inode numbers). */
        char proc_connection[32];
        uint64_t proc_number;
        struct saved_override *overrides;
        size_t n_overrides;
};

void saved_container_done(struct saved_container *s);

/* Writes dc's state; errors are returned (the caller logs them: the
 * container keeps being served either way). */
int state_save(struct daemon *d, const struct daemon_container *dc);
/* Reads DIR/container.json; -ENOENT without one, -EBADMSG with a line in
 * *ret_error for a file that is not what state_save() writes. */
int state_load(const char *dir, struct saved_container *ret, char **ret_error);
void state_remove(const struct daemon_container *dc);

/* The start time of pid in clock ticks after boot (/proc/PID/stat field
 * 22); -ESRCH when there is no such process. */
int process_start_time(pid_t pid, uint64_t *ret);

/* What a container saw, for the next devsieved to tell it what changed
 * while no daemon ran: RUNTIME/containers/NAME/visible.json, rewritten
 * (temp file + rename) after each batch of deltas that shows or hides a
 * device. Each device by devpath, with its node in the container and the
 * host's properties (enough for a "remove" event once it is gone). */
#define VISIBLE_FILE "visible.json"

struct saved_visible {
        char *devpath;
        char *node;        /* relative to /dev, or NULL */
        char **properties; /* KEY=VALUE */
};

int state_save_visible(const struct daemon_container *dc);
/* -ENOENT without a file. */
int state_load_visible(const char *dir, struct saved_visible **ret, size_t *ret_n);
void saved_visible_free(struct saved_visible *v, size_t n);
