/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "device.h"
#include "macro.h"

/* The policy engine: loads devsieve.rules(5) files and decides, for one
 * device, whether a container sees it and how. Default deny; the last
 * matching allow/deny rule decides; the assignments of every matching allow
 * rule apply in order, later ones overriding earlier ones.
 *
 * No I/O beyond reading the policy files (and, to resolve OWNER/GROUP names,
 * the passwd and group files of the root given at load time). Errors are
 * returned, never printed. A loaded policy is immutable. */

struct policy;
struct policy_rule;

enum policy_verb {
        POLICY_ALLOW,
        POLICY_DENY,
};

enum {
        POLICY_ACCESS_READ = 1 << 0,  /* r */
        POLICY_ACCESS_WRITE = 1 << 1, /* w */
        POLICY_ACCESS_MKNOD = 1 << 2, /* m */
};

/* --- Loading --------------------------------------------------------- */

struct policy_diagnostic {
        bool is_error; /* else a warning */
        char *file;    /* as the user named it (include paths as written) */
        unsigned line, column; /* 1-based; column 0 when the whole file is meant */
        char *message; /* "expected '==' or '!=' after KERNEL", no trailing newline */
};

struct policy_diagnostics {
        struct policy_diagnostic *items;
        size_t n_items;
        size_t n_errors;
};

void policy_diagnostics_done(struct policy_diagnostics *d);
/* "FILE:LINE:COL: error: MESSAGE" (or "warning:"), as compilers print it. */
int policy_diagnostic_format(const struct policy_diagnostic *d, char **ret);

struct policy_load_options {
        /* Resolve OWNER/GROUP names against ROOT/etc/passwd and ROOT/etc/group
         * (a container's root); NULL: the host's databases. */
        const char *root;
        /* An unknown user or group name is an error (true), or a warning and
         * the id falls back to 0 (false: used when attaching a container
         * whose /etc may differ from the host's). */
        bool unknown_names_are_errors;
};

/* Loads PATH and everything it includes. On any error returns -EINVAL,
 * leaves *ret untouched and describes every error found in diags (the
 * caller keeps its old policy). Warnings are added to diags on success too.
 * diags may be NULL. Other negative errnos: the file could not be read at
 * all (also described in diags). */
int policy_load_file(const char *path, const struct policy_load_options *options, struct policy **ret,
                     struct policy_diagnostics *diags);

/* The same for text in memory; name appears in diagnostics and relative
 * includes resolve against dirname(name). */
int policy_load_string(const char *name, const char *text, const struct policy_load_options *options,
                       struct policy **ret, struct policy_diagnostics *diags);

struct policy *policy_free(struct policy *p);
DEFINE_POINTER_CLEANUP(struct policy, policy_free);

/* Names usable in include "NAME" without a file (e.g. "oci-default"),
 * NULL-terminated; and the text of one. */
const char *const *policy_builtin_names(void);
const char *policy_builtin_text(const char *name);

/* Paths given by expose "PATH" statements, in order, NULL-terminated:
 * absolute, normalized, below /sys. */
char *const *policy_exposed_paths(const struct policy *p);

/* Two policies with the same identity (a string, with its length and a
 * hash of it) decide every device alike: the daemon evaluates a device once
 * for all containers that share one. Policies loaded from the same files
 * for the same root have the same identity. */
const char *policy_identity(const struct policy *p, size_t *ret_length, unsigned *ret_hash);

/* How many allow/deny rules the policy has, includes spliced in: the
 * length of every trace. */
size_t policy_n_rules(const struct policy *p);

/* --- Evaluating ------------------------------------------------------ */

struct policy_result {
        bool allowed;
        const struct policy_rule *decided_by; /* NULL: nothing matched, default deny */

        /* The assignments, meaningful when allowed. */
        char *name;          /* NAME: node path relative to /dev; NULL keeps the kernel's */
        char **symlinks;     /* SYMLINK: relative to /dev, NULL-terminated; NULL when none */
        uid_t uid;           /* OWNER as a container id; 0 by default */
        gid_t gid;           /* GROUP as a container id; 0 by default */
        mode_t mode;         /* MODE, permission bits only; 0600 by default */
        unsigned access;     /* ACCESS as POLICY_ACCESS_* bits; rw by default */
        char **writable_attributes; /* WRITABLE_ATTR: sysfs attribute names, NULL-terminated */
};

void policy_result_done(struct policy_result *r);

/* Why one rule did or did not match: for explain output. */
struct policy_trace_entry {
        const struct policy_rule *rule;
        bool matched;
        /* When not matched: the first key that failed, as written in the rule
         * ("KERNEL==\"loop[0-9]*\""), and the device's value for it (NULL
         * when the device has none). Owned by the trace. */
        char *failed_key;
        char *device_value;
};

struct policy_trace {
        struct policy_trace_entry *entries; /* every allow/deny rule, in evaluation order */
        size_t n_entries;
};

void policy_trace_done(struct policy_trace *t);

/* Evaluates every rule against d. trace may be NULL (the fast path). Returns
 * 0, or -ENOMEM. */
int policy_evaluate(const struct policy *p, const struct policy_device *d, struct policy_result *ret,
                    struct policy_trace *trace);

/* --- Rules, for explain output -------------------------------------- */

enum policy_verb policy_rule_verb(const struct policy_rule *r);
const char *policy_rule_file(const struct policy_rule *r);
unsigned policy_rule_line(const struct policy_rule *r);
/* The rule as written, continuation lines joined with single spaces and the
 * comment-free text trimmed: "allow SUBSYSTEM==\"block\", MODE=\"0660\"". */
const char *policy_rule_text(const struct policy_rule *r);
