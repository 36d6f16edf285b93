/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <uthash.h>

#include "device.h"
#include "fs/view-delta.h"
#include "idmap.h"
#include "policy/policy.h"

/* A registered container as the model sees it: a policy, id maps, runtime
 * overrides, and the resulting visible set. */

struct visible_device *visible_device_free(struct visible_device *v);
DEFINE_POINTER_CLEANUP(struct visible_device, visible_device_free);
int visible_device_copy(const struct visible_device *v, struct visible_device **ret);
/* Same resolved view, grants included (the device pointer aside). */
bool visible_device_equal(const struct visible_device *a, const struct visible_device *b);
/* Same wanted names: whether name conflicts need resolving again. */
bool visible_device_same_wants(const struct visible_device *a, const struct visible_device *b);

/* A growable list of owned entries: the "before" side of deltas. */
struct visible_list {
        struct visible_device **items;
        size_t n, allocated;
};

/* Takes ownership of v (freed on failure). */
int visible_list_push(struct visible_list *l, struct visible_device *v);
void visible_list_done(struct visible_list *l);

/* `devsieve add` / `devsieve remove`: for one device, for the device's life. */
struct override {
        uint64_t device_id; /* key */
        bool allow;
        char *name;         /* NULL: the policy's, or the kernel's */
        bool has_mode, has_uid, has_gid;
        mode_t mode;
        uid_t uid; /* container ids */
        gid_t gid;
        UT_hash_handle hh;
};

struct override *override_free(struct override *o);

struct container {
        char *name;
        struct policy *policy;
        char *policy_source; /* the path or built-in name the policy came from */
        struct idmap uid_map, gid_map;
        struct override *overrides;
        struct visible_device *visible;

        /* The model's own bookkeeping (model.c): the containers sharing the
         * policy, the order in which containers hear of a change, the
         * names granted. The model frees it. */
        struct container_model *model;

        /* The daemon's per-container state (views, relay); the model never
         * touches it. */
        void *userdata;

        UT_hash_handle hh;
};

/* Takes ownership of policy. The visible set starts empty: the model fills
 * it (model_refresh_container) once consumers are ready for the deltas. */
int container_new(const char *name, struct policy *policy, const char *policy_source, struct container **ret);
struct container *container_free(struct container *c);
DEFINE_POINTER_CLEANUP(struct container, container_free);

struct visible_device *container_find_visible(const struct container *c, const struct device *d);
struct override *container_find_override(const struct container *c, const struct device *d);

/* Evaluates policy and overrides for d: *ret is NULL when the container must
 * not see d. Grants (node, symlinks, conflicts) are left to names_assign(). */
int visible_device_compute(const struct container *c, struct device *d, struct visible_device **ret);
/* The same from the decision of c's policy for d (policy_evaluate()), which
 * containers with the same policy identity share: copied, not taken.
 * decision->decided_by is not used (the rule may belong to another
 * container's policy): decided_by is its "FILE:LINE", NULL when denied. */
int visible_device_compute_from(const struct container *c, struct device *d, const struct policy_result *decision,
                                const char *decided_by, struct visible_device **ret);
/* "FILE:LINE" of the rule that allowed, or NULL when denied. */
int policy_result_decided_by(const struct policy_result *result, char **ret);
