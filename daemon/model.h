/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "container.h"
#include "device.h"
#include "fs/view-delta.h"
#include "path-counts.h"
#include "uevent.h"

/* The host device model and every container's visible set: the one place
 * that decides which containers a host change affects.
 *
 * Host events come in (model_apply_event), the device tables are updated,
 * the device (and, when an ancestor changed, its descendants) is evaluated
 * once per distinct policy, every container whose policy shows it or that
 * sees it takes the decision, and each container's changes go out to the
 * subscribers as one batch of deltas. Policy reloads, id-map changes and
 * runtime overrides produce deltas the same way. Consumers (views, relay)
 * never evaluate policy themselves. Single-threaded: the daemon's main loop
 * owns it; a subscriber or observer may read the model, never change it. */

/* All of one container's deltas for one cause, in an order safe to apply
 * front to back: deltas that give up names come before those that take
 * them. Pointers are valid during the call only. */
typedef void (*model_deltas_fn)(struct container *c, const struct delta *deltas, size_t n_deltas, void *userdata);
/* Every host event, once the model has applied it and delivered its
 * deltas (also when it changed nothing for anyone): for what depends on
 * host devices no container sees (`devsieve monitor`; the /sys view covers
 * one that appears inside a visible device's directory). */
typedef void (*model_event_fn)(const struct uevent *ev, void *userdata);

struct model_stats {
        uint64_t events;
        uint64_t events_by_action[_UEVENT_ACTION_MAX];
        uint64_t deltas;
};

#define MODEL_SUBSCRIBERS_MAX 8

struct model {
        int sysfs_fd; /* owned; attributes for ATTR{} rules are read below it */
        uint64_t next_device_id;
        struct device *by_devpath; /* hh_devpath */
        struct device *by_devnum;  /* hh_devnum, devices with a node only */
        struct device *roots;      /* devices without a known parent, linked as siblings */
        /* The devpaths (without the leading '/') of every device: whether a
         * device just added has any below it to adopt, without a walk over
         * its siblings (the roots hold every /devices/virtual device). */
        struct path_counts below;
        struct container *containers;
        uint64_t next_container_order;
        /* Containers grouped by policy identity, those groups a change
         * being evaluated touched, and per device the groups that see it
         * (model.c). */
        struct policy_class *classes, *touched;
        struct device_seen *seen;
        /* Every class's policy, and during a change one pass over them per
         * changed device (model.c). */
        struct policy_set *policies;
        struct policy_set_pass **passes;
        size_t n_passes;
        uint64_t change; /* counts the changes evaluated for all */
        size_t n_classes_unknown;
        struct {
                model_deltas_fn fn;
                void *userdata;
        } subscribers[MODEL_SUBSCRIBERS_MAX], first_subscribers[MODEL_SUBSCRIBERS_MAX];
        size_t n_subscribers, n_first_subscribers;
        struct {
                model_event_fn fn;
                void *userdata;
        } observers[MODEL_SUBSCRIBERS_MAX];
        size_t n_observers;
        struct model_stats stats;
};

/* Takes ownership of sysfs_fd (an O_DIRECTORY fd of /sys or a test tree). */
int model_new(int sysfs_fd, struct model **ret);
struct model *model_free(struct model *m);
DEFINE_POINTER_CLEANUP(struct model, model_free);

/* Subscribers are called in registration order: views before the relay, so
 * that a container hears of a device only once its node exists. */
int model_subscribe(struct model *m, model_deltas_fn fn, void *userdata);
/* Called with every container's deltas of one change before any subscriber
 * of model_subscribe() sees any container's: a cheap consumer (the /dev
 * views) need not wait for other containers' slow ones (the /sys views'
 * mounts). Within one container they still come first. */
int model_subscribe_first(struct model *m, model_deltas_fn fn, void *userdata);
int model_observe_events(struct model *m, model_event_fn fn, void *userdata);

/* --- Host devices ---------------------------------------------------- */

struct device *model_find_device(const struct model *m, const char *devpath);
struct device *model_find_devnum(const struct model *m, char type, unsigned major, unsigned minor);

/* A device found by enumeration (or an ancestor found late): inserted or
 * updated, then evaluated for every container without a host event. */
int model_add_device(struct model *m, const struct device_snapshot *s, struct device **ret);
/* One host uevent. Unknown devices are created by any action but remove. */
int model_apply_event(struct model *m, const struct uevent *ev);

/* --- Containers ------------------------------------------------------ */

/* Takes ownership of c; -EEXIST when the name is taken (c is freed). The
 * visible set stays empty until model_refresh_container(). */
int model_add_container(struct model *m, struct container *c);
struct container *model_find_container(const struct model *m, const char *name);
/* Frees c without deltas: its consumers are being torn down anyway. */
void model_remove_container(struct model *m, struct container *c);

/* Re-evaluates every device for c. */
int model_refresh_container(struct model *m, struct container *c);
/* Takes ownership of policy; the old one is freed after the deltas went out. */
int model_set_policy(struct model *m, struct container *c, struct policy *policy, const char *source);
int model_set_idmaps(struct model *m, struct container *c, const struct idmap *uid_map, const struct idmap *gid_map);
/* Takes ownership of o (NULL clears the device's override). */
int model_set_override(struct model *m, struct container *c, struct device *d, struct override *o);
