/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy-internal.h"

/* The keys of devsieve.rules(5) and the operators each accepts. */

#define MATCH_OPS (OP_MATCH | OP_NOMATCH)

static const struct policy_key_info keys[] = {
        { "SUBSYSTEM", KEY_SUBSYSTEM, MATCH_OPS },
        { "KERNEL", KEY_KERNEL, MATCH_OPS },
        { "DEVTYPE", KEY_DEVTYPE, MATCH_OPS },
        { "DRIVER", KEY_DRIVER, MATCH_OPS },
        { "DEVPATH", KEY_DEVPATH, MATCH_OPS },
        { "DEVNAME", KEY_DEVNAME, MATCH_OPS },
        { "TYPE", KEY_TYPE, MATCH_OPS },
        { "MAJOR", KEY_MAJOR, MATCH_OPS },
        { "MINOR", KEY_MINOR, MATCH_OPS },
        { "ATTR", KEY_ATTR, MATCH_OPS, .argument = true },
        { "ENV", KEY_ENV, MATCH_OPS, .argument = true },
        { "SUBSYSTEMS", KEY_SUBSYSTEMS, MATCH_OPS, .ancestor = true },
        { "KERNELS", KEY_KERNELS, MATCH_OPS, .ancestor = true },
        { "DRIVERS", KEY_DRIVERS, MATCH_OPS, .ancestor = true },
        { "ATTRS", KEY_ATTRS, MATCH_OPS, .argument = true, .ancestor = true },
        { "NAME", KEY_NAME, OP_ASSIGN, .assignment = true, .once = true },
        { "SYMLINK", KEY_SYMLINK, OP_ASSIGN | OP_ADD, .assignment = true },
        { "MODE", KEY_MODE, OP_ASSIGN, .assignment = true, .once = true },
        { "OWNER", KEY_OWNER, OP_ASSIGN, .assignment = true, .once = true },
        { "GROUP", KEY_GROUP, OP_ASSIGN, .assignment = true, .once = true },
        { "ACCESS", KEY_ACCESS, OP_ASSIGN, .assignment = true, .once = true },
        { "WRITABLE_ATTR", KEY_WRITABLE_ATTR, OP_ADD, .assignment = true },
};

const struct policy_key_info *policy_key_lookup(const char *name, size_t length) {
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (strlen(keys[i].name) == length && memcmp(keys[i].name, name, length) == 0)
                        return &keys[i];
        return NULL;
}

enum policy_op policy_op_from_string(const char *s, size_t length) {
        static const struct {
                const char *text;
                enum policy_op op;
        } ops[] = {
                { "==", OP_MATCH },
                { "!=", OP_NOMATCH },
                { "=", OP_ASSIGN },
                { "+=", OP_ADD },
        };

        for (size_t i = 0; i < ELEMENTSOF(ops); i++)
                if (strlen(ops[i].text) == length && memcmp(ops[i].text, s, length) == 0)
                        return ops[i].op;
        return 0;
}

const char *policy_ops_describe(unsigned ops) {
        switch (ops) {
        case OP_MATCH | OP_NOMATCH:
                return "'==' or '!='";
        case OP_ASSIGN | OP_ADD:
                return "'=' or '+='";
        case OP_ASSIGN:
                return "'='";
        case OP_ADD:
                return "'+='";
        default:
                return "an operator";
        }
}
