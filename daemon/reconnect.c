/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fs/devfs.h"
#include "fs/mux.h"
#include "fs/sysfs.h"
#include "holder.h"
#include "log.h"
#include "mountpoint.h"
#include "reconnect.h"
#include "registry.h"
#include "repair.h"

/* The container's root as the views show it: its own root's host ids once
 * attached, host root before. */
static void root_owner(const struct daemon_container *dc, uid_t *uid, gid_t *gid) {
        uint32_t u, g;

        *uid = 0;
        *gid = 0;
        if (dc->pid > 0 && idmap_to_host(&dc->container->uid_map, 0, &u) >= 0 &&
            idmap_to_host(&dc->container->gid_map, 0, &g) >= 0) {
                *uid = u;
                *gid = g;
        }
}

/* A new view starts empty: everything the container sees is new to it. */
static int fill(struct daemon_container *dc, enum view_kind kind) {
        const struct container *c = dc->container;
        _cleanup_free_ struct delta *deltas = NULL;
        struct visible_device *v, *tmp;
        size_t n = 0;

        deltas = calloc(HASH_COUNT(c->visible) ?: 1, sizeof(*deltas));
        if (!deltas)
                return -ENOMEM;
        HASH_ITER(hh, c->visible, v, tmp)
                deltas[n++] = (struct delta){ .kind = DELTA_VISIBLE, .device = v->device, .new = v };
        if (kind == VIEW_DEV)
                devfs_apply(dc->dev, deltas, n);
        else
                sysfs_view_apply(dc->sys, deltas, n);
        return 0;
}

static int remount_connection(struct daemon *d, enum view_kind kind) {
        _cleanup_free_ char *path = NULL;
        struct stat st;
        int r;

        if (asprintf(&path, "%s/%s", d->views_dir, kind == VIEW_DEV ? "dev" : "sys") < 0)
                return -ENOMEM;
        r = umount_all_at(path);
        if (r < 0)
                return log_error_errno(r, "Failed to unmount the dead connection at %s: %m", path);
        r = kind == VIEW_DEV ? devfs_mux_new(d->fuse, path, &d->dev_mux) : sysfs_view_mux_new(d->fuse, path, &d->sys_mux);
        if (r < 0)
                return log_error_errno(r, "Failed to mount a new connection at %s: %m", path);
        if (stat(path, &st) < 0)
                return log_error_errno(errno, "Failed to stat %s: %m", path);
        snprintf(kind == VIEW_DEV ? d->dev_connection : d->sys_connection, sizeof(d->dev_connection), "%u:%u",
                 major(st.st_dev), minor(st.st_dev));
        /* The holder's copy of the old one is of a dead connection. */
        if (d->holder) {
                struct fs_mux *m = kind == VIEW_DEV ? d->dev_mux : d->sys_mux;

                r = holder_keep(d->holder, kind == VIEW_DEV ? "dev" : "sys", fs_mux_fd(m),
                                kind == VIEW_DEV ? d->dev_connection : d->sys_connection, fs_mux_next_slot(m),
                                fs_mux_generation(m));
                if (r < 0)
                        log_warning_errno(r, "Failed to hand the new connection to the holder: %m");
        }
        return 0;
}

static void mark_dead(struct daemon_container *dc, char *error) {
        dc->views = VIEWS_DEAD;
        free(dc->views_error);
        dc->views_error = error;
}

struct old_view {
        struct daemon_container *dc;
        char root[32]; /* "/SLOT" of its dead view */
};

static void remake_view(struct daemon *d, const struct old_view *o, enum view_kind kind, const char *old_connection) {
        const char *name = kind == VIEW_DEV ? "dev" : "sys";
        _cleanup_free_ char *host = NULL, *error = NULL;
        struct daemon_container *dc = o->dc;
        uid_t uid;
        gid_t gid;
        int r;

        if (asprintf(&host, "%s/%s", dc->views_dir, name) < 0)
                return;
        root_owner(dc, &uid, &gid);
        r = kind == VIEW_DEV ? daemon_make_dev_view(d, dc, uid, gid) : daemon_make_sys_view(d, dc, uid, gid);
        if (r >= 0)
                r = fill(dc, kind);
        if (r < 0) {
                if (asprintf(&error, "remaking its /%s view failed: %s", name, strerror(-r)) >= 0)
                        mark_dead(dc, TAKE_PTR(error));
                return;
        }
        if (dc->pid <= 0 || !o->root[0])
                return;
        r = repair_dead_views(dc->pid, old_connection, o->root, host, kind == VIEW_SYS, &error);
        if (r < 0) {
                log_error("%s: its /%s view is dead in the container and could not be repaired: %s",
                          dc->container->name, name, error ?: strerror(-r));
                mark_dead(dc, TAKE_PTR(error));
        } else if (r > 0 && dc->views != VIEWS_DEAD)
                dc->views = VIEWS_REPAIRED;
}

/* Every view of the kind goes, then the connection (its mountpoint is
 * where the new one will be). */
static void drop_views(struct daemon *d, enum view_kind kind, struct old_view *old, size_t *n) {
        struct container *c, *tmp;

        *n = 0;
        fs_mux_quiet(kind == VIEW_DEV ? d->dev_mux : d->sys_mux);
        HASH_ITER(hh, d->model->containers, c, tmp) {
                struct daemon_container *dc = daemon_container_of(c);
                uint64_t slot = kind == VIEW_DEV ? (dc->dev ? devfs_get_slot(dc->dev) : 0)
                                                 : (dc->sys ? sysfs_view_get_slot(dc->sys) : 0);

                old[*n].dc = dc;
                if (slot)
                        snprintf(old[*n].root, sizeof(old[*n].root), "/%" PRIu64, slot);
                (*n)++;
                if (kind == VIEW_DEV)
                        dc->dev = devfs_free(dc->dev);
                else
                        dc->sys = sysfs_view_free(dc->sys);
        }
        if (kind == VIEW_DEV)
                d->dev_mux = fs_mux_free(d->dev_mux);
        else
                d->sys_mux = fs_mux_free(d->sys_mux);
}

void daemon_reconnect(struct daemon *d, enum view_kind kind) {
        const char *name = kind == VIEW_DEV ? "dev" : "sys";
        char old_connection[sizeof(d->dev_connection)];
        _cleanup_free_ struct old_view *old = NULL;
        size_t n;

        strcpy(old_connection, kind == VIEW_DEV ? d->dev_connection : d->sys_connection);
        log_warning("The /%s views' connection (%s) ended under devsieved: mounting it again with every container's "
                    "view.", name, old_connection);
        old = calloc(HASH_COUNT(d->model->containers) ?: 1, sizeof(*old));
        if (!old) {
                log_error("Out of memory: the /%s views stay dead.", name);
                return;
        }
        drop_views(d, kind, old, &n);
        if (remount_connection(d, kind) < 0) {
                /* Serving goes on with what is left; every container says why. */
                for (size_t i = 0; i < n; i++) {
                        char *error = NULL;
                        if (asprintf(&error, "the /%s views' connection could not be mounted again", name) >= 0)
                                mark_dead(old[i].dc, error);
                }
                return;
        }
        for (size_t i = 0; i < n; i++) {
                remake_view(d, &old[i], kind, old_connection);
                daemon_save_container(d, old[i].dc);
        }
        log_info("The /%s views' connection is %s now; %zu container(s) served again.", name,
                 kind == VIEW_DEV ? d->dev_connection : d->sys_connection, n);
}
