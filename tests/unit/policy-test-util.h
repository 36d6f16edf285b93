/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the policy tests: fake devices (fake-device.h) and scratch
 * directories. Each test program includes it once; everything is static
 * inline. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fake-device.h"
#include "policy.h"
#include "strv.h"

static inline void print_diagnostics(const struct policy_diagnostics *diags) {
        for (size_t i = 0; i < diags->n_items; i++) {
                _cleanup_free_ char *s = NULL;
                if (policy_diagnostic_format(&diags->items[i], &s) == 0)
                        print_message("%s\n", s);
        }
}

/* Loads text that must be fine, under the name "rules". */
static inline struct policy *load_ok_named(const char *name, const char *text) {
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        struct policy *p = NULL;
        int r;

        r = policy_load_string(name, text, NULL, &p, &diags);
        if (r < 0 || diags.n_items > 0)
                print_diagnostics(&diags);
        assert_int_equal(r, 0);
        assert_int_equal(diags.n_errors, 0);
        assert_non_null(p);
        return p;
}

static inline struct policy *load_ok(const char *text) {
        return load_ok_named("rules", text);
}

/* Loads text that must fail with exactly one error at "where" (such as
 * "rules:3:14") whose message contains fragment. */
static inline void expect_one_error(const char *text, const char *where, const char *fragment) {
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        _cleanup_free_ char *s = NULL, *prefix = NULL;
        struct policy *p = NULL;
        int r;

        r = policy_load_string("rules", text, NULL, &p, &diags);
        if (diags.n_errors != 1)
                print_diagnostics(&diags);
        assert_int_equal(r, -EINVAL);
        assert_null(p);
        assert_int_equal(diags.n_errors, 1);
        for (size_t i = 0; i < diags.n_items; i++)
                if (diags.items[i].is_error)
                        assert_int_equal(policy_diagnostic_format(&diags.items[i], &s), 0);
        assert_non_null(s);
        assert_true(asprintf(&prefix, "%s: error: ", where) > 0);
        if (!startswith(s, prefix) || !strstr(s, fragment))
                print_message("got: %s\nwant: %s...%s\n", s, prefix, fragment);
        assert_non_null(startswith(s, prefix));
        assert_non_null(strstr(s, fragment));
}

static inline void evaluate_ok(const struct policy *p, const struct fake_device *d, struct policy_result *res) {
        assert_int_equal(policy_evaluate(p, &d->pd, res, NULL), 0);
}

/* --- Scratch directories ---------------------------------------------- */

static inline char *make_tempdir(void) {
        char *d = strdup("/tmp/devsieve-test-XXXXXX");

        assert_non_null(d);
        assert_non_null(mkdtemp(d));
        return d;
}

/* Writes dir/name, creating the directories on the way. */
static inline void write_file(const char *dir, const char *name, const char *content) {
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;

        assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
        for (char *slash = strchr(path + strlen(dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
                *slash = '/';
        }
        f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fwrite(content, 1, strlen(content), f), strlen(content));
}

static inline int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static inline void remove_tree(char *dir) {
        if (!dir)
                return;
        assert_int_equal(nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
        free(dir);
}

static inline void remove_treep(char **dir) {
        remove_tree(*dir);
}
#define _cleanup_tree_ _cleanup_(remove_treep)
