/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <sys/epoll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "device-cgroup.h"
#include "loop.h"
#include "model.h"
#include "relay.h"
#include "policy/policy.h"

/* devsieved's one context, and the main loop that owns everything in it.
 *
 * One thread (this loop) owns the model and every container's state: host
 * events, control requests, pid watches and relay sockets are all handled
 * here. The FUSE worker threads (fs/fuse-pool.h) only answer requests from
 * the views' own copies of what they show; anything they need done here
 * (a container writing "add" to a uevent file) comes back through
 * loop_defer(). */

struct daemon;
struct devfs;
struct sysfs_view;
struct procfs;
struct procfs_container;
struct relay;
struct udev_db;
struct udev_source;
struct fuse_pool;
struct fs_mux;
struct sysfs_children;
struct control;
struct holder;
struct mount_table;

/* Whether a container's views answer where it has them. */
enum views_health {
        VIEWS_LIVE,     /* served by this daemon since they were mounted */
        VIEWS_ADOPTED,  /* served by this daemon on connections a previous one mounted */
        VIEWS_REPAIRED, /* dead copies in the container were covered with live ones */
        VIEWS_DEAD,     /* dead in the container, not repaired: views_error says why */
};

/* The daemon's side of one container: the model's record, the views
 * mounted for it, its relay and the process it was attached to. */
struct daemon_container {
        struct container *container; /* the model's; container->userdata points back */
        struct daemon *daemon;
        char *dir;                   /* RUNTIME/containers/NAME */
        /* Where its views are mounted: dir, or for a detached container
         * (handed to runtimes as mount trees, never mounted in the host)
         * RUNTIME/views/containers/NAME in the daemon's namespace. */
        char *views_dir;
        bool detached;
        struct devfs *dev;
        struct sysfs_view *sys;
        struct udev_db *udev_db;     /* views_dir/udev, for the container's /run/udev */
        struct procfs_container *proc; /* its directory in the daemon's /proc view */
        struct relay *relay;
        enum relay_mode relay_mode;
        pid_t pid;                   /* 0 until attached, and after the process exited */
        bool exited;                 /* the attached process exited */
        struct io_watch pid_watch;   /* a pidfd: readable when pid exits */
        enum views_health views;
        char *views_error;           /* VIEWS_DEAD: which mount, which step */
        bool device_cgroup;          /* false: the runtime manages the device cgroup itself */
        struct device_cgroup *cgroup; /* set up at attach; NULL before and after the process */
        bool visible_dirty;          /* its visible.json is behind (state.h): written by the save timer */
};

struct daemon_options {
        const char *runtime_dir;
        const char *policy_dir;
        unsigned fuse_workers; /* 0: default */
        bool kernel_events;    /* always follow the kernel's uevents, even with a udevd */
        gid_t socket_gid;      /* the control socket's group (0660); (gid_t) -1: root only (0600) */
        unsigned client_timeout_sec; /* idle control clients are disconnected; 0: the default */
        enum device_cgroup_mode device_cgroup; /* how containers' device cgroups follow their views */
        /* /proc/PID/ns/mnt of a process in a namespace a devsieved made
         * (daemon/mount-ns.h), to join it; NULL: make a new one. */
        const char *mount_ns;
};

struct daemon {
        char *runtime_dir;
        char *containers_dir; /* RUNTIME/containers, 0700; what is mounted below it reaches the host */
        char *policy_dir;
        /* The daemon runs in a mount namespace of its own (mount-ns.h);
         * this is the host's, the one it was started in. */
        int host_mnt_ns_fd;
        bool containers_bound; /* containers_dir was bound onto itself in the host at start */
        struct loop *loop;
        enum device_cgroup_mode device_cgroup;
        struct io_watch signals;
        struct io_watch udev_watch;
        struct io_watch fuse_exited;
        struct udev_source *udev;
        struct model *model;
        struct fuse_pool *fuse;
        /* One FUSE connection per kind of view, serving every container
         * (fs/mux.h), mounted in views_dir, a private mount. Detached
         * containers' views are mounted in detached_dir (views_dir/containers):
         * only the daemon's namespace has them. */
        char *views_dir;      /* RUNTIME/views, 0700 */
        char *detached_dir;
        bool views_mounted;
        struct fs_mux *dev_mux;
        struct fs_mux *sys_mux;
        struct sysfs_children *sys_children; /* every /sys view's scans of device directories */
        /* "MAJ:MIN" of each connection, as mountinfo names it: the saved
         * state says which mounts were this run's views (restore.h). */
        char dev_connection[32], sys_connection[32], proc_connection[32];
        struct procfs *procfs; /* mounted at RUNTIME/proc-fs: every container's /proc files */
        /* Keeps the connections' descriptors for the next devsieved
         * (holder.h); NULL when none could be started. */
        struct holder *holder;
        struct io_watch holder_exit; /* the holder's pidfd: readable once it ended */
        /* The connections are a previous devsieved's, taken from the
         * holder: restore adopts each container's views where they are. */
        bool views_adopted;
        bool procfs_adopted; /* the same for the /proc view's connection */
        /* Containers' visible.json are written at most once per
         * VISIBLE_SAVE_DELAY_SEC: a hot-plug storm times a hundred
         * containers must not become as many file writes. */
        struct io_watch visible_timer;
        bool visible_timer_armed;
        /* During restore of adopted views: the mounts as they were at
         * start (a stat of an adopted view would wait for this daemon). */
        const struct mount_table *restore_mounts;
        struct control *control;
        uint64_t started_usec;
        bool exiting;
        /* `devsieve upgrade` or SIGUSR2: once everything is released (the
         * containers' state stays), main() executes exe_path again. */
        bool reexec;
        char *exe_path; /* the binary's path as it was at start: an upgrade replaced it */
};

int daemon_new(const struct daemon_options *o, struct daemon **ret);
struct daemon *daemon_free(struct daemon *d);
DEFINE_POINTER_CLEANUP(struct daemon, daemon_free);

/* Before an upgrade's execve(): with a holder, only the control socket
 * is closed; everything else stays as it is (the descriptors close with
 * the exec, the holder keeps the connections) and the new image adopts it
 * as after a crash: the containers see a pause. false without a holder:
 * then daemon_free() releases everything and the new image repairs. */
bool daemon_hand_over(struct daemon *d);

/* Runs until SIGTERM/SIGINT. */
int daemon_run(struct daemon *d);
