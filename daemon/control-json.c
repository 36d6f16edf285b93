/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/sysmacros.h>

#include "control-json.h"
#include "fs/procfs.h"
#include "strv.h"

json_t *control_json_visible(const struct visible_device *v) {
        _cleanup_(json_decrefp) json_t *o = json_object();
        const struct device *d = v->device;
        bool has_node = d->type == 'b' || d->type == 'c';

        if (!o)
                return NULL;
        if (policy_json_set(o, "path", policy_json_string(v->node)) < 0 ||
            policy_json_set(o, "devname", policy_json_string(d->devname)) < 0 ||
            policy_json_set(o, "devpath", policy_json_string(d->devpath)) < 0 ||
            policy_json_set(o, "subsystem", policy_json_string(device_subsystem(d))) < 0 ||
            policy_json_set(o, "type", has_node ? json_string(d->type == 'b' ? "block" : "char") : json_null()) < 0 ||
            policy_json_set(o, "major", has_node ? json_integer(major(d->devnum)) : json_null()) < 0 ||
            policy_json_set(o, "minor", has_node ? json_integer(minor(d->devnum)) : json_null()) < 0 ||
            policy_json_set(o, "uid", json_integer(v->container_uid)) < 0 ||
            policy_json_set(o, "gid", json_integer(v->container_gid)) < 0 ||
            policy_json_set(o, "host_uid", json_integer(v->uid)) < 0 ||
            policy_json_set(o, "host_gid", json_integer(v->gid)) < 0 ||
            policy_json_set(o, "mode", policy_json_mode(v->mode)) < 0 ||
            policy_json_set(o, "access", policy_json_access(v->access)) < 0 ||
            policy_json_set(o, "symlinks", policy_json_strv(v->symlinks)) < 0 ||
            policy_json_set(o, "writable_attributes", policy_json_strv(v->writable_attributes)) < 0 ||
            policy_json_set(o, "rule", policy_json_string(v->decided_by)) < 0 ||
            policy_json_set(o, "conflicts", policy_json_strv(v->conflicts)) < 0 ||
            policy_json_set(o, "warnings", policy_json_strv(v->warnings)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static int compare_visible(const void *x, const void *y) {
        const struct visible_device *a = *(const struct visible_device *const *) x;
        const struct visible_device *b = *(const struct visible_device *const *) y;

        /* As `check --all`: by path, devices without a node last, then by
         * devpath. */
        if (a->node && b->node) {
                int k = strcmp(a->node, b->node);
                if (k != 0)
                        return k;
        } else if (a->node || b->node)
                return a->node ? -1 : 1;
        return strcmp(a->device->devpath, b->device->devpath);
}

json_t *control_json_visible_all(const struct container *c) {
        _cleanup_(json_decrefp) json_t *rows = json_array();
        _cleanup_free_ const struct visible_device **order = NULL;
        const struct visible_device *v, *tmp;
        size_t n = HASH_COUNT(c->visible), i = 0;

        if (!rows)
                return NULL;
        order = calloc(n ?: 1, sizeof(*order));
        if (!order)
                return NULL;
        HASH_ITER(hh, c->visible, v, tmp)
                order[i++] = v;
        qsort(order, n, sizeof(*order), compare_visible);
        for (i = 0; i < n; i++)
                if (json_array_append_new(rows, control_json_visible(order[i])) < 0)
                        return NULL;
        return TAKE_PTR(rows);
}

static const char *relay_mode_name(enum relay_mode m) {
        switch (m) {
        case RELAY_NETLINK:
                return "netlink";
        case RELAY_SOCKET:
                return "socket";
        case RELAY_NONE:
                return "none";
        case RELAY_AUTO:
        default:
                return "auto";
        }
}

static json_t *path_below(const char *dir, const char *name) {
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s/%s", dir, name) < 0)
                return NULL;
        return policy_json_string(p);
}

/* A view's path in the host; null for a detached container's (only the
 * daemon's namespace has them: "views" hands them out). */
static json_t *view_path(const struct daemon_container *dc, const char *name) {
        return dc->detached ? json_null() : path_below(dc->dir, name);
}

/* Where the device cgroup stands: "mode" is v1, v2, off (with a
 * "reason"), "runtime" (left to it at create) or "none" (not attached). */
static json_t *device_cgroup_json(const struct daemon_container *dc) {
        _cleanup_(json_decrefp) json_t *o = json_object();
        struct device_cgroup_stats s = {};

        if (!o)
                return NULL;
        if (!dc->device_cgroup)
                s = (struct device_cgroup_stats){ .mode = "runtime", .off_reason = "left to the runtime at create" };
        else if (!dc->cgroup)
                s = (struct device_cgroup_stats){ .mode = "none", .off_reason = "no process attached" };
        else
                device_cgroup_get_stats(dc->cgroup, &s);
        if (policy_json_set(o, "mode", json_string(s.mode)) < 0 ||
            policy_json_set(o, "path", policy_json_string(s.path)) < 0 ||
            policy_json_set(o, "rules", json_integer((json_int_t) s.rules)) < 0 ||
            policy_json_set(o, "updates", json_integer((json_int_t) s.updates)) < 0 ||
            policy_json_set(o, "failures", json_integer((json_int_t) s.failures)) < 0 ||
            policy_json_set(o, "replaced", json_boolean(s.replaced)) < 0 ||
            policy_json_set(o, "reason", policy_json_string(s.off_reason)) < 0 ||
            policy_json_set(o, "last_error", policy_json_string(s.last_error)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

/* What a runtime binds over the container's /proc: source and destination. */
static json_t *proc_binds(const char *dir) {
        _cleanup_(json_decrefp) json_t *a = json_array();

        if (!a)
                return NULL;
        for (const char *const *f = procfs_files; *f; f++) {
                _cleanup_free_ char *source = NULL, *destination = NULL;
                json_t *o = json_object();

                if (!o || json_array_append_new(a, o) < 0)
                        return NULL;
                if (asprintf(&source, "%s/proc/%s", dir, *f) < 0 || asprintf(&destination, "/proc/%s", *f) < 0 ||
                    policy_json_set(o, "source", policy_json_string(source)) < 0 ||
                    policy_json_set(o, "destination", policy_json_string(destination)) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

json_t *control_json_container(const struct daemon_container *dc) {
        _cleanup_(json_decrefp) json_t *o = json_object();
        const struct container *c = dc->container;
        const char *state = dc->pid > 0 ? "attached" : dc->exited ? "exited" : "created";
        static const char *const views[] = { [VIEWS_LIVE] = "live", [VIEWS_ADOPTED] = "adopted", [VIEWS_REPAIRED] = "repaired",
                                             [VIEWS_DEAD] = "dead" };

        if (!o)
                return NULL;
        if (policy_json_set(o, "name", policy_json_string(c->name)) < 0 ||
            policy_json_set(o, "policy", policy_json_string(c->policy_source)) < 0 ||
            policy_json_set(o, "state", json_string(state)) < 0 ||
            policy_json_set(o, "pid", dc->pid > 0 ? json_integer(dc->pid) : json_null()) < 0 ||
            policy_json_set(o, "relay", json_string(relay_mode_name(dc->relay_mode))) < 0 ||
            policy_json_set(o, "devices", json_integer((json_int_t) HASH_COUNT(c->visible))) < 0 ||
            policy_json_set(o, "overrides", json_integer((json_int_t) HASH_COUNT(c->overrides))) < 0 ||
            policy_json_set(o, "detached", json_boolean(dc->detached)) < 0 ||
            policy_json_set(o, "dev", view_path(dc, "dev")) < 0 ||
            policy_json_set(o, "sys", view_path(dc, "sys")) < 0 ||
            policy_json_set(o, "views", json_string(views[dc->views])) < 0 ||
            policy_json_set(o, "views_error", policy_json_string(dc->views_error)) < 0 ||
            policy_json_set(o, "device_cgroup", device_cgroup_json(dc)) < 0 ||
            policy_json_set(o, "udev", view_path(dc, "udev")) < 0 ||
            policy_json_set(o, "proc", path_below(dc->dir, "proc")) < 0 ||
            policy_json_set(o, "proc_binds", proc_binds(dc->dir)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

json_t *control_json_override(const struct override *o) {
        _cleanup_(json_decrefp) json_t *j = json_object();

        if (!j)
                return NULL;
        if (policy_json_set(j, "allow", json_boolean(o->allow)) < 0 ||
            policy_json_set(j, "node", policy_json_string(o->name)) < 0 ||
            policy_json_set(j, "mode", o->has_mode ? policy_json_mode(o->mode) : json_null()) < 0 ||
            policy_json_set(j, "uid", o->has_uid ? json_integer(o->uid) : json_null()) < 0 ||
            policy_json_set(j, "gid", o->has_gid ? json_integer(o->gid) : json_null()) < 0)
                return NULL;
        return TAKE_PTR(j);
}
