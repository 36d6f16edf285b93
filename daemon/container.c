/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "container.h"
#include "container-name.h"
#include "strv.h"

int container_new(const char *name, struct policy *policy, const char *policy_source, struct container **ret) {
        _cleanup_(policy_freep) struct policy *p = policy;
        _cleanup_(container_freep) struct container *c = NULL;

        if (!container_name_is_valid(name))
                return -EINVAL;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->name = strdup(name);
        c->policy_source = strdup(policy_source);
        if (!c->name || !c->policy_source)
                return -ENOMEM;
        c->policy = TAKE_PTR(p);
        idmap_identity(&c->uid_map);
        idmap_identity(&c->gid_map);
        *ret = TAKE_PTR(c);
        return 0;
}

struct override *override_free(struct override *o) {
        if (!o)
                return NULL;
        free(o->name);
        free(o);
        return NULL;
}

struct container *container_free(struct container *c) {
        struct visible_device *v, *vtmp;
        struct override *o, *otmp;

        if (!c)
                return NULL;
        HASH_ITER(hh, c->visible, v, vtmp) {
                HASH_DEL(c->visible, v);
                visible_device_free(v);
        }
        HASH_ITER(hh, c->overrides, o, otmp) {
                HASH_DEL(c->overrides, o);
                override_free(o);
        }
        policy_free(c->policy);
        free(c->policy_source);
        free(c->name);
        free(c);
        return NULL;
}

struct visible_device *container_find_visible(const struct container *c, const struct device *d) {
        struct visible_device *v;

        HASH_FIND_PTR(c->visible, &d, v);
        return v;
}

struct override *container_find_override(const struct container *c, const struct device *d) {
        struct override *o;

        HASH_FIND(hh, c->overrides, &d->id, sizeof(d->id), o);
        return o;
}

struct visible_device *visible_device_free(struct visible_device *v) {
        if (!v)
                return NULL;
        free(v->wanted_node);
        strv_free(v->wanted_symlinks);
        free(v->node);
        strv_free(v->symlinks);
        strv_free(v->conflicts);
        strv_free(v->warnings);
        strv_free(v->writable_attributes);
        free(v->decided_by);
        free(v);
        return NULL;
}

int visible_list_push(struct visible_list *l, struct visible_device *v) {
        if (l->n == l->allocated) {
                size_t more = l->allocated * 2 + 8;
                struct visible_device **grown = realloc(l->items, more * sizeof(*grown));
                if (!grown) {
                        visible_device_free(v);
                        return -ENOMEM;
                }
                l->items = grown;
                l->allocated = more;
        }
        l->items[l->n++] = v;
        return 0;
}

void visible_list_done(struct visible_list *l) {
        for (size_t i = 0; i < l->n; i++)
                visible_device_free(l->items[i]);
        free(l->items);
        *l = (struct visible_list){};
}

static int strdup_optional(const char *s, char **ret) {
        *ret = NULL;
        if (s && !(*ret = strdup(s)))
                return -ENOMEM;
        return 0;
}

int visible_device_copy(const struct visible_device *v, struct visible_device **ret) {
        _cleanup_(visible_device_freep) struct visible_device *copy = NULL;

        copy = calloc(1, sizeof(*copy));
        if (!copy)
                return -ENOMEM;
        copy->device = v->device;
        copy->uid = v->uid;
        copy->gid = v->gid;
        copy->container_uid = v->container_uid;
        copy->container_gid = v->container_gid;
        copy->mode = v->mode;
        copy->access = v->access;
        if (strdup_optional(v->wanted_node, &copy->wanted_node) < 0 ||
            strdup_optional(v->node, &copy->node) < 0 ||
            strdup_optional(v->decided_by, &copy->decided_by) < 0 ||
            strv_copy(v->wanted_symlinks, &copy->wanted_symlinks) < 0 ||
            strv_copy(v->symlinks, &copy->symlinks) < 0 ||
            strv_copy(v->conflicts, &copy->conflicts) < 0 ||
            strv_copy(v->warnings, &copy->warnings) < 0 ||
            strv_copy(v->writable_attributes, &copy->writable_attributes) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(copy);
        return 0;
}

bool visible_device_same_wants(const struct visible_device *a, const struct visible_device *b) {
        return a->device == b->device && streq_ptr(a->wanted_node, b->wanted_node) &&
               strv_equal(a->wanted_symlinks, b->wanted_symlinks);
}

bool visible_device_equal(const struct visible_device *a, const struct visible_device *b) {
        return visible_device_same_wants(a, b) && streq_ptr(a->node, b->node) &&
               strv_equal(a->symlinks, b->symlinks) && strv_equal(a->conflicts, b->conflicts) &&
               strv_equal(a->warnings, b->warnings) && a->uid == b->uid && a->gid == b->gid &&
               a->container_uid == b->container_uid && a->container_gid == b->container_gid &&
               a->mode == b->mode && a->access == b->access &&
               strv_equal(a->writable_attributes, b->writable_attributes) &&
               streq_ptr(a->decided_by, b->decided_by);
}

/* An id the container's maps cannot express would show up as "nobody"
 * inside: give the node to the container's root instead and say so. */
static int map_id(const struct idmap *map, uint32_t id, const char *what, uint32_t *ret, char ***warnings) {
        char *warning;

        if (idmap_to_host(map, id, ret) >= 0)
                return 0;
        if (idmap_to_host(map, 0, ret) < 0)
                *ret = 65534;
        if (asprintf(&warning, "%s %u is not mapped into the container; using the container's root", what, id) < 0)
                return -ENOMEM;
        return strv_consume(warnings, warning);
}

static int apply_override(const struct override *o, struct visible_device *v) {
        if (o->name) {
                free(v->wanted_node);
                v->wanted_node = strdup(o->name);
                if (!v->wanted_node)
                        return -ENOMEM;
        }
        if (o->has_mode)
                v->mode = o->mode;
        if (o->has_uid)
                v->container_uid = o->uid;
        if (o->has_gid)
                v->container_gid = o->gid;
        free(v->decided_by);
        v->decided_by = strdup("runtime override");
        return v->decided_by ? 0 : -ENOMEM;
}

int visible_device_compute(const struct container *c, struct device *d, struct visible_device **ret) {
        _cleanup_(policy_result_done) struct policy_result result = {};
        int r;

        _cleanup_free_ char *decided_by = NULL;

        r = policy_evaluate(c->policy, &d->pd, &result, NULL);
        if (r < 0)
                return r;
        r = policy_result_decided_by(&result, &decided_by);
        if (r < 0)
                return r;
        return visible_device_compute_from(c, d, &result, decided_by, ret);
}

int policy_result_decided_by(const struct policy_result *result, char **ret) {
        *ret = NULL;
        /* The same words as decisions shared through a policy set. */
        return result->allowed ? policy_rule_location(result->decided_by, ret) : 0;
}

int visible_device_compute_from(const struct container *c, struct device *d, const struct policy_result *decision,
                                const char *decided_by, struct visible_device **ret) {
        const struct policy_result *result = decision;
        _cleanup_(visible_device_freep) struct visible_device *v = NULL;
        const struct override *o = container_find_override(c, d);
        const char *kernel_node = device_kernel_node(d);
        int r;

        if (!(o ? o->allow : result->allowed)) {
                *ret = NULL;
                return 0;
        }

        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->device = d;
        if (result->allowed) {
                r = strdup_optional(decided_by, &v->decided_by);
                if (r < 0)
                        return r;
                v->container_uid = result->uid;
                v->container_gid = result->gid;
                v->mode = result->mode;
                v->access = result->access;
                /* Copies: containers that share a policy share the decision. */
                if (strv_copy(result->writable_attributes, &v->writable_attributes) < 0)
                        return -ENOMEM;
                /* A device without a node has nothing to name or link to. */
                if (kernel_node) {
                        r = strdup_optional(result->name ?: kernel_node, &v->wanted_node);
                        if (r < 0)
                                return r;
                        if (strv_copy(result->symlinks, &v->wanted_symlinks) < 0)
                                return -ENOMEM;
                }
        } else {
                /* Allowed by `devsieve add` alone: the policy's defaults. */
                v->mode = 0600;
                v->access = POLICY_ACCESS_READ | POLICY_ACCESS_WRITE;
                r = strdup_optional(kernel_node, &v->wanted_node);
                if (r < 0)
                        return r;
        }
        if (o) {
                r = apply_override(o, v);
                if (r < 0)
                        return r;
                if (!kernel_node) {
                        free(v->wanted_node);
                        v->wanted_node = NULL;
                }
        }

        r = map_id(&c->uid_map, v->container_uid, "owner", &v->uid, &v->warnings);
        if (r < 0)
                return r;
        r = map_id(&c->gid_map, v->container_gid, "group", &v->gid, &v->warnings);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(v);
        return 0;
}
