/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "fake-usb-stick.h"
#include "policy-internal.h"
#include "policy-test-util.h"

/* The rule index (policy/index.c) must not change a single decision: every
 * result through the index equals the one of a walk over every rule, for
 * generated rule sets over the fake devices. And it must actually leave
 * rules out, or it is no index. */

static struct fake_device loop0 = {
        .pd = {
                .devpath = "/devices/virtual/block/loop0",
                .subsystem = "block",
                .sysname = "loop0",
                .devtype = "disk",
                .devname = "/dev/loop0",
                .type = 'b',
                .major = 7,
                .minor = 0,
                FAKE_CALLBACKS,
        },
        .attributes = { { "size", "0" } },
        .properties = { { "DEVNAME", "/dev/loop0" }, { "ID_FS_TYPE", "" } },
};

static struct fake_device null_dev = {
        .pd = {
                .devpath = "/devices/virtual/mem/null",
                .subsystem = "mem",
                .sysname = "null",
                .devname = "/dev/null",
                .type = 'c',
                .major = 1,
                .minor = 3,
                FAKE_CALLBACKS,
        },
};

/* No subsystem, node or callbacks: missing values compare as "". */
static struct fake_device bare = {
        .pd = {
                .devpath = "/devices/virtual/bare",
                .sysname = "bare",
        },
};

/* A subsystem that is present but empty. */
static struct fake_device empty_subsystem = {
        .pd = {
                .devpath = "/devices/virtual/misc/weird",
                .subsystem = "",
                .sysname = "weird",
                FAKE_CALLBACKS,
        },
};

static const struct fake_device *const devices[] = {
        &loop0, &null_dev, &bare, &empty_subsystem, &sdb, &host, &stick, &hub,
};

/* --- A small deterministic generator -------------------------------- */

static uint32_t next_random(uint32_t *state) {
        /* xorshift32: the same rule sets on every run and machine. */
        *state ^= *state << 13;
        *state ^= *state >> 17;
        *state ^= *state << 5;
        return *state;
}

static const char *pick(uint32_t *state, const char *const *choices, size_t n) {
        return choices[next_random(state) % n];
}
#define PICK(state, choices) pick(state, choices, ELEMENTSOF(choices))

/* Values that hit the devices above, miss them, glob over them, combine
 * alternatives (a literal and a glob, duplicates) and match the empty
 * value. */
static const char *const subsystem_values[] = {
        "block", "mem", "usb", "scsi", "input", "", "bl*", "block|mem", "usb|usb", "block|b?ock", "mem|", "[bm]*",
};
static const char *const kernel_values[] = {
        "loop0", "loop1", "null", "sdb", "bare", "weird", "host6", "1-1", "usb1", "loop*", "loop0|null",
        "sd[a-z]", "", "null|", "zero",
};
static const char *const other_matches[] = {
        "DEVTYPE==\"disk\"", "DRIVER==\"\"", "DRIVER==\"usb*\"", "MAJOR==\"7\"", "MINOR!=\"0\"", "TYPE==\"block\"",
        "ATTR{size}==\"0\"", "ENV{ID_BUS}==\"usb\"", "SUBSYSTEMS==\"usb\"", "KERNELS==\"1-1\"",
        "ATTRS{idVendor}==\"0781\"", "DRIVERS==\"usb-storage\"", "DEVPATH==\"/devices/virtual/*\"",
};
static const char *const assignments[] = {
        "MODE=\"0660\"", "MODE=\"0640\"", "OWNER=\"1000\"", "GROUP=\"6\"", "ACCESS=\"r\"", "ACCESS=\"rwm\"",
        "NAME=\"disk/a\"", "NAME=\"b\"", "SYMLINK+=\"s1\"", "SYMLINK+=\"s2 s1\"", "SYMLINK=\"s3\"",
        "WRITABLE_ATTR+=\"ro\"", "WRITABLE_ATTR+=\"size ro\"",
};

static void append_key(FILE *f, bool *first, const char *text) {
        fprintf(f, "%s%s", *first ? "" : ", ", text);
        *first = false;
}

static void append_pattern_key(FILE *f, bool *first, uint32_t *state, const char *key, const char *value) {
        char buf[128];

        snprintf(buf, sizeof(buf), "%s%s\"%s\"", key, next_random(state) % 4 == 0 ? "!=" : "==", value);
        append_key(f, first, buf);
}

static bool same_key(const char *a, const char *b) {
        size_t l = strcspn(a, "+=");

        return strcspn(b, "+=") == l && strncmp(a, b, l) == 0;
}

static char *generate_rules(uint32_t seed, size_t n_rules) {
        uint32_t state = seed;
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        assert_non_null(f);
        for (size_t i = 0; i < n_rules; i++) {
                bool allow = next_random(&state) % 3 != 0, first = true;
                unsigned shape = next_random(&state) % 8;

                fprintf(f, "%s ", allow ? "allow" : "deny");
                /* Most rules name a class as real policies do; some
                 * name both keys, some neither. */
                if (shape < 5 || shape == 7)
                        append_pattern_key(f, &first, &state, "SUBSYSTEM", PICK(&state, subsystem_values));
                if (shape >= 3)
                        append_pattern_key(f, &first, &state, "KERNEL", PICK(&state, kernel_values));
                if (shape == 7 || next_random(&state) % 3 == 0)
                        append_key(f, &first, PICK(&state, other_matches));
                if (first) /* a rule needs a match: one that holds for all */
                        append_key(f, &first, "DEVPATH==\"*\"");
                if (allow) {
                        /* Up to two assignments of different keys (MODE,
                         * NAME, ... may appear once per rule). */
                        size_t a = next_random(&state) % ELEMENTSOF(assignments);
                        size_t b = next_random(&state) % ELEMENTSOF(assignments);
                        unsigned k = next_random(&state) % 3;

                        if (k > 0)
                                append_key(f, &first, assignments[a]);
                        if (k > 1 && !same_key(assignments[a], assignments[b]))
                                append_key(f, &first, assignments[b]);
                }
                fputc('\n', f);
        }
        assert_int_equal(fclose(f), 0);
        return text;
}

/* --- Comparing results ----------------------------------------------- */

static void assert_strv_equal(char **a, char **b) {
        assert_true(strv_equal(a, b));
}

static void assert_results_equal(const struct policy_result *a, const struct policy_result *b) {
        assert_int_equal(a->allowed, b->allowed);
        assert_ptr_equal(a->decided_by, b->decided_by);
        if (a->name || b->name) {
                assert_non_null(a->name);
                assert_non_null(b->name);
                assert_string_equal(a->name, b->name);
        }
        assert_strv_equal(a->symlinks, b->symlinks);
        assert_strv_equal(a->writable_attributes, b->writable_attributes);
        assert_int_equal(a->uid, b->uid);
        assert_int_equal(a->gid, b->gid);
        assert_int_equal(a->mode, b->mode);
        assert_int_equal(a->access, b->access);
}

/* Indexed, linear and traced evaluation of d agree; returns whether d was
 * allowed. */
static bool check_device(const struct policy *p, const struct fake_device *d) {
        _cleanup_(policy_result_done) struct policy_result indexed = {}, linear = {}, traced = {};
        _cleanup_(policy_trace_done) struct policy_trace t = {};

        assert_int_equal(policy_evaluate(p, &d->pd, &indexed, NULL), 0);
        assert_int_equal(policy_evaluate_linear(p, &d->pd, &linear), 0);
        assert_int_equal(policy_evaluate(p, &d->pd, &traced, &t), 0);
        assert_results_equal(&indexed, &linear);
        assert_results_equal(&indexed, &traced);
        assert_int_equal(t.n_entries, policy_n_rules(p));
        return indexed.allowed;
}

static void check_rule_set(const char *text, unsigned *n_allowed, unsigned *n_checks) {
        _cleanup_(policy_freep) struct policy *p = load_ok(text);

        for (size_t i = 0; i < ELEMENTSOF(devices); i++) {
                *n_allowed += check_device(p, devices[i]);
                (*n_checks)++;
        }
}

static void test_generated_rule_sets(void **state) {
        unsigned n_allowed = 0, n_checks = 0;

        for (uint32_t seed = 1; seed <= 400; seed++) {
                _cleanup_free_ char *text = generate_rules(seed * 2654435761u, 1 + seed % 40);

                check_rule_set(text, &n_allowed, &n_checks);
        }
        /* The generator must exercise both outcomes, or the comparison
         * proves little. */
        print_message("%u of %u decisions allowed\n", n_allowed, n_checks);
        assert_true(n_allowed > n_checks / 10);
        assert_true(n_allowed < n_checks - n_checks / 10);
}

static void test_builtin_policies(void **state) {
        unsigned n_allowed = 0, n_checks = 0;

        for (const char *const *name = policy_builtin_names(); *name; name++) {
                _cleanup_free_ char *text = NULL;

                assert_true(asprintf(&text, "include \"%s\"\nallow SUBSYSTEM==\"block\", KERNEL==\"loop*\"\n",
                                     *name) > 0);
                check_rule_set(text, &n_allowed, &n_checks);
        }
        assert_true(n_allowed > 0);
}

/* How many rules the index leaves for d. */
static size_t n_candidates(const struct policy *p, const struct fake_device *d) {
        struct policy_rule_lists l;
        size_t n = 0;

        policy_rule_lists_for(p, &d->pd, &l);
        policy_rule_lists_to_start(&l);
        while (policy_rule_lists_next(&l))
                n++;
        return n;
}

static void test_index_leaves_rules_out(void **state) {
        static const char *text = "allow SUBSYSTEM==\"mem\", KERNEL==\"null|zero\"\n" /* under KERNEL */
                                  "allow SUBSYSTEM==\"block\", KERNEL==\"loop*\"\n"   /* under SUBSYSTEM */
                                  "deny KERNEL==\"loop0\"\n"                           /* under KERNEL */
                                  "allow SUBSYSTEM!=\"usb\", MODE=\"0640\"\n"          /* negated: unindexed */
                                  "allow SUBSYSTEM==\"input|\"\n"                      /* empty value: unindexed */
                                  "allow SUBSYSTEMS==\"usb\"\n"                        /* ancestor key: unindexed */
                                  "allow KERNEL==\"sd?\"\n";                           /* glob: unindexed */
        _cleanup_(policy_freep) struct policy *p = load_ok(text);
        struct policy_rule_lists l;
        const struct policy_rule *rule;
        size_t last = 0;

        assert_int_equal(n_candidates(p, &loop0), 6);   /* all but the null|zero rule */
        assert_int_equal(n_candidates(p, &null_dev), 5); /* all but the two loop rules */
        assert_int_equal(n_candidates(p, &sdb), 5);      /* block: the loop* rule, not loop0 */
        assert_int_equal(n_candidates(p, &bare), 4);     /* the unindexed ones */

        /* In rule order both ways. */
        policy_rule_lists_for(p, &loop0.pd, &l);
        policy_rule_lists_to_start(&l);
        while ((rule = policy_rule_lists_next(&l))) {
                assert_true(last == 0 || policy_rule_line(rule) > last);
                last = policy_rule_line(rule);
        }
        policy_rule_lists_to_end(&l);
        while ((rule = policy_rule_lists_prev(&l))) {
                assert_true(policy_rule_line(rule) <= last);
                last = policy_rule_line(rule) - 1;
        }

        for (size_t i = 0; i < ELEMENTSOF(devices); i++)
                (void) check_device(p, devices[i]);
}

/* A rule filed under a value the device has only through a glob or a
 * negation elsewhere in the policy: still found, in order. */
static void test_index_order_with_shadowing(void **state) {
        static const char *text = "allow KERNEL==\"loop0\", MODE=\"0600\", SYMLINK+=\"a\"\n"
                                  "allow SUBSYSTEM==\"block\", MODE=\"0660\", SYMLINK+=\"b\"\n"
                                  "allow KERNEL==\"loop*\", MODE=\"0640\", SYMLINK=\"c\"\n"
                                  "allow KERNEL==\"loop0\", SYMLINK+=\"d\"\n";
        _cleanup_(policy_freep) struct policy *p = load_ok(text);
        _cleanup_(policy_result_done) struct policy_result res = {};

        assert_int_equal(policy_evaluate(p, &loop0.pd, &res, NULL), 0);
        assert_true(res.allowed);
        assert_int_equal(policy_rule_line(res.decided_by), 4);
        assert_int_equal(res.mode, 0640);
        assert_string_equal(res.symlinks[0], "c");
        assert_string_equal(res.symlinks[1], "d");
        assert_null(res.symlinks[2]);
        (void) check_device(p, &loop0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_generated_rule_sets),
                cmocka_unit_test(test_builtin_policies),
                cmocka_unit_test(test_index_leaves_rules_out),
                cmocka_unit_test(test_index_order_with_shadowing),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
