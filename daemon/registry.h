/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "daemon.h"
#include "policy/policy.h"

/* The registry: devsieved's containers, each with its model record, views,
 * relay and process. Main loop only. The control commands and the daemon's
 * signal handling call it; it calls down into the model, the views and the
 * relay, never back up. */

/* Loads a policy as create/reload name it: a path (with a '/'), a built-in
 * name ("oci-default"), or NAME / NAME.rules in the policy directory.
 * Diagnostics go to diags; root resolves OWNER/GROUP names. */
int daemon_load_policy(struct daemon *d, const char *source, const char *root, bool unknown_names_are_errors,
                       struct policy **ret, struct policy_diagnostics *diags);

/* device_cgroup false: leave the container's device cgroup to its runtime.
 * detached: its /dev, /sys and udev views are mounted in the daemon's
 * namespace only (a runtime gets them as mount trees, control "views"),
 * not at RUNTIME/containers/NAME where the host would see them. */
int daemon_create_container(struct daemon *d, const char *name, const char *policy_source, pid_t pid,
                            enum relay_mode relay, bool device_cgroup, bool detached,
                            struct policy_diagnostics *diags, struct daemon_container **ret);
/* Takes the container's pid: its id maps (ownership), netns (relay) and
 * lifetime (when it exits the relay stops). */
int daemon_attach_container(struct daemon *d, struct daemon_container *dc, pid_t pid,
                            struct policy_diagnostics *diags);
int daemon_destroy_container(struct daemon *d, struct daemon_container *dc);
/* Mounts a new, empty view of that kind for dc at DIR/dev or DIR/sys
 * (clearing whatever is left there) on the daemon's current connection. */
int daemon_make_dev_view(struct daemon *d, struct daemon_container *dc, uid_t root_uid, gid_t root_gid);
int daemon_make_sys_view(struct daemon *d, struct daemon_container *dc, uid_t root_uid, gid_t root_gid);
/* At shutdown: stops serving dc but keeps its saved registration, which
 * the next devsieved on this runtime directory restores. */
void daemon_stop_container(struct daemon *d, struct daemon_container *dc);
/* Reloads dc's policy from where it came from; on any error the old one
 * stays in force. */
int daemon_reload_container(struct daemon *d, struct daemon_container *dc, struct policy_diagnostics *diags);
/* The container's views (dev, sys, udev: those it has, in that order) as
 * detached mount trees, recursive clones that are slaves of the views: a
 * runtime moves them into the container (move_mount), and later device
 * mounts of the /sys view reach them. fds are the caller's to close;
 * names[i] is fds[i]'s view. On failure (logged, naming the view) no fd
 * is left open. */
#define DAEMON_VIEWS_MAX 3
int daemon_open_views(struct daemon_container *dc, int fds[static DAEMON_VIEWS_MAX],
                      const char *names[static DAEMON_VIEWS_MAX], size_t *ret_n);
struct daemon_container *daemon_find_container(struct daemon *d, const char *name);
/* Writes dc's registration for the next devsieved (state.h) after a change
 * that is not hot-plug: create, attach, exit, overrides. A failure is
 * logged; the container is served either way. */
void daemon_save_container(struct daemon *d, struct daemon_container *dc);
/* Whether a runtime or systemd rewrote dc's device cgroup since devsieved
 * set it up (said once in the log; then in show and status). */
void daemon_check_device_cgroup(struct daemon_container *dc);

static inline struct daemon_container *daemon_container_of(const struct container *c) {
        return c->userdata;
}
