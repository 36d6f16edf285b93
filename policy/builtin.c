/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy-internal.h"

/* Policies that ship inside the engine, usable as include "NAME". They are
 * rules text like any file, so the one parser checks them. */

static const struct builtin {
        const char *name;
        const char *text;
} builtins[] = {
        {
                .name = "oci-default",
                /* The OCI runtime specification (config-linux.md, "Default
                 * Devices") gives every container these, world-readable and
                 * -writable. TYPE and SUBSYSTEM keep a "null" of some other
                 * subsystem out. */
                .text = "# The default devices of the OCI runtime specification.\n"
                        "allow SUBSYSTEM==\"mem\", KERNEL==\"null|zero|full|random|urandom\", TYPE==\"char\", \\\n"
                        "      MODE=\"0666\"\n"
                        "allow SUBSYSTEM==\"tty\", KERNEL==\"tty\", TYPE==\"char\", MODE=\"0666\"\n",
        },
};

const char *const *policy_builtin_names(void) {
        static const char *const names[ELEMENTSOF(builtins) + 1] = {
                "oci-default",
                NULL,
        };

        return names;
}

const char *policy_builtin_text(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(builtins); i++)
                if (streq(builtins[i].name, name))
                        return builtins[i].text;
        return NULL;
}
