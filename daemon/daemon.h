/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <sys/epoll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "model.h"
#include "policy/policy.h"

/* devsieved's one context, and the main loop that owns everything in it.
 *
 * One thread (this loop) owns the model and every container's state: host
 * events, control requests, pid watches and relay sockets are all handled
 * here. The FUSE worker threads (fs/fuse-pool.h) only answer requests from
 * the views' own copies of what they show; anything they need done here
 * (a container writing "add" to a uevent file) comes back through
 * daemon_defer(). */

struct daemon;
struct devfs;
struct sysfs_view;
struct procfs;
struct procfs_container;
struct relay;
struct udev_source;
struct fuse_pool;
struct control;

/* An fd the main loop watches; embedded in whatever owns the fd. */
struct io_watch {
        int fd;
        void (*fn)(struct daemon *d, struct io_watch *w, uint32_t events);
};

enum relay_mode {
        RELAY_AUTO,    /* netlink for a container with its own netns, else socket */
        RELAY_NETLINK,
        RELAY_SOCKET,
        RELAY_NONE,
};

/* The daemon's side of one container: the model's record, the views
 * mounted for it, its relay and the process it was attached to. */
struct daemon_container {
        struct container *container; /* the model's; container->userdata points back */
        struct daemon *daemon;
        char *dir;                   /* RUNTIME/containers/NAME */
        struct devfs *dev;
        struct sysfs_view *sys;
        struct procfs_container *proc; /* its directory in the daemon's /proc view */
        struct relay *relay;
        enum relay_mode relay_mode;
        pid_t pid;                   /* 0 until attached, and after the process exited */
        bool exited;                 /* the attached process exited */
        struct io_watch pid_watch;   /* a pidfd: readable when pid exits */
};

struct daemon_options {
        const char *runtime_dir;
        const char *policy_dir;
        unsigned fuse_workers; /* 0: default */
        bool kernel_events;    /* always follow the kernel's uevents, even with a udevd */
        gid_t socket_gid;      /* the control socket's group (0660); (gid_t) -1: root only (0600) */
};

struct daemon {
        char *runtime_dir;
        char *containers_dir; /* RUNTIME/containers, 0700 */
        char *policy_dir;
        int epoll_fd;
        struct io_watch signals;
        struct io_watch udev_watch;
        struct io_watch fuse_exited;
        struct io_watch deferred_watch; /* eventfd: work handed over by other threads */
        struct deferred_call *deferred; /* guarded by deferred_lock */
        pthread_mutex_t deferred_lock;
        struct udev_source *udev;
        struct model *model;
        struct fuse_pool *fuse;
        struct procfs *procfs; /* mounted at RUNTIME/proc-fs: every container's /proc files */
        struct control *control;
        uint64_t started_usec;
        bool exiting;
        /* The batch daemon_run() is dispatching: daemon_unwatch() cancels
         * what is still pending for a watch, whose owner may be freed next
         * (a relay torn down while its listener's hang-up waits). */
        struct epoll_event *batch;
        int n_batch;
};

int daemon_new(const struct daemon_options *o, struct daemon **ret);
struct daemon *daemon_free(struct daemon *d);
DEFINE_POINTER_CLEANUP(struct daemon, daemon_free);

/* Runs until SIGTERM/SIGINT. */
int daemon_run(struct daemon *d);

int daemon_watch(struct daemon *d, struct io_watch *w, uint32_t events);
void daemon_unwatch(struct daemon *d, struct io_watch *w);

/* From any thread: run fn(d, data) on the main loop soon. Takes ownership
 * of data only if fn frees it. */
int daemon_defer(struct daemon *d, void (*fn)(struct daemon *d, void *data), void *data);

/* --- Containers (registry.c) ----------------------------------------- */

/* Loads a policy as create/reload name it: a path (with a '/'), a built-in
 * name ("oci-default"), or NAME / NAME.rules in the policy directory.
 * Diagnostics go to diags; root resolves OWNER/GROUP names. */
int daemon_load_policy(struct daemon *d, const char *source, const char *root, bool unknown_names_are_errors,
                       struct policy **ret, struct policy_diagnostics *diags);

int daemon_create_container(struct daemon *d, const char *name, const char *policy_source, pid_t pid,
                            enum relay_mode relay, struct policy_diagnostics *diags, struct daemon_container **ret);
/* Takes the container's pid: its id maps (ownership), netns (relay) and
 * lifetime (when it exits the relay stops). */
int daemon_attach_container(struct daemon *d, struct daemon_container *dc, pid_t pid,
                            struct policy_diagnostics *diags);
int daemon_destroy_container(struct daemon *d, struct daemon_container *dc);
/* Reloads dc's policy from where it came from; on any error the old one
 * stays in force. */
int daemon_reload_container(struct daemon *d, struct daemon_container *dc, struct policy_diagnostics *diags);
struct daemon_container *daemon_find_container(struct daemon *d, const char *name);

static inline struct daemon_container *daemon_container_of(const struct container *c) {
        return c->userdata;
}
