/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fileio.h"
#include "policy/adapters/policy-json.h"
#include "fs/devfs.h"
#include "fs/procfs.h"
#include "fs/sysfs.h"
#include "state.h"
#include "strv.h"

#define STATE_VERSION 1

DEFINE_POINTER_CLEANUP(struct override, override_free);

static const char *const relay_names[] = {
        [RELAY_AUTO] = "auto",
        [RELAY_NETLINK] = "netlink",
        [RELAY_SOCKET] = "socket",
        [RELAY_NONE] = "none",
};

void saved_container_done(struct saved_container *s) {
        for (size_t i = 0; i < s->n_overrides; i++) {
                free(s->overrides[i].devpath);
                override_free(s->overrides[i].override);
        }
        free(s->overrides);
        free(s->name);
        free(s->policy_source);
        *s = (struct saved_container){};
}

int process_start_time(pid_t pid, uint64_t *ret) {
        _cleanup_free_ char *text = NULL;
        unsigned long long t;
        char path[64];
        const char *p;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        r = read_small_file_at(AT_FDCWD, path, 4096, &text);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        /* comm (field 2) may hold anything: count from its closing ')'. */
        p = strrchr(text, ')');
        if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                         &t) != 1)
                return -EBADMSG;
        *ret = t;
        return 0;
}

/* Overrides name devices by id, which is the model's and dies with it: the
 * file names them by devpath and node. */
static struct device *device_by_id(const struct model *m, uint64_t id) {
        struct device *dev, *tmp;

        HASH_ITER(hh_devpath, m->by_devpath, dev, tmp)
                if (dev->id == id)
                        return dev;
        return NULL;
}

static json_t *override_json(const struct device *dev, const struct override *o) {
        _cleanup_(json_decrefp) json_t *j = json_object();
        bool has_node = dev->type == 'b' || dev->type == 'c';
        char node[64];

        if (!j)
                return NULL;
        snprintf(node, sizeof(node), "%c %u:%u", dev->type, major(dev->devnum), minor(dev->devnum));
        if (policy_json_set(j, "devpath", policy_json_string(dev->devpath)) < 0 ||
            policy_json_set(j, "node", has_node ? json_string(node) : json_null()) < 0 ||
            policy_json_set(j, "allow", json_boolean(o->allow)) < 0 ||
            policy_json_set(j, "name", policy_json_string(o->name)) < 0 ||
            policy_json_set(j, "mode", o->has_mode ? json_integer(o->mode) : json_null()) < 0 ||
            policy_json_set(j, "uid", o->has_uid ? json_integer(o->uid) : json_null()) < 0 ||
            policy_json_set(j, "gid", o->has_gid ? json_integer(o->gid) : json_null()) < 0)
                return NULL;
        return TAKE_PTR(j);
}

static json_t *overrides_json(struct daemon *d, const struct container *c) {
        _cleanup_(json_decrefp) json_t *list = json_array();
        struct override *o, *tmp;

        if (!list)
                return NULL;
        HASH_ITER(hh, c->overrides, o, tmp) {
                const struct device *dev = device_by_id(d->model, o->device_id);

                /* A device gone takes its override with it. */
                if (dev && json_array_append_new(list, override_json(dev, o)) < 0)
                        return NULL;
        }
        return TAKE_PTR(list);
}

static json_t *view_json(const char *connection, uint64_t slot) {
        char root[32];

        snprintf(root, sizeof(root), "/%" PRIu64, slot);
        return json_pack("{s:s, s:s}", "connection", connection, "root", root);
}

static json_t *state_json(struct daemon *d, const struct daemon_container *dc) {
        _cleanup_(json_decrefp) json_t *o = json_object();
        const struct container *c = dc->container;
        uint64_t start_time = 0;

        if (!o)
                return NULL;
        /* The pidfd we hold keeps the pid from being reused meanwhile. */
        if (dc->pid > 0 && process_start_time(dc->pid, &start_time) < 0)
                start_time = 0;
        if (policy_json_set(o, "version", json_integer(STATE_VERSION)) < 0 ||
            policy_json_set(o, "name", policy_json_string(c->name)) < 0 ||
            policy_json_set(o, "policy", policy_json_string(c->policy_source)) < 0 ||
            policy_json_set(o, "relay", json_string(relay_names[dc->relay_mode])) < 0 ||
            policy_json_set(o, "pid", dc->pid > 0 && start_time ? json_integer(dc->pid) : json_null()) < 0 ||
            policy_json_set(o, "start_time", json_integer((json_int_t) start_time)) < 0 ||
            policy_json_set(o, "exited", json_boolean(dc->exited)) < 0 ||
            policy_json_set(o, "device_cgroup", json_boolean(dc->device_cgroup)) < 0 ||
            policy_json_set(o, "detached", json_boolean(dc->detached)) < 0 ||
            policy_json_set(o, "overrides", overrides_json(d, c)) < 0 ||
            (dc->dev && policy_json_set(o, "dev_view", view_json(d->dev_connection, devfs_get_slot(dc->dev))) < 0) ||
            (dc->sys && policy_json_set(o, "sys_view", view_json(d->sys_connection, sysfs_view_get_slot(dc->sys))) < 0) ||
            (dc->proc && policy_json_set(o, "proc_view", json_pack("{s:s, s:I}", "connection", d->proc_connection, "number",
                                                                   (json_int_t) procfs_container_number(dc->proc))) < 0))
                return NULL;
        return TAKE_PTR(o);
}

int state_save(struct daemon *d, const struct daemon_container *dc) {
        _cleanup_(json_decrefp) json_t *o = state_json(d, dc);
        _cleanup_free_ char *text = NULL, *path = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!o || !(text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS)))
                return -ENOMEM;
        if (asprintf(&path, "%s/" STATE_FILE, dc->dir) < 0 || asprintf(&tmp, "%s/." STATE_FILE ".tmp", dc->dir) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        r = write_all(fd, text, strlen(text));
        if (r >= 0)
                r = write_all(fd, "\n", 1);
        /* RUNTIME is a tmpfs: what must survive is a crash of the daemon,
         * not of the machine, so no fsync. */
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

void state_remove(const struct daemon_container *dc) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/" STATE_FILE, dc->dir) >= 0)
                (void) unlink(path);
}

static int parse_relay(const char *s, enum relay_mode *ret) {
        for (size_t i = 0; i < ELEMENTSOF(relay_names); i++)
                if (streq(s, relay_names[i])) {
                        *ret = (enum relay_mode) i;
                        return 0;
                }
        return -EBADMSG;
}

static int parse_override(json_t *j, struct saved_override *ret) {
        _cleanup_(override_freep) struct override *o = calloc(1, sizeof(*o));
        json_t *devpath = json_object_get(j, "devpath"), *node = json_object_get(j, "node");
        json_t *allow = json_object_get(j, "allow"), *name = json_object_get(j, "name");
        json_t *mode = json_object_get(j, "mode"), *uid = json_object_get(j, "uid"), *gid = json_object_get(j, "gid");
        struct saved_override s = {};

        if (!o)
                return -ENOMEM;
        if (!json_is_string(devpath) || !json_is_boolean(allow) || (node && !json_is_null(node) && !json_is_string(node)) ||
            (name && !json_is_null(name) && !json_is_string(name)))
                return -EBADMSG;
        if (json_is_string(node) &&
            (sscanf(json_string_value(node), "%c %u:%u", &s.type, &s.major, &s.minor) != 3 ||
             (s.type != 'b' && s.type != 'c')))
                return -EBADMSG;
        o->allow = json_is_true(allow);
        if (json_is_string(name) && !(o->name = strdup(json_string_value(name))))
                return -ENOMEM;
        if ((o->has_mode = json_is_integer(mode)))
                o->mode = (mode_t) json_integer_value(mode) & 07777;
        if ((o->has_uid = json_is_integer(uid)))
                o->uid = (uid_t) json_integer_value(uid);
        if ((o->has_gid = json_is_integer(gid)))
                o->gid = (gid_t) json_integer_value(gid);
        if (!(s.devpath = strdup(json_string_value(devpath))))
                return -ENOMEM;
        s.override = TAKE_PTR(o);
        *ret = s;
        return 0;
}

/* Optional: absent, the container's old mounts are not looked for. */
static int parse_view(json_t *o, const char *key, char connection[32], char root[32]) {
        json_t *v = json_object_get(o, key), *c, *r;

        if (!v)
                return 0;
        c = json_object_get(v, "connection");
        r = json_object_get(v, "root");
        if (!json_is_string(c) || !json_is_string(r) || strlen(json_string_value(c)) >= 32 ||
            strlen(json_string_value(r)) >= 32)
                return -EBADMSG;
        strcpy(connection, json_string_value(c));
        strcpy(root, json_string_value(r));
        return 0;
}

/* Optional, as the other views. */
static int parse_proc_view(json_t *o, struct saved_container *s) {
        json_t *v = json_object_get(o, "proc_view"), *c, *n;

        if (!v)
                return 0;
        c = json_object_get(v, "connection");
        n = json_object_get(v, "number");
        if (!json_is_string(c) || strlen(json_string_value(c)) >= sizeof(s->proc_connection) || !json_is_integer(n) ||
            json_integer_value(n) <= 0)
                return -EBADMSG;
        strcpy(s->proc_connection, json_string_value(c));
        s->proc_number = (uint64_t) json_integer_value(n);
        return 0;
}

static int parse_state(json_t *o, struct saved_container *s, const char **ret_what) {
        json_t *name = json_object_get(o, "name"), *policy = json_object_get(o, "policy");
        json_t *relay = json_object_get(o, "relay"), *pid = json_object_get(o, "pid");
        json_t *start_time = json_object_get(o, "start_time"), *overrides = json_object_get(o, "overrides");
        json_t *version = json_object_get(o, "version"), *exited = json_object_get(o, "exited"), *item;
        json_t *device_cgroup = json_object_get(o, "device_cgroup"), *detached = json_object_get(o, "detached");
        size_t i;
        int r;

        *ret_what = "version";
        if (!json_is_integer(version) || json_integer_value(version) != STATE_VERSION)
                return -EBADMSG;
        *ret_what = "name, policy or relay";
        if (!json_is_string(name) || !json_is_string(policy) || !json_is_string(relay) ||
            parse_relay(json_string_value(relay), &s->relay) < 0)
                return -EBADMSG;
        *ret_what = "pid, start_time or exited";
        if (!json_is_boolean(exited) || (!json_is_null(pid) && !json_is_integer(pid)) || !json_is_integer(start_time) ||
            (json_is_integer(pid) && (json_integer_value(pid) <= 0 || json_integer_value(pid) > INT32_MAX)))
                return -EBADMSG;
        /* Absent in the files of devsieved before device cgroups: on. */
        *ret_what = "device_cgroup";
        if (device_cgroup && !json_is_boolean(device_cgroup))
                return -EBADMSG;
        s->device_cgroup = !device_cgroup || json_is_true(device_cgroup);
        /* Absent in the files of devsieved before detached views: off. */
        *ret_what = "detached";
        if (detached && !json_is_boolean(detached))
                return -EBADMSG;
        s->detached = json_is_true(detached);
        *ret_what = "dev_view or sys_view";
        if (parse_view(o, "dev_view", s->dev_connection, s->dev_root) < 0 ||
            parse_view(o, "sys_view", s->sys_connection, s->sys_root) < 0)
                return -EBADMSG;
        *ret_what = "proc_view";
        if (parse_proc_view(o, s) < 0)
                return -EBADMSG;
        *ret_what = "overrides";
        if (!json_is_array(overrides))
                return -EBADMSG;
        if (!(s->name = strdup(json_string_value(name))) || !(s->policy_source = strdup(json_string_value(policy))))
                return -ENOMEM;
        s->pid = json_is_integer(pid) ? (pid_t) json_integer_value(pid) : 0;
        s->start_time = (uint64_t) json_integer_value(start_time);
        s->exited = json_is_true(exited);
        s->overrides = calloc(json_array_size(overrides) ?: 1, sizeof(*s->overrides));
        if (!s->overrides)
                return -ENOMEM;
        json_array_foreach(overrides, i, item) {
                r = parse_override(item, &s->overrides[s->n_overrides]);
                if (r < 0)
                        return r;
                s->n_overrides++;
        }
        return 0;
}

int state_load(const char *dir, struct saved_container *ret, char **ret_error) {
        _cleanup_(json_decrefp) json_t *o = NULL;
        _cleanup_(saved_container_done) struct saved_container s = {};
        _cleanup_free_ char *path = NULL;
        json_error_t error;
        const char *what = NULL;
        int r;

        if (asprintf(&path, "%s/" STATE_FILE, dir) < 0)
                return -ENOMEM;
        o = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
        if (!o) {
                if (access(path, F_OK) < 0 && errno == ENOENT)
                        return -ENOENT;
                if (asprintf(ret_error, "%s:%d:%d: %s", path, error.line, error.column, error.text) < 0)
                        *ret_error = NULL;
                return -EBADMSG;
        }
        r = parse_state(o, &s, &what);
        if (r == -EBADMSG && asprintf(ret_error, "%s: %s missing or invalid", path, what) < 0)
                *ret_error = NULL;
        if (r < 0)
                return r;
        *ret = s;
        s = (struct saved_container){};
        return 0;
}

static json_t *visible_json(const struct visible_device *v) {
        _cleanup_(json_decrefp) json_t *props = json_array();

        if (!props)
                return NULL;
        STRV_FOREACH(p, v->device->properties)
                if (json_array_append_new(props, json_string(*p)) < 0)
                        return NULL;
        return json_pack("{s:s, s:o, s:O}", "devpath", v->device->devpath, "node",
                         v->node ? json_string(v->node) : json_null(), "properties", props);
}

int state_save_visible(const struct daemon_container *dc) {
        _cleanup_(json_decrefp) json_t *list = json_array();
        _cleanup_free_ char *path = NULL, *tmp = NULL;
        struct visible_device *v, *vtmp;

        if (!list)
                return -ENOMEM;
        HASH_ITER(hh, dc->container->visible, v, vtmp)
                if (json_array_append_new(list, visible_json(v)) < 0)
                        return -ENOMEM;
        if (asprintf(&path, "%s/" VISIBLE_FILE, dc->dir) < 0 || asprintf(&tmp, "%s/." VISIBLE_FILE ".tmp", dc->dir) < 0)
                return -ENOMEM;
        if (json_dump_file(list, tmp, JSON_COMPACT) < 0) {
                (void) unlink(tmp);
                return -EIO;
        }
        if (rename(tmp, path) < 0) {
                int r = -errno;
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

void saved_visible_free(struct saved_visible *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(v[i].devpath);
                free(v[i].node);
                strv_free(v[i].properties);
        }
        free(v);
}

static int parse_visible(json_t *j, struct saved_visible *ret) {
        json_t *devpath = json_object_get(j, "devpath"), *node = json_object_get(j, "node");
        json_t *props = json_object_get(j, "properties"), *p;
        size_t i;

        if (!json_is_string(devpath) || !(json_is_null(node) || json_is_string(node)) || !json_is_array(props))
                return -EBADMSG;
        ret->devpath = strdup(json_string_value(devpath));
        ret->node = json_is_string(node) ? strdup(json_string_value(node)) : NULL;
        if (!ret->devpath || (json_is_string(node) && !ret->node))
                return -ENOMEM;
        json_array_foreach(props, i, p)
                if (!json_is_string(p) || strv_extend(&ret->properties, json_string_value(p)) < 0)
                        return json_is_string(p) ? -ENOMEM : -EBADMSG;
        return 0;
}

int state_load_visible(const char *dir, struct saved_visible **ret, size_t *ret_n) {
        _cleanup_(json_decrefp) json_t *list = NULL;
        _cleanup_free_ char *path = NULL;
        struct saved_visible *v;
        json_t *item;
        size_t i;
        int r;

        if (asprintf(&path, "%s/" VISIBLE_FILE, dir) < 0)
                return -ENOMEM;
        list = json_load_file(path, 0, NULL);
        if (!list)
                return access(path, F_OK) < 0 && errno == ENOENT ? -ENOENT : -EBADMSG;
        if (!json_is_array(list))
                return -EBADMSG;
        v = calloc(json_array_size(list) ?: 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        json_array_foreach(list, i, item) {
                r = parse_visible(item, &v[i]);
                if (r < 0) {
                        saved_visible_free(v, i + 1);
                        return r;
                }
        }
        *ret = v;
        *ret_n = json_array_size(list);
        return 0;
}
