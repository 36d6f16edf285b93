/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* devsieved: serves every registered container a /dev and a /sys with only
 * the devices its policy allows, and relays their uevents. */
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <stdint.h>
#include <stdlib.h>
#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#else
/* Built without libsystemd: no readiness notification; without
 * --foreground the daemon detaches only once ready (Type=forking). */
static inline int sd_notify(int unset_environment, const char *state) {
        return 0;
}
#endif

#include "daemon.h"
#include "log.h"
#include "registry.h"
#include "strv.h"

struct arguments {
        struct daemon_options daemon;
        bool foreground;
        char **containers; /* NAME=POLICY */
        char **attachments; /* NAME=PID */
};

static void help(void) {
        printf("Usage: devsieved [OPTIONS]\n"
               "\n"
               "Serve each registered container a /dev and a /sys holding only the devices\n"
               "its policy allows, live, and relay their uevents into it.\n"
               "\n"
               "Options:\n"
               "      --runtime-dir DIR   control socket and views below DIR (default %s)\n"
               "      --policy-dir DIR    where policy names are looked up (default %s)\n"
               "      --foreground        do not detach (for systemd and supervisors)\n"
               "      --log-level LEVEL   emerg..debug (default info)\n"
               "      --socket-group GROUP\n"
               "                          let GROUP's members connect to the control socket\n"
                                  "                          (read-only requests only; default: root alone)\n"
               "      --client-timeout SEC\n"
               "                          disconnect control clients idle for SEC seconds\n"
               "                          (1-86400, default 60; monitors are never idle)\n"
               "      --container NAME=POLICY\n"
               "                          serve a container from the start (repeatable);\n"
               "                          without a control client, devsieved runs standalone\n"
               "      --attach NAME=PID   attach such a container to its init process (its id\n"
               "                          maps, network namespace and lifetime)\n"
               "      --fuse-threads N    FUSE worker threads (default: from the CPU count)\n"
               "      --kernel-events     follow the kernel's uevents even when a udevd runs\n"
               "      --device-cgroup MODE\n"
               "                          keep each attached container's device cgroup in step\n"
               "                          with its view: auto (per container), v1, v2 or off\n"
               "                          (default auto)\n"
               "  -h, --help              show this help\n"
               "      --version           show the version\n"
               "\n"
               "See devsieved(8).\n",
               DEFAULT_RUNTIME_DIR, DEFAULT_POLICY_DIR);
}

/* A group name, or a number. */
static int parse_group(const char *s, gid_t *ret) {
        struct group *g;
        unsigned long v;
        char *end;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (!errno && *s && !*end && v < UINT32_MAX) {
                *ret = (gid_t) v;
                return 0;
        }
        g = getgrnam(s);
        if (!g)
                return -ENOENT;
        *ret = g->gr_gid;
        return 0;
}

static int parse_arguments(int argc, char **argv, struct arguments *a) {
        enum { ARG_RUNTIME_DIR = 0x100, ARG_POLICY_DIR, ARG_FOREGROUND, ARG_LOG_LEVEL, ARG_CONTAINER, ARG_ATTACH,
               ARG_FUSE_THREADS, ARG_KERNEL_EVENTS, ARG_SOCKET_GROUP, ARG_CLIENT_TIMEOUT, ARG_DEVICE_CGROUP,
               ARG_VERSION };
        static const struct option options[] = {
                { "runtime-dir", required_argument, NULL, ARG_RUNTIME_DIR },
                { "policy-dir", required_argument, NULL, ARG_POLICY_DIR },
                { "foreground", no_argument, NULL, ARG_FOREGROUND },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "container", required_argument, NULL, ARG_CONTAINER },
                { "attach", required_argument, NULL, ARG_ATTACH },
                { "fuse-threads", required_argument, NULL, ARG_FUSE_THREADS },
                { "kernel-events", no_argument, NULL, ARG_KERNEL_EVENTS },
                { "socket-group", required_argument, NULL, ARG_SOCKET_GROUP },
                { "client-timeout", required_argument, NULL, ARG_CLIENT_TIMEOUT },
                { "device-cgroup", required_argument, NULL, ARG_DEVICE_CGROUP },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int opt, level;
        char *end;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (opt) {
                case ARG_RUNTIME_DIR:
                        a->daemon.runtime_dir = optarg;
                        break;
                case ARG_POLICY_DIR:
                        a->daemon.policy_dir = optarg;
                        break;
                case ARG_FOREGROUND:
                        a->foreground = true;
                        break;
                case ARG_LOG_LEVEL:
                        level = log_level_from_string(optarg);
                        if (level < 0) {
                                log_error("Unknown log level '%s' (emerg, alert, crit, err, warning, notice, info, debug).",
                                          optarg);
                                return -EINVAL;
                        }
                        log_set_max_level(level);
                        break;
                case ARG_CONTAINER:
                        if (!strchr(optarg, '=') || optarg[0] == '=') {
                                log_error("--container wants NAME=POLICY, got '%s'.", optarg);
                                return -EINVAL;
                        }
                        if (strv_extend(&a->containers, optarg) < 0)
                                return -ENOMEM;
                        break;
                case ARG_ATTACH:
                        if (!strchr(optarg, '=') || optarg[0] == '=') {
                                log_error("--attach wants NAME=PID, got '%s'.", optarg);
                                return -EINVAL;
                        }
                        if (strv_extend(&a->attachments, optarg) < 0)
                                return -ENOMEM;
                        break;
                case ARG_FUSE_THREADS:
                        errno = 0;
                        a->daemon.fuse_workers = (unsigned) strtoul(optarg, &end, 10);
                        if (errno || *end || a->daemon.fuse_workers == 0 || a->daemon.fuse_workers > 64) {
                                log_error("--fuse-threads wants a number from 1 to 64, got '%s'.", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_KERNEL_EVENTS:
                        a->daemon.kernel_events = true;
                        break;
                case ARG_SOCKET_GROUP:
                        if (parse_group(optarg, &a->daemon.socket_gid) < 0) {
                                log_error("--socket-group: no group '%s'.", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_CLIENT_TIMEOUT:
                        errno = 0;
                        a->daemon.client_timeout_sec = (unsigned) strtoul(optarg, &end, 10);
                        if (errno || *end || !*optarg || a->daemon.client_timeout_sec == 0 ||
                            a->daemon.client_timeout_sec > 86400) {
                                log_error("--client-timeout wants a number of seconds from 1 to 86400, got '%s'.",
                                          optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_DEVICE_CGROUP:
                        level = device_cgroup_mode_from_string(optarg);
                        if (level < 0) {
                                log_error("--device-cgroup wants auto, v1, v2 or off, got '%s'.", optarg);
                                return -EINVAL;
                        }
                        a->daemon.device_cgroup = (enum device_cgroup_mode) level;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("devsieved %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        log_error("Try 'devsieved --help'.");
                        return -EINVAL;
                }
        if (optind < argc) {
                log_error("Unexpected argument '%s'. Try 'devsieved --help'.", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

static void log_diagnostics(struct policy_diagnostics *diags) {
        for (size_t i = 0; i < diags->n_items; i++) {
                _cleanup_free_ char *line = NULL;
                if (policy_diagnostic_format(&diags->items[i], &line) >= 0)
                        log_internal(diags->items[i].is_error ? LOG_ERR : LOG_WARNING, 0, "%s", line);
        }
        policy_diagnostics_done(diags);
}

/* --container NAME=POLICY: as `devsieve create`, before any client. */
static int create_static_containers(struct daemon *d, char **containers) {
        STRV_FOREACH(spec, containers) {
                _cleanup_free_ char *name = strndup(*spec, strcspn(*spec, "="));
                struct policy_diagnostics diags = {};
                int r;

                if (!name)
                        return -ENOMEM;
                /* Restored from the previous run's state: served already. */
                if (daemon_find_container(d, name)) {
                        log_info("%s: restored from the previous run; --container leaves it as it is.", name);
                        continue;
                }
                r = daemon_create_container(d, name, strchr(*spec, '=') + 1, 0, RELAY_AUTO, true, false, &diags, NULL);
                log_diagnostics(&diags);
                if (r < 0)
                        return log_error_errno(r, "Failed to create container '%s': %m", name);
        }
        return 0;
}

/* --attach NAME=PID: as `devsieve attach`. */
static int attach_static_containers(struct daemon *d, char **attachments) {
        STRV_FOREACH(spec, attachments) {
                _cleanup_free_ char *name = strndup(*spec, strcspn(*spec, "="));
                const char *pid_text = strchr(*spec, '=') + 1;
                struct policy_diagnostics diags = {};
                struct daemon_container *dc;
                char *end;
                long pid;
                int r;

                if (!name)
                        return -ENOMEM;
                errno = 0;
                pid = strtol(pid_text, &end, 10);
                if (errno || *end || pid <= 0 || pid > INT32_MAX)
                        return log_error_errno(EINVAL, "--attach %s: '%s' is not a pid.", *spec, pid_text);
                dc = daemon_find_container(d, name);
                if (!dc)
                        return log_error_errno(ENOENT, "--attach %s: no container '%s' (create it with --container).",
                                               *spec, name);
                r = daemon_attach_container(d, dc, (pid_t) pid, &diags);
                log_diagnostics(&diags);
                if (r < 0)
                        return log_error_errno(r, "Failed to attach container '%s' to process %ld: %m", name, pid);
        }
        return 0;
}

/* Without --foreground: detach, but only once serving, so that whoever
 * started us knows whether it worked (the parent exits with our status). */
static int detach(int *ret_ready_fd) {
        int pipefd[2];
        pid_t pid;
        char status;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return negative_errno();
        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid > 0) {
                close(pipefd[1]);
                _exit(read(pipefd[0], &status, 1) == 1 && status == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
        }
        close(pipefd[0]);
        if (setsid() < 0)
                return negative_errno();
        *ret_ready_fd = pipefd[1];
        return 0;
}

/* `devsieve upgrade`, SIGUSR2: everything is released as at a stop (the
 * containers' registrations stay), then the binary at the path it was
 * started from, a new one after an upgrade, starts over with the same
 * arguments and restores them (devsieved(8), RESTART). Already detached:
 * the new image stays in the foreground, with our pid. */
static int reexec(struct daemon *d, int argc, char **argv, bool foreground) {
        _cleanup_free_ char *exe = d->exe_path ? strdup(d->exe_path) : NULL;
        _cleanup_free_ char **args = calloc((size_t) argc + 2, sizeof(char *));

        /* With a holder nothing is released: the new image adopts it. */
        if (!daemon_hand_over(d))
                d = daemon_free(d);
        if (!exe || !args)
                return log_error_errno(ENOMEM, "Cannot re-execute devsieved: out of memory."), EXIT_FAILURE;
        for (int i = 0; i < argc; i++)
                args[i] = argv[i];
        if (!foreground)
                args[argc] = (char *) "--foreground";
        (void) sd_notify(0, "RELOADING=1");
        log_info("Re-executing %s.", exe);
        execv(exe, args);
        log_error_errno(errno, "Failed to re-execute %s: %m; the containers are restored by the next devsieved.", exe);
        daemon_free(d);
        return EXIT_FAILURE;
}

int main(int argc, char **argv) {
        struct arguments a = { .daemon = { .runtime_dir = DEFAULT_RUNTIME_DIR,
                                           .policy_dir = DEFAULT_POLICY_DIR,
                                           .socket_gid = (gid_t) -1 } };
        _cleanup_(daemon_freep) struct daemon *d = NULL;
        _cleanup_close_ int ready_fd = -EBADF;
        char status = 1;
        int r;

        log_set_prefix("devsieved");
        r = parse_arguments(argc, argv, &a);
        if (r <= 0) {
                strv_free(a.containers);
                strv_free(a.attachments);
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        }
        if (!a.foreground && detach(&ready_fd) < 0)
                return EXIT_FAILURE;

        r = daemon_new(&a.daemon, &d);
        if (r >= 0)
                r = create_static_containers(d, a.containers);
        if (r >= 0)
                r = attach_static_containers(d, a.attachments);
        strv_free(a.containers);
        strv_free(a.attachments);
        if (r >= 0) {
                status = 0;
                (void) sd_notify(0, "READY=1");
        }
        if (ready_fd >= 0)
                (void) write(ready_fd, &status, 1);
        if (r < 0)
                return EXIT_FAILURE;

        log_info("Serving; runtime directory %s.", d->runtime_dir);
        r = daemon_run(d);
        if (r >= 0 && d->reexec)
                return reexec(TAKE_PTR(d), argc, argv, a.foreground);
        (void) sd_notify(0, "STOPPING=1");
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
