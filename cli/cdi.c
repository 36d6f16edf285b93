/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* devsieve cdi: a Container Device Interface spec with one device per
 * policy in the policy directory, kind devsieve.io/policy. A device's
 * containerEdits are the OCI hook, so `podman run --device
 * devsieve.io/policy=NAME` (and CRI-O, containerd, Docker) give the
 * container devsieve's views under policy NAME. cdiVersion 0.5.0 is the
 * newest podman 4.3 accepts; later CDI versions read it too. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command.h"
#include "fileio.h"
#include "log.h"
#include "strv.h"

#define CDI_VERSION "0.5.0"
#define CDI_KIND "devsieve.io/policy"

struct cdi_args {
        const char *policy_dir, *output, *hook;
};

static int parse_args(const struct command *c, int argc, char *argv[], struct cdi_args *a) {
        enum { ARG_POLICY_DIR = 0x100, ARG_OUTPUT, ARG_HOOK };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "policy-dir", required_argument, NULL, ARG_POLICY_DIR },
                { "output", required_argument, NULL, ARG_OUTPUT },
                { "hook", required_argument, NULL, ARG_HOOK },
                {},
        };
        int opt;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        command_help(c, stdout);
                        return 0;
                case ARG_POLICY_DIR:
                        a->policy_dir = optarg;
                        break;
                case ARG_OUTPUT:
                        a->output = optarg;
                        break;
                case ARG_HOOK:
                        if (optarg[0] != '/')
                                return -command_usage_error(c, "--hook wants an absolute path, not '%s'", optarg);
                        a->hook = optarg;
                        break;
                default:
                        return -command_option_error(c, opt, argv);
                }
        if (optind < argc)
                return -command_usage_error(c, "unexpected argument '%s'", argv[optind]);
        return 1;
}

/* CDI's rule for a device name. */
static bool cdi_name_ok(const char *name, size_t n) {
        if (n == 0 || !isalnum((unsigned char) name[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) name[i]) && !strchr("_.:-", name[i]))
                        return false;
        return true;
}

static int rules_filter(const struct dirent *de) {
        const char *dot = strrchr(de->d_name, '.');
        return dot && streq(dot, ".rules") && de->d_name[0] != '.';
}

/* The policy names in dir, sorted; a name CDI cannot carry is skipped with
 * a warning. */
static int list_policies(const char *dir, char ***ret) {
        _cleanup_strv_free_ char **names = NULL;
        struct dirent **entries = NULL;
        int n, r = 0;

        n = scandir(dir, &entries, rules_filter, alphasort);
        if (n < 0)
                return log_error_errno(errno, "Cannot list the policy directory %s: %m", dir);
        for (int i = 0; i < n; i++) {
                size_t len = strlen(entries[i]->d_name) - strlen(".rules");

                if (r >= 0 && !cdi_name_ok(entries[i]->d_name, len))
                        log_warning("%s/%s: skipped: a CDI device name is letters, digits and '_.:-', starting "
                                    "with a letter or digit.",
                                    dir, entries[i]->d_name);
                else if (r >= 0)
                        r = strv_consume(&names, strndup(entries[i]->d_name, len));
                free(entries[i]);
        }
        free(entries);
        if (r < 0)
                return log_error_errno(r, "Out of memory.");
        if (strv_length(names) == 0)
                return log_error_errno(ENOENT, "No policies (NAME.rules) in %s: the spec would have no devices.",
                                       dir);
        *ret = TAKE_PTR(names);
        return 0;
}

/* A YAML double-quoted scalar: JSON's string escapes are YAML's too. */
static int put_string(FILE *f, const char *s) {
        _cleanup_(json_decrefp) json_t *j = json_string(s);
        return j && json_dumpf(j, f, JSON_ENCODE_ANY) == 0 ? 0 : -ENOMEM;
}

static int put_hook(FILE *f, const char *stage, const char *hook, const char *runtime_dir, const char *policy) {
        const char *args[] = { "devsieve", "--runtime-dir", runtime_dir, "oci-hook", "--policy", policy, stage };
        int r;

        fprintf(f, "        - hookName: %s\n          path: ", stage);
        r = put_string(f, hook);
        fputs("\n          args: [", f);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(args); i++) {
                /* The default runtime directory goes unsaid. */
                if (!runtime_dir && (i == 1 || i == 2))
                        continue;
                if (streq(stage, "poststop") && i >= 4 && i <= 5)
                        continue;
                fputs(i ? ", " : "", f);
                r = put_string(f, args[i]);
        }
        fputs("]\n", f);
        return r;
}

static int write_spec(FILE *f, const struct cdi_args *a, const char *runtime_dir, char **names) {
        int r = 0;

        fprintf(f,
                "# Written by devsieve cdi from %s: one device per policy. Regenerate it\n"
                "# when policies are added or removed. See devsieve(1).\n"
                "cdiVersion: \"" CDI_VERSION "\"\n"
                "kind: \"" CDI_KIND "\"\n"
                "devices:\n",
                a->policy_dir);
        STRV_FOREACH(n, names) {
                fputs("  - name: ", f);
                r = put_string(f, *n);
                fputs("\n    containerEdits:\n      hooks:\n", f);
                if (r >= 0)
                        r = put_hook(f, "createRuntime", a->hook, runtime_dir, *n);
                if (r >= 0)
                        r = put_hook(f, "poststop", a->hook, runtime_dir, *n);
                if (r < 0)
                        return r;
        }
        return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}

/* Written next to the target and renamed: a runtime never reads half. */
static int write_output(const struct cdi_args *a, const char *runtime_dir, char **names) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        int fd, r;

        if (!a->output)
                return write_spec(stdout, a, runtime_dir, names);
        if (asprintf(&tmp, "%s.XXXXXX", a->output) < 0)
                return log_error_errno(ENOMEM, "Out of memory.");
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Cannot create a file next to %s: %m", a->output);
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                close(fd);
                (void) unlink(tmp);
                return log_error_errno(r, "Cannot write %s: %m", tmp);
        }
        r = write_spec(f, a, runtime_dir, names);
        if (r >= 0 && fchmod(fd, 0644) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, a->output) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return log_error_errno(r, "Cannot write %s: %m", a->output);
        }
        return 0;
}

static int run(const struct command *c, const struct cli_context *ctx, int argc, char *argv[]) {
        struct cdi_args a = { .policy_dir = DEFAULT_POLICY_DIR };
        _cleanup_free_ char *self = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = parse_args(c, argc, argv, &a);
        if (r == -DEVSIEVE_EXIT_USAGE)
                return DEVSIEVE_EXIT_USAGE;
        if (r <= 0)
                return r;
        if (!a.hook) {
                self = realpath("/proc/self/exe", NULL);
                if (!self)
                        return log_error_errno(errno, "Cannot tell where devsieve is: %m; pass --hook.");
                a.hook = self;
        }
        r = list_policies(a.policy_dir, &names);
        if (r < 0)
                return r;
        r = write_output(&a, streq(ctx->runtime_dir, DEFAULT_RUNTIME_DIR) ? NULL : ctx->runtime_dir, names);
        return r < 0 ? r : DEVSIEVE_EXIT_OK;
}

const struct command command_cdi = {
        .name = "cdi",
        .summary = "Write a CDI spec: one device per policy, kind " CDI_KIND,
        .synopsis = "[--policy-dir DIR] [--output FILE] [--hook PATH]",
        .options = "      --policy-dir DIR  where the policies (NAME.rules) are (default: " DEFAULT_POLICY_DIR ")\n"
                   "      --output FILE     write the spec there, e.g. /etc/cdi/devsieve.yaml (default: stdout)\n"
                   "      --hook PATH       the devsieve the runtime runs as the hook (default: this one)\n"
                   "  -h, --help            show this help\n"
                   "  The hooks carry --runtime-dir when it is not the default.\n",
        .run = run,
};
