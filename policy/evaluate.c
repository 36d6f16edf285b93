/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy-internal.h"
#include "strv.h"

/* Deciding for one device. The daemon runs this for every device of every
 * container on each change, so the path without a trace allocates nothing
 * but the result's own strings. */

static const char *format_number(unsigned n, char buf[static 16]) {
        char *p = buf + 15;

        *p = '\0';
        do {
                *--p = (char) ('0' + n % 10);
                n /= 10;
        } while (n > 0);
        return p;
}

static bool has_node(const struct policy_device *d) {
        return d->type == 'c' || d->type == 'b';
}

/* d's value for the key of m, NULL when it has none. buf holds numbers. */
static const char *device_value(const struct policy_device *d, const struct policy_match *m, char buf[static 16]) {
        switch (m->key) {
        case KEY_SUBSYSTEM:
        case KEY_SUBSYSTEMS:
                return d->subsystem;
        case KEY_KERNEL:
        case KEY_KERNELS:
                return d->sysname;
        case KEY_DEVTYPE:
                return d->devtype;
        case KEY_DRIVER:
        case KEY_DRIVERS:
                return d->driver;
        case KEY_DEVPATH:
                return d->devpath;
        case KEY_DEVNAME:
                return d->devname;
        case KEY_TYPE:
                return d->type == 'c' ? "char" : d->type == 'b' ? "block" : NULL;
        case KEY_MAJOR:
                return has_node(d) ? format_number(d->major, buf) : NULL;
        case KEY_MINOR:
                return has_node(d) ? format_number(d->minor, buf) : NULL;
        case KEY_ATTR:
        case KEY_ATTRS:
                return d->attribute ? d->attribute(d, m->argument) : NULL;
        case KEY_ENV:
                return d->property ? d->property(d, m->argument) : NULL;
        default:
                return NULL;
        }
}

/* A missing value compares as "", so that DRIVER=="" finds unbound devices;
 * != is the exact negation of ==. */
static bool key_matches(const struct policy_device *d, const struct policy_match *m) {
        char buf[16];
        const char *v = device_value(d, m, buf);

        return policy_pattern_match(&m->pattern, strempty(v)) != m->negate;
}

/* As in udev, all ancestor keys of a rule must hold on one and the same
 * device: the device itself or one of its parents. */
static bool ancestors_match(const struct policy_rule *rule, const struct policy_device *d) {
        for (const struct policy_device *a = d; a; a = a->parent) {
                size_t i;

                for (i = 0; i < rule->n_ancestor_matches; i++)
                        if (!key_matches(a, &rule->ancestor_matches[i]))
                                break;
                if (i == rule->n_ancestor_matches)
                        return true;
        }
        return false;
}

static int trace_failure(struct policy_trace_entry *e, const struct policy_device *d, const struct policy_match *m) {
        char buf[16];
        const char *v = device_value(d, m, buf);

        e->failed_key = strdup(m->text);
        if (!e->failed_key)
                return -ENOMEM;
        if (v) {
                e->device_value = strdup(v);
                if (!e->device_value)
                        return -ENOMEM;
        }
        return 0;
}

/* Returns 1 when rule matches d, 0 when not, -ENOMEM (only with e). */
static int rule_matches(const struct policy_rule *rule, const struct policy_device *d, struct policy_trace_entry *e) {
        if (e)
                e->rule = rule;

        for (size_t i = 0; i < rule->n_matches; i++)
                if (!key_matches(d, &rule->matches[i]))
                        return e ? trace_failure(e, d, &rule->matches[i]) : 0;

        if (rule->n_ancestor_matches > 0 && !ancestors_match(rule, d)) {
                if (!e)
                        return 0;
                /* No device of the chain had them all; show what the device
                 * itself has for the first key it fails. */
                for (size_t i = 0; i < rule->n_ancestor_matches; i++)
                        if (!key_matches(d, &rule->ancestor_matches[i]))
                                return trace_failure(e, d, &rule->ancestor_matches[i]);
                return trace_failure(e, d, &rule->ancestor_matches[0]);
        }

        if (e)
                e->matched = true;
        return 1;
}

/* rule_matches() without a trace, through memo when there is one (the
 * rule l returned last). */
static int rule_matches_fast(const struct policy_rule *rule, const struct policy_rule_lists *l,
                             const struct policy_device *d, uint8_t *memo) {
        uint8_t *m;

        if (!memo)
                return rule_matches(rule, d, NULL);
        m = &memo[l->last_id];
        if (*m == 0)
                *m = (uint8_t) (1 + rule_matches(rule, d, NULL));
        return *m - 1;
}

/* Appends the items not already in *l: two rules adding the same symlink
 * mean one symlink. */
static int append_unique(char ***l, char *const *items) {
        STRV_FOREACH(i, items) {
                int r;

                if (strv_contains(*l, *i))
                        continue;
                r = strv_extend(l, *i);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply(const struct policy_rule *rule, struct policy_result *res, const char **name) {
        for (size_t i = 0; i < rule->n_assignments; i++) {
                const struct policy_assignment *a = &rule->assignments[i];
                int r = 0;

                switch (a->key) {
                case KEY_NAME:
                        *name = a->string;
                        break;
                case KEY_SYMLINK:
                        if (a->op == OP_ASSIGN)
                                res->symlinks = strv_free(res->symlinks);
                        r = append_unique(&res->symlinks, a->list);
                        break;
                case KEY_WRITABLE_ATTR:
                        r = append_unique(&res->writable_attributes, a->list);
                        break;
                case KEY_MODE:
                        res->mode = (mode_t) a->number;
                        break;
                case KEY_OWNER:
                        res->uid = (uid_t) a->number;
                        break;
                case KEY_GROUP:
                        res->gid = (gid_t) a->number;
                        break;
                case KEY_ACCESS:
                        res->access = a->number;
                        break;
                default:
                        break;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The evaluation proper, over the rules of l: all of them (a trace needs
 * every rule) or those the index left for d (policy_rule_lists_for). A
 * rule left out cannot match, so both give one result. */
static int evaluate(const struct policy *p, struct policy_rule_lists *l, const struct policy_device *d,
                    struct policy_result *ret, struct policy_trace *trace, uint8_t *memo) {
        _cleanup_(policy_result_done) struct policy_result res = {
                .mode = 0600,
                .access = POLICY_ACCESS_READ | POLICY_ACCESS_WRITE,
        };
        _cleanup_(policy_trace_done) struct policy_trace t = {};
        const struct policy_rule *decider = NULL, *rule;
        const char *name = NULL;
        bool allowed;
        int r;

        if (trace && p->n_rules > 0) {
                t.entries = calloc(p->n_rules, sizeof(*t.entries));
                if (!t.entries)
                        return -ENOMEM;
                t.n_entries = p->n_rules;
        }

        /* The last matching rule decides: look for it from the end, and never
         * test the rules after it. */
        policy_rule_lists_to_end(l);
        while ((rule = policy_rule_lists_prev(l))) {
                r = trace ? rule_matches(rule, d, &t.entries[rule->index]) : rule_matches_fast(rule, l, d, memo);
                if (r < 0)
                        return r;
                if (r > 0) {
                        decider = rule;
                        break;
                }
        }
        allowed = decider && decider->verb == POLICY_ALLOW;

        /* Every matching allow rule before it contributes its assignments, in
         * order; deny rules there only matter to a trace. */
        if (decider && (allowed || trace)) {
                policy_rule_lists_to_start(l);
                while ((rule = policy_rule_lists_next(l)) != decider) {
                        /* Through memo a rule is tested before its verb is
                         * read: a known miss costs no look at the rule. */
                        if (!trace && !memo && rule->verb != POLICY_ALLOW)
                                continue;
                        r = trace ? rule_matches(rule, d, &t.entries[rule->index])
                                  : rule_matches_fast(rule, l, d, memo);
                        if (r < 0)
                                return r;
                        if (r > 0 && allowed && rule->verb == POLICY_ALLOW) {
                                r = apply(rule, &res, &name);
                                if (r < 0)
                                        return r;
                        }
                }
        }

        if (allowed) {
                r = apply(decider, &res, &name);
                if (r < 0)
                        return r;
                if (name) {
                        res.name = strdup(name);
                        if (!res.name)
                                return -ENOMEM;
                }
        } else {
                res.symlinks = strv_free(res.symlinks);
                res.writable_attributes = strv_free(res.writable_attributes);
        }

        res.allowed = allowed;
        res.decided_by = decider;
        *ret = res;
        res = (struct policy_result) {};
        if (trace) {
                *trace = t;
                t = (struct policy_trace) {};
        }
        return 0;
}

int policy_evaluate(const struct policy *p, const struct policy_device *d, struct policy_result *ret,
                    struct policy_trace *trace) {
        struct policy_rule_lists l;

        /* A trace says why each rule did not match, which the index does not
         * know: explain output walks every rule as it always did. */
        if (trace)
                policy_rule_lists_all(p, &l);
        else
                policy_rule_lists_for(p, d, &l);
        return evaluate(p, &l, d, ret, trace, NULL);
}

int policy_evaluate_lists(struct policy_rule_lists *l, const struct policy_device *d, struct policy_result *ret,
                          uint8_t *memo) {
        /* The policy itself only matters to a trace. */
        return evaluate(NULL, l, d, ret, NULL, memo);
}

int policy_evaluate_linear(const struct policy *p, const struct policy_device *d, struct policy_result *ret) {
        struct policy_rule_lists l;

        policy_rule_lists_all(p, &l);
        return evaluate(p, &l, d, ret, NULL, NULL);
}
