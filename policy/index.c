/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <uthash.h>

#include "policy-internal.h"

/* Which rules a device can meet. Most rules name their device class with a
 * plain SUBSYSTEM=="block" or KERNEL=="null": a device whose subsystem or
 * name differs can never match them, so they are filed under that value
 * and a device looks up only its own two buckets. Every other rule (a
 * glob, a negation, no such key at all) is in the "unindexed" list that
 * every device walks. All lists keep rule order, so merging them gives the
 * rules a device can match in the order a linear walk would meet them:
 * the evaluation itself does not change, it only skips rules that cannot
 * match. */

struct policy_bucket {
        const char *value; /* an alternative of a rule's pattern: owned by the rule */
        const struct policy_rule **rules; /* in rule order */
        size_t n_rules;
        UT_hash_handle hh;
};

struct policy_index {
        struct policy_bucket *buckets[_INDEX_MAX];
        const struct policy_rule **all; /* every rule, by index: the linear walk */
        const struct policy_rule **unindexed;
        size_t n_unindexed;
};

static void buckets_free(struct policy_bucket **table) {
        struct policy_bucket *b, *tmp;

        HASH_ITER(hh, *table, b, tmp) {
                HASH_DEL(*table, b);
                free(b->rules);
                free(b);
        }
}

struct policy_index *policy_index_free(struct policy_index *x) {
        if (!x)
                return NULL;
        for (size_t k = 0; k < _INDEX_MAX; k++)
                buckets_free(&x->buckets[k]);
        free(x->all);
        free(x->unindexed);
        free(x);
        return NULL;
}

/* A match every matching device passes with one of a few exact values:
 * == (not !=) and no alternative a glob. An empty alternative stays out
 * of the index, so that a device without the value needs no bucket. */
static bool match_is_literal(const struct policy_match *m) {
        if (m->negate)
                return false;
        for (size_t i = 0; i < m->pattern.n_items; i++)
                if (m->pattern.items[i].glob || m->pattern.items[i].text[0] == '\0')
                        return false;
        return true;
}

/* The match to file rule under: KERNEL first (names are the narrower
 * class), then SUBSYSTEM; NULL when the rule has neither as a literal. */
static const struct policy_match *index_match(const struct policy_rule *rule, size_t *ret_kind) {
        static const enum policy_key order[_INDEX_MAX] = {
                [INDEX_KERNEL] = KEY_KERNEL,
                [INDEX_SUBSYSTEM] = KEY_SUBSYSTEM,
        };

        for (size_t k = 0; k < _INDEX_MAX; k++)
                for (size_t i = 0; i < rule->n_matches; i++)
                        if (rule->matches[i].key == order[k] && match_is_literal(&rule->matches[i])) {
                                *ret_kind = k;
                                return &rule->matches[i];
                        }
        return NULL;
}

static int list_append(const struct policy_rule ***list, size_t *n, const struct policy_rule *rule) {
        const struct policy_rule **grown;

        /* "loop0|loop0" files the rule once. */
        if (*n > 0 && (*list)[*n - 1] == rule)
                return 0;
        grown = realloc(*list, (*n + 1) * sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        grown[(*n)++] = rule;
        *list = grown;
        return 0;
}

static int file_under(struct policy_bucket **table, const char *value, const struct policy_rule *rule) {
        struct policy_bucket *b;

        HASH_FIND_STR(*table, value, b);
        if (!b) {
                b = calloc(1, sizeof(*b));
                if (!b)
                        return -ENOMEM;
                b->value = value;
                HASH_ADD_KEYPTR(hh, *table, b->value, strlen(b->value), b);
        }
        return list_append(&b->rules, &b->n_rules, rule);
}

static int index_rule(struct policy_index *x, const struct policy_rule *rule) {
        const struct policy_match *m;
        size_t kind = 0;
        int r;

        x->all[rule->index] = rule;
        m = index_match(rule, &kind);
        if (!m)
                return list_append(&x->unindexed, &x->n_unindexed, rule);
        for (size_t i = 0; i < m->pattern.n_items; i++) {
                r = file_under(&x->buckets[kind], m->pattern.items[i].text, rule);
                if (r < 0)
                        return r;
        }
        return 0;
}

int policy_index_build(const struct policy *p, struct policy_index **ret) {
        _cleanup_(policy_index_freep) struct policy_index *x = calloc(1, sizeof(*x));
        const struct policy_rule *rule;
        int r;

        if (!x)
                return -ENOMEM;
        x->all = calloc(p->n_rules + 1, sizeof(*x->all));
        if (!x->all)
                return -ENOMEM;
        for (rule = p->rules; rule; rule = rule->next) {
                r = index_rule(x, rule);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(x);
        return 0;
}

void policy_rule_lists_all(const struct policy *p, struct policy_rule_lists *ret) {
        *ret = (struct policy_rule_lists) {
                .items = { p->index->all },
                .n = { p->n_rules },
                .n_lists = 1,
        };
}

void policy_rule_lists_unindexed(const struct policy *p, struct policy_rule_lists *ret) {
        *ret = (struct policy_rule_lists) {
                .items = { p->index->unindexed },
                .n = { p->index->n_unindexed },
                .n_lists = 1,
        };
}

const char *policy_index_device_value(size_t kind, const struct policy_device *d) {
        return kind == INDEX_KERNEL ? d->sysname : kind == INDEX_SUBSYSTEM ? d->subsystem : NULL;
}

int policy_index_foreach(const struct policy *p, int (*fn)(const struct policy_index_run *run, void *userdata),
                         void *userdata) {
        const struct policy_index *x = p->index;
        struct policy_index_run run = {
                .kind = _INDEX_MAX,
                .rules = x->unindexed,
                .n_rules = x->n_unindexed,
        };
        int r;

        r = fn(&run, userdata);
        if (r < 0)
                return r;
        for (size_t k = 0; k < _INDEX_MAX; k++) {
                struct policy_bucket *b, *tmp;

                HASH_ITER(hh, x->buckets[k], b, tmp) {
                        run = (struct policy_index_run) {
                                .kind = k,
                                .value = b->value,
                                .rules = b->rules,
                                .n_rules = b->n_rules,
                        };
                        r = fn(&run, userdata);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static void add_bucket(struct policy_rule_lists *l, struct policy_bucket *table, const char *value) {
        struct policy_bucket *b;

        if (!value || !table)
                return;
        HASH_FIND_STR(table, value, b);
        if (!b)
                return;
        l->items[l->n_lists] = b->rules;
        l->n[l->n_lists++] = b->n_rules;
}

void policy_rule_lists_for(const struct policy *p, const struct policy_device *d, struct policy_rule_lists *ret) {
        const struct policy_index *x = p->index;

        *ret = (struct policy_rule_lists) {
                .items = { x->unindexed },
                .n = { x->n_unindexed },
                .n_lists = 1,
        };
        /* A rule sits in one bucket per value and a device has one value
         * per key: the lists are disjoint. */
        for (size_t k = 0; k < _INDEX_MAX; k++)
                add_bucket(ret, x->buckets[k], policy_index_device_value(k, d));
}

/* The position of the i-th rule of list k: from the refs when there are,
 * without reading the rule. */
static size_t position(const struct policy_rule_lists *l, size_t k, size_t i) {
        return l->refs[k] ? l->refs[k][i].index : l->items[k][i]->index;
}

static const struct policy_rule *take(struct policy_rule_lists *l, size_t k, size_t i) {
        if (l->refs[k])
                l->last_id = l->refs[k][i].id;
        return l->items[k][i];
}

const struct policy_rule *policy_rule_lists_prev(struct policy_rule_lists *l) {
        size_t best = SIZE_MAX;

        for (size_t k = 0; k < l->n_lists; k++)
                if (l->pos[k] > 0 &&
                    (best == SIZE_MAX || position(l, k, l->pos[k] - 1) > position(l, best, l->pos[best] - 1)))
                        best = k;
        if (best == SIZE_MAX)
                return NULL;
        return take(l, best, --l->pos[best]);
}

const struct policy_rule *policy_rule_lists_next(struct policy_rule_lists *l) {
        size_t best = SIZE_MAX;

        for (size_t k = 0; k < l->n_lists; k++)
                if (l->pos[k] < l->n[k] &&
                    (best == SIZE_MAX || position(l, k, l->pos[k]) < position(l, best, l->pos[best])))
                        best = k;
        if (best == SIZE_MAX)
                return NULL;
        return take(l, best, l->pos[best]++);
}

void policy_rule_lists_to_end(struct policy_rule_lists *l) {
        for (size_t k = 0; k < l->n_lists; k++)
                l->pos[k] = l->n[k];
}

void policy_rule_lists_to_start(struct policy_rule_lists *l) {
        for (size_t k = 0; k < l->n_lists; k++)
                l->pos[k] = 0;
}
