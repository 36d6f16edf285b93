/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>

#include "command.h"
#include "log.h"

static const struct command *const commands[] = {
        &command_create, &command_attach, &command_destroy, &command_list,   &command_show,   &command_explain,
        &command_add,    &command_remove, &command_reload,  &command_monitor, &command_status, &command_upgrade,
        &command_check,  &command_oci_hook, &command_cdi,
};

static void help(FILE *f) {
        fprintf(f,
                "Usage: devsieve [--runtime-dir DIR] [--help] [--version] COMMAND [ARGS...]\n"
                "\n"
                "Give each container a /dev and /sys with only the host devices its policy allows.\n"
                "\n"
                "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  %-9s %s\n", commands[i]->name, commands[i]->summary);
        fprintf(f,
                "\n"
                "Options:\n"
                "      --runtime-dir DIR  where devsieved's control socket is (default:\n"
                "                         $DEVSIEVE_RUNTIME_DIR, else %s)\n"
                "  -h, --help             show this help\n"
                "      --version          show the version\n"
                "\n"
                "Run 'devsieve COMMAND --help' for the options of a command. See devsieve(1).\n",
                DEFAULT_RUNTIME_DIR);
}

static const struct command *find_command(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(commands[i]->name, name))
                        return commands[i];
        return NULL;
}

int main(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_RUNTIME_DIR };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "runtime-dir", required_argument, NULL, ARG_RUNTIME_DIR },
                {},
        };
        struct cli_context ctx = { .runtime_dir = getenv("DEVSIEVE_RUNTIME_DIR") };
        const struct command *c;
        int opt, r;

        log_set_prefix("devsieve");
        log_set_priority_prefix(false);

        /* "+": the global options end at the command's name; the command
         * parses the rest itself. */
        opterr = 0;
        while ((opt = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        help(stdout);
                        return DEVSIEVE_EXIT_OK;
                case ARG_VERSION:
                        printf("devsieve %s\n", PACKAGE_VERSION);
                        return DEVSIEVE_EXIT_OK;
                case ARG_RUNTIME_DIR:
                        ctx.runtime_dir = optarg;
                        break;
                default:
                        return command_option_error(NULL, opt, argv);
                }

        if (!ctx.runtime_dir || !*ctx.runtime_dir)
                ctx.runtime_dir = DEFAULT_RUNTIME_DIR;
        if (optind >= argc)
                return command_usage_error(NULL, "missing command");
        c = find_command(argv[optind]);
        if (!c)
                return command_usage_error(NULL, "unknown command '%s'", argv[optind]);

        argc -= optind;
        argv += optind;
        /* 0, not 1: makes glibc's getopt forget everything about the first scan. */
        optind = 0;
        r = c->run(c, &ctx, argc, argv);
        return r < 0 ? DEVSIEVE_EXIT_RUNTIME : r;
}
