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
/* "FILE:LINE" of r, as decisions name their rule. */
int policy_rule_location(const struct policy_rule *r, char **ret);

/* --- Many policies at once ------------------------------------------ */

/* A set of policies (a caller's "members", each a policy and a pointer of
 * the caller's) that decides one device for all of them, evaluating it
 * once per distinct set of rules the device can meet instead of once per
 * member: policies built from the same files share most rules, and those
 * that have only shared rules for the device share its decision. A member
 * with no rule for the device at all costs no evaluation. The decisions
 * are those of policy_evaluate() for each member's own policy.
 *
 * Not thread-safe: one thread owns the set and its passes. */
struct policy_set;
struct policy_set_member;
struct policy_set_pass;

struct policy_set_decision {
        struct policy_result result; /* decided_by: a rule of one member's policy, valid while it is */
        char *decided_by;            /* policy_rule_location() of it when allowed, else NULL */
};

int policy_set_new(struct policy_set **ret);
/* Frees the set and any members left. */
struct policy_set *policy_set_free(struct policy_set *s);
DEFINE_POINTER_CLEANUP(struct policy_set, policy_set_free);

/* p must stay alive while it is the member's (see policy_set_member_update). */
int policy_set_add(struct policy_set *s, const struct policy *p, void *userdata, struct policy_set_member **ret);
void policy_set_remove(struct policy_set *s, struct policy_set_member *member);
/* Hands the member another policy with the same identity (the one it had
 * may go away). */
void policy_set_member_update(struct policy_set_member *member, const struct policy *p);
size_t policy_set_n_members(const struct policy_set *s);

/* Decides d for every member. The pass keeps d and the members' policies
 * as they are: free it before any of them changes (policy_set_pass_decision()
 * then fails with -ESTALE). Returns 0 or -ENOMEM; a failed evaluation is
 * kept as the decision's error. */
int policy_set_pass_new(struct policy_set *s, const struct policy_device *d, struct policy_set_pass **ret);
struct policy_set_pass *policy_set_pass_free(struct policy_set_pass *pass);
DEFINE_POINTER_CLEANUP(struct policy_set_pass, policy_set_pass_free);

/* The decision for member (0), or the error of its evaluation. */
int policy_set_pass_decision(const struct policy_set_pass *pass, const struct policy_set_member *member,
                             const struct policy_set_decision **ret);
/* Calls fn with the userdata of each member whose policy allows the device,
 * or whose evaluation failed, once each, in no order. */
void policy_set_pass_foreach_allowed(const struct policy_set_pass *pass, void (*fn)(void *member_userdata, void *data),
                                     void *data);
/* How many evaluations the pass made. */
size_t policy_set_pass_n_evaluations(const struct policy_set_pass *pass);
