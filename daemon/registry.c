/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The life of a served container: create, attach to its process, reload,
 * destroy. */
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/stat.h>

#include "daemon.h"
#include "log.h"

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

static void daemon_container_free(struct daemon_container *dc) {
        if (!dc)
                return;
        free(dc->dir);
        free(dc);
}

static void on_pid_exit(struct daemon *d, struct io_watch *w, uint32_t events) {
        struct daemon_container *dc = container_of(w, struct daemon_container, pid_watch);

        log_info("%s: process %d exited; its relay stops.", dc->container->name, (int) dc->pid);
        daemon_unwatch(d, w);
        w->fd = safe_close(w->fd);
        dc->pid = 0;
        dc->exited = true;
}

/* The container's root as the daemon can reach it, for OWNER/GROUP names. */
static int container_root(pid_t pid, char **ret) {
        return asprintf(ret, "/proc/%d/root", (int) pid) < 0 ? -ENOMEM : 0;
}

int daemon_attach_container(struct daemon *d, struct daemon_container *dc, pid_t pid,
                            struct policy_diagnostics *diags) {
        _cleanup_(policy_freep) struct policy *policy = NULL;
        _cleanup_free_ char *root = NULL;
        _cleanup_close_ int pidfd = -EBADF;
        struct container *c = dc->container;
        struct idmap uids, gids;
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

        if (dc->pid_watch.fd >= 0) {
                daemon_unwatch(d, &dc->pid_watch);
                safe_close(dc->pid_watch.fd);
        }
        dc->pid_watch = (struct io_watch){ .fd = TAKE_FD(pidfd), .fn = on_pid_exit };
        r = daemon_watch(d, &dc->pid_watch, EPOLLIN);
        if (r < 0)
                return r;
        dc->pid = pid;
        dc->exited = false;

        c->uid_map = uids;
        c->gid_map = gids;
        return model_set_policy(d->model, c, TAKE_PTR(policy), c->policy_source);
}

/* Everything a new container needs beyond the model's record; consumers
 * are in place before the first deltas flow. */
static int serve_container(struct daemon *d, struct daemon_container *dc, pid_t pid,
                           struct policy_diagnostics *diags) {
        if (mkdir(dc->dir, 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "%s: failed to create %s: %m", dc->container->name, dc->dir);

        return pid > 0 ? daemon_attach_container(d, dc, pid, diags) : model_refresh_container(d->model, dc->container);
}

int daemon_create_container(struct daemon *d, const char *name, const char *policy_source, pid_t pid,
                            enum relay_mode relay, struct policy_diagnostics *diags, struct daemon_container **ret) {
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
        if (!dc || asprintf(&dc->dir, "%s/%s", d->containers_dir, name) < 0) {
                free(dc);
                model_remove_container(d->model, c);
                return -ENOMEM;
        }
        dc->container = c;
        dc->relay_mode = relay;
        dc->pid_watch.fd = -EBADF;
        c->userdata = dc;

        r = serve_container(d, dc, pid, diags);
        if (r < 0) {
                daemon_destroy_container(d, dc);
                return r;
        }
        log_info("%s: created with policy %s.", name, policy_source);
        if (ret)
                *ret = dc;
        return 0;
}

int daemon_destroy_container(struct daemon *d, struct daemon_container *dc) {
        if (dc->pid_watch.fd >= 0) {
                daemon_unwatch(d, &dc->pid_watch);
                safe_close(dc->pid_watch.fd);
        }
        (void) rmdir(dc->dir);
        log_debug("%s: destroyed.", dc->container->name);
        model_remove_container(d->model, dc->container);
        daemon_container_free(dc);
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
        return model_set_policy(d->model, c, TAKE_PTR(policy), c->policy_source);
}
