/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "fake-simple-devices.h"
#include "fake-usb-stick.h"
#include "policy-internal.h"
#include "policy-test-util.h"

/* The rule index (policy/index.c) must not change a single decision: every
 * result through the index equals the one of a walk over every rule, for
 * generated rule sets over the fake devices. And it must actually leave
 * rules out, or it is no index. */

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


/* --- Policy sets (policy/set.c) --------------------------------------- */

/* A set's decision must be the member's own policy's, to the deciding
 * rule's place. */
static void assert_decision_equal(const struct policy_set_decision *got, const struct policy *p,
                                  const struct fake_device *d) {
        _cleanup_(policy_result_done) struct policy_result want = {};
        _cleanup_free_ char *where = NULL;

        evaluate_ok(p, d, &want);
        assert_int_equal(got->result.allowed, want.allowed);
        if (want.decided_by) {
                assert_non_null(got->result.decided_by);
                assert_string_equal(policy_rule_file(got->result.decided_by), policy_rule_file(want.decided_by));
                assert_int_equal(policy_rule_line(got->result.decided_by), policy_rule_line(want.decided_by));
                assert_string_equal(policy_rule_text(got->result.decided_by), policy_rule_text(want.decided_by));
        } else
                assert_null(got->result.decided_by);
        if (want.allowed) {
                assert_int_equal(policy_rule_location(want.decided_by, &where), 0);
                assert_non_null(got->decided_by);
                assert_string_equal(got->decided_by, where);
        } else
                assert_null(got->decided_by);
        want.decided_by = got->result.decided_by; /* compared above */
        assert_results_equal(&got->result, &want);
}

struct set_members {
        struct policy *policies[128];
        struct policy_set_member *members[128];
        unsigned allowed[128]; /* by policy_set_pass_foreach_allowed() */
        size_t n;
};

static void count_allowed(void *member_userdata, void *data) {
        struct set_members *sm = data;

        sm->allowed[(uintptr_t) member_userdata]++;
}

static void set_members_add(struct policy_set *set, struct set_members *sm, struct policy *p) {
        assert_true(sm->n < ELEMENTSOF(sm->policies));
        sm->policies[sm->n] = p;
        assert_int_equal(policy_set_add(set, p, (void *) (uintptr_t) sm->n, &sm->members[sm->n]), 0);
        sm->n++;
}

static void set_members_done(struct policy_set *set, struct set_members *sm) {
        for (size_t i = 0; i < sm->n; i++) {
                policy_set_remove(set, sm->members[i]);
                policy_free(sm->policies[i]);
        }
        sm->n = 0;
}

/* Checks one pass for d against every member; returns its evaluations. */
static size_t check_set_pass(struct policy_set *set, struct set_members *sm, const struct fake_device *d,
                             unsigned *n_allowed) {
        _cleanup_(policy_set_pass_freep) struct policy_set_pass *pass = NULL;
        size_t n_members = 0;

        assert_int_equal(policy_set_pass_new(set, &d->pd, &pass), 0);
        memset(sm->allowed, 0, sizeof(sm->allowed));
        policy_set_pass_foreach_allowed(pass, count_allowed, sm);
        for (size_t i = 0; i < sm->n; i++) {
                const struct policy_set_decision *got = NULL;

                if (!sm->members[i]) {
                        assert_int_equal(sm->allowed[i], 0);
                        continue;
                }
                n_members++;
                assert_int_equal(policy_set_pass_decision(pass, sm->members[i], &got), 0);
                assert_decision_equal(got, sm->policies[i], d);
                /* Each allowing member once, no other. */
                assert_int_equal(sm->allowed[i], got->result.allowed ? 1 : 0);
                *n_allowed += got->result.allowed;
        }
        assert_int_equal(policy_set_n_members(set), n_members);
        /* At most one per member with a run for d and one per unindexed run. */
        assert_true(policy_set_pass_n_evaluations(pass) <= 2 * n_members);
        return policy_set_pass_n_evaluations(pass);
}

static size_t check_set(struct policy_set *set, struct set_members *sm, unsigned *n_allowed, unsigned *n_checks) {
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(devices); i++) {
                n += check_set_pass(set, sm, devices[i], n_allowed);
                *n_checks += policy_set_n_members(set);
        }
        return n;
}

static struct policy *load_in(const char *dir, const char *text) {
        _cleanup_free_ char *name = NULL;

        assert_true(asprintf(&name, "%s/own.rules", dir) > 0);
        return load_ok_named(name, text);
}

/* Policies as real ones are written: a few shared files included in
 * either order, and none, one or a few rules of their own. Every member's
 * decision through the set equals its own evaluation, after members come
 * and go and take other copies of their policies too. */
static void test_set_generated(void **state) {
        const char *dir = *state;
        unsigned n_allowed = 0, n_checks = 0;
        size_t n_evaluations = 0;

        for (uint32_t round = 1; round <= 12; round++) {
                _cleanup_(policy_set_freep) struct policy_set *set = NULL;
                struct set_members sm = {};
                char *texts[48] = {};
                uint32_t rnd = round * 2246822519u;
                char name[32];

                assert_int_equal(policy_set_new(&set), 0);
                for (unsigned b = 0; b < 4; b++) {
                        _cleanup_free_ char *text = generate_rules(round * 7919 + b, 1 + next_random(&rnd) % 12);

                        snprintf(name, sizeof(name), "block%u.rules", b);
                        write_file(dir, name, text);
                }
                for (unsigned i = 0; i < 48; i++) {
                        _cleanup_free_ char *own = NULL, *text = NULL;
                        unsigned shape = next_random(&rnd);

                        /* None, a device of their own (as most are), or
                         * random rules that meet the devices. */
                        if (shape % 4 == 0)
                                own = strdup("");
                        else if (shape % 4 == 1)
                                assert_true(asprintf(&own, "allow SUBSYSTEM==\"input\", KERNEL==\"event%u\"\n"
                                                           "allow KERNEL==\"loop%u\", MODE=\"0640\"\n", i,
                                                     i + 100) > 0);
                        else
                                own = generate_rules(next_random(&rnd), 1 + shape % 3);
                        assert_non_null(own);
                        assert_true(asprintf(&text, "%s%s%s%s", shape & 8 ? "include \"block0.rules\"\n" : "",
                                             shape & 16 ? "include \"block1.rules\"\ninclude \"block2.rules\"\n"
                                                        : "include \"block2.rules\"\ninclude \"block1.rules\"\n",
                                             shape & 32 ? "include \"block3.rules\"\n" : "", own) > 0);
                        set_members_add(set, &sm, load_in(dir, text));
                        texts[i] = TAKE_PTR(text);
                }
                n_evaluations += check_set(set, &sm, &n_allowed, &n_checks);

                /* Members leave, others take a fresh copy of their policy
                 * (the old one freed: the set must not read it again). */
                for (size_t i = 0; i < sm.n; i += 3) {
                        policy_set_remove(set, sm.members[i]);
                        sm.members[i] = NULL;
                }
                for (size_t i = 1; i < sm.n; i += 5) {
                        struct policy *copy = load_in(dir, texts[i]);

                        if (!sm.members[i]) {
                                policy_free(copy);
                                continue;
                        }
                        assert_string_equal(policy_identity(copy, NULL, NULL),
                                            policy_identity(sm.policies[i], NULL, NULL));
                        policy_set_member_update(sm.members[i], copy);
                        policy_free(sm.policies[i]);
                        sm.policies[i] = copy;
                }
                n_evaluations += check_set(set, &sm, &n_allowed, &n_checks);
                /* And come back. */
                for (size_t i = 0; i < sm.n; i += 3)
                        assert_int_equal(policy_set_add(set, sm.policies[i], (void *) (uintptr_t) i, &sm.members[i]),
                                         0);
                n_evaluations += check_set(set, &sm, &n_allowed, &n_checks);
                set_members_done(set, &sm);
                for (size_t i = 0; i < ELEMENTSOF(texts); i++)
                        free(texts[i]);
                assert_int_equal(policy_set_n_members(set), 0);
        }
        print_message("%u of %u decisions allowed, %zu evaluations\n", n_allowed, n_checks, n_evaluations);
        assert_true(n_allowed > n_checks / 10);
        assert_true(n_allowed < n_checks - n_checks / 10);
        /* Sharing happened: half the members have rules of their own
         * that meet the devices, the others share. */
        assert_true(n_evaluations < n_checks * 3 / 4);
}

/* The same runs at other positions are other runs: where they interleave
 * decides which rule is the last to match. */
static void test_set_include_order(void **state) {
        const char *dir = *state;
        _cleanup_(policy_set_freep) struct policy_set *set = NULL;
        struct set_members sm = {};
        unsigned n_allowed = 0;

        write_file(dir, "a.rules", "allow SUBSYSTEM==\"block\", MODE=\"0600\"\n");
        write_file(dir, "b.rules", "allow KERNEL==\"loop0\", MODE=\"0660\"\n");
        assert_int_equal(policy_set_new(&set), 0);
        set_members_add(set, &sm, load_in(dir, "include \"a.rules\"\ninclude \"b.rules\"\n"));
        set_members_add(set, &sm, load_in(dir, "include \"b.rules\"\ninclude \"a.rules\"\n"));
        assert_int_equal(check_set_pass(set, &sm, &loop0, &n_allowed), 2);
        assert_int_equal(n_allowed, 2);
        set_members_done(set, &sm);
}

/* Policies that differ only in rules a device never meets share its
 * decision: one evaluation for a hundred of them. */
static void test_set_shares(void **state) {
        _cleanup_(policy_set_freep) struct policy_set *set = NULL;
        struct set_members sm = {};
        unsigned n_allowed = 0;

        assert_int_equal(policy_set_new(&set), 0);
        for (unsigned i = 0; i < 100; i++) {
                _cleanup_free_ char *text = NULL;

                assert_true(asprintf(&text,
                                     "include \"oci-default\"\n"
                                     "%s"
                                     "allow SUBSYSTEM==\"input\", KERNEL==\"event%u\"\n",
                                     i % 10 == 0 ? "allow SUBSYSTEM==\"block\", KERNEL==\"loop*\"\n" : "", i) > 0);
                set_members_add(set, &sm, load_ok(text));
        }
        /* Every member has a run for "block": two distinct ones. */
        assert_int_equal(check_set_pass(set, &sm, &loop0, &n_allowed), 2);
        assert_int_equal(n_allowed, 10);
        /* "null" is filed alike in all: one. */
        n_allowed = 0;
        assert_int_equal(check_set_pass(set, &sm, &null_dev, &n_allowed), 1);
        assert_int_equal(n_allowed, 100);
        /* No run for "bare" at all: the one (empty) unindexed run. */
        n_allowed = 0;
        assert_int_equal(check_set_pass(set, &sm, &bare, &n_allowed), 1);
        assert_int_equal(n_allowed, 0);
        set_members_done(set, &sm);
}

/* A rule written alike in many policies whose runs differ is tested once
 * per pass: the property it reads is asked for once, not once per policy. */
static unsigned n_fs_type_lookups;

static const char *counting_property(const struct policy_device *d, const char *key) {
        if (streq(key, "ID_FS_TYPE"))
                n_fs_type_lookups++;
        return fake_property(d, key);
}

static void test_set_tests_shared_rules_once(void **state) {
        _cleanup_(policy_set_freep) struct policy_set *set = NULL;
        struct fake_device counted = loop0;
        struct set_members sm = {};
        unsigned n_allowed = 0;

        counted.pd.property = counting_property;
        assert_int_equal(policy_set_new(&set), 0);
        for (unsigned i = 0; i < 50; i++) {
                _cleanup_free_ char *text = NULL;

                /* Each its own size rule for block devices, then the
                 * shared one (tested first: the last rule decides). */
                assert_true(asprintf(&text,
                                     "allow SUBSYSTEM==\"block\", ATTR{size}==\"%u\"\n"
                                     "deny SUBSYSTEM==\"block\", ENV{ID_FS_TYPE}==\"swap\"\n",
                                     i + 1) > 0);
                set_members_add(set, &sm, load_ok(text));
        }
        n_fs_type_lookups = 0;
        assert_int_equal(check_set_pass(set, &sm, &counted, &n_allowed), 50);
        /* check_set_pass() evaluates each policy on its own too: 50 of
         * them are its, one the set's. */
        assert_int_equal(n_fs_type_lookups, 50 + 1);
        assert_int_equal(n_allowed, 0);
        set_members_done(set, &sm);
}

/* A pass made before the members changed is refused, not misread. */
static void test_set_stale_pass(void **state) {
        _cleanup_(policy_set_freep) struct policy_set *set = NULL;
        _cleanup_(policy_set_pass_freep) struct policy_set_pass *pass = NULL;
        _cleanup_(policy_freep) struct policy *p = load_ok("allow KERNEL==\"loop0\"\n");
        _cleanup_(policy_freep) struct policy *q = load_ok("allow KERNEL==\"null\"\n");
        const struct policy_set_decision *d = NULL;
        struct policy_set_member *mp = NULL, *mq = NULL;

        assert_int_equal(policy_set_new(&set), 0);
        assert_int_equal(policy_set_add(set, p, NULL, &mp), 0);
        assert_int_equal(policy_set_pass_new(set, &loop0.pd, &pass), 0);
        assert_int_equal(policy_set_pass_decision(pass, mp, &d), 0);
        assert_true(d->result.allowed);
        assert_int_equal(policy_set_add(set, q, NULL, &mq), 0);
        assert_int_equal(policy_set_pass_decision(pass, mp, &d), -ESTALE);
        assert_int_equal(policy_set_pass_decision(pass, mq, &d), -ESTALE);
}

/* A failed assertion leaves the test by longjmp(), past its cleanup
 * attributes: the scratch directory goes in the teardown. */
static int setup_dir(void **state) {
        *state = make_tempdir();
        return 0;
}

static int teardown_dir(void **state) {
        remove_tree(*state);
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_generated_rule_sets),
                cmocka_unit_test(test_builtin_policies),
                cmocka_unit_test(test_index_leaves_rules_out),
                cmocka_unit_test(test_index_order_with_shadowing),
                cmocka_unit_test_setup_teardown(test_set_generated, setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_set_include_order, setup_dir, teardown_dir),
                cmocka_unit_test(test_set_shares),
                cmocka_unit_test(test_set_tests_shared_rules_once),
                cmocka_unit_test(test_set_stale_pass),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
