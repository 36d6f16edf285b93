/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>

#include "fake-usb-stick.h"
#include "policy-internal.h"
#include "strv.h"

/* libFuzzer target: any input is a policy file. It must load or be refused
 * with diagnostics, never crash, leak or hang; when it loads, it is
 * evaluated against a fixed device chain, with and without a trace and
 * through the rule index or over every rule, and all must agree. */

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
