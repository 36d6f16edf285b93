/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The commands that talk to devsieved. They share one run(): parse the
 * command line into a request as docs/control-protocol.md describes it,
 * send it, and print the reply as text or, with --json, as it came. The
 * daemon validates everything again; checks here are for better messages. */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "command.h"
#include "log.h"
#include "output.h"
#include "policy/adapters/policy-json.h"

enum {
        OPT_POLICY = 1 << 0,
        OPT_PID = 1 << 1,
        OPT_RELAY = 1 << 2,
        OPT_NODE = 1 << 3,
        OPT_MODE = 1 << 4,
        OPT_OWNER = 1 << 5,
        OPT_GROUP = 1 << 6,
        OPT_RESET = 1 << 7,
        OPT_NO_DEVICE_CGROUP = 1 << 8,
        OPT_UDEV = 1 << 9,
        OPT_DETACHED = 1 << 10,
};

struct daemon_args {
        bool json;
        const char *positional[2];
        const char *policy, *relay, *node, *mode;
        json_int_t pid, owner, group; /* -1: not given */
        bool reset;
        bool no_device_cgroup;
        bool detached;
        bool udev; /* show: each device's udev database entry too */
        char *policy_buf; /* owned: policy made absolute */
};

static void daemon_args_done(struct daemon_args *a) {
        free(a->policy_buf);
}

struct daemon_command {
        const char *request;      /* the protocol's "command" */
        unsigned options;         /* OPT_* the command takes */
        const char *positional[2]; /* NULL-padded: "NAME", "DEVICE" */
        unsigned n_required;      /* how many of them must be given */
        bool pid_required;
        int (*render)(json_t *reply, const struct daemon_args *a);
        bool stream; /* monitor: lines keep coming after the reply */
};

/* --- Rendering -------------------------------------------------------- */

static const char *get_string(json_t *o, const char *key) {
        return json_string_value(json_object_get(o, key));
}

static void print_diagnostics(json_t *diags) {
        size_t i;
        json_t *d;

        json_array_foreach(diags, i, d)
                fprintf(stderr, "%s:%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT ": %s: %s\n",
                        strempty(get_string(d, "file")), json_integer_value(json_object_get(d, "line")),
                        json_integer_value(json_object_get(d, "column")), get_string(d, "severity") ?: "error",
                        strempty(get_string(d, "message")));
}

/* The files a runtime binds over the container's /proc, one a line. */
static void print_proc_binds(json_t *c, const char *indent) {
        json_t *binds = json_object_get(c, "proc_binds"), *b;
        size_t i;

        json_array_foreach(binds, i, b)
                printf("%s%s: %s\n", indent, strempty(get_string(b, "destination")), strempty(get_string(b, "source")));
}

static int render_container(json_t *reply, const struct daemon_args *a) {
        json_t *c = json_object_get(reply, "container");

        printf("%s: %s, policy %s, %" JSON_INTEGER_FORMAT " devices visible\n", strempty(get_string(c, "name")),
               strempty(get_string(c, "state")), strempty(get_string(c, "policy")),
               json_integer_value(json_object_get(c, "devices")));
        if (json_is_true(json_object_get(c, "detached")))
                printf("  /dev, /sys, udev views: detached (in devsieved's mount namespace only)\n");
        else
                printf("  /dev view: %s\n  /sys view: %s\n", strempty(get_string(c, "dev")),
                       strempty(get_string(c, "sys")));
        print_proc_binds(c, "  ");
        return DEVSIEVE_EXIT_OK;
}

static int render_nothing(json_t *reply, const struct daemon_args *a) {
        return DEVSIEVE_EXIT_OK;
}

static int render_list(json_t *reply, const struct daemon_args *a) {
        static const char *const headers[] = { "NAME", "STATE", "PID", "POLICY", "DEVICES", "OVERRIDES", "RELAY", "VIEWS" };
        _cleanup_(table_freep) struct table *t = NULL;
        json_t *c;
        size_t i;
        int r;

        r = table_new(headers, ELEMENTSOF(headers), &t);
        if (r < 0)
                return r;
        json_array_foreach(json_object_get(reply, "containers"), i, c) {
                char pid[32] = "", devices[32], overrides[32];
                const char *cells[ELEMENTSOF(headers)];

                if (json_is_integer(json_object_get(c, "pid")))
                        snprintf(pid, sizeof(pid), "%" JSON_INTEGER_FORMAT,
                                 json_integer_value(json_object_get(c, "pid")));
                snprintf(devices, sizeof(devices), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(json_object_get(c, "devices")));
                snprintf(overrides, sizeof(overrides), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(json_object_get(c, "overrides")));
                cells[0] = get_string(c, "name");
                cells[1] = get_string(c, "state");
                cells[2] = pid;
                cells[3] = get_string(c, "policy");
                cells[4] = devices;
                cells[5] = overrides;
                cells[6] = get_string(c, "relay");
                cells[7] = get_string(c, "views");
                r = table_add_row(t, cells);
                if (r < 0)
                        return r;
        }
        return table_print(t, stdout);
}

/* "cgroup:    v1 /path, 3 rules" with the reason or the last error. */
static void print_device_cgroup(json_t *g) {
        const char *reason = get_string(g, "reason"), *error = get_string(g, "last_error");

        if (!g)
                return;
        printf("cgroup:    %s", strempty(get_string(g, "mode")));
        if (get_string(g, "path"))
                printf(" %s, %" JSON_INTEGER_FORMAT " rules", get_string(g, "path"),
                       json_integer_value(json_object_get(g, "rules")));
        if (reason)
                printf(" (%s)", reason);
        if (json_is_true(json_object_get(g, "replaced")))
                printf(", REPLACED");
        printf("\n");
        if (error)
                printf("cgroup error: %s\n", error);
}

/* show --udev: each device's file in the container's /run/udev/data, as
 * the container reads it. */
static void render_udev(json_t *container, json_t *devices) {
        json_t *row;
        size_t i;

        printf("\nudev database: %s\n", get_string(container, "udev") ?: "detached");
        json_array_foreach(devices, i, row) {
                json_t *u = json_object_get(row, "udev");
                const char *path = get_string(row, "path");

                printf("\n%s%s (%s)", path ? "/dev/" : "", path ?: strempty(get_string(row, "devpath")),
                       strempty(get_string(u, "id")));
                if (!json_is_object(u))
                        printf(": no udev data (no subsystem)\n");
                else if (!get_string(u, "data"))
                        printf(": no data file\n");
                else
                        printf(":\n%s", get_string(u, "data"));
        }
}

static int render_show(json_t *reply, const struct daemon_args *a) {
        json_t *c = json_object_get(reply, "container");
        json_t *devices = json_object_get(reply, "devices"), *row;
        size_t i;
        int r;

        printf("container: %s\nstate:     %s", strempty(get_string(c, "name")), strempty(get_string(c, "state")));
        if (json_is_integer(json_object_get(c, "pid")))
                printf(" (pid %" JSON_INTEGER_FORMAT ")", json_integer_value(json_object_get(c, "pid")));
        printf("\npolicy:    %s\n/dev view: %s\n/sys view: %s\n", strempty(get_string(c, "policy")),
               get_string(c, "dev") ?: "detached", get_string(c, "sys") ?: "detached");
        print_device_cgroup(json_object_get(c, "device_cgroup"));
        print_proc_binds(c, "");
        printf("\n");
        r = output_device_table(devices, stdout);
        if (r < 0)
                return r;
        /* What the container asked for but did not get. */
        json_array_foreach(devices, i, row) {
                size_t j;
                json_t *s;

                json_array_foreach(json_object_get(row, "conflicts"), j, s)
                        printf("note: %s: %s\n", strempty(get_string(row, "devpath")), strempty(json_string_value(s)));
                json_array_foreach(json_object_get(row, "warnings"), j, s)
                        printf("warning: %s: %s\n", strempty(get_string(row, "devpath")),
                               strempty(json_string_value(s)));
        }
        if (a->udev)
                render_udev(c, devices);
        return DEVSIEVE_EXIT_OK;
}

static int render_explain(json_t *reply, const struct daemon_args *a) {
        json_t *e = json_object_get(reply, "explanation");
        json_t *o = json_object_get(e, "override"), *v = json_object_get(e, "visible");
        int r;

        r = output_explanation(e, stdout);
        if (r < 0)
                return r;
        printf("\nin container %s:\n", strempty(get_string(e, "container")));
        if (json_is_object(o))
                printf("  runtime override:  %s\n",
                       json_is_true(json_object_get(o, "allow")) ? "added (devsieve add)"
                                                                 : "removed (devsieve remove)");
        if (json_is_object(v))
                printf("  visible as:        %s\n", get_string(v, "path") ? get_string(v, "path") : "(no node)");
        else
                printf("  visible as:        hidden\n");
        return json_is_object(v) ? DEVSIEVE_EXIT_OK : DEVSIEVE_EXIT_NEGATIVE;
}

static int render_device(json_t *reply, const struct daemon_args *a) {
        json_t *v = json_object_get(reply, "device");

        if (json_is_object(v))
                printf("%s: visible as /dev/%s (%s)\n", a->positional[1], strempty(get_string(v, "path")),
                       strempty(get_string(v, "rule")));
        else
                printf("%s: hidden\n", a->positional[1]);
        return DEVSIEVE_EXIT_OK;
}

static int render_reload(json_t *reply, const struct daemon_args *a) {
        size_t i;
        json_t *n;

        json_array_foreach(json_object_get(reply, "reloaded"), i, n)
                printf("%s: reloaded\n", strempty(json_string_value(n)));
        return DEVSIEVE_EXIT_OK;
}

static int render_status(json_t *reply, const struct daemon_args *a) {
        json_t *containers = json_object_get(reply, "containers"), *c;
        size_t i;
        int r;
        json_int_t rss = json_integer_value(json_object_get(reply, "rss_bytes"));

        printf("devsieved %s, pid %" JSON_INTEGER_FORMAT ", up %.0f s\n", strempty(get_string(reply, "version")),
               json_integer_value(json_object_get(reply, "pid")),
               json_number_value(json_object_get(reply, "uptime_seconds")));
        printf("runtime directory: %s\npolicy directory:  %s\n", strempty(get_string(reply, "runtime_dir")),
               strempty(get_string(reply, "policy_dir")));
        printf("host devices:      %" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(reply, "devices")));
        printf("host events:       %" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(reply, "events")));
        printf("memory (RSS):      %.1f MiB\n", (double) rss / (1024.0 * 1024.0));
        printf("clients:           %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT " monitoring, %" JSON_INTEGER_FORMAT
               " refused since start)\n",
               json_integer_value(json_object_get(reply, "clients")),
               json_integer_value(json_object_get(reply, "monitors")),
               json_integer_value(json_object_get(reply, "clients_refused")));
        printf("containers:        %zu\n", json_array_size(containers));
        if (json_array_size(containers) == 0)
                return DEVSIEVE_EXIT_OK;
        putchar('\n');
        r = render_list(reply, a);
        if (r < 0)
                return r;
        /* A container that may not open what it sees must not go unnoticed. */
        json_array_foreach(containers, i, c) {
                json_t *g = json_object_get(c, "device_cgroup");
                if (get_string(g, "last_error"))
                        printf("%s: device cgroup %s %s: %s\n", strempty(get_string(c, "name")),
                               strempty(get_string(g, "mode")), strempty(get_string(g, "path")),
                               get_string(g, "last_error"));
        }
        return r;
}

/* One monitor line, for people. */
static void render_monitor_line(json_t *line) {
        const char *type = get_string(line, "type");
        json_t *e;
        size_t i;

        if (streq_ptr(type, "event")) {
                json_t *seq = json_object_get(line, "seqnum");

                printf("%s %s %s", strempty(get_string(line, "action")), strempty(get_string(line, "subsystem")),
                       strempty(get_string(line, "devpath")));
                if (get_string(line, "devname"))
                        printf(" (%s)", get_string(line, "devname"));
                if (json_is_integer(seq))
                        printf(" seq %" JSON_INTEGER_FORMAT, json_integer_value(seq));
                putchar('\n');
                json_array_foreach(json_object_get(line, "containers"), i, e) {
                        if (streq_ptr(get_string(e, "outcome"), "relayed"))
                                printf("  %s: relayed, %s%s%s (%s)\n", strempty(get_string(e, "container")),
                                       strempty(get_string(e, "delta")), get_string(e, "node") ? " as /dev/" : "",
                                       strempty(get_string(e, "node")), strempty(get_string(e, "rule")));
                        else
                                printf("  %s: withheld: %s\n", strempty(get_string(e, "container")),
                                       strempty(get_string(e, "reason")));
                }
        } else if (streq_ptr(type, "change")) {
                json_array_foreach(json_object_get(line, "deltas"), i, e)
                        printf("%s: %s %s%s%s (%s)\n", strempty(get_string(line, "container")),
                               strempty(get_string(e, "delta")), strempty(get_string(e, "devpath")),
                               get_string(e, "node") ? " as /dev/" : "", strempty(get_string(e, "node")),
                               strempty(get_string(e, "rule")));
        }
        fflush(stdout);
}

/* --- Command line ------------------------------------------------------ */

/* A non-negative decimal number (pid, uid, gid). */
static int parse_number(const char *s, json_int_t max, json_int_t *ret) {
        char *end;
        unsigned long long v;

        if (!*s || strspn(s, "0123456789") != strlen(s))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || v > (unsigned long long) max)
                return -ERANGE;
        *ret = (json_int_t) v;
        return 0;
}

/* A policy naming a file relative to here must reach the daemon as an
 * absolute path; names without '/' are the daemon's to resolve. */
static int absolute_policy(const char *policy, char **ret) {
        _cleanup_free_ char *cwd = NULL;

        if (!strchr(policy, '/') || policy[0] == '/')
                return 0;
        cwd = getcwd(NULL, 0);
        if (!cwd)
                return -errno;
        return asprintf(ret, "%s/%s", cwd, policy) < 0 ? -ENOMEM : 0;
}

/* Returns 1 to go on, 0 when --help was shown, or a negative errno (logged)
 * or -DEVSIEVE_EXIT_USAGE. */
static int parse_args(const struct command *c, int argc, char *argv[], struct daemon_args *a) {
        const struct daemon_command *dc = c->data;
        enum {
                ARG_JSON = 0x100,
                ARG_POLICY,
                ARG_PID,
                ARG_RELAY,
                ARG_NAME,
                ARG_MODE,
                ARG_OWNER,
                ARG_GROUP,
                ARG_RESET,
                ARG_NO_DEVICE_CGROUP,
                ARG_UDEV,
                ARG_DETACHED,
        };
        static const struct {
                struct option option;
                unsigned mask;
        } all[] = {
                { { "help", no_argument, NULL, 'h' }, 0 },
                { { "json", no_argument, NULL, ARG_JSON }, 0 },
                { { "policy", required_argument, NULL, ARG_POLICY }, OPT_POLICY },
                { { "pid", required_argument, NULL, ARG_PID }, OPT_PID },
                { { "relay", required_argument, NULL, ARG_RELAY }, OPT_RELAY },
                { { "name", required_argument, NULL, ARG_NAME }, OPT_NODE },
                { { "mode", required_argument, NULL, ARG_MODE }, OPT_MODE },
                { { "owner", required_argument, NULL, ARG_OWNER }, OPT_OWNER },
                { { "group", required_argument, NULL, ARG_GROUP }, OPT_GROUP },
                { { "reset", no_argument, NULL, ARG_RESET }, OPT_RESET },
                { { "no-device-cgroup", no_argument, NULL, ARG_NO_DEVICE_CGROUP }, OPT_NO_DEVICE_CGROUP },
                { { "udev", no_argument, NULL, ARG_UDEV }, OPT_UDEV },
                { { "detached", no_argument, NULL, ARG_DETACHED }, OPT_DETACHED },
        };
        struct option options[ELEMENTSOF(all) + 1] = {};
        size_t n = 0;
        unsigned n_positional;
        int opt, r;

        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                if ((all[i].mask & dc->options) == all[i].mask)
                        options[n++] = all[i].option;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        command_help(c, stdout);
                        return 0;
                case ARG_JSON:
                        a->json = true;
                        break;
                case ARG_POLICY:
                        a->policy = optarg;
                        break;
                case ARG_PID:
                        if (parse_number(optarg, INT32_MAX, &a->pid) < 0 || a->pid == 0)
                                return -command_usage_error(c, "--pid wants a process id, not '%s'", optarg);
                        break;
                case ARG_RELAY:
                        if (!streq(optarg, "netlink") && !streq(optarg, "socket") && !streq(optarg, "none") &&
                            !streq(optarg, "auto"))
                                return -command_usage_error(c, "--relay wants netlink, socket, none or auto, not '%s'",
                                                           optarg);
                        a->relay = optarg;
                        break;
                case ARG_NAME:
                        a->node = optarg;
                        break;
                case ARG_MODE:
                        a->mode = optarg;
                        break;
                case ARG_OWNER:
                        if (parse_number(optarg, UINT32_MAX - 1, &a->owner) < 0)
                                return -command_usage_error(c, "--owner wants a numeric uid of the container, not '%s'",
                                                           optarg);
                        break;
                case ARG_GROUP:
                        if (parse_number(optarg, UINT32_MAX - 1, &a->group) < 0)
                                return -command_usage_error(c, "--group wants a numeric gid of the container, not '%s'",
                                                           optarg);
                        break;
                case ARG_RESET:
                        a->reset = true;
                        break;
                case ARG_NO_DEVICE_CGROUP:
                        a->no_device_cgroup = true;
                        break;
                case ARG_UDEV:
                        a->udev = true;
                        break;
                case ARG_DETACHED:
                        a->detached = true;
                        break;
                default:
                        return -command_option_error(c, opt, argv);
                }

        n_positional = dc->positional[1] ? 2 : dc->positional[0] ? 1 : 0;
        for (unsigned i = 0; i < n_positional && optind < argc; i++)
                a->positional[i] = argv[optind++];
        if (optind < argc)
                return -command_usage_error(c, "unexpected argument '%s'", argv[optind]);
        for (unsigned i = 0; i < dc->n_required; i++)
                if (!a->positional[i])
                        return -command_usage_error(c, "missing %s", dc->positional[i]);
        if ((dc->options & OPT_POLICY) && !a->policy)
                return -command_usage_error(c, "missing --policy POLICY");
        if (dc->pid_required && a->pid < 0)
                return -command_usage_error(c, "missing --pid PID");
        if (a->policy) {
                r = absolute_policy(a->policy, &a->policy_buf);
                if (r < 0) {
                        /* Not r: -ENOENT would read as -DEVSIEVE_EXIT_USAGE. */
                        log_error_errno(r, "Failed to make %s absolute: %m", a->policy);
                        return -EIO;
                }
                if (a->policy_buf)
                        a->policy = a->policy_buf;
        }
        return 1;
}

static json_t *build_request(const struct daemon_command *dc, const struct daemon_args *a) {
        _cleanup_(json_decrefp) json_t *o = json_object();

        if (!o || policy_json_set(o, "command", json_string(dc->request)) < 0)
                return NULL;
        if (a->positional[0] && policy_json_set(o, "name", json_string(a->positional[0])) < 0)
                return NULL;
        if (a->positional[1] && policy_json_set(o, "device", json_string(a->positional[1])) < 0)
                return NULL;
        if ((a->policy && policy_json_set(o, "policy", json_string(a->policy)) < 0) ||
            (a->pid >= 0 && policy_json_set(o, "pid", json_integer(a->pid)) < 0) ||
            (a->relay && policy_json_set(o, "relay", json_string(a->relay)) < 0) ||
            (a->node && policy_json_set(o, "node", json_string(a->node)) < 0) ||
            (a->mode && policy_json_set(o, "mode", json_string(a->mode)) < 0) ||
            (a->owner >= 0 && policy_json_set(o, "uid", json_integer(a->owner)) < 0) ||
            (a->group >= 0 && policy_json_set(o, "gid", json_integer(a->group)) < 0) ||
            (a->reset && policy_json_set(o, "reset", json_true()) < 0) ||
            (a->no_device_cgroup && policy_json_set(o, "device_cgroup", json_false()) < 0) ||
            (a->detached && policy_json_set(o, "detached", json_true()) < 0))
                return NULL;
        return TAKE_PTR(o);
}

static int stream(const struct command *c, struct client *client, const struct daemon_args *a) {
        for (;;) {
                _cleanup_(json_decrefp) json_t *line = NULL;
                int r = client_receive(client, 0, &line);

                if (r < 0)
                        return DEVSIEVE_EXIT_UNREACHABLE;
                if (r == 0) {
                        log_error("devsieved closed the connection.");
                        return DEVSIEVE_EXIT_UNREACHABLE;
                }
                if (a->json) {
                        if (json_dumpf(line, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0)
                                return -EIO;
                        putchar('\n');
                        fflush(stdout);
                } else
                        render_monitor_line(line);
                if (ferror(stdout))
                        return -EIO;
        }
}

static int run(const struct command *c, const struct cli_context *ctx, int argc, char *argv[]) {
        const struct daemon_command *dc = c->data;
        _cleanup_(daemon_args_done) struct daemon_args a = { .pid = -1, .owner = -1, .group = -1 };
        _cleanup_(json_decrefp) json_t *request = NULL, *reply = NULL;
        _cleanup_(client_done) struct client client = { .fd = -EBADF };
        int r;

        r = parse_args(c, argc, argv, &a);
        if (r == -DEVSIEVE_EXIT_USAGE)
                return DEVSIEVE_EXIT_USAGE;
        if (r <= 0)
                return r;
        request = build_request(dc, &a);
        if (!request)
                return log_error_errno(ENOMEM, "Out of memory.");

        if (client_connect(ctx->runtime_dir, &client) < 0)
                return DEVSIEVE_EXIT_UNREACHABLE;
        if (client_send(&client, request) < 0)
                return DEVSIEVE_EXIT_UNREACHABLE;
        r = client_receive(&client, CLIENT_TIMEOUT_SEC, &reply);
        if (r == 0)
                log_error("devsieved closed the connection without a reply.");
        if (r <= 0)
                return r == -EBADMSG ? r : DEVSIEVE_EXIT_UNREACHABLE;

        print_diagnostics(json_object_get(reply, "diagnostics"));
        if (!json_is_true(json_object_get(reply, "ok"))) {
                fprintf(stderr, "devsieve %s: %s\n", c->name, get_string(reply, "error") ?: "the request failed");
                if (a.json)
                        (void) output_json(reply, stdout);
                return DEVSIEVE_EXIT_NEGATIVE;
        }
        if (dc->stream) {
                setvbuf(stdout, NULL, _IOLBF, 0);
                return stream(c, &client, &a);
        }
        if (a.json) {
                r = output_json(reply, stdout);
                return r < 0 ? log_error_errno(r, "Failed to write the output: %m") : DEVSIEVE_EXIT_OK;
        }
        r = dc->render(reply, &a);
        if (r < 0)
                return log_error_errno(r, "Failed to write the output: %m");
        return r;
}

#define OPTIONS_HELP_JSON                                                                                  \
        "      --json           print the daemon's reply as JSON (docs/control-protocol.md)\n" \
        "  -h, --help           show this help\n"

const struct command command_create = {
        .name = "create",
        .summary = "Register a container and serve its /dev and /sys views and /proc files",
        .synopsis = "NAME --policy POLICY [--pid PID] [--relay netlink|socket|none] [--no-device-cgroup]\n"
                    "       [--detached]",
        .options = "      --policy POLICY  an absolute path or ./relative path to a policy file, a built-in\n"
                   "                       name (oci-default), or NAME for NAME.rules in the policy directory\n"
                   "      --pid PID        attach the container's init process right away (see attach)\n"
                   "      --relay MODE     how uevents reach the container: netlink (its network\n"
                   "                       namespace), socket (RUNTIME/containers/NAME/uevent.sock) or\n"
                   "                       none; default: netlink if it has its own netns, else socket\n"
                   "      --no-device-cgroup\n"
                   "                       leave the container's device cgroup to its runtime; by default\n"
                   "                       devsieved allows exactly the visible devices in it\n"
                   "      --detached       mount the /dev, /sys and udev views only in devsieved's own\n"
                   "                       mount namespace, not at RUNTIME/containers/NAME: a runtime\n"
                   "                       gets them as mount trees (what oci-hook does)\n"
                   OPTIONS_HELP_JSON,
        .run = run,
        .data = &(const struct daemon_command){ "create",
                                                OPT_POLICY | OPT_PID | OPT_RELAY | OPT_NO_DEVICE_CGROUP | OPT_DETACHED,
                                                { "NAME" }, 1, false,
                                                render_container, false },
};

const struct command command_attach = {
        .name = "attach",
        .summary = "Tie a container to its init process: id maps, netns and lifetime",
        .synopsis = "NAME --pid PID",
        .options = "      --pid PID        the container's init process, as the host sees it\n" OPTIONS_HELP_JSON,
        .run = run,
        .data = &(const struct daemon_command){ "attach", OPT_PID, { "NAME" }, 1, true, render_container, false },
};

const struct command command_destroy = {
        .name = "destroy",
        .summary = "Unmount a container's views and forget it",
        .synopsis = "NAME",
        .options = OPTIONS_HELP_JSON,
        .run = run,
        .data = &(const struct daemon_command){ "destroy", 0, { "NAME" }, 1, false, render_nothing, false },
};

const struct command command_list = {
        .name = "list",
        .summary = "List the registered containers",
        .synopsis = "[OPTIONS]",
        .options = OPTIONS_HELP_JSON,
        .run = run,
        .data = &(const struct daemon_command){ "list", 0, {}, 0, false, render_list, false },
};

const struct command command_show = {
        .name = "show",
        .summary = "Show the devices a container sees",
        .synopsis = "NAME [--udev]",
        .options = "      --udev           also what the container's udev database (its /run/udev) holds\n"
                   "                       for each device\n" OPTIONS_HELP_JSON,
        .run = run,
        .data = &(const struct daemon_command){ "show", OPT_UDEV, { "NAME" }, 1, false, render_show, false },
};

const struct command command_explain = {
        .name = "explain",
        .summary = "Explain why a container sees a device or not",
        .synopsis = "NAME DEVICE",
        .options = "  DEVICE is /dev/NODE, /sys/PATH, 'b MAJOR:MINOR' or 'c MAJOR:MINOR' (as the host sees it)\n"
                   OPTIONS_HELP_JSON,
        .run = run,
        .data = &(const struct daemon_command){ "explain", 0, { "NAME", "DEVICE" }, 2, false, render_explain, false },
};

const struct command command_add = {
        .name = "add",
        .summary = "Give a container a host device, whatever its policy says",
        .synopsis = "NAME DEVICE [--name PATH] [--mode MODE] [--owner UID] [--group GID]",
        .options = "      --name PATH      the node's path below the container's /dev\n"
                   "      --mode MODE      octal permission bits, e.g. 0660\n"
                   "      --owner UID      owner, a numeric uid as the container sees it\n"
                   "      --group GID      group, a numeric gid as the container sees it\n" OPTIONS_HELP_JSON,
        .run = run,
        .data = &(const struct daemon_command){ "add", OPT_NODE | OPT_MODE | OPT_OWNER | OPT_GROUP,
                                                { "NAME", "DEVICE" }, 2, false, render_device, false },
};

const struct command command_remove = {
        .name = "remove",
        .summary = "Take a host device away from a container, whatever its policy says",
        .synopsis = "NAME DEVICE [--reset]",
        .options = "      --reset          drop the device's runtime override instead: the policy decides again\n"
                   OPTIONS_HELP_JSON,
        .run = run,
        .data = &(const struct daemon_command){ "remove", OPT_RESET, { "NAME", "DEVICE" }, 2, false, render_device,
                                                false },
};

const struct command command_reload = {
        .name = "reload",
        .summary = "Reload one container's policy, or every container's",
        .synopsis = "[NAME]",
        .options = OPTIONS_HELP_JSON,
        .run = run,
        .data = &(const struct daemon_command){ "reload", 0, { "NAME" }, 0, false, render_reload, false },
};

const struct command command_monitor = {
        .name = "monitor",
        .summary = "Follow host events and what each container got of them",
        .synopsis = "[NAME]",
        .options = "      --json           one JSON object per line (docs/control-protocol.md)\n"
                   "  -h, --help           show this help\n",
        .run = run,
        .data = &(const struct daemon_command){ "monitor", 0, { "NAME" }, 0, false, render_nothing, true },
};

const struct command command_status = {
        .name = "status",
        .summary = "Show the daemon's containers, devices, events and memory",
        .synopsis = "[OPTIONS]",
        .options = OPTIONS_HELP_JSON,
        .run = run,
        .data = &(const struct daemon_command){ "status", 0, {}, 0, false, render_status, false },
};
