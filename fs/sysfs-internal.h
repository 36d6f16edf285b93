/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the /sys view's main-loop side (sysfs.c) and its FUSE handlers
 * (sysfs-ops.c) share. */

#include <pthread.h>

#include "node.h"
#include "notify.h"
#include "path-counts.h"
#include "mux.h"
#include "sysfs.h"
#include "sysfs-children.h"

enum sysfs_node_kind {
        SYSFS_NODE_DIR,      /* on the path to something shown; goes when empty */
        SYSFS_NODE_SKELETON, /* always there */
        SYSFS_NODE_LINK,     /* class/, bus/, block/, dev/ listings */
        SYSFS_NODE_UEVENT,   /* a device's synthetic uevent file */
        SYSFS_NODE_ATTR,     /* a writable attribute, proxied to the host */
        SYSFS_NODE_ANCHOR,   /* where a pass-through mount sits */
};

/* fs_node.data of UEVENT and ATTR nodes. */
struct sysfs_file {
        uint64_t device_id;
        char *real_path; /* below /sys, no leading '/' */
};

/* A visible device as the view holds it: its own copy, so the workers
 * never touch the model. */
struct shown_device {
        uint64_t id;
        char *devpath;   /* where it is shown ("/devices/..."): the host's at the time */
        char *subsystem;
        char *node;      /* its name in the container's /dev, or NULL */
        char **writable; /* attribute names */
        char **links;    /* view paths of its listing links */
        char **wanted_links; /* "PATH\nTARGET" until its directory is mounted */
        unsigned depth;  /* '/' in devpath: parents are mounted before children */
        UT_hash_handle hh;      /* by id */
        UT_hash_handle hh_path; /* by devpath */
};

enum view_mount_kind {
        VIEW_MOUNT_DEVICE,
        VIEW_MOUNT_COVER,
        VIEW_MOUNT_PASS,
};

/* Main loop only: what the view has mounted, by view path. */
struct view_mount {
        char *path; /* below the view's root, no leading '/' */
        enum view_mount_kind kind;
        UT_hash_handle hh;
};

struct sysfs_view {
        pthread_mutex_t lock; /* guards tree, shown, stats and root ids */
        struct fs_tree tree;
        struct fs_view_tree nodes; /* what the handlers every view shares see (node.h); the mux's data */
        struct shown_device *shown, *shown_by_path;
        uid_t root_uid;
        gid_t root_gid;
        sysfs_event_fn on_event;
        void *userdata;
        struct sysfs_view_stats stats;

        /* Main loop only. */
        struct fs_mux *mux;
        uint64_t slot; /* 0 until it is in the mux */
        struct fs_notify_queue notify;
        struct view_mount *mounts;
        /* What lies below a directory, asked at every mount and unmount
         * (the tables hold a few hundred entries, nearly never below the
         * device at hand): view paths of the mounts, of the shown devices. */
        struct path_counts mounts_below, shown_below;
        char *mountpoint;
        char *name;
        int sysfs_fd;     /* the host's /sys */
        int fuse_root_fd; /* a clone of the bare FUSE mount: reaches nodes under what covers them */
        int empty_fd;     /* the empty directory cloned over hidden children */
        struct sysfs_children *children; /* every view's, the caller's */
        /* The tree's nlookup counts are all the kernel holds: false for a
         * view on a slot of an adopted connection. */
        bool references_known;
};

extern const struct fs_mux_class sysfs_view_class;

struct shown_device *sysfs_view_find_shown(struct sysfs_view *v, uint64_t id);
/* fs_view_tree.set_attributes of the view. */
int sysfs_view_set_attributes(struct fs_node *n, const struct stat *attr, int to_set);
/* fs_view_tree.live of the view: the writable attributes. */
bool sysfs_view_live(const struct fs_node *n);
