/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Out of memory in a table is an error returned, not exit(): an element
 * uthash could not add has hh.tbl == NULL. */
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "policy-internal.h"

/* Deciding one device for many policies. The rule index (index.c) splits
 * each policy into runs: its unindexed rules, and per KERNEL or SUBSYSTEM
 * value the rules filed under it. A device meets one policy's unindexed
 * run and at most one run of each kind, merged in rule order; so two
 * policies whose runs for the device are equal (the same rules, written
 * in the same place, at the same positions) decide it alike.
 *
 * The set interns every run of every member as a string (each rule's
 * position and identity line, as policy_seal() writes them) and keeps,
 * per KERNEL and SUBSYSTEM value, one array of the members with a run for
 * it. A pass for a device reads the two arrays of its values and decides
 * once per distinct combination of runs; the members without a run for
 * either value share the decision of their unindexed run, made once per
 * distinct one, and are not visited unless it allows the device. With a
 * thousand policies built from the same included files, a device costs a
 * few evaluations and a walk over two contiguous arrays instead of a
 * thousand evaluations, each chasing its own policy's pointers.
 *
 * Where the combinations differ, they still share rules: every rule text
 * has an id, each run a position and id per rule (policy_rule_ref), and a
 * pass remembers per id whether the rule matched, so that a rule written
 * alike in many policies is tested once per pass and, after that, not
 * even read. */

/* A rule text, wherever it is written: texts match alike. */
struct set_rule {
        char *text; /* key */
        uint32_t id;
        unsigned n_refs;
        UT_hash_handle hh;
};

struct set_list {
        char *key; /* "N\n" and per rule "INDEX " and its identity line */
        size_t length;
        unsigned n_refs;
        struct set_rule **rules;      /* the interned texts, in run order */
        struct policy_rule_ref *refs; /* position and text id of each */
        size_t n_rules;
        UT_hash_handle hh;
};

/* A member with a run for one value: what a pass needs of the member is
 * copied here (its unindexed run, the rules of both runs in its policy),
 * so that a pass reads this array and nothing of the member. */
struct set_entry {
        struct policy_set_member *member;
        const struct set_list *list;
        const struct policy_rule *const *rules; /* the run in the member's policy */
        const struct policy_rule_ref *refs;     /* the list's */
        size_t n_rules;
        const struct set_list *unindexed;
        const struct policy_rule *const *unindexed_rules;
        const struct policy_rule_ref *unindexed_refs;
        size_t n_unindexed_rules;
        const struct set_group *group; /* the member's */
        size_t slot;
};

struct set_value {
        char *value; /* key */
        struct set_entry *entries;
        size_t n_entries, allocated;
        UT_hash_handle hh;
};

/* The members with one unindexed run. */
struct set_group {
        const struct set_list *unindexed; /* key: the interned run's address */
        size_t index;                     /* in policy_set.group_slots */
        struct policy_set_member **members;
        size_t n_members, allocated;
        UT_hash_handle hh;
};

struct member_value {
        size_t kind;
        struct set_value *value;
        struct set_list *list;
};

struct policy_set_member {
        const struct policy *policy;
        void *userdata;
        size_t slot; /* in policy_set.slots: a pass keeps per member state in an array */
        struct set_list *unindexed;
        const struct policy_rule *const *unindexed_rules; /* in policy */
        size_t n_unindexed_rules;
        struct set_group *group;
        struct member_value *values;
        size_t n_values, allocated_values;
};

struct policy_set {
        struct set_rule *rules;
        uint32_t *free_ids; /* ids of texts gone, for the next ones */
        size_t n_free_ids, allocated_free_ids;
        uint32_t n_ids;     /* ids handed out: a pass's memo has a byte each */
        struct set_list *lists;
        struct set_value *values[_INDEX_MAX];
        struct set_group *groups;
        struct set_group **group_slots; /* a pass counts per group in an array */
        size_t n_groups, allocated_groups;
        struct policy_set_member **slots;
        size_t n_slots, allocated_slots;
        uint64_t generation; /* changes with the members: passes made before are stale */
};

/* One distinct combination of runs in a pass, and its decision. A pass
 * makes up to one per member; they come from chunks, in a table of the
 * pass's own, so that a pass costs a few allocations, not a few per
 * member. */
struct pass_group {
        const struct set_list *key[1 + _INDEX_MAX]; /* unindexed, then one per kind (NULL: none) */
        struct policy_set_decision decision;
        int error;
        struct pass_group *next; /* in its table chain */
};

/* The first chunk is small: most passes make a decision or two. */
#define PASS_CHUNK_FIRST 4
#define PASS_CHUNK 64

struct pass_chunk {
        struct pass_chunk *next;
        size_t n, capacity;
        struct pass_group items[];
};

struct pass_slot {
        const struct set_entry *entries[_INDEX_MAX]; /* the member's runs for d's values */
        struct pass_group *group; /* set for the members with a run for the device's values */
};

struct policy_set_pass {
        const struct policy_set *set;
        uint64_t generation;
        const struct policy_device *device;
        struct set_value *values[_INDEX_MAX];
        struct pass_slot *slots;
        size_t *n_bucketed; /* per group (its index): members with a run for d's values */
        struct pass_group **table;
        size_t table_mask;
        struct pass_chunk *chunks;
        uint8_t *memo; /* per rule id: policy_evaluate_lists() */
        size_t n_evaluations;
};

static int grow(void **array, size_t *allocated, size_t n, size_t size) {
        size_t more;
        void *grown;

        if (n < *allocated)
                return 0;
        more = *allocated * 2 + 4;
        if (more > SIZE_MAX / size)
                return -ENOMEM;
        grown = realloc(*array, more * size);
        if (!grown)
                return -ENOMEM;
        *array = grown;
        *allocated = more;
        return 0;
}

/* --- Interned runs ---------------------------------------------------- */

static int list_key(const struct policy_index_run *run, char **ret, size_t *ret_length) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        bool failed;

        if (!f)
                return -ENOMEM;
        fprintf(f, "%zu\n", run->n_rules);
        for (size_t i = 0; i < run->n_rules; i++) {
                /* The position too: where runs interleave decides which
                 * of their rules is the last to match. */
                fprintf(f, "%zu ", run->rules[i]->index);
                policy_rule_write_identity(f, run->rules[i]);
        }
        /* A write that could not grow the buffer shows only here: a key
         * cut short would make two runs one. */
        failed = ferror(f);
        if (fclose(f) != 0 || failed)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        *ret_length = size;
        return 0;
}

static void rule_unref(struct policy_set *s, struct set_rule *r) {
        if (!r || --r->n_refs > 0)
                return;
        /* Room was made when the id was handed out. */
        s->free_ids[s->n_free_ids++] = r->id;
        HASH_DEL(s->rules, r);
        free(r->text);
        free(r);
}

static int rule_intern(struct policy_set *s, const char *text, struct set_rule **ret) {
        struct set_rule *r;
        int k;

        HASH_FIND_STR(s->rules, text, r);
        if (!r) {
                if (s->n_free_ids == 0) {
                        if (s->n_ids == UINT32_MAX)
                                return -ENOMEM;
                        /* Room for every id handed out, so that giving
                         * one back cannot fail. */
                        k = grow((void **) &s->free_ids, &s->allocated_free_ids, s->n_ids, sizeof(*s->free_ids));
                        if (k < 0)
                                return k;
                }
                r = calloc(1, sizeof(*r));
                if (!r || !(r->text = strdup(text))) {
                        free(r);
                        return -ENOMEM;
                }
                HASH_ADD_KEYPTR(hh, s->rules, r->text, strlen(r->text), r);
                if (!r->hh.tbl) {
                        free(r->text);
                        free(r);
                        return -ENOMEM;
                }
                r->id = s->n_free_ids > 0 ? s->free_ids[--s->n_free_ids] : s->n_ids++;
        }
        r->n_refs++;
        *ret = r;
        return 0;
}

static void list_free(struct policy_set *s, struct set_list *l) {
        for (size_t i = 0; i < l->n_rules; i++)
                rule_unref(s, l->rules[i]);
        free(l->rules);
        free(l->refs);
        free(l->key);
        free(l);
}

static void list_unref(struct policy_set *s, struct set_list *l) {
        if (!l || --l->n_refs > 0)
                return;
        HASH_DEL(s->lists, l);
        list_free(s, l);
}

/* The ids and positions of a new list's rules. */
static int list_make_refs(struct policy_set *s, struct set_list *l, const struct policy_index_run *run) {
        l->rules = calloc(run->n_rules + 1, sizeof(*l->rules));
        l->refs = calloc(run->n_rules + 1, sizeof(*l->refs));
        if (!l->rules || !l->refs)
                return -ENOMEM;
        for (size_t i = 0; i < run->n_rules; i++) {
                int r = rule_intern(s, run->rules[i]->text, &l->rules[i]);

                if (r < 0)
                        return r;
                l->n_rules++;
                if (run->rules[i]->index > UINT32_MAX)
                        return -E2BIG;
                l->refs[i] = (struct policy_rule_ref) {
                        .index = (uint32_t) run->rules[i]->index,
                        .id = l->rules[i]->id,
                };
        }
        return 0;
}

static int list_intern(struct policy_set *s, const struct policy_index_run *run, struct set_list **ret) {
        _cleanup_free_ char *key = NULL;
        struct set_list *l;
        size_t length;
        int r;

        r = list_key(run, &key, &length);
        if (r < 0)
                return r;
        HASH_FIND(hh, s->lists, key, length, l);
        if (!l) {
                l = calloc(1, sizeof(*l));
                if (!l)
                        return -ENOMEM;
                l->key = TAKE_PTR(key);
                l->length = length;
                r = list_make_refs(s, l, run);
                if (r < 0) {
                        list_free(s, l);
                        return r;
                }
                HASH_ADD_KEYPTR(hh, s->lists, l->key, l->length, l);
                if (!l->hh.tbl) {
                        list_free(s, l);
                        return -ENOMEM;
                }
        }
        l->n_refs++;
        *ret = l;
        return 0;
}

/* --- Members ---------------------------------------------------------- */

static struct set_entry *value_find_entry(struct set_value *v, const struct policy_set_member *member) {
        for (size_t i = 0; i < v->n_entries; i++)
                if (v->entries[i].member == member)
                        return &v->entries[i];
        return NULL;
}

static int member_add_value(struct policy_set *s, struct policy_set_member *member,
                            const struct policy_index_run *run) {
        struct set_list *list = NULL;
        struct set_value *v;
        int r;

        r = grow((void **) &member->values, &member->allocated_values, member->n_values, sizeof(*member->values));
        if (r < 0)
                return r;
        r = list_intern(s, run, &list);
        if (r < 0)
                return r;
        HASH_FIND_STR(s->values[run->kind], run->value, v);
        if (!v) {
                v = calloc(1, sizeof(*v));
                if (!v || !(v->value = strdup(run->value))) {
                        free(v);
                        list_unref(s, list);
                        return -ENOMEM;
                }
                HASH_ADD_KEYPTR(hh, s->values[run->kind], v->value, strlen(v->value), v);
                if (!v->hh.tbl) {
                        free(v->value);
                        free(v);
                        list_unref(s, list);
                        return -ENOMEM;
                }
        }
        /* Recorded before the entry, so that a failure below is undone by
         * policy_set_remove() like any member. */
        member->values[member->n_values++] = (struct member_value) {
                .kind = run->kind,
                .value = v,
                .list = list,
        };
        r = grow((void **) &v->entries, &v->allocated, v->n_entries, sizeof(*v->entries));
        if (r < 0)
                return r;
        v->entries[v->n_entries++] = (struct set_entry) {
                .member = member,
                .list = list,
                .rules = run->rules,
                .refs = list->refs,
                .n_rules = run->n_rules,
                .unindexed = member->unindexed,
                .unindexed_rules = member->unindexed_rules,
                .unindexed_refs = member->unindexed->refs,
                .n_unindexed_rules = member->n_unindexed_rules,
                .group = member->group,
                .slot = member->slot,
        };
        return 0;
}

static void group_free(struct policy_set *s, struct set_group *g) {
        struct set_group *last = s->group_slots[--s->n_groups];

        last->index = g->index;
        s->group_slots[g->index] = last;
        HASH_DEL(s->groups, g);
        free(g->members);
        free(g);
}

static int member_join_group(struct policy_set *s, struct policy_set_member *member) {
        struct set_group *g;
        int r;

        HASH_FIND(hh, s->groups, &member->unindexed, sizeof(member->unindexed), g);
        if (!g) {
                r = grow((void **) &s->group_slots, &s->allocated_groups, s->n_groups, sizeof(*s->group_slots));
                if (r < 0)
                        return r;
                g = calloc(1, sizeof(*g));
                if (!g)
                        return -ENOMEM;
                g->unindexed = member->unindexed;
                HASH_ADD(hh, s->groups, unindexed, sizeof(g->unindexed), g);
                if (!g->hh.tbl) {
                        free(g);
                        return -ENOMEM;
                }
                g->index = s->n_groups;
                s->group_slots[s->n_groups++] = g;
        }
        r = grow((void **) &g->members, &g->allocated, g->n_members, sizeof(*g->members));
        if (r < 0) {
                if (g->n_members == 0)
                        group_free(s, g);
                return r;
        }
        g->members[g->n_members++] = member;
        member->group = g;
        return 0;
}

static void member_leave_group(struct policy_set *s, struct policy_set_member *member) {
        struct set_group *g = member->group;

        if (!g)
                return;
        for (size_t i = 0; i < g->n_members; i++)
                if (g->members[i] == member) {
                        g->members[i] = g->members[--g->n_members];
                        break;
                }
        if (g->n_members == 0)
                group_free(s, g);
        member->group = NULL;
}

static int member_add_run(const struct policy_index_run *run, void *userdata) {
        struct policy_set_member *member = ((void **) userdata)[1];
        struct policy_set *s = ((void **) userdata)[0];

        int r;

        /* The unindexed run comes first: entries copy it and its group. */
        if (run->kind == _INDEX_MAX) {
                member->unindexed_rules = run->rules;
                member->n_unindexed_rules = run->n_rules;
                r = list_intern(s, run, &member->unindexed);
                return r < 0 ? r : member_join_group(s, member);
        }
        return member_add_value(s, member, run);
}

/* Moves member into slot (the hole another member left). */
static void member_move_slot(struct policy_set *s, struct policy_set_member *member, size_t slot) {
        s->slots[slot] = member;
        member->slot = slot;
        for (size_t i = 0; i < member->n_values; i++) {
                struct set_entry *e = value_find_entry(member->values[i].value, member);

                if (e)
                        e->slot = slot;
        }
}

void policy_set_remove(struct policy_set *s, struct policy_set_member *member) {
        struct policy_set_member *last;

        if (!member)
                return;
        for (size_t i = 0; i < member->n_values; i++) {
                struct member_value *mv = &member->values[i];
                struct set_entry *e = value_find_entry(mv->value, member);

                if (e)
                        *e = mv->value->entries[--mv->value->n_entries];
                if (mv->value->n_entries == 0) {
                        HASH_DEL(s->values[mv->kind], mv->value);
                        free(mv->value->entries);
                        free(mv->value->value);
                        free(mv->value);
                }
                list_unref(s, mv->list);
        }
        free(member->values);
        member_leave_group(s, member);
        list_unref(s, member->unindexed);

        last = s->slots[--s->n_slots];
        if (last != member)
                member_move_slot(s, last, member->slot);
        s->generation++;
        free(member);
}

int policy_set_add(struct policy_set *s, const struct policy *p, void *userdata, struct policy_set_member **ret) {
        struct policy_set_member *member;
        int r;

        r = grow((void **) &s->slots, &s->allocated_slots, s->n_slots, sizeof(*s->slots));
        if (r < 0)
                return r;
        member = calloc(1, sizeof(*member));
        if (!member)
                return -ENOMEM;
        *member = (struct policy_set_member) {
                .policy = p,
                .userdata = userdata,
                .slot = s->n_slots,
        };
        s->slots[s->n_slots++] = member;
        s->generation++;

        r = policy_index_foreach(p, member_add_run, (void *[]) { s, member });
        if (r < 0) {
                policy_set_remove(s, member);
                return r;
        }
        *ret = member;
        return 0;
}

/* The runs of the member's new policy: the same as its old one's, at other
 * addresses. */
static int member_update_run(const struct policy_index_run *run, void *userdata) {
        struct policy_set_member *member = userdata;

        if (run->kind == _INDEX_MAX) {
                member->unindexed_rules = run->rules;
                member->n_unindexed_rules = run->n_rules;
                for (size_t i = 0; i < member->n_values; i++) {
                        struct set_entry *e = value_find_entry(member->values[i].value, member);

                        if (e) {
                                e->unindexed_rules = run->rules;
                                e->n_unindexed_rules = run->n_rules;
                        }
                }
                return 0;
        }
        for (size_t i = 0; i < member->n_values; i++) {
                const struct member_value *mv = &member->values[i];
                struct set_entry *e;

                if (mv->kind != run->kind || !streq(mv->value->value, run->value))
                        continue;
                e = value_find_entry(mv->value, member);
                if (e) {
                        e->rules = run->rules;
                        e->n_rules = run->n_rules;
                }
        }
        return 0;
}

void policy_set_member_update(struct policy_set_member *member, const struct policy *p) {
        if (member->policy == p)
                return;
        member->policy = p;
        /* Cannot fail: member_update_run() allocates nothing. */
        (void) policy_index_foreach(p, member_update_run, member);
}

size_t policy_set_n_members(const struct policy_set *s) {
        return s->n_slots;
}

int policy_set_new(struct policy_set **ret) {
        struct policy_set *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

struct policy_set *policy_set_free(struct policy_set *s) {
        if (!s)
                return NULL;
        while (s->n_slots > 0)
                policy_set_remove(s, s->slots[s->n_slots - 1]);
        free(s->slots);
        free(s->group_slots);
        free(s->free_ids);
        free(s);
        return NULL;
}

/* --- Passes ----------------------------------------------------------- */

static size_t align_to(size_t n, size_t alignment) {
        return (n + alignment - 1) / alignment * alignment;
}

struct policy_set_pass *policy_set_pass_free(struct policy_set_pass *pass) {
        if (!pass)
                return NULL;
        while (pass->chunks) {
                struct pass_chunk *c = pass->chunks;

                pass->chunks = c->next;
                for (size_t i = 0; i < c->n; i++) {
                        policy_result_done(&c->items[i].decision.result);
                        free(c->items[i].decision.decided_by);
                }
                free(c);
        }
        free(pass); /* with its arrays */
        return NULL;
}

static size_t key_hash(const struct set_list *const key[static 1 + _INDEX_MAX]) {
        uint64_t h = 0;

        /* The keys are addresses of interned runs: mixing them is enough. */
        for (size_t i = 0; i < 1 + _INDEX_MAX; i++)
                h = (h ^ (uint64_t) (uintptr_t) key[i]) * 0x9E3779B97F4A7C15u;
        return (size_t) (h ^ (h >> 29));
}

static struct pass_group *pass_find(const struct policy_set_pass *pass,
                                    const struct set_list *const key[static 1 + _INDEX_MAX]) {
        for (struct pass_group *g = pass->table[key_hash(key) & pass->table_mask]; g; g = g->next)
                if (memcmp(g->key, key, sizeof(g->key)) == 0)
                        return g;
        return NULL;
}

static struct pass_group *pass_group_new(struct policy_set_pass *pass) {
        if (!pass->chunks || pass->chunks->n == pass->chunks->capacity) {
                size_t capacity = pass->chunks ? PASS_CHUNK : PASS_CHUNK_FIRST;
                struct pass_chunk *c = malloc(sizeof(*c) + capacity * sizeof(c->items[0]));

                if (!c)
                        return NULL;
                c->next = pass->chunks;
                c->n = 0;
                c->capacity = capacity;
                pass->chunks = c;
        }
        return memset(&pass->chunks->items[pass->chunks->n++], 0, sizeof(struct pass_group));
}

/* The decision for the runs key, made over rules (the same runs in one
 * member's policy) unless already made. */
static int pass_group_get(struct policy_set_pass *pass, const struct set_list *const key[static 1 + _INDEX_MAX],
                          struct policy_rule_lists *rules, struct pass_group **ret) {
        struct pass_group *g = pass_find(pass, key);
        size_t h;
        int r;

        if (g) {
                *ret = g;
                return 0;
        }
        g = pass_group_new(pass);
        if (!g)
                return -ENOMEM;
        memcpy(g->key, key, sizeof(g->key));
        r = policy_evaluate_lists(rules, pass->device, &g->decision.result, pass->memo);
        if (r >= 0 && g->decision.result.allowed)
                r = policy_rule_location(g->decision.result.decided_by, &g->decision.decided_by);
        if (r < 0) {
                policy_result_done(&g->decision.result);
                g->decision = (struct policy_set_decision) {};
                g->error = r;
        }
        pass->n_evaluations++;
        h = key_hash(key) & pass->table_mask;
        g->next = pass->table[h];
        pass->table[h] = g;
        *ret = g;
        return 0;
}

static void add_rules(struct policy_rule_lists *l, const struct policy_rule *const *rules,
                      const struct policy_rule_ref *refs, size_t n) {
        l->items[l->n_lists] = rules;
        l->refs[l->n_lists] = refs;
        l->n[l->n_lists++] = n;
}

/* A member with a run for d's values: the first of its entries holds its
 * unindexed run. */
static int pass_decide_bucketed(struct policy_set_pass *pass, const struct set_entry *e, struct pass_slot *slot) {
        const struct set_list *key[1 + _INDEX_MAX] = { e->unindexed };
        struct policy_rule_lists l = {};

        add_rules(&l, e->unindexed_rules, e->unindexed_refs, e->n_unindexed_rules);
        for (size_t k = 0; k < _INDEX_MAX; k++)
                if (slot->entries[k]) {
                        key[1 + k] = slot->entries[k]->list;
                        add_rules(&l, slot->entries[k]->rules, slot->entries[k]->refs, slot->entries[k]->n_rules);
                }
        return pass_group_get(pass, key, &l, &slot->group);
}

static int pass_decide_unindexed(struct policy_set_pass *pass, const struct set_group *g) {
        const struct set_list *key[1 + _INDEX_MAX] = { g->unindexed };
        struct policy_rule_lists l = {};
        struct pass_group *unused;

        add_rules(&l, g->members[0]->unindexed_rules, g->unindexed->refs, g->members[0]->n_unindexed_rules);
        return pass_group_get(pass, key, &l, &unused);
}

/* The pass and its arrays in one allocation. */
static struct policy_set_pass *pass_alloc(const struct policy_set *s, size_t n_entries) {
        size_t table_size = 16, size = sizeof(struct policy_set_pass);
        size_t slots_at, bucketed_at, table_at, memo_at;
        struct policy_set_pass *pass;

        /* At most a group per member with a run and per unindexed run:
         * chains of one or two. */
        while (table_size < 2 * (n_entries + s->n_groups)) {
                if (table_size > SIZE_MAX / 4)
                        return NULL;
                table_size *= 2;
        }
        slots_at = align_to(size, _Alignof(struct pass_slot));
        bucketed_at = align_to(slots_at + s->n_slots * sizeof(struct pass_slot), _Alignof(size_t));
        table_at = align_to(bucketed_at + s->n_groups * sizeof(size_t), _Alignof(struct pass_group *));
        if (table_size > (SIZE_MAX - table_at) / sizeof(struct pass_group *))
                return NULL;
        memo_at = table_at + table_size * sizeof(struct pass_group *);
        if (s->n_ids > SIZE_MAX - memo_at)
                return NULL;
        pass = calloc(1, memo_at + s->n_ids);
        if (!pass)
                return NULL;
        pass->memo = (uint8_t *) pass + memo_at;
        pass->slots = (struct pass_slot *) ((char *) pass + slots_at);
        pass->n_bucketed = (size_t *) ((char *) pass + bucketed_at);
        pass->table = (struct pass_group **) ((char *) pass + table_at);
        pass->table_mask = table_size - 1;
        return pass;
}

int policy_set_pass_new(struct policy_set *s, const struct policy_device *d, struct policy_set_pass **ret) {
        _cleanup_(policy_set_pass_freep) struct policy_set_pass *pass = NULL;
        struct set_value *values[_INDEX_MAX] = {};
        struct set_group *g, *gtmp;
        size_t n_entries = 0;
        int r;

        for (size_t k = 0; k < _INDEX_MAX; k++) {
                const char *value = policy_index_device_value(k, d);

                if (value)
                        HASH_FIND_STR(s->values[k], value, values[k]);
                n_entries += values[k] ? values[k]->n_entries : 0;
        }
        pass = pass_alloc(s, n_entries);
        if (!pass)
                return -ENOMEM;
        pass->set = s;
        pass->generation = s->generation;
        pass->device = d;
        memcpy(pass->values, values, sizeof(values));

        for (size_t k = 0; k < _INDEX_MAX; k++)
                for (size_t i = 0; pass->values[k] && i < pass->values[k]->n_entries; i++) {
                        const struct set_entry *e = &pass->values[k]->entries[i];

                        pass->slots[e->slot].entries[k] = e;
                }
        for (size_t k = 0; k < _INDEX_MAX; k++)
                for (size_t i = 0; pass->values[k] && i < pass->values[k]->n_entries; i++) {
                        const struct set_entry *e = &pass->values[k]->entries[i];
                        struct pass_slot *slot = &pass->slots[e->slot];

                        if (slot->group)
                                continue;
                        r = pass_decide_bucketed(pass, e, slot);
                        if (r < 0)
                                return r;
                        pass->n_bucketed[e->group->index]++;
                }
        /* The members without a run for d's values meet their unindexed
         * run alone: decided once per group that has any. */
        HASH_ITER(hh, s->groups, g, gtmp) {
                if (pass->n_bucketed[g->index] == g->n_members)
                        continue;
                r = pass_decide_unindexed(pass, g);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(pass);
        return 0;
}

static const struct pass_group *pass_unindexed_group(const struct policy_set_pass *pass,
                                                     const struct set_list *unindexed) {
        const struct set_list *key[1 + _INDEX_MAX] = { unindexed };

        return pass_find(pass, key);
}

int policy_set_pass_decision(const struct policy_set_pass *pass, const struct policy_set_member *member,
                             const struct policy_set_decision **ret) {
        const struct pass_group *g;

        if (pass->generation != pass->set->generation)
                return -ESTALE;
        g = pass->slots[member->slot].group ?: pass_unindexed_group(pass, member->unindexed);
        if (!g)
                return -ESTALE;
        if (g->error < 0)
                return g->error;
        *ret = &g->decision;
        return 0;
}

static bool group_allows(const struct pass_group *g) {
        /* A failure is met again, and reported, by whoever asks for it. */
        return !g || g->error < 0 || g->decision.result.allowed;
}

void policy_set_pass_foreach_allowed(const struct policy_set_pass *pass, void (*fn)(void *member_userdata, void *data),
                                     void *data) {
        struct set_group *g, *gtmp;

        for (size_t k = 0; k < _INDEX_MAX; k++)
                for (size_t i = 0; pass->values[k] && i < pass->values[k]->n_entries; i++) {
                        const struct set_entry *e = &pass->values[k]->entries[i];
                        const struct pass_slot *slot = &pass->slots[e->slot];
                        bool earlier = false;

                        /* A member with runs for both values: once. */
                        for (size_t j = 0; j < k; j++)
                                earlier = earlier || slot->entries[j];
                        if (!earlier && group_allows(slot->group))
                                fn(e->member->userdata, data);
                }
        HASH_ITER(hh, pass->set->groups, g, gtmp) {
                if (pass->n_bucketed[g->index] == g->n_members ||
                    !group_allows(pass_unindexed_group(pass, g->unindexed)))
                        continue;
                for (size_t i = 0; i < g->n_members; i++)
                        if (!pass->slots[g->members[i]->slot].group)
                                fn(g->members[i]->userdata, data);
        }
}

size_t policy_set_pass_n_evaluations(const struct policy_set_pass *pass) {
        return pass->n_evaluations;
}
