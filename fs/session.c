/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "session.h"

int fs_session_start(const struct fuse_lowlevel_ops *ops, size_t ops_size, void *userdata, const char *mountpoint,
                     const char *fsname, const char *options, struct fuse_pool *pool, struct fs_session **ret) {
        _cleanup_(fs_session_stopp) struct fs_session *s = NULL;
        _cleanup_free_ char *opts = NULL;
        char *argv[] = { (char *) "devsieved", (char *) "-o", NULL, NULL };
        struct fuse_args args;
        int r;

        /* fsname may not contain a comma: it would end the option. */
        if (strchr(fsname, ',') || asprintf(&opts, "fsname=%s,subtype=devsieve,%s", fsname, options) < 0)
                return strchr(fsname, ',') ? -EINVAL : -ENOMEM;
        argv[2] = opts;
        args = (struct fuse_args) FUSE_ARGS_INIT(3, argv);

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->pool = pool;
        s->mountpoint = strdup(mountpoint);
        if (!s->mountpoint)
                return -ENOMEM;

        s->se = fuse_session_new(&args, ops, ops_size, userdata);
        /* Option parsing may have replaced args with an allocated copy. */
        fuse_opt_free_args(&args);
        if (!s->se)
                return -EINVAL; /* libfuse printed why: a bad option */
        if (fuse_session_mount(s->se, mountpoint) != 0) {
                fuse_session_destroy(s->se);
                s->se = NULL;
                return -EIO;
        }
        r = fuse_pool_add(pool, s->se, &s->pool_id);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

struct fs_session *fs_session_stop(struct fs_session *s) {
        if (!s)
                return NULL;
        if (s->pool_id)
                fuse_pool_remove(s->pool, s->pool_id);
        if (s->se) {
                /* Lazy: the container may still have it bound at its /dev. */
                fuse_session_unmount(s->se);
                /* Closing the last /dev/fuse fd aborts the connection. */
                fuse_session_destroy(s->se);
        }
        free(s->mountpoint);
        free(s);
        return NULL;
}
