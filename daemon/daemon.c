/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

#include "clock.h"
#include "control.h"
#include "daemon.h"
#include "fs/devfs.h"
#include "fs/fuse-pool.h"
#include "fs/handles.h"
#include "fs/procfs.h"
#include "fs/sysfs.h"
#include "fs/sysfs-children.h"
#include "log.h"
#include "holder.h"
#include "mount-ns.h"
#include "mountpoint.h"
#include "reconnect.h"
#include "restore.h"
#include "state.h"
#include "fs/mux.h"
#include "registry.h"
#include "relay.h"
#include "strv.h"
#include "udev-db.h"
#include "udev-source.h"

static void on_udev(struct io_watch *w, uint32_t events) {
        struct daemon *d = container_of(w, struct daemon, udev_watch);
        int r = udev_source_dispatch(d->udev, d->model);
        if (r < 0)
                log_error_errno(r, "Failed to receive device events: %m");
}

static void reload_all(struct daemon *d) {
        struct container *c, *tmp;

        HASH_ITER(hh, d->model->containers, c, tmp) {
                struct policy_diagnostics diags = {};
                int r = daemon_reload_container(d, daemon_container_of(c), &diags);

                for (size_t i = 0; i < diags.n_items; i++) {
                        _cleanup_free_ char *line = NULL;
                        if (policy_diagnostic_format(&diags.items[i], &line) >= 0)
                                log_internal(diags.items[i].is_error ? LOG_ERR : LOG_WARNING, 0, "%s: %s", c->name,
                                             line);
                }
                policy_diagnostics_done(&diags);
                if (r < 0)
                        log_error_errno(r, "%s: reload failed, the previous policy stays in force: %m", c->name);
                else
                        log_info("%s: reloaded %s", c->name, c->policy_source);
        }
}

static void on_signal(struct io_watch *w, uint32_t events) {
        struct daemon *d = container_of(w, struct daemon, signals);
        struct signalfd_siginfo si;

        while (read(w->fd, &si, sizeof(si)) == sizeof(si))
                switch (si.ssi_signo) {
                case SIGHUP:
                        log_info("SIGHUP: reloading every container's policy.");
                        reload_all(d);
                        break;
                case SIGUSR2:
                        log_info("SIGUSR2: re-executing %s.", d->exe_path ?: "devsieved");
                        d->reexec = true;
                        d->exiting = true;
                        break;
                default:
                        log_info("Signal %s: shutting down.", strsignal((int) si.ssi_signo));
                        d->exiting = true;
                }
}

/* Not mounted again (yet): every container says so in status. */
static void report_dead_procfs(struct daemon *d) {
        struct container *c, *tmp;

        log_error("The /proc view's connection (%s) ended under devsieved: the containers' /proc files answer "
                  "ENOTCONN until devsieved is restarted.", d->proc_connection);
        HASH_ITER(hh, d->model->containers, c, tmp) {
                struct daemon_container *dc = daemon_container_of(c);
                char *error = strdup("the /proc view's connection ended; restart devsieved");

                if (!error)
                        continue;
                dc->views = VIEWS_DEAD;
                free(dc->views_error);
                dc->views_error = error;
        }
}

static void destroy_exited_view(uint64_t id, void *userdata) {
        struct daemon *d = userdata;

        /* A connection ends when it is unmounted at shutdown, or from
         * outside (umount, an abort through fusectl): then every view it
         * served is mounted again on a new one (reconnect.h). */
        log_debug("FUSE session %" PRIu64 " ended.", id);
        /* Not while shutting down: then the daemon ends them itself. */
        if (d->exiting)
                return;
        if (d->dev_mux && fs_mux_pool_id(d->dev_mux) == id)
                daemon_reconnect(d, VIEW_DEV);
        else if (d->sys_mux && fs_mux_pool_id(d->sys_mux) == id)
                daemon_reconnect(d, VIEW_SYS);
        else if (d->procfs && procfs_pool_id(d->procfs) == id)
                report_dead_procfs(d);
}

/* Without a holder the views live as long as this process: say so, and
 * reap the holder when this process forked it. */
static void on_holder_exit(struct io_watch *w, uint32_t events) {
        struct daemon *d = container_of(w, struct daemon, holder_exit);
        pid_t pid = holder_pid(d->holder);

        loop_unwatch(d->loop, w);
        w->fd = safe_close(w->fd);
        (void) waitpid(pid, NULL, WNOHANG); /* ECHILD when a previous devsieved forked it */
        d->holder = holder_free(d->holder);
        log_warning("The holder of the views' connections (pid %d) ended: a crash of devsieved will now cost the "
                    "containers their views until the next devsieved repairs them; a restart starts a new holder.",
                    (int) pid);
}

static int watch_holder(struct daemon *d) {
        int fd;

        if (!d->holder)
                return 0;
        fd = pidfd_open(holder_pid(d->holder), 0);
        if (fd < 0)
                return log_warning_errno(negative_errno(), "Failed to watch the holder (pid %d): %m",
                                         (int) holder_pid(d->holder)), 0;
        d->holder_exit = (struct io_watch){ .fd = fd, .fn = on_holder_exit };
        return loop_watch(d->loop, &d->holder_exit, EPOLLIN);
}

static void on_fuse_exited(struct io_watch *w, uint32_t events) {
        struct daemon *d = container_of(w, struct daemon, fuse_exited);

        (void) fuse_pool_drain_exited(d->fuse, destroy_exited_view, d);
}

static bool shows_device(const struct delta *deltas, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (deltas[i].new)
                        return true;
        return false;
}

/* The device cgroup's half of a batch, on each side of the views. */
static void cgroup_deltas(struct daemon_container *dc, const struct delta *deltas, size_t n, bool widen) {
        struct device_cgroup_stats stats;
        int r;

        if (!dc->cgroup)
                return;
        /* A device that comes or changes is when a rewritten cgroup starts
         * to hurt: say so, once the node is there (reading devices.list
         * costs more than making every container's node). */
        if (!widen && shows_device(deltas, n))
                daemon_check_device_cgroup(dc);
        r = widen ? device_cgroup_grant(dc->cgroup, deltas, n) : device_cgroup_revoke(dc->cgroup, deltas, n);
        if (r >= 0)
                return;
        device_cgroup_get_stats(dc->cgroup, &stats);
        log_error("%s: device cgroup %s: %s", dc->container->name, strempty(stats.path),
                  stats.last_error ?: strerror(-r));
}

/* Every container's /dev first: a node costs microseconds, a /sys view's
 * device mounts a fraction of a millisecond, and one container's /dev
 * need not wait for the others' /sys. The device cgroup grants before the
 * node appears. */
static void dispatch_dev_deltas(struct container *c, const struct delta *deltas, size_t n, void *userdata) {
        struct daemon_container *dc = daemon_container_of(c);

        if (!dc)
                return;
        cgroup_deltas(dc, deltas, n, true);
        if (dc->dev)
                devfs_apply(dc->dev, deltas, n);
}

/* Then, container by container, /sys, the udev database and the relay, so
 * that a container hears of a device only once its node, /sys entry and
 * udev data exist (and of its removal once they are gone); the device
 * cgroup's denials come last, once the node is gone. */
/* What a crash within this delay loses is a change relayed twice (or not
 * at all) by the next devsieved. */
#define VISIBLE_SAVE_DELAY_SEC 1

static void on_visible_timer(struct io_watch *w, uint32_t events) {
        struct daemon *d = container_of(w, struct daemon, visible_timer);
        struct container *c, *tmp;
        uint64_t expirations;

        (void) read(w->fd, &expirations, sizeof(expirations));
        d->visible_timer_armed = false;
        HASH_ITER(hh, d->model->containers, c, tmp) {
                struct daemon_container *dc = daemon_container_of(c);
                int r;

                if (!dc || !dc->visible_dirty)
                        continue;
                dc->visible_dirty = false;
                r = state_save_visible(dc);
                if (r < 0)
                        log_warning_errno(r, "%s: failed to save what it sees: %m", c->name);
        }
}

/* For the next devsieved's relay of what changed while none ran. */
static void save_visible(struct daemon *d, struct daemon_container *dc, const struct delta *deltas, size_t n) {
        struct itimerspec once = { .it_value = { .tv_sec = VISIBLE_SAVE_DELAY_SEC } };
        size_t i;

        for (i = 0; i < n && deltas[i].kind == DELTA_CHANGED; i++)
                ;
        if (i == n)
                return;
        dc->visible_dirty = true;
        if (d->visible_timer_armed || d->visible_timer.fd < 0)
                return;
        if (timerfd_settime(d->visible_timer.fd, 0, &once, NULL) < 0) {
                log_warning_errno(errno, "%s: failed to arm the save timer: %m", dc->container->name);
                return;
        }
        d->visible_timer_armed = true;
}

static int setup_visible_timer(struct daemon *d) {
        d->visible_timer = (struct io_watch){ .fn = on_visible_timer };
        d->visible_timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (d->visible_timer.fd < 0)
                return negative_errno();
        return loop_watch(d->loop, &d->visible_timer, EPOLLIN);
}

static void dispatch_deltas(struct container *c, const struct delta *deltas, size_t n, void *userdata) {
        struct daemon_container *dc = daemon_container_of(c);
        struct daemon *d = userdata;

        if (!dc)
                return;
        if (dc->sys)
                sysfs_view_apply(dc->sys, deltas, n);
        if (dc->udev_db)
                udev_db_apply(dc->udev_db, deltas, n);
        if (dc->proc)
                procfs_container_apply(dc->proc, deltas, n);
        control_monitor_deltas(d->control, c, deltas, n);
        for (size_t i = 0; i < n; i++) {
                const struct visible_device *v = deltas[i].new ?: deltas[i].old;
                static const char *const kinds[] = { "visible", "changed", "hidden" };

                log_debug("%s: %s %s%s%s", c->name, kinds[deltas[i].kind], deltas[i].device->devpath,
                          v->node ? " as /dev/" : "", strempty(v->node));
                if (deltas[i].new)
                        STRV_FOREACH(s, deltas[i].new->conflicts)
                                log_notice("%s: %s: %s", c->name, deltas[i].device->devpath, *s);
                if (deltas[i].new)
                        STRV_FOREACH(s, deltas[i].new->warnings)
                                log_warning("%s: %s: %s", c->name, deltas[i].device->devpath, *s);
        }
        if (dc->relay)
                relay_apply(dc->relay, deltas, n);
        cgroup_deltas(dc, deltas, n, false);
        save_visible(d, dc, deltas, n);
}

/* Host devices no container sees still matter to the /sys views: one
 * appearing inside a visible device's directory must be covered, and the
 * directories above it scanned again by the next view that mounts one. */
static void observe_host_event(const struct uevent *ev, void *userdata) {
        struct daemon *d = userdata;
        struct container *c, *tmp;

        if (ev->action != UEVENT_ADD && ev->action != UEVENT_REMOVE && ev->action != UEVENT_MOVE)
                return;
        if (ev->action == UEVENT_MOVE && ev->devpath_old)
                sysfs_children_forget(d->sys_children, ev->devpath_old);
        sysfs_children_forget(d->sys_children, ev->devpath);
        HASH_ITER(hh, d->model->containers, c, tmp) {
                struct daemon_container *dc = daemon_container_of(c);

                if (!dc || !dc->sys)
                        continue;
                if (ev->action == UEVENT_MOVE && ev->devpath_old)
                        sysfs_view_host_event(dc->sys, ev->devpath_old, false);
                sysfs_view_host_event(dc->sys, ev->devpath, ev->action != UEVENT_REMOVE);
        }
}

static void observe_event(const struct uevent *ev, void *userdata) {
        struct daemon *d = userdata;

        control_monitor_event(d->control, ev);
}

static int make_dir(const char *path, mode_t mode) {
        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return negative_errno();
        /* An existing directory (a previous run) gets the mode we rely on. */
        return chmod(path, mode) < 0 ? negative_errno() : 0;
}

static int connection_name(const char *path, char *buf, size_t size) {
        struct stat st;

        if (stat(path, &st) < 0)
                return negative_errno();
        snprintf(buf, size, "%u:%u", major(st.st_dev), minor(st.st_dev));
        return 0;
}

/* Whether the topmost mount at path is of connection: the holder's
 * descriptor is still the one mounted where this daemon keeps it. */
static bool mounted_there(const struct mount_table *t, const char *path, const char *connection) {
        const struct mount_entry *e = mount_table_top(t, path);

        return e && streq(e->devnum, connection);
}

/* The holder's generation of handles as the views take it: one they cannot
 * hold (0) makes the adoption fail, and new connections are mounted. */
static uint32_t handle_generation(uint64_t generation) {
        return generation <= FS_HANDLE_GENERATION_MAX ? (uint32_t) generation : 0;
}

/* The previous devsieved's connections, from the holder: mounted where
 * they were, served by this process from now on (fs_mux_adopt()). 1 when
 * adopted; 0 when there is nothing to adopt (the descriptors go: the
 * holder closes its own when it is handed the new ones). */
static int adopt_views(struct daemon *d, const char *dev, const char *sys) {
        _cleanup_(mount_table_done) struct mount_table t = {};
        _cleanup_close_ int dev_fd = -EBADF, sys_fd = -EBADF;
        char dev_conn[32], sys_conn[32];
        uint64_t dev_slot, sys_slot, dev_gen, sys_gen;
        int r;

        if (!d->holder || holder_take(d->holder, "dev", &dev_fd, dev_conn, &dev_slot, &dev_gen) < 0 ||
            holder_take(d->holder, "sys", &sys_fd, sys_conn, &sys_slot, &sys_gen) < 0)
                return 0;
        /* mountinfo, not a stat: a stat of an adopted view waits for us. */
        r = mount_table_read(0, &t);
        if (r < 0)
                return log_warning_errno(r, "Failed to read the mount table: %m; not adopting the views' connections."), 0;
        if (!mounted_there(&t, dev, dev_conn) || !mounted_there(&t, sys, sys_conn)) {
                log_notice("The views' connections the holder kept (%s, %s) are no longer mounted in %s; new ones "
                           "are.", dev_conn, sys_conn, d->views_dir);
                return 0;
        }
        /* Both descriptors are taken, whatever the outcome. */
        r = devfs_mux_adopt(d->fuse, dev, TAKE_FD(dev_fd), dev_slot, handle_generation(dev_gen), &d->dev_mux);
        if (r >= 0)
                r = sysfs_view_mux_adopt(d->fuse, sys, TAKE_FD(sys_fd), sys_slot, handle_generation(sys_gen),
                                         &d->sys_mux);
        if (r < 0) {
                log_warning_errno(r, "Failed to adopt the views' connections: %m; mounting new ones.");
                d->dev_mux = fs_mux_free(d->dev_mux);
                d->sys_mux = fs_mux_free(d->sys_mux);
                return 0;
        }
        strcpy(d->dev_connection, dev_conn);
        strcpy(d->sys_connection, sys_conn);
        d->views_mounted = d->views_adopted = true;
        log_info("Adopted the views' connections %s and %s from the holder (file handles of generation %" PRIu32
                 " and %" PRIu32 ").",
                 dev_conn, sys_conn, fs_mux_generation(d->dev_mux), fs_mux_generation(d->sys_mux));
        return 1;
}

/* The next devsieved's: the holder keeps a copy of each descriptor. */
static void hand_to_holder(struct daemon *d) {
        int r;

        if (!d->holder)
                return;
        r = holder_keep(d->holder, "dev", fs_mux_fd(d->dev_mux), d->dev_connection, fs_mux_next_slot(d->dev_mux),
                        fs_mux_generation(d->dev_mux));
        if (r >= 0)
                r = holder_keep(d->holder, "sys", fs_mux_fd(d->sys_mux), d->sys_connection,
                                fs_mux_next_slot(d->sys_mux), fs_mux_generation(d->sys_mux));
        if (r < 0)
                log_warning_errno(r, "Failed to hand the views' connections to the holder: %m; a crash will cost "
                                     "the containers their views.");
}

/* The two connections every container's views are served from, and the
 * detached containers' mountpoints. Their directory is a private mount of
 * its own: nothing below it may reach the containers directory's peer in
 * the host. */
static int setup_views(struct daemon *d) {
        _cleanup_free_ char *dev = NULL, *sys = NULL;
        int r;

        if (asprintf(&d->views_dir, "%s/views", d->runtime_dir) < 0 || asprintf(&dev, "%s/dev", d->views_dir) < 0 ||
            asprintf(&sys, "%s/sys", d->views_dir) < 0 || asprintf(&d->detached_dir, "%s/containers", d->views_dir) < 0)
                return -ENOMEM;
        r = adopt_views(d, dev, sys);
        if (r != 0)
                return r;
        r = make_dir(d->views_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", d->views_dir);
        /* A previous run's connections, dead now: never stack on them. */
        r = umount_all_at(d->views_dir);
        if (r < 0)
                return log_error_errno(r, "Failed to unmount what a previous run left at %s: %m", d->views_dir);
        if (r > 0)
                log_info("Unmounted %d mount(s) a previous run left at %s.", r, d->views_dir);
        if (mount(d->views_dir, d->views_dir, NULL, MS_BIND, NULL) < 0)
                return log_error_errno(errno, "Failed to bind %s onto itself: %m", d->views_dir);
        d->views_mounted = true;
        if (mount(NULL, d->views_dir, NULL, MS_PRIVATE, NULL) < 0)
                return log_error_errno(errno, "Failed to make %s a private mount: %m", d->views_dir);
        r = make_dir(dev, 0700);
        if (r >= 0)
                r = make_dir(sys, 0700);
        if (r >= 0)
                r = make_dir(d->detached_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create the directories in %s: %m", d->views_dir);
        r = devfs_mux_new(d->fuse, dev, &d->dev_mux);
        if (r < 0)
                return log_error_errno(r, "Failed to mount the /dev views' connection at %s: %m", dev);
        r = sysfs_view_mux_new(d->fuse, sys, &d->sys_mux);
        if (r < 0)
                return log_error_errno(r, "Failed to mount the /sys views' connection at %s: %m", sys);
        r = connection_name(dev, d->dev_connection, sizeof(d->dev_connection));
        if (r >= 0)
                r = connection_name(sys, d->sys_connection, sizeof(d->sys_connection));
        if (r < 0)
                return log_error_errno(r, "Failed to stat the views' connections in %s: %m", d->views_dir);
        hand_to_holder(d);
        return 0;
}

static void free_views(struct daemon *d) {
        d->dev_mux = fs_mux_free(d->dev_mux);
        d->sys_mux = fs_mux_free(d->sys_mux);
        if (d->views_mounted && umount2(d->views_dir, MNT_DETACH) < 0)
                log_warning_errno(errno, "Failed to unmount %s: %m", d->views_dir);
        d->views_mounted = false;
}

static int setup_signals(struct daemon *d) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGUSR2);
        if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0)
                return -EINVAL;
        /* A client that hangs up must not kill the daemon. */
        signal(SIGPIPE, SIG_IGN);
        d->signals.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (d->signals.fd < 0)
                return negative_errno();
        d->signals.fn = on_signal;
        return loop_watch(d->loop, &d->signals, EPOLLIN);
}

static int setup_devices(struct daemon *d, const struct daemon_options *o) {
        unsigned count;
        uint64_t start;
        int r, sysfs_fd;

        sysfs_fd = open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sysfs_fd < 0)
                return log_error_errno(errno, "Failed to open /sys: %m");
        r = model_new(sysfs_fd, &d->model);
        if (r < 0)
                return r;
        r = model_subscribe_first(d->model, dispatch_dev_deltas, d);
        if (r < 0)
                return r;
        r = model_subscribe(d->model, dispatch_deltas, d);
        if (r < 0)
                return r;
        r = model_observe_events(d->model, observe_host_event, d);
        if (r < 0)
                return r;
        r = model_observe_events(d->model, observe_event, d);
        if (r < 0)
                return r;

        r = udev_source_new(o->kernel_events, &d->udev);
        if (r < 0)
                return log_error_errno(r, "Failed to listen to device events: %m");
        start = now_usec();
        r = udev_source_enumerate(d->udev, d->model, &count);
        if (r < 0)
                return log_error_errno(r, "Failed to enumerate devices: %m");
        log_info("Found %u devices in %.1f ms; following %s events.", count, (now_usec() - start) / 1000.0,
                 udev_source_name(d->udev));

        d->udev_watch = (struct io_watch){ .fd = udev_source_fd(d->udev), .fn = on_udev };
        return loop_watch(d->loop, &d->udev_watch, EPOLLIN);
}

/* One mount for every container's /proc files: a session per container
 * would cost a pthread key each (docs/procfs-view.md). */
/* The previous devsieved's /proc connection, from the holder, if it is
 * still the one mounted at path. 1 when adopted. */
static int adopt_procfs(struct daemon *d, const char *path) {
        _cleanup_(mount_table_done) struct mount_table t = {};
        _cleanup_close_ int fd = -EBADF;
        char conn[32];
        uint64_t next, gen;
        int r;

        if (!d->holder || holder_take(d->holder, "proc", &fd, conn, &next, &gen) < 0)
                return 0;
        r = mount_table_read(0, &t);
        if (r < 0 || !mounted_there(&t, path, conn))
                return 0;
        r = procfs_adopt(d->fuse, path, TAKE_FD(fd), next, handle_generation(gen), &d->procfs);
        if (r < 0)
                return log_warning_errno(r, "Failed to adopt the /proc view's connection: %m; mounting a new one."), 0;
        strcpy(d->proc_connection, conn);
        d->procfs_adopted = true;
        log_info("Adopted the /proc view's connection %s from the holder (file handles of generation %" PRIu32 ").",
                 conn, procfs_generation(d->procfs));
        return 1;
}

static int setup_procfs(struct daemon *d) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (asprintf(&path, "%s/proc-fs", d->runtime_dir) < 0)
                return -ENOMEM;
        r = adopt_procfs(d, path);
        if (r != 0)
                return r;
        /* A daemon that died left its mount behind, its connection gone
         * (a stat may still answer from the kernel's cache, a mkdir says
         * EROFS): nothing can be done below it until it is detached. */
        r = umount_all_at(path);
        if (r > 0)
                log_notice("Detached the /proc view a previous devsieved left at %s.", path);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Failed to unmount what a previous run left at %s: %m", path);
        r = make_dir(path, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", path);
        r = procfs_new(d->fuse, path, &d->procfs);
        if (r < 0)
                return log_error_errno(r, "Failed to mount the /proc view at %s: %m", path);
        r = connection_name(path, d->proc_connection, sizeof(d->proc_connection));
        if (r < 0)
                return log_error_errno(r, "Failed to stat the /proc view's connection at %s: %m", path);
        if (d->holder) {
                r = holder_keep(d->holder, "proc", procfs_fd(d->procfs), d->proc_connection,
                                procfs_next_number(d->procfs), procfs_generation(d->procfs));
                if (r < 0)
                        log_warning_errno(r, "Failed to hand the /proc view's connection to the holder: %m");
        }
        return 0;
}

/* Every adopted view is back: the containers' requests, put off until
 * now, are answered. */
static void finish_adoption(struct daemon *d) {
        int r = 0;

        if (d->procfs_adopted)
                RET_GATHER(r, procfs_adopted(d->procfs));
        if (d->holder)
                (void) holder_set_slot(d->holder, "proc", procfs_next_number(d->procfs));
        if (!d->views_adopted) {
                if (r < 0)
                        log_warning_errno(r, "Failed to have the kernel send the requests of the previous "
                                             "devsieved again (FUSE_NOTIFY_RESEND needs Linux 6.9): %m.");
                return;
        }
        RET_GATHER(r, fs_mux_adopted(d->dev_mux));
        RET_GATHER(r, fs_mux_adopted(d->sys_mux));
        if (r < 0)
                log_warning_errno(r, "Failed to have the kernel send the requests of the previous devsieved "
                                     "again (FUSE_NOTIFY_RESEND needs Linux 6.9): %m; they wait until interrupted.");
        if (d->holder) {
                (void) holder_set_slot(d->holder, "dev", fs_mux_next_slot(d->dev_mux));
                (void) holder_set_slot(d->holder, "sys", fs_mux_next_slot(d->sys_mux));
        }
}

/* Before any thread exists (the FUSE workers): a process with threads
 * cannot change its mount namespace. join: a namespace to join (the
 * holder's), NULL to make one. */
static int setup_mount_ns(struct daemon *d, const char *join) {
        int r = mount_ns_enter_or_create(join, d->containers_dir, &d->host_mnt_ns_fd, &d->containers_bound);

        if (r < 0 && join)
                return log_error_errno(r, "Failed to join the mount namespace %s: %m", join);
        if (r < 0)
                return log_error_errno(r, "Failed to make devsieved's mount namespace (with %s shared with the "
                                          "host): %m",
                                       d->containers_dir);
        return 0;
}

/* The host's namespace, as the previous devsieved had it: after an
 * upgrade this process started in devsieved's namespace, not the host's.
 * The connection field says whether the host's bind of the containers
 * directory is devsieved's to release at a stop. */
#define HOST_NS_HELD "host-ns"

static void take_host_ns(struct daemon *d) {
        _cleanup_close_ int fd = -EBADF;
        char bound[32];
        uint64_t unused;

        if (holder_take(d->holder, HOST_NS_HELD, &fd, bound, &unused, NULL) < 0)
                return;
        safe_close(d->host_mnt_ns_fd);
        d->host_mnt_ns_fd = TAKE_FD(fd);
        d->containers_bound = streq(bound, "bound");
}

static void keep_host_ns(struct daemon *d) {
        int r;

        if (!d->holder || d->host_mnt_ns_fd < 0)
                return;
        r = holder_keep(d->holder, HOST_NS_HELD, d->host_mnt_ns_fd, d->containers_bound ? "bound" : "-", 0, 0);
        if (r < 0)
                log_warning_errno(r, "Failed to hand the host's mount namespace to the holder: %m");
}

/* The holder lives in devsieved's mount namespace, so that its views
 * outlive this process: a holder that answers (a restart, an upgrade)
 * names the namespace to join; otherwise the namespace is made first and
 * the holder forked into it. An explicit o->mount_ns wins. */
static int setup_mount_ns_and_holder(struct daemon *d, const struct daemon_options *o) {
        _cleanup_free_ char *join = NULL;
        int r;

        r = holder_connect(d->runtime_dir, &d->holder);
        if (r < 0 && r != -ENOENT && r != -ECONNREFUSED)
                log_warning_errno(r, "Failed to reach the holder at %s/" HOLDER_SOCKET ": %m; starting a new one.",
                                  d->runtime_dir);
        if (o->mount_ns)
                join = strdup(o->mount_ns);
        else if (d->holder && asprintf(&join, "/proc/%d/ns/mnt", (int) holder_pid(d->holder)) < 0)
                join = NULL;
        if ((o->mount_ns || d->holder) && !join)
                return -ENOMEM;
        r = setup_mount_ns(d, join);
        if (r < 0)
                return r;
        if (d->holder)
                take_host_ns(d);
        else {
                r = holder_open(d->runtime_dir, &d->holder);
                if (r < 0)
                        log_warning_errno(r, "Failed to reach or start the holder at %s/" HOLDER_SOCKET ": %m; a "
                                             "crash will cost the containers their views.",
                                          d->runtime_dir);
        }
        keep_host_ns(d);
        return 0;
}

/* The host's bind of the containers directory, if this daemon made it,
 * goes with it (its views are gone already). One that joined a namespace
 * made none. */
static void release_mount_ns(struct daemon *d) {
        int r;

        if (d->host_mnt_ns_fd < 0 || !d->containers_bound)
                return;
        r = mount_ns_release(d->host_mnt_ns_fd, d->containers_dir);
        if (r < 0)
                log_warning_errno(r, "Failed to unmount %s in the host: %m", d->containers_dir);
}

int daemon_new(const struct daemon_options *o, struct daemon **ret) {
        _cleanup_(daemon_freep) struct daemon *d = NULL;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->signals.fd = d->visible_timer.fd = -EBADF;
        d->udev_watch.fd = d->fuse_exited.fd = d->holder_exit.fd = d->host_mnt_ns_fd = -EBADF;
        d->started_usec = now_usec();
        /* Now: once an upgrade has replaced the file, /proc/self/exe names
         * the old, deleted one. */
        d->exe_path = realpath("/proc/self/exe", NULL);
        d->runtime_dir = strdup(o->runtime_dir);
        d->policy_dir = strdup(o->policy_dir);
        d->device_cgroup = o->device_cgroup;
        if (!d->runtime_dir || !d->policy_dir || asprintf(&d->containers_dir, "%s/containers", o->runtime_dir) < 0)
                return -ENOMEM;

        /* Views are reachable below containers/: host users must not get at
         * devices through them (the ids there are the containers'). */
        r = make_dir(d->runtime_dir, 0755);
        if (r >= 0)
                r = make_dir(d->containers_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", d->containers_dir);
        /* A running daemon's containers mount is not ours to touch. */
        r = control_check_unused(d->runtime_dir);
        if (r < 0)
                return r;
        /* Before any thread: it may fork the holder, in the namespace. */
        r = setup_mount_ns_and_holder(d, o);
        if (r < 0)
                return r;

        r = loop_new(&d->loop);
        if (r < 0)
                return r;
        r = setup_signals(d);
        if (r < 0)
                return log_error_errno(r, "Failed to set up signal handling: %m");
        r = setup_visible_timer(d);
        if (r < 0)
                return log_error_errno(r, "Failed to set up a timer: %m");
        r = watch_holder(d);
        if (r < 0)
                return r;

        r = fuse_pool_new(o->fuse_workers, &d->fuse);
        if (r < 0)
                return log_error_errno(r, "Failed to start the FUSE workers: %m");
        d->fuse_exited = (struct io_watch){ .fd = fuse_pool_exited_fd(d->fuse), .fn = on_fuse_exited };
        r = loop_watch(d->loop, &d->fuse_exited, EPOLLIN);
        if (r < 0)
                return r;
        r = sysfs_children_new(SYSFS_CHILDREN_MAX_AGE_USEC, &d->sys_children);
        if (r < 0)
                return r;
        r = setup_views(d);
        if (r < 0)
                return r;

        r = setup_procfs(d);
        if (r < 0)
                return r;
        r = setup_devices(d, o);
        if (r < 0)
                return r;
        /* Before the control socket: a client must find every container
         * the previous run served. */
        daemon_restore(d);
        finish_adoption(d);

        r = control_new(d, &(struct control_options){ .socket_gid = o->socket_gid, .idle_timeout_sec = o->client_timeout_sec },
                        &d->control);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(d);
        return 0;
}

bool daemon_hand_over(struct daemon *d) {
        if (!d->holder)
                return false;
        /* The client that asked sees its connection close: whatever
         * answers next is the new image. */
        d->control = control_free(d->control);
        return true;
}

int daemon_run(struct daemon *d) {
        while (!d->exiting) {
                int r = loop_run_once(d->loop, -1);

                if (r < 0 && r != -EINTR)
                        return log_error_errno(r, "epoll_wait failed: %m");
        }
        return 0;
}

struct daemon *daemon_free(struct daemon *d) {
        struct container *c, *tmp;

        if (!d)
                return NULL;
        /* Clients first: nobody may ask about containers going away. */
        d->control = control_free(d->control);
        /* The next devsieved covers the containers' copies of the views. */
        if (d->dev_mux)
                fs_mux_quiet(d->dev_mux);
        if (d->sys_mux)
                fs_mux_quiet(d->sys_mux);
        if (d->model) {
                /* What the timer has not written yet, for the next one. */
                if (d->visible_timer_armed)
                        on_visible_timer(&d->visible_timer, EPOLLIN);
                HASH_ITER(hh, d->model->containers, c, tmp)
                        daemon_stop_container(d, daemon_container_of(c));
        }
        free_views(d);
        d->sys_children = sysfs_children_free(d->sys_children);
        procfs_free(d->procfs);
        fuse_pool_free(d->fuse);
        /* A stop ends the connections with the holder; a failed re-exec
         * or start (a new binary that cannot run here, say) leaves them
         * to the next devsieved. */
        if (d->holder && d->exiting && !d->reexec) {
                int r = holder_quit(d->holder);
                if (r < 0)
                        log_warning_errno(r, "Failed to stop the holder: %m");
        }
        /* The namespace and the host's bind of the containers directory
         * stay as long as the holder does. */
        if (!d->holder || (d->exiting && !d->reexec))
                release_mount_ns(d);
        d->holder = holder_free(d->holder);
        safe_close(d->holder_exit.fd);
        safe_close(d->host_mnt_ns_fd);
        udev_source_free(d->udev);
        model_free(d->model);
        safe_close(d->signals.fd);
        safe_close(d->visible_timer.fd);
        loop_free(d->loop);
        free(d->containers_dir);
        free(d->views_dir);
        free(d->detached_dir);
        free(d->runtime_dir);
        free(d->policy_dir);
        free(d->exe_path);
        free(d);
        return NULL;
}
