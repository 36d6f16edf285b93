/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fake-usb-stick.h"
#include "policy-test-util.h"

/* policy_evaluate() without a trace runs for every device of every
 * container on each change: it may allocate the result's own strings and
 * nothing else. This program replaces malloc() and friends (glibc allows
 * that) to count calls, to count what is still allocated, and to make one
 * of them fail. Under AddressSanitizer, which owns malloc(), the tests
 * skip themselves. */

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

static unsigned long n_allocations;
static long n_live;              /* allocations not freed */
static unsigned long fail_after; /* 0, or the allocation (counted from 1 on) that fails */
static bool failed;              /* it did */

#ifndef HAVE_ASAN
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

static bool should_fail(void) {
        n_allocations++;
        if (fail_after == 0 || n_allocations != fail_after)
                return false;
        failed = true;
        return true;
}

void *malloc(size_t size) {
        void *p = should_fail() ? NULL : __libc_malloc(size);

        n_live += p != NULL;
        return p;
}

void *calloc(size_t n, size_t size) {
        void *p = should_fail() ? NULL : __libc_calloc(n, size);

        n_live += p != NULL;
        return p;
}

void *realloc(void *p, size_t size) {
        void *q = should_fail() ? NULL : __libc_realloc(p, size);

        n_live += !p && q;
        return q;
}

void free(void *p) {
        n_live -= p != NULL;
        __libc_free(p);
}
#endif

static void require_counting(void) {
#ifdef HAVE_ASAN
        skip();
#endif
}

static unsigned long count_evaluation(const struct policy *p, struct policy_result *res) {
        unsigned long before = n_allocations;

        assert_int_equal(policy_evaluate(p, &sdb.pd, res, NULL), 0);
        return n_allocations - before;
}

static void test_counting_works(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_(policy_result_done) struct policy_result res = {};
        _cleanup_(policy_trace_done) struct policy_trace t = {};
        unsigned long before;

        require_counting();
        p = load_ok("allow KERNEL==\"x\"\n");
        before = n_allocations;
        /* A trace allocates its entries: the counter must see that. */
        assert_int_equal(policy_evaluate(p, &sdb.pd, &res, &t), 0);
        assert_true(n_allocations - before >= 2);
}

static void test_no_allocations(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_(policy_result_done) struct policy_result allowed = {}, denied = {};

        require_counting();
        /* Globs, alternatives, numbers, attributes, properties, ancestors,
         * a deny in between, numeric assignments only. */
        p = load_ok("allow SUBSYSTEM==\"block\", KERNEL==\"sd[a-z]|nvme*\", MAJOR==\"8\", MODE=\"0660\"\n"
                    "deny ENV{ID_BUS}==\"usb\", MINOR!=\"1[0-9]\"\n"
                    "allow SUBSYSTEMS==\"usb\", ATTRS{idVendor}==\"0781\", OWNER=\"1000\", ACCESS=\"r\"\n"
                    "allow ATTR{size}==\"\", DEVTYPE==\"disk\", GROUP=\"6\"\n"
                    "deny KERNEL==\"loop*\"\n");
        assert_int_equal(count_evaluation(p, &allowed), 0);
        assert_true(allowed.allowed);
        assert_int_equal(allowed.mode, 0660);
        assert_int_equal(allowed.uid, 1000);
        assert_int_equal(allowed.gid, 6);
        policy_free(p);

        p = load_ok("allow KERNEL==\"sd*\"\ndeny DRIVERS==\"usb\"\n");
        assert_int_equal(count_evaluation(p, &denied), 0);
        assert_false(denied.allowed);
}

static void test_only_result_strings(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_(policy_result_done) struct policy_result res = {};

        require_counting();
        p = load_ok("allow KERNEL==\"sdb\", NAME=\"first\"\n"
                    "allow SUBSYSTEM==\"block\", NAME=\"disks/stick\"\n");
        /* One strdup() of the final NAME, however many rules set it. */
        assert_int_equal(count_evaluation(p, &res), 1);
        assert_string_equal(res.name, "disks/stick");
}

/* A policy set whose allocations fail one at a time: each call either
 * succeeds or returns -ENOMEM, leaves the set as it was (later calls and
 * every decision right), and nothing leaks. */
static const char *const set_texts[] = {
        "include \"oci-default\"\nallow SUBSYSTEM==\"block\", KERNEL==\"sd*\", MODE=\"0660\"\n",
        "include \"oci-default\"\nallow KERNEL==\"sdb\", NAME=\"disk\"\ndeny DRIVERS==\"usb-storage\"\n",
        "allow SUBSYSTEMS==\"usb\"\nallow SUBSYSTEM==\"block\", KERNEL==\"sdb|sdc\", SYMLINK+=\"a b\"\n",
};

/* A decision whose evaluation ran out of memory says so (may_fail). */
static void check_member(const struct policy_set_pass *pass, const struct policy_set_member *member,
                         const struct policy *p, bool may_fail) {
        _cleanup_(policy_result_done) struct policy_result want = {};
        const struct policy_set_decision *got = NULL;
        int r;

        assert_int_equal(policy_evaluate(p, &sdb.pd, &want, NULL), 0);
        r = policy_set_pass_decision(pass, member, &got);
        if (may_fail && r == -ENOMEM)
                return;
        assert_int_equal(r, 0);
        assert_int_equal(got->result.allowed, want.allowed);
        assert_int_equal(got->result.mode, want.mode);
        assert_true(streq_ptr(got->result.name, want.name));
        assert_true(strv_equal(got->result.symlinks, want.symlinks));
}

/* Returns whether the allocation fail was reached. Some failures are
 * absorbed (glibc keeps a memory stream's buffer when shrinking it fails):
 * a call that succeeds must still have done its job. */
static bool set_round(struct policy *const *policies, unsigned long fail) {
        _cleanup_(policy_set_freep) struct policy_set *set = NULL;
        _cleanup_(policy_set_pass_freep) struct policy_set_pass *pass = NULL;
        struct policy_set_member *members[ELEMENTSOF(set_texts)] = {};
        int r;

        assert_int_equal(policy_set_new(&set), 0);
        n_allocations = 0;
        fail_after = fail;
        failed = false;
        for (size_t i = 0; i < ELEMENTSOF(set_texts); i++) {
                r = policy_set_add(set, policies[i], NULL, &members[i]);
                assert_true(r == 0 || r == -ENOMEM);
                if (r < 0)
                        members[i] = NULL;
        }
        r = policy_set_pass_new(set, &sdb.pd, &pass);
        fail_after = 0;
        assert_true(r == 0 || r == -ENOMEM);
        if (r == 0)
                for (size_t i = 0; i < ELEMENTSOF(set_texts); i++)
                        if (members[i])
                                check_member(pass, members[i], policies[i], true);

        /* Whatever failed, the set is whole: add what is missing, decide. */
        for (size_t i = 0; i < ELEMENTSOF(set_texts); i++)
                if (!members[i])
                        assert_int_equal(policy_set_add(set, policies[i], NULL, &members[i]), 0);
        pass = policy_set_pass_free(pass);
        assert_int_equal(policy_set_pass_new(set, &sdb.pd, &pass), 0);
        for (size_t i = 0; i < ELEMENTSOF(set_texts); i++)
                check_member(pass, members[i], policies[i], false);
        return failed;
}

static void test_set_allocation_failures(void **state) {
        struct policy *policies[ELEMENTSOF(set_texts)];
        unsigned long fail;
        long live;

        require_counting();
        for (size_t i = 0; i < ELEMENTSOF(set_texts); i++)
                policies[i] = load_ok(set_texts[i]);
        live = n_live;
        for (fail = 1; set_round(policies, fail); fail++) {
                assert_int_equal(n_live, live);
                assert_true(fail < 10000);
        }
        assert_int_equal(n_live, live);
        /* Enough steps to have failed in each part. */
        print_message("%lu allocations failed one by one\n", fail - 1);
        assert_true(fail > 20);
        for (size_t i = 0; i < ELEMENTSOF(set_texts); i++)
                policy_free(policies[i]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_counting_works),
                cmocka_unit_test(test_no_allocations),
                cmocka_unit_test(test_only_result_strings),
                cmocka_unit_test(test_set_allocation_failures),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
