/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdarg.h>

#include "command.h"

void command_help(const struct command *c, FILE *f) {
        fprintf(f, "Usage: devsieve %s %s\n\n%s.\n", c->name, c->synopsis, c->summary);
        if (c->options)
                fprintf(f, "\nOptions:\n%s", c->options);
        fprintf(f, "\nSee devsieve(1).\n");
}

int command_usage_error(const struct command *c, const char *format, ...) {
        va_list ap;

        fprintf(stderr, "devsieve%s%s: ", c ? " " : "", c ? c->name : "");
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fprintf(stderr, "\nTry 'devsieve%s%s --help'.\n", c ? " " : "", c ? c->name : "");
        return DEVSIEVE_EXIT_USAGE;
}

int command_option_error(const struct command *c, int opt, char *argv[]) {
        /* For a long option getopt leaves only optind, just past the word it
         * was parsing; for a short one optopt is the letter. */
        const char *word = optind > 0 ? argv[optind - 1] : "";
        size_t n = strcspn(word, "=");

        if (opt == ':') {
                if (startswith(word, "--"))
                        return command_usage_error(c, "option '%.*s' requires an argument", (int) n, word);
                return command_usage_error(c, "option '-%c' requires an argument", optopt);
        }
        if (optopt != 0)
                return command_usage_error(c, "unknown option '-%c'", optopt);
        return command_usage_error(c, "unknown option '%.*s'", (int) n, word);
}
