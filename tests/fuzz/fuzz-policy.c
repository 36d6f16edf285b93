/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>

#include "fake-usb-stick.h"
#include "policy-internal.h"
#include "strv.h"

/* libFuzzer target: any input is a policy file. It must load or be refused
 * with diagnostics, never crash, leak or hang; when it loads, it is
 * evaluated against a fixed device chain, with and without a trace and
 * through the rule index or over every rule, and all must agree; and in a
 * policy set (policy/set.c) with variants of itself, where each member's
 * decision must be its own. */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool results_equal(const struct policy_result *a, const struct policy_result *b) {
        return a->allowed == b->allowed && a->decided_by == b->decided_by && streq_ptr(a->name, b->name) &&
               strv_equal(a->symlinks, b->symlinks) && strv_equal(a->writable_attributes, b->writable_attributes) &&
               a->uid == b->uid && a->gid == b->gid && a->mode == b->mode && a->access == b->access;
}

static void evaluate(const struct policy *p, const struct policy_device *d) {
        struct policy_result fast = {}, linear = {}, traced = {};
        struct policy_trace t = {};

        if (policy_evaluate(p, d, &fast, NULL) < 0)
                return;
        if (policy_evaluate_linear(p, d, &linear) == 0) {
                if (!results_equal(&fast, &linear))
                        abort(); /* the index changed a decision */
                policy_result_done(&linear);
        }
        if (policy_evaluate(p, d, &traced, &t) == 0) {
                if (!results_equal(&fast, &traced) || t.n_entries != policy_n_rules(p))
                        abort();
                for (size_t i = 0; i < t.n_entries; i++)
                        if (!policy_rule_text(t.entries[i].rule) || !policy_rule_file(t.entries[i].rule))
                                abort();
                policy_trace_done(&t);
                policy_result_done(&traced);
        }
        if (fast.decided_by && (policy_rule_verb(fast.decided_by) == POLICY_ALLOW) != fast.allowed)
                abort();
        policy_result_done(&fast);
}

/* The set's decision for member is p's own, to the deciding rule's place. */
static void check_set_member(const struct policy_set_pass *pass, const struct policy_set_member *member,
                             const struct policy *p, const struct policy_device *d) {
        const struct policy_set_decision *got = NULL;
        struct policy_result want = {};
        struct policy_result copy;

        if (policy_evaluate(p, d, &want, NULL) < 0)
                return;
        if (policy_set_pass_decision(pass, member, &got) == 0) {
                if ((want.decided_by == NULL) != (got->result.decided_by == NULL) ||
                    (want.decided_by && (policy_rule_line(want.decided_by) != policy_rule_line(got->result.decided_by) ||
                                         !streq(policy_rule_file(want.decided_by),
                                                policy_rule_file(got->result.decided_by)) ||
                                         !streq(policy_rule_text(want.decided_by),
                                                policy_rule_text(got->result.decided_by)))))
                        abort(); /* another rule decided */
                copy = got->result;
                copy.decided_by = want.decided_by;
                if (!results_equal(&copy, &want) || (got->decided_by != NULL) != want.allowed)
                        abort(); /* the set changed a decision */
        }
        policy_result_done(&want);
}

struct set_allowed {
        unsigned counts[3];
};

static void count_allowed(void *member_userdata, void *data) {
        ((struct set_allowed *) data)->counts[(uintptr_t) member_userdata]++;
}

/* p and two variants that share its rules at other positions and add
 * some: one set, and every decision as each policy's own. */
static void check_set(struct policy *p, const char *text, const struct policy_load_options *options) {
        static const char *const before[] = { "include \"oci-default\"\n", "" };
        static const char *const after[] = { "\n", "\ndeny SUBSYSTEM==\"usb\"\n" };
        const struct policy_device *devices[] = { &sdb.pd, &stick.pd, &host.pd };
        struct policy_set_member *members[3] = {};
        struct policy *policies[3] = { p };
        struct policy_set *set = NULL;
        bool added = true;

        if (policy_set_new(&set) < 0)
                return;
        for (size_t i = 1; i < 3; i++) {
                _cleanup_free_ char *variant = NULL;

                if (asprintf(&variant, "%s%s%s", before[i - 1], text, after[i - 1]) < 0 ||
                    policy_load_string("/nonexistent-devsieve-fuzz/input.rules", variant, options, &policies[i], NULL) < 0)
                        policies[i] = NULL;
        }
        for (size_t i = 0; i < 3; i++)
                if (policies[i] && policy_set_add(set, policies[i], (void *) (uintptr_t) i, &members[i]) < 0)
                        added = false;
        for (size_t k = 0; added && k < ELEMENTSOF(devices); k++) {
                struct policy_set_pass *pass = NULL;
                struct set_allowed allowed = {};

                if (policy_set_pass_new(set, devices[k], &pass) < 0)
                        continue;
                policy_set_pass_foreach_allowed(pass, count_allowed, &allowed);
                for (size_t i = 0; i < 3; i++) {
                        const struct policy_set_decision *got = NULL;

                        if (!members[i])
                                continue;
                        check_set_member(pass, members[i], policies[i], devices[k]);
                        /* Each allowing member once (or a failed one), no other. */
                        if (policy_set_pass_decision(pass, members[i], &got) == 0 &&
                            allowed.counts[i] != (got->result.allowed ? 1u : 0u))
                                abort();
                }
                policy_set_pass_free(pass);
        }
        policy_set_free(set);
        policy_free(policies[1]);
        policy_free(policies[2]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* Names never resolve against the host: NSS lookups are slow and
         * would make the run depend on the machine. Relative includes lead
         * nowhere either. */
        const struct policy_load_options options = {
                .root = "/nonexistent-devsieve-fuzz-root",
                .unknown_names_are_errors = size % 2,
        };
        struct policy_diagnostics diags = {};
        _cleanup_free_ char *text = NULL;
        struct policy *p = NULL;

        /* Text ends at a NUL byte; the file loader's NUL check is tested by
         * the unit tests. Not strndup(): data need not be NUL-terminated,
         * and ASan's strict_string_checks reads it as a string. */
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';

        if (policy_load_string("/nonexistent-devsieve-fuzz/input.rules", text, &options, &p, &diags) == 0) {
                char *const *paths = policy_exposed_paths(p);

                for (size_t i = 0; paths[i]; i++)
                        if (paths[i][0] != '/')
                                abort();
                evaluate(p, &sdb.pd);
                evaluate(p, &stick.pd);
                evaluate(p, &host.pd);
                check_set(p, text, &options);
                policy_free(p);
        } else if (diags.n_errors == 0)
                abort(); /* a refusal must say why */

        for (size_t i = 0; i < diags.n_items; i++) {
                _cleanup_free_ char *s = NULL;

                (void) policy_diagnostic_format(&diags.items[i], &s);
        }
        policy_diagnostics_done(&diags);
        return 0;
}
