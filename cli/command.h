/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

#include "macro.h"

/* The exit statuses of devsieve(1), the same for every command. */
enum {
        DEVSIEVE_EXIT_OK = 0,
        DEVSIEVE_EXIT_NEGATIVE = 1,    /* the command ran and the answer is "no": an invalid policy, a hidden device */
        DEVSIEVE_EXIT_USAGE = 2,       /* bad command line */
        DEVSIEVE_EXIT_UNREACHABLE = 3, /* devsieved could not be reached */
        DEVSIEVE_EXIT_RUNTIME = 4,     /* anything else went wrong: no such device, unreadable file, no memory */
};

/* What the global options say, for every command. */
struct cli_context {
        const char *runtime_dir; /* --runtime-dir, $DEVSIEVE_RUNTIME_DIR, or the default */
};

/* One subcommand. Adding a command is one file defining a struct command,
 * one extern line below and one line in the table in devsieve.c. */
struct command {
        const char *name;
        const char *summary;  /* one line for "devsieve --help" */
        const char *synopsis; /* what follows "devsieve NAME" in the usage line */
        const char *options;  /* the option list of "devsieve NAME --help", one per line */
        /* argv[0] is the command's name and getopt is reset. Returns an exit
         * status, or a negative errno, already logged, that becomes
         * DEVSIEVE_EXIT_RUNTIME. */
        int (*run)(const struct command *c, const struct cli_context *ctx, int argc, char *argv[]);
        const void *data; /* the command's own description, for commands sharing one run() */
};

extern const struct command command_check;
/* The OCI runtime hook (oci-hook.c). */
extern const struct command command_oci_hook;
/* The CDI spec writer (cdi.c). */
extern const struct command command_cdi;
/* Commands that talk to devsieved (daemon-commands.c). */
extern const struct command command_create, command_attach, command_destroy, command_list, command_show,
        command_explain, command_add, command_remove, command_reload, command_monitor, command_status;
/* upgrade.c */
extern const struct command command_upgrade;

void command_help(const struct command *c, FILE *f);

/* Prints "devsieve NAME: MESSAGE" and a pointer to --help on stderr.
 * Returns DEVSIEVE_EXIT_USAGE. c may be NULL for the global options. */
int command_usage_error(const struct command *c, const char *format, ...) _printf_(2, 3);

/* Explains what getopt_long() complained about when it returned '?' or ':'
 * (the optstring must start with ':', after "+" if any). Returns
 * DEVSIEVE_EXIT_USAGE. */
int command_option_error(const struct command *c, int opt, char *argv[]);
