/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "control.h"
#include "daemon.h"
#include "fs/devfs.h"
#include "fs/fuse-pool.h"
#include "fs/procfs.h"
#include "fs/sysfs.h"
#include "log.h"
#include "mount-ns.h"
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
                default:
                        log_info("Signal %s: shutting down.", strsignal((int) si.ssi_signo));
                        d->exiting = true;
                }
}

static void destroy_exited_view(uint64_t id, void *userdata) {
        /* A connection ends when it is unmounted at shutdown, or from
         * outside (umount, an abort through fusectl): then every view it
         * served answers ENOTCONN until the containers are created again;
         * nothing here remounts it yet. */
        log_debug("FUSE session %" PRIu64 " ended.", id);
}

static void on_fuse_exited(struct io_watch *w, uint32_t events) {
        struct daemon *d = container_of(w, struct daemon, fuse_exited);

        (void) fuse_pool_drain_exited(d->fuse, destroy_exited_view, d);
}

/* The device cgroup's half of a batch, on each side of the views. */
static void cgroup_deltas(struct daemon_container *dc, const struct delta *deltas, size_t n, bool widen) {
        struct device_cgroup_stats stats;
        int r;

        if (!dc->cgroup)
                return;
        /* A hot-plug is when a rewritten cgroup starts to hurt: say so. */
        if (widen)
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
}

/* Host devices no container sees still matter to the /sys views: one
 * appearing inside a visible device's directory must be covered. */
static void observe_host_event(const struct uevent *ev, void *userdata) {
        struct daemon *d = userdata;
        struct container *c, *tmp;

        if (ev->action != UEVENT_ADD && ev->action != UEVENT_REMOVE && ev->action != UEVENT_MOVE)
                return;
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
        r = make_dir(d->views_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", d->views_dir);
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
static int setup_procfs(struct daemon *d) {
        _cleanup_free_ char *path = NULL;
        struct stat st;
        int r;

        if (asprintf(&path, "%s/proc-fs", d->runtime_dir) < 0)
                return -ENOMEM;
        /* A daemon that died left its mount behind, its connection gone:
         * nothing can be done below it until it is detached. */
        if (stat(path, &st) < 0 && errno == ENOTCONN) {
                log_notice("Detaching the /proc view a previous devsieved left at %s.", path);
                (void) umount2(path, MNT_DETACH);
        }
        r = make_dir(path, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", path);
        r = procfs_new(d->fuse, path, &d->procfs);
        if (r < 0)
                return log_error_errno(r, "Failed to mount the /proc view at %s: %m", path);
        return 0;
}

/* Before any thread exists (the FUSE workers): a process with threads
 * cannot change its mount namespace. */
static int setup_mount_ns(struct daemon *d, const struct daemon_options *o) {
        int r = mount_ns_enter_or_create(o->mount_ns, d->containers_dir, &d->host_mnt_ns_fd,
                                         &d->containers_bound);

        if (r < 0 && o->mount_ns)
                return log_error_errno(r, "Failed to join the mount namespace %s: %m", o->mount_ns);
        if (r < 0)
                return log_error_errno(r, "Failed to make devsieved's mount namespace (with %s shared with the "
                                          "host): %m",
                                       d->containers_dir);
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
        d->signals.fd = -EBADF;
        d->udev_watch.fd = d->fuse_exited.fd = d->host_mnt_ns_fd = -EBADF;
        d->started_usec = now_usec();
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
        r = setup_mount_ns(d, o);
        if (r < 0)
                return r;

        r = loop_new(&d->loop);
        if (r < 0)
                return r;
        r = setup_signals(d);
        if (r < 0)
                return log_error_errno(r, "Failed to set up signal handling: %m");

        r = fuse_pool_new(o->fuse_workers, &d->fuse);
        if (r < 0)
                return log_error_errno(r, "Failed to start the FUSE workers: %m");
        d->fuse_exited = (struct io_watch){ .fd = fuse_pool_exited_fd(d->fuse), .fn = on_fuse_exited };
        r = loop_watch(d->loop, &d->fuse_exited, EPOLLIN);
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

        r = control_new(d, &(struct control_options){ .socket_gid = o->socket_gid, .idle_timeout_sec = o->client_timeout_sec },
                        &d->control);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(d);
        return 0;
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
        if (d->model)
                HASH_ITER(hh, d->model->containers, c, tmp)
                        daemon_destroy_container(d, daemon_container_of(c));
        free_views(d);
        procfs_free(d->procfs);
        fuse_pool_free(d->fuse);
        release_mount_ns(d);
        safe_close(d->host_mnt_ns_fd);
        udev_source_free(d->udev);
        model_free(d->model);
        safe_close(d->signals.fd);
        loop_free(d->loop);
        free(d->containers_dir);
        free(d->views_dir);
        free(d->detached_dir);
        free(d->runtime_dir);
        free(d->policy_dir);
        free(d);
        return NULL;
}
