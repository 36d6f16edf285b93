/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <utlist.h>

#include "model.h"
#include "names.h"
#include "strv.h"

/* --- Delta batches --------------------------------------------------- */

struct delta_batch {
        struct delta *deltas;
        size_t n, allocated;
        struct visible_list old; /* owns the "old" side of the deltas */
};

static void delta_batch_done(struct delta_batch *b) {
        free(b->deltas);
        visible_list_done(&b->old);
}

static int delta_batch_push(struct delta_batch *b, struct device *d, const struct visible_device *old,
                            const struct visible_device *new, const struct uevent *event) {
        if (b->n == b->allocated) {
                size_t more = b->allocated * 2 + 8;
                struct delta *grown = realloc(b->deltas, more * sizeof(*grown));
                if (!grown)
                        return -ENOMEM;
                b->deltas = grown;
                b->allocated = more;
        }
        b->deltas[b->n++] = (struct delta){
                .kind = !old ? DELTA_VISIBLE : !new ? DELTA_HIDDEN : DELTA_CHANGED,
                .device = d,
                .old = old,
                .new = new,
                .event = event,
        };
        return 0;
}

static bool delta_has_device(const struct delta_batch *b, const struct device *d) {
        for (size_t i = 0; i < b->n; i++)
                if (b->deltas[i].device == d)
                        return true;
        return false;
}

/* Whether applying the delta frees a name another delta may take. */
static bool delta_releases_names(const struct delta *d) {
        if (d->kind == DELTA_VISIBLE)
                return false;
        if (d->kind == DELTA_HIDDEN)
                return true;
        if (d->old->node && !streq_ptr(d->old->node, d->new->node))
                return true;
        STRV_FOREACH(s, d->old->symlinks)
                if (!strv_contains(d->new->symlinks, *s))
                        return true;
        return false;
}

/* Stable partition: releases first, so a consumer applying front to back
 * never sees two devices holding one name. */
static int delta_batch_order(struct delta_batch *b) {
        _cleanup_free_ struct delta *ordered = NULL;
        size_t n = 0;

        if (b->n < 2)
                return 0;
        ordered = malloc(b->n * sizeof(*ordered));
        if (!ordered)
                return -ENOMEM;
        for (size_t i = 0; i < b->n; i++)
                if (delta_releases_names(&b->deltas[i]))
                        ordered[n++] = b->deltas[i];
        for (size_t i = 0; i < b->n; i++)
                if (!delta_releases_names(&b->deltas[i]))
                        ordered[n++] = b->deltas[i];
        memcpy(b->deltas, ordered, b->n * sizeof(*ordered));
        return 0;
}

static void dispatch_first(struct model *m, struct container *c, const struct delta_batch *b) {
        for (size_t i = 0; i < m->n_first_subscribers; i++)
                m->first_subscribers[i].fn(c, b->deltas, b->n, m->first_subscribers[i].userdata);
}

static void dispatch_rest(struct model *m, struct container *c, const struct delta_batch *b) {
        for (size_t i = 0; i < m->n_subscribers; i++)
                m->subscribers[i].fn(c, b->deltas, b->n, m->subscribers[i].userdata);
}

/* One container's batch for one change, waiting for the others' first
 * subscribers. */
struct pending_batch {
        struct container *container;
        struct delta_batch batch;
};

struct pending {
        struct pending_batch *items;
        size_t n, allocated;
};

static void pending_done(struct pending *p) {
        for (size_t i = 0; i < p->n; i++)
                delta_batch_done(&p->items[i].batch);
        free(p->items);
}

/* Delivers b to every subscriber now, or (pending given) to the first
 * ones now and the rest in pending_flush(); takes its contents. */
static int dispatch(struct model *m, struct container *c, struct delta_batch *b, struct pending *pending) {
        int r;

        if (b->n == 0)
                return 0;
        r = delta_batch_order(b);
        if (r < 0)
                return r;
        m->stats.deltas += b->n;
        if (pending && m->n_first_subscribers > 0) {
                if (pending->n == pending->allocated) {
                        size_t more = pending->allocated * 2 + 8;
                        struct pending_batch *grown = realloc(pending->items, more * sizeof(*grown));
                        if (!grown)
                                return -ENOMEM;
                        pending->items = grown;
                        pending->allocated = more;
                }
                dispatch_first(m, c, b);
                pending->items[pending->n++] = (struct pending_batch){ .container = c, .batch = *b };
                *b = (struct delta_batch){};
                return 0;
        }
        dispatch_first(m, c, b);
        dispatch_rest(m, c, b);
        return 0;
}

static void pending_flush(struct model *m, struct pending *p) {
        for (size_t i = 0; i < p->n; i++)
                dispatch_rest(m, p->items[i].container, &p->items[i].batch);
}

/* --- Visible sets ---------------------------------------------------- */

static void class_count(struct model *m, struct container *c, uint64_t device_id, int delta);

static int take_grants(struct visible_device *to, const struct visible_device *from) {
        free(to->node);
        to->node = NULL;
        if (from->node && !(to->node = strdup(from->node)))
                return -ENOMEM;
        strv_free(to->symlinks);
        strv_free(to->conflicts);
        to->symlinks = to->conflicts = NULL;
        if (strv_copy(from->symlinks, &to->symlinks) < 0 || strv_copy(from->conflicts, &to->conflicts) < 0)
                return -ENOMEM;
        return 0;
}

/* The devices of one batch whose claims on names changed: how many, and
 * the last one's entries before and after (either may be NULL). */
struct names_dirty {
        size_t n;
        const struct visible_device *old;
        struct visible_device *new;
};

/* Replaces c's entry for d by new (NULL: d becomes hidden) and records the
 * delta. Notes d in *dirty when its claims on names changed. */
static int replace_visible(struct model *m, struct container *c, struct device *d, struct visible_device *new,
                           const struct uevent *event, struct delta_batch *b, struct names_dirty *dirty) {
        _cleanup_(visible_device_freep) struct visible_device *incoming = new;
        struct visible_device *old = container_find_visible(c, d);
        int r;

        if (!old && !incoming)
                return 0;
        if (old && incoming && visible_device_same_wants(old, incoming)) {
                r = take_grants(incoming, old);
                if (r < 0)
                        return r;
                if (!event && visible_device_equal(old, incoming))
                        return 0;
        } else {
                dirty->n++;
                dirty->old = old;
                dirty->new = incoming;
        }

        /* Counted first: the entries change below whatever else fails. */
        class_count(m, c, d->id, (incoming ? 1 : 0) - (old ? 1 : 0));
        if (old) {
                HASH_DEL(c->visible, old);
                r = visible_list_push(&b->old, old);
                if (r < 0)
                        return r;
        }
        if (incoming)
                HASH_ADD_PTR(c->visible, device, incoming);
        return delta_batch_push(b, d, old, TAKE_PTR(incoming), event);
}

static bool strv_is_empty(char *const *l) {
        return !l || !l[0];
}

/* --- Names in use, per container ------------------------------------- */

/* One name granted in a container, or a directory of granted names. */
struct name_use {
        char *name;
        unsigned n_granted; /* devices granted exactly this name */
        unsigned n_below;   /* granted names below it ("disk" for "disk/a") */
        UT_hash_handle hh;
};

/* What the model keeps beside a container to grant one device's names
 * without handing out every name again (assign_names_of_one). */
struct container_names {
        bool valid;          /* false: rebuilt from the visible set before use */
        struct name_use *in_use;
        size_t n_conflicted; /* visible devices that did not get a name they wanted */
};

static void names_in_use_clear(struct container_names *n) {
        struct name_use *u, *tmp;

        HASH_ITER(hh, n->in_use, u, tmp) {
                HASH_DEL(n->in_use, u);
                free(u->name);
                free(u);
        }
        n->n_conflicted = 0;
        n->valid = false;
}

static struct name_use *name_use_find(const struct container_names *n, const char *name, size_t length) {
        struct name_use *u;

        HASH_FIND(hh, n->in_use, name, length, u);
        return u;
}

/* Counts name (length bytes of it) as granted (granted) or as a directory
 * of a granted name, by delta (+1 or -1). */
static int name_use_count(struct container_names *n, const char *name, size_t length, bool granted, int delta) {
        struct name_use *u = name_use_find(n, name, length);

        if (!u) {
                if (delta < 0)
                        return -EINVAL; /* released what was never counted: a bug */
                u = calloc(1, sizeof(*u));
                if (!u || !(u->name = strndup(name, length))) {
                        free(u);
                        return -ENOMEM;
                }
                HASH_ADD_KEYPTR(hh, n->in_use, u->name, length, u);
        }
        if (granted)
                u->n_granted += delta;
        else
                u->n_below += delta;
        if (u->n_granted == 0 && u->n_below == 0) {
                HASH_DEL(n->in_use, u);
                free(u->name);
                free(u);
        }
        return 0;
}

static int name_use_add(struct container_names *n, const char *name, int delta) {
        int r;

        for (const char *slash = strchr(name, '/'); slash; slash = strchr(slash + 1, '/')) {
                r = name_use_count(n, name, (size_t) (slash - name), false, delta);
                if (r < 0)
                        return r;
        }
        return name_use_count(n, name, strlen(name), true, delta);
}

/* Counts (delta +1) or uncounts (-1) what v was granted. */
static int names_of_visible(struct container_names *n, const struct visible_device *v, int delta) {
        int r;

        if (v->node) {
                r = name_use_add(n, v->node, delta);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(s, v->symlinks) {
                r = name_use_add(n, *s, delta);
                if (r < 0)
                        return r;
        }
        if (!strv_is_empty(v->conflicts))
                n->n_conflicted += delta;
        return 0;
}

static int names_in_use_build(struct container_names *n, const struct container *c) {
        struct visible_device *v, *tmp;
        int r;

        if (n->valid)
                return 0;
        names_in_use_clear(n);
        HASH_ITER(hh, c->visible, v, tmp) {
                r = names_of_visible(n, v, +1);
                if (r < 0) {
                        names_in_use_clear(n);
                        return r;
                }
        }
        n->valid = true;
        return 0;
}

/* Whether two names cannot both be granted: equal, or one a directory
 * of the other ("disk" and "disk/a"). */
static bool names_collide(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);

        if (la == lb)
                return streq(a, b);
        if (la < lb)
                return strncmp(a, b, la) == 0 && b[la] == '/';
        return strncmp(a, b, lb) == 0 && a[lb] == '/';
}

/* Whether one of v's wanted names collides with a reserved name or with
 * another of v's own. */
static bool wants_collide_own(const struct visible_device *v) {
        for (const char *const *r = names_reserved; *r; r++) {
                if (v->wanted_node && names_collide(v->wanted_node, *r))
                        return true;
                STRV_FOREACH(s, v->wanted_symlinks)
                        if (names_collide(*s, *r))
                                return true;
        }
        STRV_FOREACH(s, v->wanted_symlinks) {
                if (v->wanted_node && names_collide(*s, v->wanted_node))
                        return true;
                for (char *const *t = s + 1; *t; t++)
                        if (names_collide(*s, *t))
                                return true;
        }
        return false;
}

/* Whether name collides with a name in use: it is granted, it is a
 * directory of granted names, or a directory of it is granted. */
static bool name_in_use(const struct container_names *n, const char *name) {
        const struct name_use *u;

        for (const char *slash = strchr(name, '/'); slash; slash = strchr(slash + 1, '/')) {
                u = name_use_find(n, name, (size_t) (slash - name));
                if (u && u->n_granted > 0)
                        return true;
        }
        return name_use_find(n, name, strlen(name)) != NULL;
}

static bool wants_in_use(const struct container_names *n, const struct visible_device *v) {
        if (v->wanted_node && name_in_use(n, v->wanted_node))
                return true;
        STRV_FOREACH(s, v->wanted_symlinks)
                if (name_in_use(n, *s))
                        return true;
        return false;
}

/* names_assign() for the common case of one device's claims changing
 * (old: its entry before, new: after; either may be NULL) in a container
 * where nobody else lost a name: then every other claim was granted, and
 * the names in use are exactly the granted ones. A device that left frees
 * names nobody else wanted, and a device whose wanted names collide with
 * none of them (nor with a reserved name, nor with each other) gets them
 * all; no other device's grants change either way, which is what
 * names_assign() would conclude after sorting every claim. Returns 1 when
 * done, 0 when names_assign() has to decide (and the names in use are
 * counted again afterwards), -ENOMEM. */
static int assign_names_of_one(struct container_names *n, const struct container *c,
                               const struct visible_device *old, struct visible_device *new) {
        bool was_valid = n->valid;

        /* Built from the visible set, the counts already lack old (no
         * longer in it) and new (granted nothing yet). Without them,
         * names_assign() decides. */
        if (names_in_use_build(n, c) < 0)
                return 0;
        /* A count that fails to go down (out of memory, or never made)
         * leaves the rest to names_assign(). */
        if (old && was_valid && names_of_visible(n, old, -1) < 0) {
                n->valid = false;
                return 0;
        }
        if (n->n_conflicted > 0 ||
            (new && ((!strv_is_empty(new->wanted_symlinks) && !new->wanted_node) || wants_collide_own(new) ||
                     wants_in_use(n, new))))
                return 0;
        if (!new)
                return 1;

        /* What names_assign() grants: the node, the symlinks in the order
         * wanted (NULL when none), no conflicts. */
        free(new->node);
        strv_free(new->symlinks);
        strv_free(new->conflicts);
        new->node = NULL;
        new->symlinks = new->conflicts = NULL;
        if ((new->wanted_node && !(new->node = strdup(new->wanted_node))) ||
            (!strv_is_empty(new->wanted_symlinks) && strv_copy(new->wanted_symlinks, &new->symlinks) < 0))
                return -ENOMEM;
        /* The grants are right either way; counts that could not be made
         * are made again when next needed. */
        if (names_of_visible(n, new, +1) < 0)
                n->valid = false;
        return 1;
}

/* Hands out names again and records a delta for every other device whose
 * names changed as a consequence. */
static int reassign_names(struct container *c, struct delta_batch *b) {
        _cleanup_(visible_list_done) struct visible_list before = {};
        int r;

        r = names_assign(c, &before);
        if (r < 0)
                return r;
        for (size_t i = 0; i < before.n; i++) {
                struct visible_device *was = before.items[i];

                /* Devices already in the batch point at the updated entry. */
                if (delta_has_device(b, was->device))
                        continue;
                r = delta_batch_push(b, was->device, was, container_find_visible(c, was->device), NULL);
                if (r < 0)
                        return r;
                before.items[i] = NULL;
                r = visible_list_push(&b->old, was);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* --- Policy classes ------------------------------------------------- */

/* Per device, the classes with containers that see it and how many of
 * them (entries at zero are dropped). A class none of whose containers
 * sees a changed device, and whose policy hides it, cannot be affected by
 * the change: a runtime override that shows the device would have made it
 * seen, one that hides it changes nothing. Its containers are not even
 * visited, and for a device that leaves, no other class is looked at. */
struct class_seeing {
        struct policy_class *class; /* key */
        unsigned n_seeing;
        UT_hash_handle hh;
};

struct device_seen {
        uint64_t device_id; /* key */
        struct class_seeing *classes;
        UT_hash_handle hh;
};

/* The containers whose policies have one identity (policy_identity()):
 * they share every decision. */
struct policy_class {
        char *identity; /* the key, a copy: the class outlives any one policy */
        struct container **members; /* in no order */
        size_t n_members, allocated;
        const struct policy *policy; /* a member's, for the shared decisions */
        /* In the model's policy set, which decides a change once per
         * distinct set of rules a device meets, not once per class. */
        struct policy_set_member *member;
        bool uses_unknown; /* counting failed (out of memory): never skipped */

        /* The change being evaluated (evaluate_for_all). */
        bool has_work;
        /* The decision last looked up for this class: its containers ask
         * for it one after another. */
        uint64_t cached_change;
        size_t cached_device;
        const struct policy_set_decision *cached;
        bool touched; /* on the model's list, to be reset after the change */
        struct policy_class *next_touched;

        UT_hash_handle hh;
};

/* What the model keeps beside each container. */
struct container_model {
        struct policy_class *class;
        uint64_t order; /* containers hear of a change in the order they were added */
        struct container_names names;
};

static void class_mark_unknown(struct model *m, struct policy_class *k) {
        if (k->uses_unknown)
                return;
        k->uses_unknown = true;
        m->n_classes_unknown++;
}

static void device_seen_drop_class(struct model *m, struct device_seen *s, struct class_seeing *cs) {
        HASH_DEL(s->classes, cs);
        free(cs);
        if (!s->classes) {
                HASH_DEL(m->seen, s);
                free(s);
        }
}

static void class_free(struct model *m, struct policy_class *k) {
        struct device_seen *s, *stmp;

        /* Counts that went wrong may have outlived the members. */
        if (k->uses_unknown) {
                HASH_ITER(hh, m->seen, s, stmp) {
                        struct class_seeing *cs;

                        HASH_FIND_PTR(s->classes, &k, cs);
                        if (cs)
                                device_seen_drop_class(m, s, cs);
                }
                m->n_classes_unknown--;
        }
        policy_set_remove(m->policies, k->member);
        free(k->members);
        free(k->identity);
        free(k);
}

/* Counts one container of k more (+1) or less (-1) that sees device_id. */
static void class_count_in(struct model *m, struct policy_class *k, uint64_t device_id, int delta) {
        struct class_seeing *cs = NULL;
        struct device_seen *s;

        if (delta == 0)
                return;
        HASH_FIND(hh, m->seen, &device_id, sizeof(device_id), s);
        if (s)
                HASH_FIND_PTR(s->classes, &k, cs);
        if (!cs) {
                if (delta < 0) {
                        class_mark_unknown(m, k); /* a count that was never made */
                        return;
                }
                if (!s) {
                        s = calloc(1, sizeof(*s));
                        if (!s) {
                                class_mark_unknown(m, k); /* visited on every change */
                                return;
                        }
                        s->device_id = device_id;
                        HASH_ADD(hh, m->seen, device_id, sizeof(s->device_id), s);
                }
                cs = calloc(1, sizeof(*cs));
                if (!cs) {
                        class_mark_unknown(m, k);
                        if (!s->classes) {
                                HASH_DEL(m->seen, s);
                                free(s);
                        }
                        return;
                }
                cs->class = k;
                HASH_ADD_PTR(s->classes, class, cs);
        }
        cs->n_seeing += delta;
        if (cs->n_seeing == 0)
                device_seen_drop_class(m, s, cs);
}

static void class_count(struct model *m, struct container *c, uint64_t device_id, int delta) {
        class_count_in(m, c->model->class, device_id, delta);
}

/* Counts (+1) or uncounts (-1) in k everything c sees. */
static void class_count_container(struct model *m, struct policy_class *k, const struct container *c, int delta) {
        struct visible_device *v, *vtmp;

        HASH_ITER(hh, c->visible, v, vtmp)
                class_count_in(m, k, v->device->id, delta);
}

/* The class for policy, made when new, with room for one more member. */
static int class_reserve(struct model *m, const struct policy *policy, struct policy_class **ret) {
        struct policy_class *k;
        size_t length;
        unsigned hash;
        const char *identity = policy_identity(policy, &length, &hash);

        HASH_FIND_BYHASHVALUE(hh, m->classes, identity, length, hash, k);
        if (!k) {
                int r;

                k = calloc(1, sizeof(*k));
                if (!k || !(k->identity = strndup(identity, length))) {
                        free(k);
                        return -ENOMEM;
                }
                r = policy_set_add(m->policies, policy, k, &k->member);
                if (r < 0) {
                        free(k->identity);
                        free(k);
                        return r;
                }
                k->policy = policy;
                HASH_ADD_KEYPTR_BYHASHVALUE(hh, m->classes, k->identity, length, hash, k);
        }
        if (k->n_members == k->allocated) {
                size_t more = k->allocated * 2 + 4;
                struct container **grown = realloc(k->members, more * sizeof(*grown));

                if (!grown) {
                        if (k->n_members == 0) {
                                HASH_DEL(m->classes, k);
                                class_free(m, k);
                        }
                        return -ENOMEM;
                }
                k->members = grown;
                k->allocated = more;
        }
        *ret = k;
        return 0;
}

/* Cannot fail: class_reserve() made the room. */
static void class_join(struct model *m, struct container *c, struct policy_class *k) {
        if (k->n_members == 0) {
                k->policy = c->policy;
                policy_set_member_update(k->member, k->policy);
        }
        k->members[k->n_members++] = c;
        c->model->class = k;
        class_count_container(m, k, c, +1);
}

/* c leaves k, which need not be its class any more: a container moving to
 * another class joins it first, so that a class it leaves for itself is
 * never empty, nor freed, in between. */
static void class_leave(struct model *m, struct container *c, struct policy_class *k) {
        if (!k)
                return;
        class_count_container(m, k, c, -1);
        for (size_t i = 0; i < k->n_members; i++)
                if (k->members[i] == c) {
                        k->members[i] = k->members[--k->n_members];
                        break;
                }
        if (k->n_members == 0) {
                HASH_DEL(m->classes, k);
                class_free(m, k);
                return;
        }
        /* c's policy may be on its way out. */
        k->policy = k->members[0]->policy;
        policy_set_member_update(k->member, k->policy);
}

static void class_touch(struct model *m, struct policy_class *k) {
        if (k->touched)
                return;
        k->touched = true;
        k->next_touched = m->touched;
        m->touched = k;
}

/* The decision of k's policy for devs[i] and its "FILE:LINE", from the
 * change's pass over the policy set; NULL with *ret_r set on failure. */
static const struct policy_result *class_decision(struct model *m, struct policy_class *k, size_t i,
                                                  const char **ret_decided_by, int *ret_r) {
        const struct policy_set_decision *d = NULL;

        if (k->cached && k->cached_change == m->change && k->cached_device == i)
                d = k->cached;
        else {
                *ret_r = m->passes && m->passes[i] ? policy_set_pass_decision(m->passes[i], k->member, &d)
                                                   : -ESTALE;
                if (*ret_r < 0)
                        return NULL;
                k->cached = d;
                k->cached_change = m->change;
                k->cached_device = i;
        }
        *ret_r = 0;
        *ret_decided_by = d->decided_by;
        return &d->result;
}

/* After a change: the marks go, and the passes (the policies may change
 * before the next one). */
static void classes_forget_decisions(struct model *m) {
        while (m->touched) {
                struct policy_class *k = m->touched;

                m->touched = k->next_touched;
                k->next_touched = NULL;
                k->touched = false;
                k->has_work = false;
        }
        for (size_t i = 0; m->passes && i < m->n_passes; i++)
                policy_set_pass_free(m->passes[i]);
        free(m->passes);
        m->passes = NULL;
        m->n_passes = 0;
}

static void class_mark_work(struct model *m, struct policy_class *k, size_t *n_work) {
        if (k->has_work)
                return;
        k->has_work = true;
        *n_work += k->n_members;
        class_touch(m, k);
}

/* The classes with a container that sees one of devs. */
static void mark_seeing_classes(struct model *m, struct device *const *devs, size_t n, size_t *n_work) {
        for (size_t i = 0; i < n; i++) {
                struct class_seeing *cs, *tmp;
                struct device_seen *s;

                HASH_FIND(hh, m->seen, &devs[i]->id, sizeof(devs[i]->id), s);
                if (s)
                        HASH_ITER(hh, s->classes, cs, tmp)
                                class_mark_work(m, cs->class, n_work);
        }
}

struct mark_context {
        struct model *model;
        size_t *n_work;
};

static void mark_allowing_class(void *class, void *data) {
        struct mark_context *ctx = data;

        class_mark_work(ctx->model, class, ctx->n_work);
}

/* One pass over the policy set per device of the change (not for devs[0]
 * with hide): every class's decision, made once per distinct set of rules
 * the device meets. -ENOMEM leaves none. */
static int make_passes(struct model *m, struct device *const *devs, size_t n, bool hide) {
        m->change++;
        m->passes = calloc(n, sizeof(*m->passes));
        if (!m->passes)
                return -ENOMEM;
        m->n_passes = n;
        for (size_t i = hide ? 1 : 0; i < n; i++) {
                int r = policy_set_pass_new(m->policies, &devs[i]->pd, &m->passes[i]);

                if (r < 0) {
                        classes_forget_decisions(m);
                        return r;
                }
        }
        return 0;
}

/* The classes whose policy shows one of devs (the first of them not, with
 * hide), or whose decision failed: it is met again, and reported, per
 * container. Without passes, every class. */
static void mark_allowing_classes(struct model *m, size_t n, bool hide, size_t *n_work) {
        struct mark_context ctx = { .model = m, .n_work = n_work };
        struct policy_class *k, *ktmp;

        for (size_t i = hide ? 1 : 0; m->passes && i < n; i++)
                policy_set_pass_foreach_allowed(m->passes[i], mark_allowing_class, &ctx);
        if (!m->passes || m->n_classes_unknown > 0)
                HASH_ITER(hh, m->classes, k, ktmp)
                        if (!m->passes || k->uses_unknown)
                                class_mark_work(m, k, n_work);
}

/* Evaluates devs for c and delivers the resulting deltas. event belongs to
 * devs[0]; hide forces devs[0] hidden (it is leaving the host). With share,
 * the decisions come from c's class (made once for all its containers). */
static int evaluate_for_container(struct model *m, struct container *c, struct device *const *devs, size_t n,
                                  const struct uevent *event, bool hide, bool share, struct pending *pending) {
        _cleanup_(delta_batch_done) struct delta_batch b = {};
        struct container_names *names = &c->model->names;
        struct names_dirty dirty = {};
        int r = 0;

        for (size_t i = 0; i < n; i++) {
                struct visible_device *v = NULL;

                if (!(hide && i == 0)) {
                        const char *decided_by = NULL;
                        const struct policy_result *decision = NULL;

                        if (share) {
                                decision = class_decision(m, c->model->class, i, &decided_by, &r);
                                if (!decision)
                                        break;
                        }
                        r = decision ? visible_device_compute_from(c, devs[i], decision, decided_by, &v)
                                     : visible_device_compute(c, devs[i], &v);
                        if (r < 0)
                                break;
                }
                r = replace_visible(m, c, devs[i], v, i == 0 ? event : NULL, &b, &dirty);
                if (r < 0)
                        break;
        }
        if (r >= 0 && dirty.n > 0) {
                r = dirty.n == 1 ? assign_names_of_one(names, c, dirty.old, dirty.new) : 0;
                if (r == 0)
                        r = reassign_names(c, &b);
        }
        /* Unless the names in use were counted along, count them again when
         * next needed. */
        if (r < 0 || (dirty.n > 0 && r == 0))
                names->valid = false;
        if (r < 0)
                return r;
        return dispatch(m, c, &b, pending);
}

static int container_order_compare(const void *a, const void *b) {
        const struct container *x = *(struct container *const *) a, *y = *(struct container *const *) b;

        return x->model->order < y->model->order ? -1 : x->model->order > y->model->order;
}

/* The containers of the classes with work, in the order they were added
 * (as if every container had been walked). */
static int containers_with_work(struct model *m, size_t n_work, struct container ***ret) {
        _cleanup_free_ struct container **l = malloc((n_work + 1) * sizeof(*l));
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        for (struct policy_class *k = m->touched; k; k = k->next_touched)
                for (size_t i = 0; k->has_work && i < k->n_members; i++)
                        l[n++] = k->members[i];
        qsort(l, n, sizeof(*l), container_order_compare);
        l[n] = NULL;
        *ret = TAKE_PTR(l);
        return 0;
}

static int evaluate_for_all(struct model *m, struct device *const *devs, size_t n, const struct uevent *event,
                            bool hide) {
        _cleanup_(pending_done) struct pending pending = {};
        _cleanup_free_ struct container **few = NULL;
        struct container *c, *tmp;
        size_t n_work = 0;
        bool share;
        int r, ret = 0;

        /* Which classes the change concerns: those with a container that
         * sees a changed device, and those whose policy shows one. The
         * others have their decision made, and no container visited. A
         * device that leaves concerns only the classes that see it. When
         * the decisions cannot be made for all (out of memory), every
         * container decides for itself. */
        share = make_passes(m, devs, n, hide) >= 0;
        mark_seeing_classes(m, devs, n, &n_work);
        if (!(hide && n == 1) || m->n_classes_unknown > 0 || !share)
                mark_allowing_classes(m, n, hide, &n_work);

        /* One container's failure (out of memory) must not keep the others
         * from hearing of the change. When few containers are concerned,
         * they are picked out; else all are walked. */
        if (n_work * 4 < HASH_COUNT(m->containers) && containers_with_work(m, n_work, &few) >= 0) {
                for (struct container **p = few; *p; p++) {
                        r = evaluate_for_container(m, *p, devs, n, event, hide, share, &pending);
                        if (r < 0 && ret == 0)
                                ret = r;
                }
        } else
                HASH_ITER(hh, m->containers, c, tmp) {
                        if (!c->model->class->has_work)
                                continue;
                        r = evaluate_for_container(m, c, devs, n, event, hide, share, &pending);
                        if (r < 0 && ret == 0)
                                ret = r;
                }
        pending_flush(m, &pending);
        classes_forget_decisions(m);
        return ret;
}

/* --- Device tables --------------------------------------------------- */

struct device *model_find_device(const struct model *m, const char *devpath) {
        struct device *d;

        HASH_FIND(hh_devpath, m->by_devpath, devpath, strlen(devpath), d);
        return d;
}

struct device *model_find_devnum(const struct model *m, char type, unsigned major, unsigned minor) {
        struct device_devnum_key key = { .type = (uint32_t) type, .major = major, .minor = minor };
        struct device *d;

        HASH_FIND(hh_devnum, m->by_devnum, &key, sizeof(key), d);
        return d;
}

static void devnum_unindex(struct model *m, struct device *d) {
        if (d->type && model_find_devnum(m, d->type, d->pd.major, d->pd.minor) == d)
                HASH_DELETE(hh_devnum, m->by_devnum, d);
}

static void devnum_index(struct model *m, struct device *d) {
        struct device *holder;

        if (!d->type)
                return;
        /* Two records with one number means the older one's removal was
         * missed: the newer one is the truth. */
        holder = model_find_devnum(m, d->type, d->pd.major, d->pd.minor);
        if (holder == d)
                return;
        if (holder)
                HASH_DELETE(hh_devnum, m->by_devnum, holder);
        HASH_ADD(hh_devnum, m->by_devnum, devnum_key, sizeof(d->devnum_key), d);
}

static struct device **sibling_list(struct model *m, struct device *parent) {
        return parent ? &parent->children : &m->roots;
}

static void unlink_parent(struct model *m, struct device *d) {
        DL_DELETE2(*sibling_list(m, d->parent), d, sibling_prev, sibling_next);
        d->parent = NULL;
        d->pd.parent = NULL;
}

static void link_parent(struct model *m, struct device *d, struct device *parent) {
        d->parent = parent;
        d->pd.parent = parent ? &parent->pd : NULL;
        DL_APPEND2(*sibling_list(m, parent), d, sibling_prev, sibling_next);
}

/* A devpath as the path counts keep it: without the leading '/'. */
static const char *below_key(const char *devpath) {
        return devpath[0] == '/' ? devpath + 1 : devpath;
}

static struct device *nearest_ancestor(const struct model *m, const char *devpath) {
        for (size_t l = strlen(devpath); l > 0; l--) {
                struct device *d;

                if (devpath[l] != '/')
                        continue;
                HASH_FIND(hh_devpath, m->by_devpath, devpath, l, d);
                if (d)
                        return d;
        }
        return NULL;
}

/* d was just linked: take over the devices below it that hung from d's
 * parent (or were roots) because d was not known yet. */
static void adopt_children(struct model *m, struct device *d) {
        struct device **siblings = sibling_list(m, d->parent), *s, *tmp;
        size_t l = strlen(d->devpath);

        /* Devices come after their parents nearly always: nothing to find. */
        if (!path_counts_any_below(&m->below, below_key(d->devpath)))
                return;

        DL_FOREACH_SAFE2(*siblings, s, tmp, sibling_next) {
                if (s == d || strncmp(s->devpath, d->devpath, l) != 0 || s->devpath[l] != '/')
                        continue;
                unlink_parent(m, s);
                link_parent(m, s, d);
        }
}

static int insert_device(struct model *m, const struct device_snapshot *s, struct device **ret) {
        struct device *d;
        int r;

        r = device_new(++m->next_device_id, m->sysfs_fd, s, &d);
        if (r < 0)
                return r;
        HASH_ADD_KEYPTR(hh_devpath, m->by_devpath, d->devpath, strlen(d->devpath), d);
        path_counts_add(&m->below, below_key(d->devpath));
        devnum_index(m, d);
        link_parent(m, d, nearest_ancestor(m, d->devpath));
        adopt_children(m, d);
        *ret = d;
        return 0;
}

static int update_device(struct model *m, struct device *d, const struct device_snapshot *s) {
        int r;

        devnum_unindex(m, d);
        r = device_update(d, s);
        devnum_index(m, d);
        return r;
}

/* d and all devices below it, d first (breadth first: the list is its own
 * queue). */
static int collect_subtree(struct device *d, struct device ***ret, size_t *ret_n) {
        _cleanup_free_ struct device **l = malloc(8 * sizeof(*l));
        size_t n = 1, allocated = 8;

        if (!l)
                return -ENOMEM;
        l[0] = d;
        for (size_t i = 0; i < n; i++) {
                struct device *child;

                DL_FOREACH2(l[i]->children, child, sibling_next) {
                        if (n == allocated) {
                                struct device **grown = realloc(l, allocated * 2 * sizeof(*l));
                                if (!grown)
                                        return -ENOMEM;
                                l = grown;
                                allocated *= 2;
                        }
                        l[n++] = child;
                }
        }
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

/* A move renames d's directory, and with it every devpath below. */
static int move_device(struct model *m, struct device *d, const char *devpath) {
        _cleanup_free_ struct device **subtree = NULL;
        _cleanup_free_ char *old_prefix = strdup(d->devpath);
        size_t n, old_len;
        int r;

        if (!old_prefix)
                return -ENOMEM;
        if (model_find_device(m, devpath))
                return -EEXIST;
        r = collect_subtree(d, &subtree, &n);
        if (r < 0)
                return r;

        old_len = strlen(old_prefix);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *moved = NULL;

                if (asprintf(&moved, "%s%s", devpath, subtree[i]->devpath + old_len) < 0)
                        return -ENOMEM;
                HASH_DELETE(hh_devpath, m->by_devpath, subtree[i]);
                path_counts_remove(&m->below, below_key(subtree[i]->devpath));
                r = device_set_devpath(subtree[i], moved);
                HASH_ADD_KEYPTR(hh_devpath, m->by_devpath, subtree[i]->devpath, strlen(subtree[i]->devpath),
                                subtree[i]);
                path_counts_add(&m->below, below_key(subtree[i]->devpath));
                if (r < 0)
                        return r;
        }
        unlink_parent(m, d);
        link_parent(m, d, nearest_ancestor(m, d->devpath));
        adopt_children(m, d);
        return 0;
}

static void forget_overrides(struct model *m, struct device *d) {
        struct container *c, *tmp;

        HASH_ITER(hh, m->containers, c, tmp) {
                struct override *o = container_find_override(c, d);
                if (o) {
                        HASH_DEL(c->overrides, o);
                        override_free(o);
                }
        }
}

static int remove_device(struct model *m, struct device *d, const struct uevent *event) {
        struct device *child, *tmp;
        int r;

        r = evaluate_for_all(m, &d, 1, event, true);
        forget_overrides(m, d);

        /* The kernel removes children first; if it did not, they hang on
         * from the nearest remaining ancestor. */
        DL_FOREACH_SAFE2(d->children, child, tmp, sibling_next) {
                unlink_parent(m, child);
                link_parent(m, child, d->parent);
        }
        devnum_unindex(m, d);
        HASH_DELETE(hh_devpath, m->by_devpath, d);
        path_counts_remove(&m->below, below_key(d->devpath));
        unlink_parent(m, d);
        device_free(d);
        return r;
}

int model_add_device(struct model *m, const struct device_snapshot *s, struct device **ret) {
        const char *devpath = strv_env_get(s->properties, "DEVPATH");
        struct device *d;
        int r;

        if (!devpath)
                return -EINVAL;
        d = model_find_device(m, devpath);
        r = d ? update_device(m, d, s) : insert_device(m, s, &d);
        if (r < 0)
                return r;
        if (ret)
                *ret = d;
        return evaluate_for_all(m, &d, 1, NULL, false);
}

/* A udevd's event names the device's tags (TAGS=:a:b:); a kernel event
 * says nothing of them: 0, and the device keeps what it had. */
static int event_tags(const struct uevent *ev, char ***ret) {
        const char *list = strv_env_get(ev->properties, "TAGS");
        _cleanup_free_ char *copy = NULL;
        _cleanup_strv_free_ char **tags = NULL;
        char *state = NULL;
        int r;

        if (!list)
                return 0;
        copy = strdup(list);
        if (!copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, ":", &state); t; t = strtok_r(NULL, ":", &state)) {
                r = strv_extend(&tags, t);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(tags);
        return 1;
}

static int apply_event(struct model *m, const struct uevent *ev) {
        _cleanup_strv_free_ char **tags = NULL;
        _cleanup_free_ struct device **affected = NULL;
        struct device *d = NULL;
        size_t n_affected = 1;
        bool known;
        int r;

        m->stats.events++;
        m->stats.events_by_action[ev->action]++;

        if (ev->action == UEVENT_REMOVE) {
                d = model_find_device(m, ev->devpath);
                return d ? remove_device(m, d, ev) : 0;
        }

        if (ev->action == UEVENT_MOVE && ev->devpath_old)
                d = model_find_device(m, ev->devpath_old);
        if (d) {
                r = move_device(m, d, ev->devpath);
                if (r < 0)
                        return r;
        } else
                d = model_find_device(m, ev->devpath);

        r = event_tags(ev, &tags);
        if (r < 0)
                return r;
        known = d;
        if (d) {
                struct device_snapshot s = { ev->properties, ev->subsystem_kind, r > 0 ? tags : d->tags };
                r = update_device(m, d, &s);
        } else {
                struct device_snapshot s = { ev->properties, ev->subsystem_kind, tags };
                r = insert_device(m, &s, &d);
        }
        if (r < 0)
                return r;

        /* Ancestor keys (DRIVERS, ATTRS, ...) of the devices below d may
         * depend on what just changed. */
        if (known && ev->action != UEVENT_ADD) {
                r = collect_subtree(d, &affected, &n_affected);
                if (r < 0)
                        return r;
        }
        return evaluate_for_all(m, affected ?: &d, n_affected, ev, false);
}

int model_apply_event(struct model *m, const struct uevent *ev) {
        int r = apply_event(m, ev);

        for (size_t i = 0; i < m->n_observers; i++)
                m->observers[i].fn(ev, m->observers[i].userdata);
        return r;
}

/* --- Containers ------------------------------------------------------ */

int model_add_container(struct model *m, struct container *c) {
        struct policy_class *k;
        int r;

        if (model_find_container(m, c->name)) {
                container_free(c);
                return -EEXIST;
        }
        c->model = calloc(1, sizeof(*c->model));
        r = c->model ? class_reserve(m, c->policy, &k) : -ENOMEM;
        if (r < 0) {
                free(c->model);
                c->model = NULL;
                container_free(c);
                return r;
        }
        c->model->order = m->next_container_order++;
        class_join(m, c, k);
        HASH_ADD_KEYPTR(hh, m->containers, c->name, strlen(c->name), c);
        return 0;
}

static void container_model_free(struct model *m, struct container *c) {
        if (!c->model)
                return;
        class_leave(m, c, c->model->class);
        names_in_use_clear(&c->model->names);
        free(c->model);
        c->model = NULL;
}

struct container *model_find_container(const struct model *m, const char *name) {
        struct container *c;

        HASH_FIND_STR(m->containers, name, c);
        return c;
}

void model_remove_container(struct model *m, struct container *c) {
        HASH_DEL(m->containers, c);
        container_model_free(m, c);
        container_free(c);
}

int model_refresh_container(struct model *m, struct container *c) {
        _cleanup_free_ struct device **all = NULL;
        struct device *d, *tmp;
        size_t n = 0;

        all = malloc((HASH_CNT(hh_devpath, m->by_devpath) + 1) * sizeof(*all));
        if (!all)
                return -ENOMEM;
        HASH_ITER(hh_devpath, m->by_devpath, d, tmp)
                all[n++] = d;
        return evaluate_for_container(m, c, all, n, NULL, false, false, NULL);
}

int model_set_policy(struct model *m, struct container *c, struct policy *policy, const char *source) {
        _cleanup_(policy_freep) struct policy *old = NULL;
        struct policy_class *k, *old_class;
        char *s = strdup(source);
        int r;

        r = s ? class_reserve(m, policy, &k) : -ENOMEM;
        if (r < 0) {
                free(s);
                policy_free(policy);
                return r;
        }
        /* Visible entries keep copies of what they need from rules (the
         * deciding rule as a string), so the old policy can go right away. */
        old_class = c->model->class;
        old = c->policy;
        c->policy = policy;
        class_join(m, c, k);
        class_leave(m, c, old_class);
        free(c->policy_source);
        c->policy_source = s;
        return model_refresh_container(m, c);
}

int model_set_idmaps(struct model *m, struct container *c, const struct idmap *uid_map,
                     const struct idmap *gid_map) {
        c->uid_map = *uid_map;
        c->gid_map = *gid_map;
        return model_refresh_container(m, c);
}

int model_set_override(struct model *m, struct container *c, struct device *d, struct override *o) {
        struct override *existing = container_find_override(c, d);

        if (existing) {
                HASH_DEL(c->overrides, existing);
                override_free(existing);
        }
        if (o) {
                o->device_id = d->id;
                HASH_ADD(hh, c->overrides, device_id, sizeof(o->device_id), o);
        }
        return evaluate_for_container(m, c, &d, 1, NULL, false, false, NULL);
}

/* --- Life cycle ------------------------------------------------------ */

int model_new(int sysfs_fd, struct model **ret) {
        struct model *m = calloc(1, sizeof(*m));

        if (!m) {
                safe_close(sysfs_fd);
                return -ENOMEM;
        }
        m->sysfs_fd = sysfs_fd;
        if (policy_set_new(&m->policies) < 0) {
                model_free(m);
                return -ENOMEM;
        }
        *ret = m;
        return 0;
}

int model_subscribe(struct model *m, model_deltas_fn fn, void *userdata) {
        if (m->n_subscribers >= MODEL_SUBSCRIBERS_MAX)
                return -ENOSPC;
        m->subscribers[m->n_subscribers].fn = fn;
        m->subscribers[m->n_subscribers].userdata = userdata;
        m->n_subscribers++;
        return 0;
}

int model_subscribe_first(struct model *m, model_deltas_fn fn, void *userdata) {
        if (m->n_first_subscribers >= MODEL_SUBSCRIBERS_MAX)
                return -ENOSPC;
        m->first_subscribers[m->n_first_subscribers].fn = fn;
        m->first_subscribers[m->n_first_subscribers].userdata = userdata;
        m->n_first_subscribers++;
        return 0;
}

int model_observe_events(struct model *m, model_event_fn fn, void *userdata) {
        if (m->n_observers >= MODEL_SUBSCRIBERS_MAX)
                return -ENOSPC;
        m->observers[m->n_observers].fn = fn;
        m->observers[m->n_observers].userdata = userdata;
        m->n_observers++;
        return 0;
}

struct model *model_free(struct model *m) {
        struct container *c, *ctmp;
        struct device *d, *dtmp;
        struct device_seen *s, *stmp;

        if (!m)
                return NULL;
        HASH_ITER(hh, m->containers, c, ctmp) {
                HASH_DEL(m->containers, c);
                container_model_free(m, c);
                container_free(c);
        }
        /* Empty once the containers are gone, unless a count went wrong. */
        HASH_ITER(hh, m->seen, s, stmp) {
                struct class_seeing *cs, *cstmp;

                HASH_ITER(hh, s->classes, cs, cstmp) {
                        HASH_DEL(s->classes, cs);
                        free(cs);
                }
                HASH_DEL(m->seen, s);
                free(s);
        }
        HASH_CLEAR(hh_devnum, m->by_devnum);
        HASH_ITER(hh_devpath, m->by_devpath, d, dtmp) {
                HASH_DELETE(hh_devpath, m->by_devpath, d);
                device_free(d);
        }
        path_counts_clear(&m->below);
        /* Empty too: each class left it as it went. */
        policy_set_free(m->policies);
        safe_close(m->sysfs_fd);
        free(m);
        return NULL;
}
