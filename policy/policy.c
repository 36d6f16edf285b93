/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <utlist.h>

#include "policy-internal.h"
#include "strv.h"

/* The loaded policy as an object: building it up, freeing it, and what
 * callers may read of it and of its rules. */

static void match_done(struct policy_match *m) {
        free(m->argument);
        free(m->text);
        policy_pattern_done(&m->pattern);
}

static void assignment_done(struct policy_assignment *a) {
        free(a->string);
        strv_free(a->list);
}

struct policy_rule *policy_rule_free(struct policy_rule *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_matches; i++)
                match_done(&r->matches[i]);
        free(r->matches);
        for (size_t i = 0; i < r->n_ancestor_matches; i++)
                match_done(&r->ancestor_matches[i]);
        free(r->ancestor_matches);
        for (size_t i = 0; i < r->n_assignments; i++)
                assignment_done(&r->assignments[i]);
        free(r->assignments);
        free(r->text);
        free(r);
        return NULL;
}

int policy_new(struct policy **ret) {
        struct policy *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

struct policy *policy_free(struct policy *p) {
        struct policy_rule *r, *tmp;

        if (!p)
                return NULL;
        DL_FOREACH_SAFE(p->rules, r, tmp) {
                DL_DELETE(p->rules, r);
                policy_rule_free(r);
        }
        strv_free(p->exposed);
        strv_free(p->files);
        policy_index_free(p->index);
        free(p->identity);
        free(p);
        return NULL;
}

int policy_intern_file(struct policy *p, const char *name, const char **ret) {
        int r;

        STRV_FOREACH(f, p->files)
                if (streq(*f, name)) {
                        *ret = *f;
                        return 0;
                }
        r = strv_extend(&p->files, name);
        if (r < 0)
                return r;
        *ret = p->files[strv_length(p->files) - 1];
        return 0;
}

void policy_add_rule(struct policy *p, struct policy_rule *r) {
        r->index = p->n_rules++;
        DL_APPEND(p->rules, r);
}

int policy_add_exposed(struct policy *p, const char *path) {
        if (strv_contains(p->exposed, path))
                return 0;
        return strv_extend(&p->exposed, path);
}

char *const *policy_exposed_paths(const struct policy *p) {
        static char *const none[] = { NULL };

        return p->exposed ?: none;
}

size_t policy_n_rules(const struct policy *p) {
        return p->n_rules;
}

enum policy_verb policy_rule_verb(const struct policy_rule *r) {
        return r->verb;
}

const char *policy_rule_file(const struct policy_rule *r) {
        return r->file;
}

unsigned policy_rule_line(const struct policy_rule *r) {
        return r->line;
}

const char *policy_rule_text(const struct policy_rule *r) {
        return r->text;
}

int policy_rule_location(const struct policy_rule *r, char **ret) {
        return asprintf(ret, "%s:%u", r->file, r->line) < 0 ? -ENOMEM : 0;
}

void policy_result_done(struct policy_result *r) {
        if (!r)
                return;
        free(r->name);
        strv_free(r->symlinks);
        strv_free(r->writable_attributes);
        r->name = NULL;
        r->symlinks = NULL;
        r->writable_attributes = NULL;
}

void policy_trace_done(struct policy_trace *t) {
        if (!t)
                return;
        for (size_t i = 0; i < t->n_entries; i++) {
                free(t->entries[i].failed_key);
                free(t->entries[i].device_value);
        }
        free(t->entries);
        *t = (struct policy_trace) {};
}

void policy_rule_write_identity(FILE *f, const struct policy_rule *rule) {
        fprintf(f, "%d %s:%u %s", (int) rule->verb, rule->file, rule->line, rule->text);
        for (size_t i = 0; i < rule->n_assignments; i++)
                if (rule->assignments[i].key == KEY_OWNER || rule->assignments[i].key == KEY_GROUP)
                        fprintf(f, " =%" PRIu32, rule->assignments[i].number);
        fputc('\n', f);
}

/* The identity is everything a decision depends on: each rule as written,
 * where it is (decisions name it) and the ids its OWNER and GROUP names
 * resolved to (they depend on the root the policy was loaded for). */
int policy_seal(struct policy *p) {
        _cleanup_free_ char *text = NULL;
        const struct policy_rule *rule;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        DL_FOREACH(p->rules, rule)
                policy_rule_write_identity(f, rule);
        if (fclose(f) != 0)
                return -ENOMEM;

        /* FNV-1a, as uthash's tables here hash their keys. */
        p->identity_hash = 2166136261u;
        for (size_t i = 0; i < size; i++)
                p->identity_hash = (p->identity_hash ^ (unsigned char) text[i]) * 16777619u;
        p->identity_length = size;
        p->identity = TAKE_PTR(text);
        return policy_index_build(p, &p->index);
}

const char *policy_identity(const struct policy *p, size_t *ret_length, unsigned *ret_hash) {
        if (ret_length)
                *ret_length = p->identity_length;
        if (ret_hash)
                *ret_hash = p->identity_hash;
        return p->identity;
}
