/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/fuse.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/uio.h>

#include "session.h"

/* FUSE_NOTIFY_RESEND (protocol 7.40, Linux 6.9): the kernel queues again
 * every request a reader of the connection took and did not answer. Newer
 * than the headers libfuse 3.14 ships with. */
#define NOTIFY_RESEND 7
/* The unique of the FUSE_INIT replayed to libfuse: even (no interrupt),
 * bit 63 clear (no resent request) and far above any the kernel hands
 * out, so the reply libfuse writes finds no request and the kernel drops
 * it with ENOENT, which libfuse passes over in silence. */
#define REPLAY_UNIQUE (UINT64_C(1) << 62)

/* A session not yet mounted; args are used up. */
static int session_new(struct fuse_args *args, const struct fuse_lowlevel_ops *ops, size_t ops_size, void *userdata,
                       const char *mountpoint, struct fuse_pool *pool, struct fs_session **ret) {
        _cleanup_(fs_session_stopp) struct fs_session *s = NULL;
        struct fuse_session *se;

        se = fuse_session_new(args, ops, ops_size, userdata);
        /* Option parsing may have replaced args with an allocated copy. */
        fuse_opt_free_args(args);
        if (!se)
                return -EINVAL; /* libfuse printed why: a bad option (or no memory) */
        s = calloc(1, sizeof(*s));
        if (!s) {
                fuse_session_destroy(se);
                return -ENOMEM;
        }
        s->se = se;
        s->pool = pool;
        s->mountpoint = strdup(mountpoint);
        if (!s->mountpoint)
                return -ENOMEM;
        *ret = TAKE_PTR(s);
        return 0;
}

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

        r = session_new(&args, ops, ops_size, userdata, mountpoint, pool, &s);
        if (r < 0)
                return r;
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

/* The kernel sends FUSE_INIT once per connection; the process that took it
 * is gone. libfuse answers nothing before it has seen one, so it is given
 * the one the kernel would send (the same kernel offers the same flags,
 * and libfuse makes the same choices from them). */
static void replay_init(struct fuse_session *se) {
        struct {
                struct fuse_in_header h;
                struct fuse_init_in init;
        } msg = {
                .h = { .len = sizeof(msg), .opcode = FUSE_INIT, .unique = REPLAY_UNIQUE },
                .init = {
                        .major = FUSE_KERNEL_VERSION,
                        .minor = FUSE_KERNEL_MINOR_VERSION,
                        .max_readahead = 128 * 1024,
                        .flags = FUSE_ASYNC_READ | FUSE_POSIX_LOCKS | FUSE_ATOMIC_O_TRUNC | FUSE_EXPORT_SUPPORT |
                                 FUSE_BIG_WRITES | FUSE_DONT_MASK | FUSE_SPLICE_WRITE | FUSE_SPLICE_MOVE |
                                 FUSE_SPLICE_READ | FUSE_FLOCK_LOCKS | FUSE_HAS_IOCTL_DIR | FUSE_AUTO_INVAL_DATA |
                                 FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO | FUSE_ASYNC_DIO | FUSE_NO_OPEN_SUPPORT |
                                 FUSE_PARALLEL_DIROPS | FUSE_HANDLE_KILLPRIV | FUSE_ABORT_ERROR | FUSE_MAX_PAGES |
                                 FUSE_CACHE_SYMLINKS | FUSE_NO_OPENDIR_SUPPORT | FUSE_EXPLICIT_INVAL_DATA |
                                 FUSE_INIT_EXT,
                },
        };
        struct fuse_buf buf = { .size = sizeof(msg), .mem = &msg };

        fuse_session_process_buf(se, &buf);
}

int fs_session_resend(struct fs_session *s) {
        struct fuse_out_header h = { .len = sizeof(h), .error = NOTIFY_RESEND };

        return write(fuse_session_fd(s->se), &h, sizeof(h)) < 0 ? negative_errno() : 0;
}

static int fs_session_serve(struct fs_session *s) {
        int r;

        if (s->pool_id)
                return 0;
        r = fuse_pool_add(s->pool, s->se, &s->pool_id);
        if (r < 0)
                return r;
        /* Once workers read: what the previous daemon had taken comes again. */
        return fs_session_resend(s);
}

int fs_session_adopt(const struct fuse_lowlevel_ops *ops, size_t ops_size, void *userdata, int fd,
                     const char *mountpoint, struct fuse_pool *pool, struct fs_session **ret) {
        _cleanup_(fs_session_stopp) struct fs_session *s = NULL;
        _cleanup_close_ int owned = fd;
        char *argv[] = { (char *) "devsieved", NULL };
        struct fuse_args args = FUSE_ARGS_INIT(1, argv);
        char fd_path[32];
        int r;

        r = session_new(&args, ops, ops_size, userdata, mountpoint, pool, &s);
        if (r < 0)
                return r;
        s->adopted = true;
        /* An fd already mounted: libfuse takes it and mounts nothing (and
         * unmounts nothing at the end: the caller detaches the mount). */
        snprintf(fd_path, sizeof(fd_path), "/dev/fd/%d", fd);
        if (fuse_session_mount(s->se, fd_path) != 0) {
                fuse_session_destroy(s->se);
                s->se = NULL;
                return -EBADF;
        }
        /* The session's now: closed when it is destroyed. */
        TAKE_FD(owned);
        replay_init(s->se);
        r = fs_session_serve(s);
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
                /* Lazy: the container may still have it bound at its /dev.
                 * An adopted session's mount is not libfuse's to undo. */
                if (s->adopted)
                        (void) umount2(s->mountpoint, MNT_DETACH);
                else
                        fuse_session_unmount(s->se);
                /* Closing the last /dev/fuse fd aborts the connection. */
                fuse_session_destroy(s->se);
        }
        free(s->mountpoint);
        free(s);
        return NULL;
}
