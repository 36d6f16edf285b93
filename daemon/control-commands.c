/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What each control request does. Every handler validates everything it
 * needs before changing anything, and answers with one reply object. */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "holder.h"
#include "clock.h"
#include "control-internal.h"
#include "control-json.h"
#include "control-request.h"
#include "fileio.h"
#include "fs/devfs.h"
#include "fs/procfs.h"
#include "fs/sysfs.h"
#include "fs/sysfs-children.h"
#include "policy/adapters/policy-json.h"
#include "log.h"
#include "registry.h"
#include "relay.h"
#include "udev-data.h"
#include "udev-db.h"

static json_t *diagnostics_array(const struct policy_diagnostics *diags) {
        json_t *a = NULL;

        if (!diags)
                return json_array();
        return policy_json_diagnostics(diags, &a) < 0 ? NULL : a;
}

_printf_(3, 0) static json_t *error_reply_va(int error, const struct policy_diagnostics *diags, const char *format,
                                             va_list ap) {
        _cleanup_(json_decrefp) json_t *o = json_object();
        _cleanup_free_ char *message = NULL;

        error = abs(error);
        if (!o || vasprintf(&message, format, ap) < 0)
                return NULL;
        if (json_object_set_new(o, "ok", json_false()) < 0 ||
            json_object_set_new(o, "error", policy_json_string(message)) < 0 ||
            json_object_set_new(o, "errno", json_integer(error)) < 0 ||
            json_object_set_new(o, "diagnostics", diagnostics_array(diags)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

json_t *control_error_reply(int error, const struct policy_diagnostics *diags, const char *format, ...) {
        va_list ap;
        json_t *o;

        va_start(ap, format);
        o = error_reply_va(error, diags, format, ap);
        va_end(ap);
        return o;
}

/* {"ok": true} with the warnings of a policy load, if any. */
static json_t *ok_reply(const struct policy_diagnostics *diags) {
        _cleanup_(json_decrefp) json_t *o = json_object();

        if (!o || json_object_set_new(o, "ok", json_true()) < 0)
                return NULL;
        if (diags && diags->n_items > 0 && json_object_set_new(o, "diagnostics", diagnostics_array(diags)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

/* Sets key on a reply; the reply is dropped (NULL: out of memory) when v
 * is NULL or the set fails. */
static json_t *with(json_t *reply, const char *key, json_t *v) {
        if (!reply || !v || json_object_set_new(reply, key, v) < 0) {
                json_decref(reply);
                return NULL;
        }
        return reply;
}

static json_t *no_such_container(const char *name) {
        return control_error_reply(ENOENT, NULL, "no container '%s'", name);
}

/* The first error among the diagnostics, as one line, for the error text. */
static const char *first_error(const struct policy_diagnostics *diags, char **buf) {
        for (size_t i = 0; diags && i < diags->n_items; i++)
                if (diags->items[i].is_error && policy_diagnostic_format(&diags->items[i], buf) >= 0)
                        return *buf;
        return NULL;
}

static enum relay_mode relay_mode_from_request(enum control_relay r) {
        switch (r) {
        case CONTROL_RELAY_NETLINK:
                return RELAY_NETLINK;
        case CONTROL_RELAY_SOCKET:
                return RELAY_SOCKET;
        case CONTROL_RELAY_NONE:
                return RELAY_NONE;
        case CONTROL_RELAY_AUTO:
        default:
                return RELAY_AUTO;
        }
}

/* The reply to a create or attach that failed; nothing was kept. */
static json_t *setup_error(const char *what, const struct control_request *req, int r,
                           const struct policy_diagnostics *diags) {
        _cleanup_free_ char *diag = NULL;
        const char *first = first_error(diags, &diag);

        if (r == -EEXIST)
                return control_error_reply(r, diags, "container '%s' exists already", req->name);
        if (r == -ESRCH)
                return control_error_reply(r, diags, "%s '%s': no process %d", what, req->name, (int) req->pid);
        if (first)
                return control_error_reply(r, diags, "%s '%s': policy %s: %s", what, req->name, req->policy ?: "",
                                           first);
        return control_error_reply(r, diags, "%s '%s' failed: %s", what, req->name, strerror(abs(r)));
}

static json_t *run_create(struct daemon *d, const struct control_request *req) {
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        struct daemon_container *dc;
        int r;

        r = daemon_create_container(d, req->name, req->policy, req->pid, relay_mode_from_request(req->relay),
                                    req->device_cgroup, req->detached, &diags, &dc);
        if (r < 0)
                return setup_error("create", req, r, &diags);
        return with(ok_reply(&diags), "container", control_json_container(dc));
}

static json_t *run_attach(struct daemon *d, const struct control_request *req) {
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        struct daemon_container *dc = daemon_find_container(d, req->name);
        int r;

        if (!dc)
                return no_such_container(req->name);
        r = daemon_attach_container(d, dc, req->pid, &diags);
        if (r < 0)
                return setup_error("attach", req, r, &diags);
        return with(ok_reply(&diags), "container", control_json_container(dc));
}

static json_t *run_destroy(struct daemon *d, const struct control_request *req) {
        struct daemon_container *dc = daemon_find_container(d, req->name);
        int r;

        if (!dc)
                return no_such_container(req->name);
        r = daemon_destroy_container(d, dc);
        if (r < 0)
                return control_error_reply(r, NULL, "destroy '%s' failed: %s", req->name, strerror(-r));
        return ok_reply(NULL);
}

static int compare_names(const void *x, const void *y) {
        return strcmp((*(struct container *const *) x)->name, (*(struct container *const *) y)->name);
}

static json_t *run_list(struct daemon *d) {
        _cleanup_(json_decrefp) json_t *list = json_array();
        _cleanup_free_ struct container **order = NULL;
        struct container *c, *tmp;
        size_t n = HASH_COUNT(d->model->containers), i = 0;

        order = calloc(n ?: 1, sizeof(*order));
        if (!list || !order)
                return NULL;
        HASH_ITER(hh, d->model->containers, c, tmp)
                order[i++] = c;
        qsort(order, n, sizeof(*order), compare_names);
        for (i = 0; i < n; i++)
                if (json_array_append_new(list, control_json_container(daemon_container_of(order[i]))) < 0)
                        return NULL;
        return with(ok_reply(NULL), "containers", TAKE_PTR(list));
}

/* What the container's udev database holds for a row's device, as the
 * container reads it: {"id", "data"} (data null when there is no file), or
 * null for a device udev keeps nothing for. */
static json_t *udev_entry(struct daemon *d, struct daemon_container *dc, json_t *row) {
        const char *devpath = json_string_value(json_object_get(row, "devpath"));
        struct device *dev = devpath ? model_find_device(d->model, devpath) : NULL;
        _cleanup_(json_decrefp) json_t *o = NULL;
        _cleanup_free_ char *id = NULL, *data = NULL;

        if (!dev || !dc->udev_db || udev_data_id(dev, &id) < 0)
                return json_null();
        (void) udev_db_read(dc->udev_db, id, &data);
        o = json_object();
        if (!o || policy_json_set(o, "id", json_string(id)) < 0 ||
            policy_json_set(o, "data", policy_json_string(data)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static json_t *run_show(struct daemon *d, const struct control_request *req) {
        struct daemon_container *dc = daemon_find_container(d, req->name);
        _cleanup_(json_decrefp) json_t *rows = NULL;
        json_t *row;
        size_t i;

        if (!dc)
                return no_such_container(req->name);
        daemon_check_device_cgroup(dc);
        rows = control_json_visible_all(dc->container);
        if (!rows)
                return NULL;
        json_array_foreach(rows, i, row)
                if (policy_json_set(row, "udev", udev_entry(d, dc, row)) < 0)
                        return NULL;
        return with(with(ok_reply(NULL), "container", control_json_container(dc)), "devices", TAKE_PTR(rows));
}

/* The model's record of a DEVICE argument. The daemon resolves it, not the
 * client: the model is what decides. */
static int find_device(struct daemon *d, const struct control_request *req, struct device **ret, char **ret_error) {
        const struct device_spec *spec = &req->device_spec;
        struct device *dev = NULL;
        struct stat st;

        switch (spec->kind) {
        case DEVICE_SPEC_NODE:
                if (stat(spec->path, &st) < 0)
                        return asprintf(ret_error, "%s: %s", req->device, strerror(errno)) < 0 ? -ENOMEM : -ENOENT;
                if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
                        return asprintf(ret_error, "not a device node: %s", req->device) < 0 ? -ENOMEM : -ENOTBLK;
                dev = model_find_devnum(d->model, S_ISBLK(st.st_mode) ? 'b' : 'c', major(st.st_rdev),
                                        minor(st.st_rdev));
                break;
        case DEVICE_SPEC_SYSPATH: {
                _cleanup_free_ char *resolved = realpath(spec->path, NULL);
                const char *devpath = resolved ? startswith(resolved, "/sys") : NULL;

                if (!resolved)
                        return asprintf(ret_error, "%s: %s", req->device, strerror(errno)) < 0 ? -ENOMEM : -ENOENT;
                if (!devpath || !startswith(devpath, "/devices/"))
                        return asprintf(ret_error, "not a device: %s (%s is not below /sys/devices)", req->device,
                                        resolved) < 0 ? -ENOMEM : -ENODEV;
                dev = model_find_device(d->model, devpath);
                break;
        }
        case DEVICE_SPEC_DEVNUM:
                dev = model_find_devnum(d->model, spec->type, spec->major, spec->minor);
                break;
        }
        if (!dev)
                return asprintf(ret_error, "no such device: %s", req->device) < 0 ? -ENOMEM : -ENODEV;
        *ret = dev;
        return 0;
}

static json_t *run_explain(struct daemon *d, const struct control_request *req) {
        _cleanup_(policy_result_done) struct policy_result result = {};
        _cleanup_(policy_trace_done) struct policy_trace trace = {};
        _cleanup_free_ char *error = NULL;
        struct daemon_container *dc = daemon_find_container(d, req->name);
        const struct visible_device *v;
        const struct override *o;
        json_t *explanation = NULL;
        struct device *dev;
        int r;

        if (!dc)
                return no_such_container(req->name);
        r = find_device(d, req, &dev, &error);
        if (r < 0)
                return control_error_reply(r, NULL, "%s", error ?: "out of memory");
        r = policy_evaluate(dc->container->policy, &dev->pd, &result, &trace);
        if (r < 0 || policy_json_explanation(&dev->pd, &result, &trace, &explanation) < 0)
                return NULL;

        /* The policy's verdict, and what the container really gets: a
         * runtime override or a name conflict can make them differ. */
        o = container_find_override(dc->container, dev);
        v = container_find_visible(dc->container, dev);
        explanation = with(explanation, "container", json_string(req->name));
        explanation = with(explanation, "override", o ? control_json_override(o) : json_null());
        explanation = with(explanation, "visible", v ? control_json_visible(v) : json_null());
        return with(ok_reply(NULL), "explanation", explanation);
}

static json_t *run_add(struct daemon *d, const struct control_request *req) {
        _cleanup_free_ char *error = NULL;
        struct daemon_container *dc = daemon_find_container(d, req->name);
        const struct visible_device *v;
        struct override *o;
        struct device *dev;
        int r;

        if (!dc)
                return no_such_container(req->name);
        r = find_device(d, req, &dev, &error);
        if (r < 0)
                return control_error_reply(r, NULL, "%s", error ?: "out of memory");

        o = calloc(1, sizeof(*o));
        if (!o)
                return NULL;
        *o = (struct override){
                .allow = true,
                .has_mode = req->has_mode, .mode = req->mode,
                .has_uid = req->has_uid, .uid = req->uid,
                .has_gid = req->has_gid, .gid = req->gid,
        };
        if (req->node_name && !(o->name = strdup(req->node_name))) {
                override_free(o);
                return NULL;
        }
        r = model_set_override(d->model, dc->container, dev, o);
        if (r >= 0)
                daemon_save_container(d, dc);
        if (r < 0)
                return control_error_reply(r, NULL, "add %s to '%s' failed: %s", req->device, req->name, strerror(-r));
        v = container_find_visible(dc->container, dev);
        return with(ok_reply(NULL), "device", v ? control_json_visible(v) : json_null());
}

static json_t *run_remove(struct daemon *d, const struct control_request *req) {
        _cleanup_free_ char *error = NULL;
        struct daemon_container *dc = daemon_find_container(d, req->name);
        const struct visible_device *v;
        struct override *o = NULL;
        struct device *dev;
        int r;

        if (!dc)
                return no_such_container(req->name);
        r = find_device(d, req, &dev, &error);
        if (r < 0)
                return control_error_reply(r, NULL, "%s", error ?: "out of memory");
        if (!req->reset) {
                o = calloc(1, sizeof(*o));
                if (!o)
                        return NULL;
                o->allow = false;
        }
        r = model_set_override(d->model, dc->container, dev, o);
        if (r >= 0)
                daemon_save_container(d, dc);
        if (r < 0)
                return control_error_reply(r, NULL, "remove %s from '%s' failed: %s", req->device, req->name,
                                           strerror(-r));
        v = container_find_visible(dc->container, dev);
        return with(ok_reply(NULL), "device", v ? control_json_visible(v) : json_null());
}

/* Appends src's diagnostics to dst (moving the strings). */
static int diagnostics_move(struct policy_diagnostics *dst, struct policy_diagnostics *src) {
        struct policy_diagnostic *items;

        if (src->n_items == 0)
                return 0;
        items = reallocarray(dst->items, dst->n_items + src->n_items, sizeof(*items));
        if (!items)
                return -ENOMEM;
        memcpy(items + dst->n_items, src->items, src->n_items * sizeof(*items));
        dst->items = items;
        dst->n_items += src->n_items;
        dst->n_errors += src->n_errors;
        free(src->items);
        *src = (struct policy_diagnostics){};
        return 0;
}

static json_t *run_reload(struct daemon *d, const struct control_request *req) {
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics all = {};
        _cleanup_(json_decrefp) json_t *reloaded = json_array(), *failed = json_array();
        _cleanup_free_ char *first = NULL;
        struct container *c, *tmp;
        int first_r = 0;

        if (!reloaded || !failed)
                return NULL;
        if (req->name && !daemon_find_container(d, req->name))
                return no_such_container(req->name);

        /* Each container on its own: one broken policy does not keep the
         * others from reloading, and keeps its own previous policy. */
        HASH_ITER(hh, d->model->containers, c, tmp) {
                _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
                _cleanup_free_ char *diag = NULL;
                int r;

                if (req->name && !streq(req->name, c->name))
                        continue;
                r = daemon_reload_container(d, daemon_container_of(c), &diags);
                if (r >= 0) {
                        if (json_array_append_new(reloaded, json_string(c->name)) < 0)
                                return NULL;
                } else {
                        if (json_array_append_new(failed, json_string(c->name)) < 0)
                                return NULL;
                        if (!first && asprintf(&first, "reload '%s': policy %s: %s; the previous policy stays in force",
                                               c->name, c->policy_source,
                                               first_error(&diags, &diag) ?: strerror(-r)) < 0)
                                return NULL;
                        if (first_r == 0)
                                first_r = r;
                }
                if (diagnostics_move(&all, &diags) < 0)
                        return NULL;
        }

        if (json_array_size(failed) > 0) {
                json_t *reply = control_error_reply(first_r, &all, "%s%s", first,
                                                    json_array_size(failed) > 1 ? " (and more, see 'failed')" : "");
                return with(with(reply, "reloaded", TAKE_PTR(reloaded)), "failed", TAKE_PTR(failed));
        }
        return with(with(ok_reply(&all), "reloaded", TAKE_PTR(reloaded)), "failed", TAKE_PTR(failed));
}

static json_t *run_monitor(struct daemon *d, struct control_client *cl, const struct control_request *req) {
        if (req->name && !daemon_find_container(d, req->name))
                return no_such_container(req->name);
        control_client_set_monitor(cl, req->name);
        return with(ok_reply(NULL), "monitor", req->name ? json_string(req->name) : json_null());
}

/* RSS from /proc/self/statm (pages), in bytes; -1 when unreadable. */
static json_int_t rss_bytes(void) {
        _cleanup_free_ char *text = NULL;
        unsigned long size, resident;

        if (read_small_file_at(AT_FDCWD, "/proc/self/statm", 256, &text) < 0 ||
            sscanf(text, "%lu %lu", &size, &resident) != 2)
                return -1;
        return (json_int_t) resident * sysconf(_SC_PAGESIZE);
}

/* The per-container numbers of the container's consumers: its /dev view,
 * its /sys view, its /proc files, its udev database and its relay (events relayed and
 * dropped). */
static int status_add_consumer_stats(const struct daemon_container *dc, json_t *o) {
        if (dc->dev) {
                struct devfs_stats s;
                devfs_get_stats(dc->dev, &s);
                if (json_object_set_new(o, "dev_stats",
                                        json_pack("{s:I, s:I, s:I, s:I, s:I}", "device_nodes",
                                                  (json_int_t) s.device_nodes, "user_entries",
                                                  (json_int_t) s.user_entries, "conflicts", (json_int_t) s.conflicts,
                                                  "memory_bytes", (json_int_t) s.memory_bytes, "apply_errors",
                                                  (json_int_t) s.apply_errors)) < 0)
                        return -ENOMEM;
        }
        if (dc->sys) {
                struct sysfs_view_stats s;
                sysfs_view_get_stats(dc->sys, &s);
                if (json_object_set_new(o, "sys_stats",
                                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "devices", (json_int_t) s.devices,
                                                  "mounts", (json_int_t) s.mounts, "covered", (json_int_t) s.covered,
                                                  "synthetic_events", (json_int_t) s.synthetic_events,
                                                  "mount_errors", (json_int_t) s.mount_errors, "apply_errors",
                                                  (json_int_t) s.apply_errors)) < 0)
                        return -ENOMEM;
        }
        if (dc->udev_db) {
                struct udev_db_stats s;
                udev_db_get_stats(dc->udev_db, &s);
                if (json_object_set_new(o, "udev_stats",
                                        json_pack("{s:I, s:I, s:I}", "written", (json_int_t) s.written, "removed",
                                                  (json_int_t) s.removed, "failed", (json_int_t) s.failed)) < 0)
                        return -ENOMEM;
        }
        if (dc->proc) {
                struct procfs_container_stats s;
                procfs_container_get_stats(dc->proc, &s);
                if (json_object_set_new(o, "proc_stats",
                                        json_pack("{s:I, s:I, s:I, s:I}", "devices", (json_int_t) s.devices, "opens",
                                                  (json_int_t) s.opens, "open_errors", (json_int_t) s.open_errors,
                                                  "dropped", (json_int_t) s.dropped)) < 0)
                        return -ENOMEM;
        }
        if (dc->relay) {
                struct relay_stats s;
                relay_get_stats(dc->relay, &s);
                if (json_object_set_new(o, "relay_stats",
                                        json_pack("{s:s, s:I, s:I, s:I, s:i}", "mode", s.mode, "relayed",
                                                  (json_int_t) s.relayed, "dropped", (json_int_t) s.dropped,
                                                  "queued", (json_int_t) s.queued, "listeners",
                                                  (int) s.listeners)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static json_t *status_container(const struct daemon_container *dc) {
        _cleanup_(json_decrefp) json_t *o = control_json_container(dc);

        if (!o || status_add_consumer_stats(dc, o) < 0)
                return NULL;
        return TAKE_PTR(o);
}

/* How often a /sys view scanned a device directory for child devices, and
 * how often it used another view's scan. */
static json_t *status_sys_scans(const struct daemon *d) {
        uint64_t scans = 0, reused = 0, held = 0;

        if (d->sys_children)
                sysfs_children_get_stats(d->sys_children, &scans, &reused, &held);
        return json_pack("{s:I, s:I, s:I}", "scans", (json_int_t) scans, "reused", (json_int_t) reused, "held",
                         (json_int_t) held);
}

static json_t *run_status(struct daemon *d, struct control_client *cl) {
        _cleanup_(json_decrefp) json_t *containers = json_array(), *by_action = json_object();
        const struct model_stats *s = &d->model->stats;
        struct container *c, *tmp;
        json_t *reply;

        if (!containers || !by_action)
                return NULL;
        HASH_ITER(hh, d->model->containers, c, tmp) {
                daemon_check_device_cgroup(daemon_container_of(c));
                if (json_array_append_new(containers, status_container(daemon_container_of(c))) < 0)
                        return NULL;
        }
        for (int a = 0; a < _UEVENT_ACTION_MAX; a++)
                if (json_object_set_new(by_action, uevent_action_to_string(a),
                                        json_integer((json_int_t) s->events_by_action[a])) < 0)
                        return NULL;

        reply = ok_reply(NULL);
        reply = with(reply, "version", json_string(PACKAGE_VERSION));
        reply = with(reply, "pid", json_integer(getpid()));
        reply = with(reply, "uptime_seconds", json_real((double) (now_usec() - d->started_usec) / 1e6));
        reply = with(reply, "runtime_dir", policy_json_string(d->runtime_dir));
        reply = with(reply, "policy_dir", policy_json_string(d->policy_dir));
        reply = with(reply, "holder_pid", d->holder ? json_integer(holder_pid(d->holder)) : json_null());
        reply = with(reply, "views_adopted", json_boolean(d->views_adopted));
        reply = with(reply, "devices", json_integer((json_int_t) HASH_CNT(hh_devpath, d->model->by_devpath)));
        reply = with(reply, "events", json_integer((json_int_t) s->events));
        reply = with(reply, "events_by_action", TAKE_PTR(by_action));
        reply = with(reply, "deltas", json_integer((json_int_t) s->deltas));
        reply = with(reply, "sys_scans", status_sys_scans(d));
        reply = with(reply, "rss_bytes", json_integer(rss_bytes()));
        reply = with(reply, "clients", json_integer(cl->control->n_clients));
        reply = with(reply, "monitors", json_integer(cl->control->n_monitors));
        reply = with(reply, "clients_refused", json_integer((json_int_t) control_n_refused(cl->control)));
        return with(reply, "containers", TAKE_PTR(containers));
}

/* The reply goes out before the loop ends; the client then sees the
 * connection close and waits for the new process's socket. */
static json_t *run_upgrade(struct daemon *d) {
        log_info("Upgrade requested: re-executing %s.", d->exe_path ?: "devsieved");
        d->reexec = true;
        d->exiting = true;
        return with(ok_reply(NULL), "pid", json_integer(getpid()));
}

/* The container's views as mount trees, by SCM_RIGHTS with the reply. */
static json_t *run_views(struct daemon *d, struct control_client *cl, const struct control_request *req) {
        _cleanup_(json_decrefp) json_t *names = json_array();
        struct daemon_container *dc = daemon_find_container(d, req->name);
        const char *view[DAEMON_VIEWS_MAX];
        int fds[DAEMON_VIEWS_MAX];
        size_t n = 0;
        int r;

        if (!dc)
                return no_such_container(req->name);
        if (!names)
                return NULL;
        r = daemon_open_views(dc, fds, view, &n);
        if (r < 0)
                return control_error_reply(r, NULL, "views '%s': cloning the views failed: %s", req->name,
                                           strerror(-r));
        for (size_t i = 0; i < n; i++) {
                if (json_array_append_new(names, json_string(view[i])) < 0)
                        r = -ENOMEM;
                /* Consumed either way. */
                if (control_client_add_reply_fd(cl, fds[i]) < 0)
                        r = -E2BIG;
        }
        if (r < 0)
                return NULL;
        return with(ok_reply(NULL), "views", TAKE_PTR(names));
}

json_t *control_run(struct daemon *d, struct control_client *cl, const struct control_request *req) {
        switch (req->command) {
        case CONTROL_CREATE:
                return run_create(d, req);
        case CONTROL_ATTACH:
                return run_attach(d, req);
        case CONTROL_DESTROY:
                return run_destroy(d, req);
        case CONTROL_LIST:
                return run_list(d);
        case CONTROL_SHOW:
                return run_show(d, req);
        case CONTROL_EXPLAIN:
                return run_explain(d, req);
        case CONTROL_ADD:
                return run_add(d, req);
        case CONTROL_REMOVE:
                return run_remove(d, req);
        case CONTROL_RELOAD:
                return run_reload(d, req);
        case CONTROL_MONITOR:
                return run_monitor(d, cl, req);
        case CONTROL_STATUS:
                return run_status(d, cl);
        case CONTROL_UPGRADE:
                return run_upgrade(d);
        case CONTROL_VIEWS:
                return run_views(d, cl, req);
        default:
                return control_error_reply(EINVAL, NULL, "unknown command");
        }
}
