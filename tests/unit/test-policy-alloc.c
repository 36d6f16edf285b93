/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fake-usb-stick.h"
#include "policy-test-util.h"

/* policy_evaluate() without a trace runs for every device of every
 * container on each change: it may allocate the result's own strings and
 * nothing else. This program replaces malloc() and friends (glibc allows
 * that) to count calls. Under AddressSanitizer, which owns malloc(), the
 * test skips itself. */

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

static unsigned long n_allocations;

#ifndef HAVE_ASAN
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

void *malloc(size_t size) {
        n_allocations++;
        return __libc_malloc(size);
}

void *calloc(size_t n, size_t size) {
        n_allocations++;
        return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size) {
        n_allocations++;
        return __libc_realloc(p, size);
}

void free(void *p) {
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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_counting_works),
                cmocka_unit_test(test_no_allocations),
                cmocka_unit_test(test_only_result_strings),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
