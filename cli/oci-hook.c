/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* devsieve oci-hook: an OCI runtime hook (runc, crun, podman's hooks.d,
 * CDI, LXC through contrib/lxc). It reads the container's state (the OCI
 * runtime specification's "state" object) on stdin. At createRuntime it
 * registers the container with devsieved, attached to its init process,
 * and mounts the views into the container's mount namespace; at poststop
 * it forgets the container. Any error at createRuntime undoes what was done
 * and exits non-zero with one line on stderr, so the runtime does not start
 * the container. */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/pidfd.h>

#include "client.h"
#include "command.h"
#include "log.h"
#include "view-mount.h"

#define ANNOTATION_POLICY "io.devsieve.policy"
#define ANNOTATION_NAME "io.devsieve.name"

/* The OCI state is small; this only bounds garbage. */
#define STATE_MAX (1024 * 1024)

enum hook_stage {
        STAGE_CREATE,
        STAGE_POSTSTOP,
};

struct hook_args {
        const char *stage, *policy, *name, *rootfs;
};

struct oci_state {
        json_t *json;
        const char *id, *status, *bundle;
        json_int_t pid;
        const char *policy, *name; /* the annotations, or NULL */
};

static void oci_state_done(struct oci_state *s) {
        json_decref(s->json);
}

static int parse_args(const struct command *c, int argc, char *argv[], struct hook_args *a) {
        enum { ARG_POLICY = 0x100, ARG_NAME, ARG_ROOTFS };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "policy", required_argument, NULL, ARG_POLICY },
                { "name", required_argument, NULL, ARG_NAME },
                { "rootfs", required_argument, NULL, ARG_ROOTFS },
                {},
        };
        int opt;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        command_help(c, stdout);
                        return 0;
                case ARG_POLICY:
                        a->policy = optarg;
                        break;
                case ARG_NAME:
                        a->name = optarg;
                        break;
                case ARG_ROOTFS:
                        if (optarg[0] != '/')
                                return -command_usage_error(c, "--rootfs wants an absolute path, not '%s'", optarg);
                        a->rootfs = optarg;
                        break;
                default:
                        return -command_option_error(c, opt, argv);
                }
        if (optind < argc)
                a->stage = argv[optind++];
        if (optind < argc)
                return -command_usage_error(c, "unexpected argument '%s'", argv[optind]);
        if (a->stage && !streq(a->stage, "createRuntime") && !streq(a->stage, "poststop"))
                return -command_usage_error(c, "STAGE is createRuntime or poststop, not '%s'", a->stage);
        return 1;
}

static const char *annotation(json_t *state, const char *key) {
        return json_string_value(json_object_get(json_object_get(state, "annotations"), key));
}

static int read_state(FILE *f, struct oci_state *ret) {
        json_error_t error;
        json_t *pid;

        ret->json = json_loadf(f, JSON_REJECT_DUPLICATES, &error);
        if (!ret->json || !json_is_object(ret->json))
                return log_error_errno(EINVAL, "The container state on stdin is not a JSON object: %s (line %d)",
                                       ret->json ? "not an object" : error.text, error.line);
        ret->id = json_string_value(json_object_get(ret->json, "id"));
        ret->status = json_string_value(json_object_get(ret->json, "status"));
        ret->bundle = json_string_value(json_object_get(ret->json, "bundle"));
        pid = json_object_get(ret->json, "pid");
        ret->pid = json_is_integer(pid) ? json_integer_value(pid) : 0;
        ret->policy = annotation(ret->json, ANNOTATION_POLICY);
        ret->name = annotation(ret->json, ANNOTATION_NAME);
        if (!ret->id || !*ret->id)
                return log_error_errno(EINVAL, "The container state on stdin has no \"id\".");
        return 0;
}

/* An explicit STAGE wins; else the state's status says where we are: runc
 * and crun pass "creating" to createRuntime hooks, "stopped" to poststop. */
static int pick_stage(const struct hook_args *a, const struct oci_state *s, enum hook_stage *ret) {
        const char *stage = a->stage;

        if (!stage && s->status)
                stage = streq(s->status, "creating") || streq(s->status, "created") ? "createRuntime"
                        : streq(s->status, "stopped")                               ? "poststop"
                                                                                     : NULL;
        if (!stage)
                return log_error_errno(EINVAL,
                                       "Container %s: cannot tell the hook's stage from status \"%s\"; pass "
                                       "createRuntime or poststop.",
                                       s->id, strempty(s->status));
        *ret = streq(stage, "poststop") ? STAGE_POSTSTOP : STAGE_CREATE;
        return 0;
}

/* One request (its reference is taken), one reply. A refusal comes back as
 * -errno with the reply in *ret for the caller to word; -ENOTCONN means no
 * daemon (logged). Descriptors that came with the reply go to fds (up to
 * CLIENT_FDS_MAX), their number to *ret_n_fds, when fds is given. */
static int request_fds(const char *runtime_dir, json_t *owned_request, json_t **ret, int *fds, size_t *ret_n_fds) {
        _cleanup_(json_decrefp) json_t *req = owned_request;
        _cleanup_(client_done) struct client client = { .fd = -EBADF };
        _cleanup_(json_decrefp) json_t *reply = NULL;
        int r;

        if (!req)
                return log_error_errno(ENOMEM, "Out of memory.");
        r = client_open(runtime_dir, &client);
        /* -ENOTCONN from here on means "no daemon" to the caller. */
        if (r == -ENOENT || r == -ECONNREFUSED) {
                log_error_errno(r, "devsieved is not running at %s/devsieved.sock (%m); see devsieved(8).",
                                runtime_dir);
                return -ENOTCONN;
        }
        if (r < 0) {
                log_error_errno(r, "Cannot reach devsieved at %s/devsieved.sock: %m", runtime_dir);
                return -ENOTCONN;
        }
        r = client_send(&client, req);
        if (r < 0)
                return r;
        r = client_receive(&client, CLIENT_TIMEOUT_SEC, &reply);
        if (r == 0)
                return log_error_errno(ECONNRESET, "devsieved closed the connection without a reply.");
        if (r < 0)
                return r;
        if (!json_is_true(json_object_get(reply, "ok"))) {
                json_int_t e = json_integer_value(json_object_get(reply, "errno"));
                r = e > 0 && e < 4096 ? -(int) e : -EIO;
                if (ret) /* the caller words it */
                        *ret = TAKE_PTR(reply);
                return r;
        }
        if (fds)
                *ret_n_fds = client_take_fds(&client, fds, CLIENT_FDS_MAX);
        if (ret)
                *ret = TAKE_PTR(reply);
        return 0;
}

static int request(const char *runtime_dir, json_t *owned_request, json_t **ret) {
        return request_fds(runtime_dir, owned_request, ret, NULL, NULL);
}

/* -ENOENT, quietly, when devsieved does not know the container. */
static int destroy(const char *runtime_dir, const char *name) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        int r = request(runtime_dir, json_pack("{s:s, s:s}", "command", "destroy", "name", name), &reply);

        if (r == -ENOENT && reply)
                return r;
        if (r < 0 && reply) {
                log_error("%s", strempty(json_string_value(json_object_get(reply, "error"))));
                return -EREMOTEIO;
        }
        return r;
}

/* ROOTFS as the container's mount namespace sees it before pivot_root:
 * config.json's root.path, relative to the bundle. */
static int find_rootfs(const struct oci_state *s, char **ret) {
        _cleanup_(json_decrefp) json_t *config = NULL;
        _cleanup_free_ char *path = NULL;
        json_error_t error;
        const char *root;

        if (!s->bundle || s->bundle[0] != '/')
                return log_error_errno(EINVAL, "Container %s: the state has no absolute \"bundle\"; pass --rootfs.",
                                       s->id);
        if (asprintf(&path, "%s/config.json", s->bundle) < 0)
                return log_error_errno(ENOMEM, "Out of memory.");
        config = json_load_file(path, 0, &error);
        if (!config)
                return log_error_errno(EINVAL, "Container %s: cannot read %s: %s", s->id, path, error.text);
        root = json_string_value(json_object_get(json_object_get(config, "root"), "path"));
        if (!root || !*root)
                return log_error_errno(EINVAL, "Container %s: %s has no root.path.", s->id, path);
        if (root[0] == '/')
                *ret = strdup(root);
        else if (asprintf(ret, "%s/%s", s->bundle, root) < 0)
                *ret = NULL;
        return *ret ? 0 : log_error_errno(ENOMEM, "Out of memory.");
}

/* The one place that says what goes where. The /dev view keeps the
 * runtime's pseudo-terminals, shared memory, message queues and console on
 * top. The udev database goes at /run/udev (made in the runtime's /run if
 * missing; left out where it cannot be, libudev then sees no udevd); the
 * /proc files are bound by hand for now (README). */
static int view_bind_of(const char *view, int fd, const char *source, struct view_bind *ret) {
        static const char *const dev_keep[] = { "pts", "shm", "mqueue", "console", NULL };
        static const char *const sys_keep[] = { "fs/cgroup", NULL };

        if (streq(view, "dev"))
                *ret = (struct view_bind){ .source = source, .fd = fd, .target = "dev", .keep = dev_keep };
        else if (streq(view, "sys"))
                *ret = (struct view_bind){ .source = source, .fd = fd, .target = "sys", .keep = sys_keep };
        else if (streq(view, "udev"))
                *ret = (struct view_bind){ .source = source, .fd = fd, .target = "run/udev", .optional = true };
        else
                return -EPROTO;
        return 0;
}

static void close_fds(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                safe_close(fds[i]);
}

/* The views come from the daemon as mount trees (control "views"): they
 * were never mounted in the host, and are moved straight into the
 * container's mount namespace. */
static int mount_views(const char *runtime_dir, const char *name, int pidfd, pid_t pid, const char *rootfs) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        struct view_bind binds[CLIENT_FDS_MAX];
        char *sources[CLIENT_FDS_MAX] = {};
        int fds[CLIENT_FDS_MAX];
        size_t n_fds = 0, n = 0;
        bool has_dev = false;
        json_t *views, *v;
        size_t i;
        int r;

        r = request_fds(runtime_dir, json_pack("{s:s, s:s}", "command", "views", "name", name), &reply, fds, &n_fds);
        if (r < 0 && reply) {
                log_error("%s", strempty(json_string_value(json_object_get(reply, "error"))));
                return -EREMOTEIO;
        }
        if (r < 0)
                return r;
        views = json_object_get(reply, "views");
        if (!json_is_array(views) || json_array_size(views) != n_fds) {
                close_fds(fds, n_fds);
                return log_error_errno(EPROTO, "Container %s: devsieved sent %zu views for %zu names.", name, n_fds,
                                       json_array_size(views));
        }
        r = 0;
        json_array_foreach(views, i, v) {
                const char *view = json_string_value(v);

                /* Messages name it as "/dev of container NAME". */
                if (asprintf(&sources[i], "%s%s of container %s", view && !streq(view, "udev") ? "/" : "",
                             strempty(view), name) < 0) {
                        sources[i] = NULL;
                        r = log_error_errno(ENOMEM, "Out of memory.");
                        break;
                }
                if (!view || view_bind_of(view, fds[i], sources[i], &binds[n]) < 0) {
                        r = log_error_errno(EPROTO, "Container %s: devsieved sent an unknown view \"%s\".", name,
                                            strempty(view));
                        break;
                }
                has_dev = has_dev || streq(view, "dev");
                n++;
        }
        if (r >= 0 && !has_dev)
                r = log_error_errno(EPROTO, "Container %s: devsieved sent no /dev view.", name);
        if (r >= 0)
                r = view_mount_into(pidfd, pid, rootfs, binds, n);
        close_fds(fds, n_fds);
        for (i = 0; i < CLIENT_FDS_MAX; i++)
                free(sources[i]);
        return r;
}

/* The daemon's policy directory, for an error message; NULL if it cannot
 * be asked. */
static char *policy_dir(const char *runtime_dir) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        const char *dir;

        if (request(runtime_dir, json_pack("{s:s}", "command", "status"), &reply) < 0)
                return NULL;
        dir = json_string_value(json_object_get(reply, "policy_dir"));
        return dir ? strdup(dir) : NULL;
}

/* The daemon's reply names the container; a missing policy gets the words
 * an operator looks for (and not "No such file or directory", which podman
 * takes for a missing runtime binary). */
static void log_create_error(const char *runtime_dir, const char *policy, int r, json_t *reply) {
        /* r is the daemon's errno. */
        const char *error = json_string_value(json_object_get(reply, "error"));

        if (r == -ENOENT && policy[0] == '/') {
                log_error("no policy file '%s'", policy);
                return;
        }
        if (r == -ENOENT) {
                _cleanup_free_ char *dir = policy_dir(runtime_dir);
                log_error("no policy '%s' in %s", policy, dir ?: "devsieved's policy directory");
                return;
        }
        log_error("%s", error ?: "creating the container failed");
}

static int hook_create(const struct cli_context *ctx, const struct hook_args *a, const struct oci_state *s,
                       const char *name) {
        _cleanup_(json_decrefp) json_t *reply = NULL;
        _cleanup_free_ char *rootfs = NULL;
        _cleanup_close_ int pidfd = -EBADF;
        const char *policy = s->policy ?: a->policy;
        int pidfd_error, r;

        if (!policy)
                return log_error_errno(EINVAL, "Container %s: no policy (annotation " ANNOTATION_POLICY
                                               " or --policy).",
                                       name);
        if (strchr(policy, '/') && policy[0] != '/')
                return log_error_errno(EINVAL, "Container %s: policy '%s' is neither a name nor an absolute path.",
                                       name, policy);
        if (s->pid <= 0 || s->pid > INT32_MAX)
                return log_error_errno(EINVAL, "Container %s: the state has no process id.", name);
        if (a->rootfs)
                rootfs = strdup(a->rootfs);
        else {
                r = find_rootfs(s, &rootfs);
                if (r < 0)
                        return r;
        }
        if (!rootfs)
                return log_error_errno(ENOMEM, "Out of memory.");

        /* Before the daemon is asked: a pid that is already gone gets the
         * daemon's own answer ("no process"). */
        pidfd = pidfd_open((pid_t) s->pid, 0);
        pidfd_error = pidfd < 0 ? errno : 0;
        r = request(ctx->runtime_dir,
                    json_pack("{s:s, s:s, s:s, s:I, s:b}", "command", "create", "name", name, "policy", policy, "pid",
                              s->pid, "detached", 1),
                    &reply);
        if (r < 0 && reply) {
                log_create_error(ctx->runtime_dir, policy, r, reply);
                return -EREMOTEIO;
        }
        if (r < 0)
                return r;

        if (pidfd < 0)
                r = log_error_errno(pidfd_error, "Container %s: cannot follow process %" JSON_INTEGER_FORMAT ": %m", name,
                                    s->pid);
        else
                r = mount_views(ctx->runtime_dir, name, pidfd, (pid_t) s->pid, rootfs);
        if (r < 0) {
                /* Fail closed, and leave nothing behind. */
                (void) destroy(ctx->runtime_dir, name);
                return r;
        }
        return 0;
}

static int hook_poststop(const struct cli_context *ctx, const char *name) {
        int r = destroy(ctx->runtime_dir, name);

        /* Already gone (the create stage failed, or someone destroyed it). */
        return r == -ENOENT ? 0 : r;
}

static int run(const struct command *c, const struct cli_context *ctx, int argc, char *argv[]) {
        _cleanup_(oci_state_done) struct oci_state s = {};
        struct hook_args a = {};
        enum hook_stage stage = STAGE_CREATE;
        const char *name;
        int r;

        r = parse_args(c, argc, argv, &a);
        if (r == -DEVSIEVE_EXIT_USAGE)
                return DEVSIEVE_EXIT_USAGE;
        if (r <= 0)
                return r;
        r = read_state(stdin, &s);
        if (r < 0)
                return DEVSIEVE_EXIT_RUNTIME;
        r = pick_stage(&a, &s, &stage);
        if (r < 0)
                return DEVSIEVE_EXIT_RUNTIME;
        name = a.name ?: s.name ?: s.id;

        r = stage == STAGE_CREATE ? hook_create(ctx, &a, &s, name) : hook_poststop(ctx, name);
        /* The exit statuses of every command: devsieved refused (1), could
         * not be reached (3), anything else (4). */
        if (r == -EREMOTEIO)
                return DEVSIEVE_EXIT_NEGATIVE;
        if (r == -ENOTCONN)
                return DEVSIEVE_EXIT_UNREACHABLE;
        return r < 0 ? DEVSIEVE_EXIT_RUNTIME : DEVSIEVE_EXIT_OK;
}

const struct command command_oci_hook = {
        .name = "oci-hook",
        .summary = "Run as an OCI runtime hook: views in at createRuntime, gone at poststop",
        .synopsis = "[--policy POLICY] [--name NAME] [--rootfs PATH] [createRuntime|poststop] < STATE",
        .options = "  STATE is the OCI state on stdin (id, pid, bundle, annotations). Without a stage\n"
                   "  argument its status decides: \"creating\" is createRuntime, \"stopped\" poststop.\n"
                   "      --policy POLICY  the policy when the container has no annotation " ANNOTATION_POLICY "\n"
                   "                       (a name in the policy directory, a built-in, an absolute path)\n"
                   "      --name NAME      the container's name in devsieved (default: annotation\n"
                   "                       " ANNOTATION_NAME ", else the OCI id)\n"
                   "      --rootfs PATH    the root file system as the container's mount namespace sees\n"
                   "                       it (default: root.path of BUNDLE/config.json)\n"
                   "  -h, --help           show this help\n",
        .run = run,
};
