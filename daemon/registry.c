/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The life of a served container: create, attach to its process, reload,
 * destroy. */
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/stat.h>

#include "daemon.h"
#include "registry.h"
#include "fs/devfs.h"
#include "fs/procfs.h"
#include "fs/sysfs.h"
#include "fs/mux.h"
#include "holder.h"
#include "log.h"
#include "mountpoint.h"
#include "strv.h"
#include "relay.h"
#include "restore.h"
#include "state.h"
#include "udev-db.h"

static bool policy_source_is_path(const char *source) {
        return strchr(source, '/');
}

int daemon_load_policy(struct daemon *d, const char *source, const char *root, bool unknown_names_are_errors,
                       struct policy **ret, struct policy_diagnostics *diags) {
        struct policy_load_options options = { .root = root, .unknown_names_are_errors = unknown_names_are_errors };
        _cleanup_free_ char *path = NULL, *text = NULL;

        if (policy_source_is_path(source))
                return policy_load_file(source, &options, ret, diags);

        /* A built-in name is a policy of its own: include it. */
        if (policy_builtin_text(source)) {
                _cleanup_free_ char *name = NULL;
                if (asprintf(&text, "include \"%s\"\n", source) < 0 || asprintf(&name, "<%s>", source) < 0)
                        return -ENOMEM;
                return policy_load_string(name, text, &options, ret, diags);
        }

        if (strstr(source, ".rules") ? asprintf(&path, "%s/%s", d->policy_dir, source) < 0
                                     : asprintf(&path, "%s/%s.rules", d->policy_dir, source) < 0)
                return -ENOMEM;
        return policy_load_file(path, &options, ret, diags);
}

struct daemon_container *daemon_find_container(struct daemon *d, const char *name) {
        struct container *c = model_find_container(d->model, name);
        return c ? daemon_container_of(c) : NULL;
}

void daemon_save_container(struct daemon *d, struct daemon_container *dc) {
        int r = state_save(d, dc);

        if (r < 0)
                log_warning_errno(r, "%s: failed to save its state in %s; a restarted devsieved will not know it: %m",
                                  dc->container->name, dc->dir);
}

static void daemon_container_free(struct daemon_container *dc) {
        if (!dc)
                return;
        sysfs_view_free(dc->sys);
        free(dc->views_error);
        free(dc->dir);
        free(dc->views_dir);
        free(dc);
}

static void on_pid_exit(struct io_watch *w, uint32_t events) {
        struct daemon_container *dc = container_of(w, struct daemon_container, pid_watch);

        log_info("%s: process %d exited; its relay stops and its device cgroup grants are taken back.",
                 dc->container->name, (int) dc->pid);
        loop_unwatch(dc->daemon->loop, w);
        w->fd = safe_close(w->fd);
        dc->pid = 0;
        dc->relay = relay_free(dc->relay);
        dc->cgroup = device_cgroup_free(dc->cgroup);
        dc->exited = true;
        daemon_save_container(dc->daemon, dc);
}

/* An event the container wrote into a uevent file of its /sys. */
struct synthetic_event {
        struct daemon *daemon;
        char *container;
        char **properties;
};

/* The device the container wrote to, if it still sees it: its udev event
 * carries what its database says. */
static const struct visible_device *synthetic_event_device(struct daemon *d, struct daemon_container *dc,
                                                           const struct synthetic_event *e) {
        const char *devpath = strv_env_get(e->properties, "DEVPATH");
        struct device *device = devpath ? model_find_device(d->model, devpath) : NULL;

        return device ? container_find_visible(dc->container, device) : NULL;
}

static void synthetic_event_free(void *data) {
        struct synthetic_event *e = data;

        strv_free(e->properties);
        free(e->container);
        free(e);
}

static void deliver_synthetic_event(void *data) {
        struct synthetic_event *e = data;
        struct daemon_container *dc = daemon_find_container(e->daemon, e->container);

        /* The container may be gone by now; its events go with it. */
        if (dc)
                log_debug("%s: synthetic %s of %s%s", e->container, strv_env_get(e->properties, "ACTION"),
                          strv_env_get(e->properties, "DEVPATH"), dc->relay ? "" : " (no relay: dropped)");
        if (dc && dc->relay) {
                const struct visible_device *v = synthetic_event_device(e->daemon, dc, e);
                (void) relay_inject_visible(dc->relay, TAKE_PTR(e->properties), v);
        }
        synthetic_event_free(e);
}

/* From a FUSE worker: the main loop owns the relay. */
static void on_synthetic_event(char **properties, void *userdata) {
        struct daemon_container *dc = userdata;
        struct synthetic_event *e = calloc(1, sizeof(*e));

        if (!e || !(e->container = strdup(dc->container->name))) {
                log_error("%s: out of memory, a synthetic event is lost.", dc->container->name);
                strv_free(properties);
                free(e);
                return;
        }
        e->daemon = dc->daemon;
        e->properties = properties;
        if (loop_defer(dc->daemon->loop, deliver_synthetic_event, synthetic_event_free, e) < 0) {
                log_error("%s: out of memory, a synthetic event is lost.", dc->container->name);
                synthetic_event_free(e);
        }
}

/* What the container's policy exposes of non-device sysfs follows it. */
static void expose_policy_paths(struct daemon_container *dc) {
        int r;

        if (!dc->sys)
                return;
        r = sysfs_view_set_exposed(dc->sys, policy_exposed_paths(dc->container->policy));
        if (r < 0)
                log_warning_errno(r, "%s: could not expose every path the policy names in /sys: %m",
                                  dc->container->name);
}

/* The container's root as the daemon can reach it, for OWNER/GROUP names. */
static int container_root(pid_t pid, char **ret) {
        return asprintf(ret, "/proc/%d/root", (int) pid) < 0 ? -ENOMEM : 0;
}

static int relay_for(struct daemon *d, const struct daemon_container *dc, enum relay_mode mode, struct relay **ret) {
        const struct relay_target t = {
                .name = dc->container->name,
                .dir = dc->dir,
                .pid = dc->pid,
                .pidfd = dc->pid_watch.fd,
                .container = dc->container,
        };

        return relay_new(d->loop, &t, mode, ret);
}

/* A relay for the newly attached process, into its network namespace; a
 * socket-mode relay made at creation stays (and *ret stays NULL). */
static int attach_relay(struct daemon *d, struct daemon_container *dc, struct relay **ret) {
        struct relay_stats stats;
        int r;

        if (dc->relay_mode == RELAY_NONE)
                return 0;
        if (dc->relay) {
                relay_get_stats(dc->relay, &stats);
                if (streq(stats.mode, "socket") && dc->relay_mode != RELAY_NETLINK)
                        return 0;
        }
        r = relay_for(d, dc, dc->relay_mode, ret);
        if (r < 0)
                return log_error_errno(r, "%s: failed to set up the uevent relay into process %d: %m",
                                       dc->container->name, (int) dc->pid);
        relay_get_stats(*ret, &stats);
        log_info("%s: relaying uevents (%s mode).", dc->container->name, stats.mode);
        return 0;
}

/* The device cgroup of the newly attached process, granted what the
 * container sees already (deltas from the attach itself follow). A cgroup
 * that cannot be managed is reported, never fatal: the views still work. */
static int attach_device_cgroup(struct daemon *d, struct daemon_container *dc, pid_t pid) {
        _cleanup_(device_cgroup_freep) struct device_cgroup *g = NULL;
        struct device_cgroup_stats stats;
        int r;

        if (!dc->device_cgroup)
                return 0;
        /* The same cgroup again (a re-attach): what was granted stays, and
         * what someone else rewrote since is put back. */
        if (dc->cgroup && device_cgroup_is_current(dc->cgroup, d->device_cgroup, pid)) {
                device_cgroup_check(dc->cgroup);
                r = device_cgroup_restore(dc->cgroup);
                device_cgroup_get_stats(dc->cgroup, &stats);
                if (r < 0)
                        log_error("%s: device cgroup %s: %s", dc->container->name, strempty(stats.path),
                                  strempty(stats.last_error));
                return 0;
        }
        r = device_cgroup_new(d->device_cgroup, dc->container->name, pid, &g);
        if (!g)
                return r;
        if (r >= 0)
                r = device_cgroup_grant_visible(g, dc->container);
        device_cgroup_get_stats(g, &stats);
        if (r < 0)
                log_error("%s: device cgroup %s: %s; the container may not open every device it sees.",
                          dc->container->name, strempty(stats.path), stats.last_error ?: strerror(-r));
        else if (stats.off_reason)
                log_info("%s: device cgroup left alone: %s.", dc->container->name, stats.off_reason);
        else
                log_info("%s: device cgroup %s %s follows the view (%zu rules).", dc->container->name, stats.mode,
                         stats.path, stats.rules);
        device_cgroup_free(dc->cgroup);
        dc->cgroup = TAKE_PTR(g);
        return 0;
}

void daemon_check_device_cgroup(struct daemon_container *dc) {
        struct device_cgroup_stats s;
        bool was;

        if (!dc->cgroup)
                return;
        device_cgroup_get_stats(dc->cgroup, &s);
        was = s.replaced;
        device_cgroup_check(dc->cgroup);
        device_cgroup_get_stats(dc->cgroup, &s);
        if (s.replaced && !was)
                log_error("%s: device cgroup %s: %s", dc->container->name, strempty(s.path), strempty(s.last_error));
}

int daemon_attach_container(struct daemon *d, struct daemon_container *dc, pid_t pid,
                            struct policy_diagnostics *diags) {
        _cleanup_(relay_freep) struct relay *relay = NULL;
        _cleanup_(policy_freep) struct policy *policy = NULL;
        _cleanup_free_ char *root = NULL;
        _cleanup_close_ int pidfd = -EBADF;
        struct container *c = dc->container;
        struct idmap uids, gids, old_uids, old_gids;
        struct io_watch old_watch = { .fd = -EBADF };
        uint32_t root_uid, root_gid;
        bool old_exited;
        pid_t old_pid;
        int r;

        if (pid <= 0)
                return -EINVAL;
        /* The pidfd first: from then on a reused pid cannot fool us. */
        pidfd = pidfd_open(pid, 0);
        if (pidfd < 0)
                return negative_errno();
        r = idmap_read(pid, "uid_map", &uids);
        if (r < 0)
                return r;
        r = idmap_read(pid, "gid_map", &gids);
        if (r < 0)
                return r;
        r = container_root(pid, &root);
        if (r < 0)
                return r;
        /* The container's /etc/passwd may lack names the host has: say so,
         * do not refuse the container. */
        r = daemon_load_policy(d, c->policy_source, root, false, &policy, diags);
        if (r < 0)
                return r;

        /* All or nothing: the relay reads the pid and id maps, so they are
         * set for it and put back when it or anything after it fails. The
         * views' owners and the relay change only once nothing can. */
        old_pid = dc->pid;
        old_exited = dc->exited;
        old_uids = c->uid_map;
        old_gids = c->gid_map;
        dc->pid = pid;
        dc->exited = false;
        c->uid_map = uids;
        c->gid_map = gids;
        r = attach_relay(d, dc, &relay);
        if (r >= 0)
                r = attach_device_cgroup(d, dc, pid);
        if (r >= 0) {
                old_watch = dc->pid_watch;
                dc->pid_watch = (struct io_watch){ .fd = pidfd, .fn = on_pid_exit };
                r = loop_watch(d->loop, &dc->pid_watch, EPOLLIN);
                if (r < 0)
                        dc->pid_watch = old_watch;
        }
        if (r >= 0) {
                r = model_set_policy(d->model, c, TAKE_PTR(policy), c->policy_source);
                if (r < 0) {
                        loop_unwatch(d->loop, &dc->pid_watch);
                        dc->pid_watch = old_watch;
                }
        }
        if (r < 0) {
                dc->pid = old_pid;
                dc->exited = old_exited;
                c->uid_map = old_uids;
                c->gid_map = old_gids;
                return r;
        }
        TAKE_FD(pidfd);
        if (old_watch.fd >= 0) {
                /* An event of the old pidfd waiting in the current batch names
                 * &dc->pid_watch, which the new pidfd (too new to be in the
                 * batch) uses now: unwatch the old fd under that address. */
                struct io_watch new_watch = dc->pid_watch;

                dc->pid_watch = old_watch;
                loop_unwatch(d->loop, &dc->pid_watch);
                safe_close(old_watch.fd);
                dc->pid_watch = new_watch;
        }

        /* The views' own files belong to the container's root. A container
         * that cannot name host ids for its root keeps what the views had. */
        if (idmap_to_host(&uids, 0, &root_uid) >= 0 && idmap_to_host(&gids, 0, &root_gid) >= 0) {
                if (dc->dev)
                        devfs_set_root_owner(dc->dev, root_uid, root_gid);
                if (dc->sys)
                        sysfs_view_set_root_owner(dc->sys, root_uid, root_gid);
                if (dc->proc)
                        procfs_container_set_root_owner(dc->proc, root_uid, root_gid);
        }
        /* Only now: what the container had from the start is no event. */
        if (relay) {
                relay_free(dc->relay);
                dc->relay = TAKE_PTR(relay);
        }
        expose_policy_paths(dc);
        daemon_save_container(d, dc);
        return 0;
}

/* The next devsieved must not give a slot this one gave (the kernel may
 * still hold inodes of a destroyed view). */
static void note_slots(struct daemon *d) {
        if (d->holder) {
                (void) holder_set_slot(d->holder, "dev", fs_mux_next_slot(d->dev_mux));
                (void) holder_set_slot(d->holder, "sys", fs_mux_next_slot(d->sys_mux));
                (void) holder_set_slot(d->holder, "proc", procfs_next_number(d->procfs));
        }
}

/* The container's /run/udev, filled by the deltas that follow. */
static int serve_udev_db(struct daemon_container *dc) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (asprintf(&path, "%s/udev", dc->views_dir) < 0)
                return -ENOMEM;
        r = udev_db_new(path, dc->container->name, &dc->udev_db);
        if (r < 0)
                return log_error_errno(r, "%s: failed to create its udev database at %s: %m", dc->container->name,
                                       path);
        return 0;
}

/* The container's directory of the daemon's /proc view, bound at
 * DIR/proc: read-only, and no path from it reaches another container's. */
static int serve_proc(struct daemon *d, struct daemon_container *dc) {
        _cleanup_free_ char *source = NULL, *target = NULL;

        bool adopted = procfs_adopting_number(d->procfs);
        int r;

        r = procfs_add_container(d->procfs, dc->container->name, &dc->proc);
        if (r < 0)
                return log_error_errno(r, "%s: failed to add it to the /proc view: %m", dc->container->name);
        note_slots(d);
        /* The previous devsieved's bind is in place (restore.c). */
        if (adopted)
                return 0;
        if (asprintf(&source, "%s/proc-fs/%s", d->runtime_dir, dc->container->name) < 0 ||
            asprintf(&target, "%s/proc", dc->dir) < 0)
                return -ENOMEM;
        if (mkdir(target, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "%s: failed to create %s: %m", dc->container->name, target);
        if (mount(source, target, NULL, MS_BIND, NULL) < 0)
                return log_error_errno(errno, "%s: failed to bind %s at %s: %m", dc->container->name, source,
                                       target);
        /* A bind takes the flags it is given, not the source's. */
        if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) <
            0) {
                r = log_error_errno(errno, "%s: failed to make %s read-only: %m", dc->container->name, target);
                (void) umount2(target, MNT_DETACH);
                return r;
        }
        return 0;
}

static void unserve_proc(struct daemon_container *dc) {
        _cleanup_free_ char *target = NULL;

        if (!dc->proc)
                return;
        if (asprintf(&target, "%s/proc", dc->dir) >= 0) {
                /* Lazy: the container may hold its own copies of the files. */
                (void) umount2(target, MNT_DETACH);
                (void) rmdir(target);
        }
        procfs_remove_container(dc->proc);
        dc->proc = NULL;
}

/* Everything a new container needs beyond the model's record; consumers
 * are in place before the first deltas flow. */
/* VIEWS/NAME (DIR, or RUNTIME/views/containers/NAME when detached), existing and with nothing mounted on it: never stack on what
 * a previous run, an aborted connection or a destroy that could not
 * finish left there (a dead view would stay below ours). */
static int view_mountpoint(struct daemon_container *dc, const char *name, char **ret) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (asprintf(&path, "%s/%s", dc->views_dir, name) < 0)
                return -ENOMEM;
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "%s: failed to create %s: %m", dc->container->name, path);
        r = umount_all_at(path);
        if (r < 0)
                return log_error_errno(r, "%s: failed to unmount what is left at %s: %m", dc->container->name, path);
        *ret = TAKE_PTR(path);
        return 0;
}

/* An adopted view (fs_mux_adopt_slot()) is bound there already, and a
 * stat of it would wait for this daemon: nothing to clear. */
static int adopted_mountpoint(struct daemon_container *dc, const char *name, char **ret) {
        return asprintf(ret, "%s/%s", dc->views_dir, name) < 0 ? -ENOMEM : 0;
}

int daemon_make_dev_view(struct daemon *d, struct daemon_container *dc, uid_t root_uid, gid_t root_gid) {
        _cleanup_free_ char *dev = NULL;
        int r;

        r = fs_mux_adopting_slot(d->dev_mux) ? adopted_mountpoint(dc, "dev", &dev) : view_mountpoint(dc, "dev", &dev);
        if (r < 0)
                return r;
        r = devfs_new(d->dev_mux, dev, root_uid, root_gid, &dc->dev);
        if (r < 0)
                return log_error_errno(r, "%s: failed to mount the /dev view at %s: %m", dc->container->name, dev);
        note_slots(d);
        return 0;
}

/* What the previous devsieved mounted below an adopted /sys view (the
 * device directories): this view mounts its own. By path, from the mount
 * table read at start: the kernel's cached entries lead there. */
static void clear_adopted_sys(struct daemon *d, struct daemon_container *dc, const char *sys) {
        int r;

        if (!d->restore_mounts)
                return;
        r = mount_table_umount_below(d->restore_mounts, sys);
        if (r < 0)
                log_warning_errno(r, "%s: failed to unmount what the previous devsieved mounted below %s: %m",
                                  dc->container->name, sys);
}

int daemon_make_sys_view(struct daemon *d, struct daemon_container *dc, uid_t root_uid, gid_t root_gid) {
        _cleanup_free_ char *sys = NULL;
        bool adopted = fs_mux_adopting_slot(d->sys_mux);
        int r;

        r = adopted ? adopted_mountpoint(dc, "sys", &sys) : view_mountpoint(dc, "sys", &sys);
        if (r < 0)
                return r;
        r = sysfs_view_new(d->sys_mux, d->sys_children, sys, dc->container->name, root_uid, root_gid, on_synthetic_event, dc,
                           &dc->sys);
        if (r < 0)
                return log_error_errno(r, "%s: failed to mount its /sys view at %s: %m", dc->container->name, sys);
        if (adopted)
                clear_adopted_sys(d, dc, sys);
        expose_policy_paths(dc);
        note_slots(d);
        return 0;
}

static int serve_container(struct daemon *d, struct daemon_container *dc, pid_t pid,
                           struct policy_diagnostics *diags) {
        int r;

        if (mkdir(dc->dir, 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "%s: failed to create %s: %m", dc->container->name, dc->dir);
        if (dc->detached && mkdir(dc->views_dir, 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "%s: failed to create %s: %m", dc->container->name, dc->views_dir);
        /* Owned by host root until attached: then by the container's root. */
        r = daemon_make_dev_view(d, dc, 0, 0);
        if (r >= 0)
                r = daemon_make_sys_view(d, dc, 0, 0);
        if (r >= 0)
                r = serve_proc(d, dc);
        if (r >= 0)
                r = serve_udev_db(dc);
        if (r < 0)
                return r;

        if (pid > 0)
                return daemon_attach_container(d, dc, pid, diags);
        r = model_refresh_container(d->model, dc->container);
        if (r < 0 || dc->relay_mode != RELAY_SOCKET)
                return r;
        /* A socket needs no process: listeners may connect before it runs. */
        r = relay_for(d, dc, RELAY_SOCKET, &dc->relay);
        if (r < 0)
                return log_error_errno(r, "%s: failed to set up the uevent relay: %m", dc->container->name);
        return 0;
}

int daemon_create_container(struct daemon *d, const char *name, const char *policy_source, pid_t pid,
                            enum relay_mode relay, bool device_cgroup, bool detached,
                            struct policy_diagnostics *diags, struct daemon_container **ret) {
        _cleanup_(policy_freep) struct policy *policy = NULL;
        struct daemon_container *dc;
        struct container *c;
        int r;

        if (model_find_container(d->model, name))
                return -EEXIST;
        /* Without a process the host's names are all there is: an unknown
         * one is an error now rather than a surprise later. */
        r = daemon_load_policy(d, policy_source, NULL, pid == 0, &policy, diags);
        if (r < 0)
                return r;
        r = container_new(name, TAKE_PTR(policy), policy_source, &c);
        if (r < 0)
                return r;
        r = model_add_container(d->model, c);
        if (r < 0)
                return r;

        dc = calloc(1, sizeof(*dc));
        if (!dc || asprintf(&dc->dir, "%s/%s", d->containers_dir, name) < 0 ||
            (detached ? asprintf(&dc->views_dir, "%s/%s", d->detached_dir, name) < 0
                      : !(dc->views_dir = strdup(dc->dir)))) {
                if (dc)
                        free(dc->dir);
                free(dc);
                model_remove_container(d->model, c);
                return -ENOMEM;
        }
        dc->detached = detached;
        dc->container = c;
        dc->daemon = d;
        dc->relay_mode = relay;
        dc->device_cgroup = device_cgroup;
        dc->pid_watch.fd = -EBADF;
        c->userdata = dc;

        r = serve_container(d, dc, pid, diags);
        if (r < 0) {
                daemon_destroy_container(d, dc);
                return r;
        }
        daemon_save_container(d, dc);
        log_info("%s: created with policy %s%s.", name, policy_source,
                 detached ? ", its views detached (handed out as mount trees)" : "");
        if (ret)
                *ret = dc;
        return 0;
}

/* What destroy and shutdown share: everything but the registration. */
/* keep: a stop, not a destroy: what the next devsieved takes over stays. */
static void release_container(struct daemon *d, struct daemon_container *dc, bool keep) {
        dc->relay = relay_free(dc->relay);
        if (dc->pid_watch.fd >= 0) {
                loop_unwatch(d->loop, &dc->pid_watch);
                safe_close(dc->pid_watch.fd);
        }
        dc->dev = devfs_free(dc->dev);
        dc->udev_db = udev_db_free(dc->udev_db);
        dc->sys = sysfs_view_free(dc->sys);
        /* At a stop its grants stay for the next devsieved; a destroy
         * takes them back, once the nodes are gone. */
        dc->cgroup = keep ? device_cgroup_forget(dc->cgroup) : device_cgroup_free(dc->cgroup);
        unserve_proc(dc);
}

int daemon_destroy_container(struct daemon *d, struct daemon_container *dc) {
        release_container(d, dc, false);
        state_remove(dc);
        /* Also what is dead there: a view whose connection was aborted. */
        daemon_clean_container_dir(dc->dir);
        if (dc->detached) {
                daemon_clean_container_dir(dc->views_dir);
                (void) rmdir(dc->views_dir);
        }
        log_debug("%s: destroyed.", dc->container->name);
        model_remove_container(d->model, dc->container);
        daemon_container_free(dc);
        return 0;
}

void daemon_stop_container(struct daemon *d, struct daemon_container *dc) {
        release_container(d, dc, true);
        log_debug("%s: no longer served; its registration stays for the next devsieved.", dc->container->name);
        model_remove_container(d->model, dc->container);
        daemon_container_free(dc);
}

/* A recursive clone of one view, a slave of it: what the view gets later
 * (the /sys view's device directories on hot-plug) reaches the copy, and
 * nothing mounted on the copy comes back. */
static int clone_view(const char *dir, const char *name, int *ret_fd) {
        struct mount_attr slave = { .propagation = MS_SLAVE };
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &slave, sizeof(slave)) < 0)
                return negative_errno();
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int daemon_open_views(struct daemon_container *dc, int fds[static DAEMON_VIEWS_MAX], const char *names[static DAEMON_VIEWS_MAX],
                      size_t *ret_n) {
        const char *wanted[DAEMON_VIEWS_MAX] = { dc->dev ? "dev" : NULL, dc->sys ? "sys" : NULL,
                                                 dc->udev_db ? "udev" : NULL };
        size_t n = 0;
        int r;

        for (size_t i = 0; i < DAEMON_VIEWS_MAX; i++) {
                if (!wanted[i])
                        continue;
                r = clone_view(dc->views_dir, wanted[i], &fds[n]);
                if (r < 0) {
                        log_error_errno(r, "%s: failed to clone its %s view at %s/%s: %m", dc->container->name,
                                        wanted[i], dc->views_dir, wanted[i]);
                        while (n > 0)
                                safe_close(fds[--n]);
                        return r;
                }
                names[n++] = wanted[i];
        }
        *ret_n = n;
        return 0;
}

int daemon_reload_container(struct daemon *d, struct daemon_container *dc, struct policy_diagnostics *diags) {
        _cleanup_(policy_freep) struct policy *policy = NULL;
        _cleanup_free_ char *root = NULL;
        struct container *c = dc->container;
        int r;

        if (dc->pid > 0) {
                r = container_root(dc->pid, &root);
                if (r < 0)
                        return r;
        }
        r = daemon_load_policy(d, c->policy_source, root, dc->pid == 0, &policy, diags);
        if (r < 0)
                return r;
        r = model_set_policy(d->model, c, TAKE_PTR(policy), c->policy_source);
        if (r < 0)
                return r;
        expose_policy_paths(dc);
        return 0;
}
