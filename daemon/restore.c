/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <limits.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "clock.h"
#include "fs/devfs.h"
#include "fs/mux.h"
#include "fs/procfs.h"
#include "fs/sysfs.h"
#include "log.h"
#include "mountpoint.h"
#include "registry.h"
#include "repair.h"
#include "restore.h"
#include "relay.h"
#include "state.h"
#include "strv.h"

static void clear_mounts(const char *dir, const char *const *names, size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL;
                int r;

                if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
                        continue;
                r = umount_all_at(path);
                if (r < 0 && r != -ENOENT)
                        log_warning_errno(r, "Failed to unmount what is left at %s: %m", path);
                (void) rmdir(path);
        }
}

/* Which of a container's views were adopted where they are. */
struct adoption {
        bool dev, sys, proc;
};

/* Before a restored container's views are made (the udev database's tmpfs
 * stays: udev_db_new() takes it over). views_dir: where its /dev and /sys
 * views are, dir itself or, detached, RUNTIME/views/containers/NAME. */
static void clear_view_mounts(const char *dir, const char *views_dir, struct adoption a) {
        static const char *const proc[] = { "proc" };
        const char *views[2];
        size_t n = 0;

        if (!a.dev)
                views[n++] = "dev";
        if (!a.sys)
                views[n++] = "sys";
        clear_mounts(views_dir, views, n);
        if (!a.proc)
                clear_mounts(dir, proc, 1);
}

void daemon_clean_container_dir(const char *dir) {
        /* The udev database is a tmpfs of its own. */
        static const char *const mounts[] = { "dev", "sys", "proc", "udev" };
        static const char *const files[] = { "uevent.sock", "udev.sock", STATE_FILE, "." STATE_FILE ".tmp", VISIBLE_FILE,
                                             "." VISIBLE_FILE ".tmp" };

        clear_mounts(dir, mounts, ELEMENTSOF(mounts));
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/%s", dir, files[i]) >= 0)
                        (void) unlink(path);
        }
        (void) rmdir(dir);
}

/* Whether the process the state names is still that process. */
static bool process_alive(const struct saved_container *s) {
        uint64_t t;

        return s->pid > 0 && process_start_time(s->pid, &t) >= 0 && t == s->start_time;
}

static void restore_overrides(struct daemon *d, struct daemon_container *dc, struct saved_container *s) {
        for (size_t i = 0; i < s->n_overrides; i++) {
                struct saved_override *o = &s->overrides[i];
                struct device *dev = model_find_device(d->model, o->devpath);
                int r;

                /* Another device at the same devpath is not the one the
                 * override was for. */
                if (!dev || (o->type && (dev->type != o->type || major(dev->devnum) != o->major ||
                                         minor(dev->devnum) != o->minor))) {
                        log_info("%s: %s is gone; its override goes with it.", s->name, o->devpath);
                        continue;
                }
                o->override->device_id = dev->id;
                r = model_set_override(d->model, dc->container, dev, TAKE_PTR(o->override));
                if (r < 0)
                        log_warning_errno(r, "%s: failed to restore the override of %s: %m", s->name, o->devpath);
        }
}

/* Whether DIR/NAME is still the saved view: the topmost mount there is a
 * bind of root ("/SLOT") of the connection this daemon adopted. */
static bool adoptable(const struct daemon *d, const char *dir, const char *name, const char *saved_connection,
                      const char *saved_root, const char *connection, uint64_t *ret_slot) {
        _cleanup_free_ char *path = NULL;
        const struct mount_entry *e;
        char *end;

        if (!d->restore_mounts || !saved_connection[0] || !streq(saved_connection, connection) || saved_root[0] != '/')
                return false;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return false;
        e = mount_table_top(d->restore_mounts, path);
        if (!e || !streq(e->devnum, connection) || !streq(e->root, saved_root))
                return false;
        errno = 0;
        *ret_slot = strtoull(saved_root + 1, &end, 10);
        return errno == 0 && *end == '\0' && *ret_slot > 0;
}

/* The same for DIR/proc: a bind of the container's directory ("/NAME")
 * of the adopted /proc connection. */
static bool proc_adoptable(const struct daemon *d, const char *dir, const struct saved_container *s) {
        _cleanup_free_ char *path = NULL, *root = NULL;
        const struct mount_entry *e;

        if (!d->restore_mounts || !d->procfs_adopted || !s->proc_number || !streq(s->proc_connection, d->proc_connection))
                return false;
        if (asprintf(&path, "%s/proc", dir) < 0 || asprintf(&root, "/%s", s->name) < 0)
                return false;
        e = mount_table_top(d->restore_mounts, path);
        return e && streq(e->devnum, d->proc_connection) && streq(e->root, root);
}

static struct adoption adopt_slots(struct daemon *d, const char *dir, const char *views_dir,
                                   const struct saved_container *s) {
        struct adoption a = {};
        uint64_t slot;

        if ((a.dev = adoptable(d, views_dir, "dev", s->dev_connection, s->dev_root, d->dev_connection, &slot)))
                fs_mux_adopt_slot(d->dev_mux, slot);
        if ((a.sys = adoptable(d, views_dir, "sys", s->sys_connection, s->sys_root, d->sys_connection, &slot)))
                fs_mux_adopt_slot(d->sys_mux, slot);
        if ((a.proc = proc_adoptable(d, dir, s)))
                procfs_adopt_number(d->procfs, s->proc_number);
        return a;
}

static void repair_views(struct daemon_container *dc, const struct saved_container *s, struct adoption a) {
        const struct {
                const char *connection, *root, *subdir;
                bool recursive, adopted;
        } kinds[] = { { s->dev_connection, s->dev_root, "dev", false, a.dev },
                      { s->sys_connection, s->sys_root, "sys", true, a.sys } };
        unsigned repaired = 0;

        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                _cleanup_free_ char *host = NULL, *error = NULL;
                int r;

                /* Served where it was: nothing is dead. */
                if (!kinds[i].connection[0] || kinds[i].adopted)
                        continue;
                if (asprintf(&host, "%s/%s", dc->views_dir, kinds[i].subdir) < 0)
                        return;
                r = repair_dead_views(dc->pid, kinds[i].connection, kinds[i].root, host, kinds[i].recursive, &error);
                if (r < 0) {
                        log_error("%s: its /%s view is dead in the container and could not be repaired: %s",
                                  dc->container->name, kinds[i].subdir, error ?: strerror(-r));
                        dc->views = VIEWS_DEAD;
                        free(dc->views_error);
                        dc->views_error = TAKE_PTR(error);
                        return;
                }
                repaired += (unsigned) r;
        }
        if (repaired > 0) {
                log_info("%s: %u dead view mount(s) in the container covered with live views.", dc->container->name,
                         repaired);
                dc->views = VIEWS_REPAIRED;
        }
}

struct seen_list {
        struct saved_visible *v;
        size_t n;
};

static void seen_list_done(struct seen_list *l) {
        if (l->v)
                saved_visible_free(l->v, l->n);
}

static const struct saved_visible *find_saved(const struct saved_visible *v, size_t n, const char *devpath) {
        for (size_t i = 0; i < n; i++)
                if (streq(v[i].devpath, devpath))
                        return &v[i];
        return NULL;
}

/* A device gone while no daemon ran: its "remove", from what was saved. */
static void relay_gone(struct daemon_container *dc, const struct saved_visible *v) {
        _cleanup_strv_free_ char **props = NULL;
        int r;

        r = strv_copy(v->properties, &props);
        if (r >= 0)
                r = strv_env_set(&props, "ACTION", "remove");
        if (r >= 0 && v->node)
                r = strv_env_set(&props, "DEVNAME", v->node);
        else if (r >= 0)
                strv_env_unset(props, "DEVNAME");
        if (r >= 0)
                r = relay_inject(dc->relay, TAKE_PTR(props));
        if (r < 0)
                log_warning_errno(r, "%s: failed to relay the removal of %s: %m", dc->container->name, v->devpath);
}

/* A device gone while no daemon ran: the kernel may still have its
 * entries from the previous daemon (adopted views); they must be looked up
 * again, and found gone. Its node in /dev; in /sys its directory and the
 * links to it in class/, block/ and dev/. */
static void expire_gone(struct daemon_container *dc, const struct saved_visible *v) {
        const char *subsystem = strv_env_get(v->properties, "SUBSYSTEM");
        const char *major = strv_env_get(v->properties, "MAJOR"), *minor = strv_env_get(v->properties, "MINOR");
        const char *name = strrchr(v->devpath, '/');
        bool block = subsystem && streq(subsystem, "block");
        char path[PATH_MAX];

        if (dc->dev && v->node)
                devfs_expire(dc->dev, v->node);
        if (!dc->sys || !name)
                return;
        name++;
        sysfs_view_expire(dc->sys, v->devpath + (v->devpath[0] == '/'));
        if (subsystem && (size_t) snprintf(path, sizeof(path), "class/%s/%s", subsystem, name) < sizeof(path))
                sysfs_view_expire(dc->sys, path);
        if (block && (size_t) snprintf(path, sizeof(path), "block/%s", name) < sizeof(path))
                sysfs_view_expire(dc->sys, path);
        if (major && minor &&
            (size_t) snprintf(path, sizeof(path), "dev/%s/%s:%s", block ? "block" : "char", major, minor) < sizeof(path))
                sysfs_view_expire(dc->sys, path);
}

/* What changed for the container while no daemon ran, told as the host
 * would have: "add" for what it sees now and did not, "remove" for what
 * it saw and does not. From RUNTIME/containers/NAME/visible.json. */
static void relay_changes(struct daemon_container *dc, const struct saved_visible *saved, size_t n) {
        struct visible_device *v, *tmp;
        unsigned added = 0, removed = 0;

        if (!saved)
                return;
        HASH_ITER(hh, dc->container->visible, v, tmp)
                if (!find_saved(saved, n, v->device->devpath)) {
                        struct delta delta = { .kind = DELTA_VISIBLE, .device = v->device, .new = v };

                        if (dc->relay)
                                relay_apply(dc->relay, &delta, 1);
                        added++;
                }
        for (size_t i = 0; i < n; i++) {
                bool seen = false;

                HASH_ITER(hh, dc->container->visible, v, tmp)
                        if (streq(v->device->devpath, saved[i].devpath)) {
                                seen = true;
                                break;
                        }
                if (!seen) {
                        expire_gone(dc, &saved[i]);
                        if (dc->relay)
                                relay_gone(dc, &saved[i]);
                        removed++;
                }
        }
        if (added + removed > 0)
                log_info("%s: %u device(s) added and %u removed while devsieved was down%s.", dc->container->name,
                         added, removed, dc->relay ? "; relayed" : "");
}

static int restore_one(struct daemon *d, const char *dir) {
        _cleanup_(saved_container_done) struct saved_container s = {};
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        _cleanup_free_ char *error = NULL, *detached_views = NULL;
        _cleanup_(seen_list_done) struct seen_list seen = {};
        struct daemon_container *dc;
        struct adoption a;
        int r;

        r = state_load(dir, &s, &error);
        /* Not ours to judge (a runtime may have made the directory and bound
         * it before creating the container); create clears it when it
         * comes. */
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "%s; the container is not restored.", error ?: "Failed to read its state");
        if (s.exited || (s.pid > 0 && !process_alive(&s))) {
                log_info("%s: its process %d is gone; cleaned up.", s.name, (int) s.pid);
                return -ESRCH;
        }
        /* Before the views are filled: that rewrites it. */
        r = state_load_visible(dir, &seen.v, &seen.n);
        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "%s: cannot read what it saw before (%s/" VISIBLE_FILE "): %m; nothing is "
                                     "relayed for the time devsieved was down.", s.name, dir);
        if (s.detached && asprintf(&detached_views, "%s/%s", d->detached_dir, s.name) < 0)
                return -ENOMEM;
        a = adopt_slots(d, dir, detached_views ?: dir, &s);
        /* A leftover mount must not be stacked on; an adopted view stays. */
        clear_view_mounts(dir, detached_views ?: dir, a);
        r = daemon_create_container(d, s.name, s.policy_source, s.pid, s.relay, s.device_cgroup, s.detached, &diags,
                                    &dc);
        /* Unused when it failed before its views were made. */
        fs_mux_adopt_slot(d->dev_mux, 0);
        fs_mux_adopt_slot(d->sys_mux, 0);
        procfs_adopt_number(d->procfs, 0);
        if (r < 0)
                return log_error_errno(r, "%s: failed to restore it (policy %s): %m", s.name, s.policy_source);
        if (a.dev || a.sys || a.proc)
                dc->views = VIEWS_ADOPTED;
        /* Between the check and the pidfd the pid could have been reused. */
        if (s.pid > 0 && !process_alive(&s)) {
                log_info("%s: its process %d is gone; cleaned up.", s.name, (int) s.pid);
                (void) daemon_destroy_container(d, dc);
                return -ESRCH;
        }
        restore_overrides(d, dc, &s);
        relay_changes(dc, seen.v, seen.n);
        if (dc->pid > 0)
                repair_views(dc, &s, a);
        daemon_save_container(d, dc);
        log_info("%s: restored (%s).", s.name, dc->pid > 0 ? "attached" : "not attached");
        return 1;
}

/* Its directory and, when its views were detached, theirs. */
static void clean_container(struct daemon *d, const char *dir, const char *name) {
        _cleanup_free_ char *views = NULL;

        daemon_clean_container_dir(dir);
        if (asprintf(&views, "%s/%s", d->detached_dir, name) >= 0)
                daemon_clean_container_dir(views);
}

void daemon_restore(struct daemon *d) {
        _cleanup_(mount_table_done) struct mount_table mounts = {};
        _cleanup_(closedirp) DIR *dir = opendir(d->containers_dir);
        uint64_t start = now_usec();
        unsigned restored = 0;
        struct dirent *de;
        int r;

        if (!dir) {
                log_warning_errno(errno, "Failed to open %s: %m", d->containers_dir);
                return;
        }
        /* Read once: a stat of an adopted view would wait for this daemon. */
        if (d->views_adopted || d->procfs_adopted) {
                r = mount_table_read(0, &mounts);
                if (r < 0)
                        log_warning_errno(r, "Failed to read the mount table: %m; the containers' views are made "
                                             "again instead of adopted.");
                else
                        d->restore_mounts = &mounts;
        }
        while ((de = readdir(dir))) {
                _cleanup_free_ char *path = NULL;

                if (de->d_name[0] == '.' || de->d_type != DT_DIR)
                        continue;
                if (asprintf(&path, "%s/%s", d->containers_dir, de->d_name) < 0)
                        return;
                r = restore_one(d, path);
                if (r > 0)
                        restored++;
                else if (r < 0 && !daemon_find_container(d, de->d_name))
                        clean_container(d, path, de->d_name);
        }
        d->restore_mounts = NULL;
        if (restored > 0)
                log_info("Restored %u container(s) in %.1f ms.", restored, (now_usec() - start) / 1000.0);
}
