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

int daemon_create_container(struct daemon *d, const char *name, const char *policy_source, pid_t pid,
                            enum relay_mode relay, struct policy_diagnostics *diags, struct daemon_container **ret);
/* Takes the container's pid: its id maps (ownership), netns (relay) and
 * lifetime (when it exits the relay stops). */
int daemon_attach_container(struct daemon *d, struct daemon_container *dc, pid_t pid,
                            struct policy_diagnostics *diags);
int daemon_destroy_container(struct daemon *d, struct daemon_container *dc);
/* Reloads dc's policy from where it came from; on any error the old one
 * stays in force. */
int daemon_reload_container(struct daemon *d, struct daemon_container *dc, struct policy_diagnostics *diags);
struct daemon_container *daemon_find_container(struct daemon *d, const char *name);

static inline struct daemon_container *daemon_container_of(const struct container *c) {
        return c->userdata;
}
