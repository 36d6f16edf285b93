/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "clock.h"
#include "log.h"
#include "mountpoint.h"
#include "registry.h"
#include "repair.h"
#include "restore.h"
#include "state.h"

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

void daemon_clear_view_mounts(const char *dir) {
        static const char *const views[] = { "dev", "sys", "proc" };

        clear_mounts(dir, views, ELEMENTSOF(views));
}

void daemon_clean_container_dir(const char *dir) {
        /* The udev database is a tmpfs of its own. */
        static const char *const mounts[] = { "dev", "sys", "proc", "udev" };
        static const char *const files[] = { "uevent.sock", "udev.sock", STATE_FILE, "." STATE_FILE ".tmp" };

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

static void repair_views(struct daemon_container *dc, const struct saved_container *s) {
        const struct {
                const char *connection, *root, *subdir;
                bool recursive;
        } kinds[] = { { s->dev_connection, s->dev_root, "dev", false }, { s->sys_connection, s->sys_root, "sys", true } };
        unsigned repaired = 0;

        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                _cleanup_free_ char *host = NULL, *error = NULL;
                int r;

                if (!kinds[i].connection[0])
                        continue;
                if (asprintf(&host, "%s/%s", dc->dir, kinds[i].subdir) < 0)
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

static int restore_one(struct daemon *d, const char *dir) {
        _cleanup_(saved_container_done) struct saved_container s = {};
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        _cleanup_free_ char *error = NULL;
        struct daemon_container *dc;
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
        /* A leftover mount must not be stacked on. */
        daemon_clear_view_mounts(dir);
        r = daemon_create_container(d, s.name, s.policy_source, s.pid, s.relay, s.device_cgroup, &diags, &dc);
        if (r < 0)
                return log_error_errno(r, "%s: failed to restore it (policy %s): %m", s.name, s.policy_source);
        /* Between the check and the pidfd the pid could have been reused. */
        if (s.pid > 0 && !process_alive(&s)) {
                log_info("%s: its process %d is gone; cleaned up.", s.name, (int) s.pid);
                (void) daemon_destroy_container(d, dc);
                return -ESRCH;
        }
        restore_overrides(d, dc, &s);
        if (dc->pid > 0)
                repair_views(dc, &s);
        daemon_save_container(d, dc);
        log_info("%s: restored (%s).", s.name, dc->pid > 0 ? "attached" : "not attached");
        return 1;
}

void daemon_restore(struct daemon *d) {
        _cleanup_(closedirp) DIR *dir = opendir(d->containers_dir);
        uint64_t start = now_usec();
        unsigned restored = 0;
        struct dirent *de;
        int r;

        if (!dir) {
                log_warning_errno(errno, "Failed to open %s: %m", d->containers_dir);
                return;
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
                        daemon_clean_container_dir(path);
        }
        if (restored > 0)
                log_info("Restored %u container(s) in %.1f ms.", restored, (now_usec() - start) / 1000.0);
}
