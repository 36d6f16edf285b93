/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <libudev.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "command.h"
#include "device-spec.h"
#include "log.h"
#include "output.h"
#include "policy/adapters/policy-json.h"
#include "policy/adapters/udev-device.h"
#include "policy/policy.h"

/* devsieve check: the policy engine against the host's real devices, with
 * no daemon involved. */

DEFINE_POINTER_CLEANUP(struct udev, udev_unref);
DEFINE_POINTER_CLEANUP(struct udev_device, udev_device_unref);
DEFINE_POINTER_CLEANUP(struct udev_enumerate, udev_enumerate_unref);

struct check_args {
        const char *policy;
        const char *device;
        const char *root;
        bool all;
        bool json;
};

static int oom(void) {
        return log_error_errno(-ENOMEM, "Out of memory.");
}

/* Returns 1 to go on, 0 when --help was shown, or an exit status through
 * *exit_status on a usage error (then -EINVAL). */
static int parse_args(const struct command *c, int argc, char *argv[], struct check_args *a, int *exit_status) {
        enum { ARG_JSON = 0x100, ARG_ROOT };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "device", required_argument, NULL, 'd' },
                { "all", no_argument, NULL, 'a' },
                { "json", no_argument, NULL, ARG_JSON },
                { "root", required_argument, NULL, ARG_ROOT },
                {},
        };
        int opt;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":hd:a", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        command_help(c, stdout);
                        return 0;
                case 'd':
                        if (a->device) {
                                *exit_status = command_usage_error(c, "--device given more than once");
                                return -EINVAL;
                        }
                        a->device = optarg;
                        break;
                case 'a':
                        a->all = true;
                        break;
                case ARG_JSON:
                        a->json = true;
                        break;
                case ARG_ROOT:
                        a->root = optarg;
                        break;
                default:
                        *exit_status = command_option_error(c, opt, argv);
                        return -EINVAL;
                }

        if (a->device && a->all) {
                *exit_status = command_usage_error(c, "--device and --all exclude each other");
                return -EINVAL;
        }
        if (optind >= argc) {
                *exit_status = command_usage_error(c, "missing POLICY");
                return -EINVAL;
        }
        if (optind + 1 < argc) {
                *exit_status = command_usage_error(c, "unexpected argument '%s'", argv[optind + 1]);
                return -EINVAL;
        }
        a->policy = argv[optind];
        return 1;
}

static int print_diagnostics(const struct policy_diagnostics *diags) {
        for (size_t i = 0; i < diags->n_items; i++) {
                _cleanup_free_ char *line = NULL;
                int r;

                r = policy_diagnostic_format(&diags->items[i], &line);
                if (r < 0)
                        return log_error_errno(r, "Failed to format a diagnostic: %m");
                fprintf(stderr, "%s\n", line);
        }
        return 0;
}

/* The --json report of a load: whether it worked and every diagnostic. */
static int print_validation_json(const char *path, bool valid, size_t n_rules, const struct policy_diagnostics *diags) {
        _cleanup_(json_decrefp) json_t *o = json_object();
        json_t *list = NULL;
        int r;

        if (!o)
                return oom();
        r = policy_json_diagnostics(diags, &list);
        if (r < 0)
                return oom();
        if (json_object_set_new(o, "policy", json_string(path)) < 0 ||
            json_object_set_new(o, "valid", json_boolean(valid)) < 0 ||
            json_object_set_new(o, "rules", valid ? json_integer((json_int_t) n_rules) : json_null()) < 0 ||
            json_object_set_new(o, "diagnostics", list) < 0)
                return oom();
        r = output_json(o, stdout);
        if (r < 0)
                return log_error_errno(r, "Failed to write the output: %m");
        return 0;
}

static int load_policy(const struct check_args *a, struct policy **ret, struct policy_diagnostics *diags) {
        const struct policy_load_options options = {
                .root = a->root,
                .unknown_names_are_errors = true,
        };
        int r, k;

        r = policy_load_file(a->policy, &options, ret, diags);
        k = print_diagnostics(diags);
        if (k < 0)
                return k;
        if (r >= 0)
                return 0;

        if (a->json) {
                k = print_validation_json(a->policy, false, 0, diags);
                if (k < 0)
                        return k;
        }
        /* -EINVAL: the policy is wrong, and the diagnostics say where. */
        if (r == -EINVAL)
                return DEVSIEVE_EXIT_NEGATIVE;
        if (diags->n_items == 0)
                return log_error_errno(r, "Failed to load %s: %m", a->policy);
        return r;
}

/* The device of a DEVICE argument. Returns 0, DEVSIEVE_EXIT_USAGE or a
 * negative errno; every error names the argument. */
static int find_device(struct udev *udev, const struct command *c, const char *arg, struct udev_device **ret) {
        struct udev_device *d = NULL;
        struct device_spec spec;
        struct stat st;
        int r;

        r = device_spec_parse(arg, &spec);
        if (r == -ERANGE)
                return command_usage_error(c, "device number out of range: '%s'", arg);
        if (r < 0)
                return command_usage_error(c,
                                           "invalid device '%s': expected /dev/NODE, /sys/PATH, 'b MAJOR:MINOR' "
                                           "or 'c MAJOR:MINOR'",
                                           arg);

        switch (spec.kind) {
        case DEVICE_SPEC_NODE:
                if (stat(spec.path, &st) < 0) {
                        r = negative_errno();
                        if (r == -ENOENT)
                                return log_error_errno(r, "no such device: %s", arg);
                        return log_error_errno(r, "Failed to stat %s: %m", arg);
                }
                if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
                        return log_error_errno(-ENOTBLK, "not a device node: %s", arg);
                errno = 0;
                d = udev_device_new_from_devnum(udev, S_ISBLK(st.st_mode) ? 'b' : 'c', st.st_rdev);
                if (!d)
                        return log_error_errno(negative_errno(), "no such device: %s (%c %u:%u is not in sysfs)", arg,
                                               S_ISBLK(st.st_mode) ? 'b' : 'c', major(st.st_rdev), minor(st.st_rdev));
                break;

        case DEVICE_SPEC_SYSPATH: {
                _cleanup_free_ char *resolved = realpath(spec.path, NULL);

                if (!resolved) {
                        r = negative_errno();
                        if (r == -ENOENT)
                                return log_error_errno(r, "no such device: %s", arg);
                        return log_error_errno(r, "Failed to resolve %s: %m", arg);
                }
                /* libudev would also take /sys/module/... or /sys/class/block
                 * itself as "devices"; the policy only ever sees real ones. */
                if (!startswith(resolved, "/sys/devices/"))
                        return log_error_errno(-ENODEV, "not a device: %s (%s is not below /sys/devices)", arg,
                                               resolved);
                errno = 0;
                d = udev_device_new_from_syspath(udev, resolved);
                if (!d)
                        return log_error_errno(negative_errno(), "not a device: %s", arg);
                break;
        }

        case DEVICE_SPEC_DEVNUM:
                errno = 0;
                d = udev_device_new_from_devnum(udev, spec.type, makedev(spec.major, spec.minor));
                if (!d)
                        return log_error_errno(negative_errno(), "no such device: %s", arg);
                break;
        }

        *ret = d;
        return 0;
}

static int explain_device(const struct check_args *a, const struct command *c, const struct policy *p) {
        _cleanup_(udev_unrefp) struct udev *udev = udev_new();
        _cleanup_(udev_device_unrefp) struct udev_device *d = NULL;
        _cleanup_(policy_udev_device_freep) struct policy_udev_device *pd = NULL;
        _cleanup_(policy_result_done) struct policy_result result = {};
        _cleanup_(policy_trace_done) struct policy_trace trace = {};
        _cleanup_(json_decrefp) json_t *explanation = NULL;
        int r;

        if (!udev)
                return oom();
        r = find_device(udev, c, a->device, &d);
        if (r != 0)
                return r;

        r = policy_udev_device_new(d, &pd);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", a->device);
        r = policy_evaluate(p, policy_udev_device_get(pd), &result, &trace);
        if (r < 0)
                return log_error_errno(r, "Failed to evaluate %s: %m", a->device);
        r = policy_json_explanation(policy_udev_device_get(pd), &result, &trace, &explanation);
        if (r < 0)
                return oom();

        r = a->json ? output_json(explanation, stdout) : output_explanation(explanation, stdout);
        if (r < 0)
                return log_error_errno(r, "Failed to write the output: %m");
        return result.allowed ? DEVSIEVE_EXIT_OK : DEVSIEVE_EXIT_NEGATIVE;
}

static int compare_rows(const void *x, const void *y) {
        json_t *a = *(json_t *const *) x, *b = *(json_t *const *) y;
        const char *pa = json_string_value(json_object_get(a, "path"));
        const char *pb = json_string_value(json_object_get(b, "path"));

        /* Devices without a node go last, in devpath order. */
        if (pa && pb) {
                int k = strcmp(pa, pb);
                if (k != 0)
                        return k;
        } else if (pa || pb)
                return pa ? -1 : 1;
        return strcmp(strempty(json_string_value(json_object_get(a, "devpath"))),
                      strempty(json_string_value(json_object_get(b, "devpath"))));
}

/* The row of one enumerated device, or NULL when the policy hides it or it
 * went away meanwhile. */
static int visible_row(struct udev *udev, const struct policy *p, const char *syspath, json_t **ret) {
        _cleanup_(udev_device_unrefp) struct udev_device *d = NULL;
        _cleanup_(policy_udev_device_freep) struct policy_udev_device *pd = NULL;
        _cleanup_(policy_result_done) struct policy_result result = {};
        int r;

        *ret = NULL;
        errno = 0;
        d = udev_device_new_from_syspath(udev, syspath);
        if (!d) {
                r = negative_errno();
                if (r == -ENOENT || r == -ENODEV)
                        return 0;
                return log_error_errno(r, "Failed to read %s: %m", syspath);
        }

        r = policy_udev_device_new(d, &pd);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", syspath);
        r = policy_evaluate(p, policy_udev_device_get(pd), &result, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to evaluate %s: %m", syspath);
        if (!result.allowed)
                return 0;
        r = policy_json_row(policy_udev_device_get(pd), &result, ret);
        if (r < 0)
                return oom();
        return 0;
}

static int list_visible(const struct check_args *a, const struct policy *p) {
        _cleanup_(udev_unrefp) struct udev *udev = udev_new();
        _cleanup_(udev_enumerate_unrefp) struct udev_enumerate *e = NULL;
        _cleanup_(json_decrefp) json_t *rows = json_array(), *sorted = json_array();
        _cleanup_free_ json_t **order = NULL;
        struct udev_list_entry *entry;
        size_t n = 0, i;
        json_t *row;
        int r;

        if (!udev || !rows || !sorted)
                return oom();
        e = udev_enumerate_new(udev);
        if (!e)
                return oom();
        r = udev_enumerate_scan_devices(e);
        if (r < 0)
                return log_error_errno(r, "Failed to enumerate the host's devices: %m");

        udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e)) {
                r = visible_row(udev, p, udev_list_entry_get_name(entry), &row);
                if (r < 0)
                        return r;
                if (row && json_array_append_new(rows, row) < 0)
                        return oom();
        }

        n = json_array_size(rows);
        order = calloc(n ?: 1, sizeof(json_t *));
        if (!order)
                return oom();
        json_array_foreach(rows, i, row)
                order[i] = row;
        qsort(order, n, sizeof(json_t *), compare_rows);
        for (i = 0; i < n; i++)
                if (json_array_append(sorted, order[i]) < 0)
                        return oom();

        r = a->json ? output_json(sorted, stdout) : output_device_table(sorted, stdout);
        if (r < 0)
                return log_error_errno(r, "Failed to write the output: %m");
        return DEVSIEVE_EXIT_OK;
}

static int run(const struct command *c, const struct cli_context *ctx, int argc, char *argv[]) {
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        _cleanup_(policy_freep) struct policy *p = NULL;
        struct check_args a = {};
        size_t n_rules;
        int r, status;

        r = parse_args(c, argc, argv, &a, &status);
        if (r < 0)
                return status;
        if (r == 0)
                return DEVSIEVE_EXIT_OK;

        r = load_policy(&a, &p, &diags);
        if (r != 0)
                return r;

        if (a.device)
                return explain_device(&a, c, p);
        if (a.all)
                return list_visible(&a, p);

        n_rules = policy_n_rules(p);
        if (a.json) {
                r = print_validation_json(a.policy, true, n_rules, &diags);
                if (r < 0)
                        return r;
        } else
                printf("%s: OK (%zu rule%s)\n", a.policy, n_rules, n_rules == 1 ? "" : "s");
        return DEVSIEVE_EXIT_OK;
}

const struct command command_check = {
        .name = "check",
        .summary = "Validate a policy, or show what it makes of the host's devices",
        .synopsis = "[OPTIONS] POLICY",
        .options = "  -d, --device DEVICE  explain the decision for one host device: /dev/NODE,\n"
                   "                       /sys/PATH, 'b MAJOR:MINOR' or 'c MAJOR:MINOR'\n"
                   "  -a, --all            list every host device the policy makes visible\n"
                   "      --json           print JSON instead of text\n"
                   "      --root DIR       resolve OWNER and GROUP names in DIR/etc/passwd and\n"
                   "                       DIR/etc/group (a container's root) instead of the host's\n"
                   "  -h, --help           show this help\n",
        .run = run,
};
