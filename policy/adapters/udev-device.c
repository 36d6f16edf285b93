/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>
#include <sys/sysmacros.h>

/* uthash's default (Jenkins) hash is a switch whose fall-throughs are marked
 * by comments, which clang's -Wimplicit-fallthrough does not see inside a
 * macro; one-at-a-time has no switch. */
#include <uthash.h>

#include "udev-device.h"

struct attribute {
        char *name;
        char *value; /* NULL: absent or unreadable; remembered so it is not read again */
        UT_hash_handle hh;
};

/* One element of the chain: the device itself is the first, each parent_node
 * the next. */
struct policy_udev_device {
        struct policy_device pd; /* first: the engine's pointers lead back here */
        struct udev_device *udev;
        struct attribute *attributes;
        struct policy_udev_device *parent_node;
};

static struct policy_udev_device *node_of(const struct policy_device *pd) {
        /* The engine hands back the const pointer we gave it; the node itself
         * was allocated writable, and only its cache changes. */
        return container_of((struct policy_device *) pd, struct policy_udev_device, pd);
}

static const char *udev_property(const struct policy_device *pd, const char *key) {
        return udev_device_get_property_value(node_of(pd)->udev, key);
}

static bool attribute_name_is_safe(const char *name) {
        const char *p = name;

        if (name[0] == '\0' || name[0] == '/')
                return false;
        /* The engine promises no "..", but this is the one place where a
         * mistake would read outside the device directory. */
        for (;;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return false;
                if (p[n] == '\0')
                        return true;
                p += n + 1;
        }
}

static char *trimmed_copy(const char *s) {
        size_t n = strlen(s);

        while (n > 0 && strchr(" \t\n\r\f\v", s[n - 1]))
                n--;
        return strndup(s, n);
}

static struct attribute *attribute_free(struct attribute *a) {
        if (a) {
                free(a->name);
                free(a->value);
                free(a);
        }
        return NULL;
}
DEFINE_POINTER_CLEANUP(struct attribute, attribute_free);

static const char *udev_attribute(const struct policy_device *pd, const char *name) {
        struct policy_udev_device *node = node_of(pd);
        _cleanup_(attribute_freep) struct attribute *a = NULL;
        struct attribute *cached;
        const char *raw;

        HASH_FIND_STR(node->attributes, name, cached);
        if (cached)
                return cached->value;

        if (!attribute_name_is_safe(name))
                return NULL;

        a = calloc(1, sizeof(*a));
        if (!a)
                return NULL;
        a->name = strdup(name);
        if (!a->name)
                return NULL;
        raw = udev_device_get_sysattr_value(node->udev, name);
        if (raw) {
                a->value = trimmed_copy(raw);
                /* Out of memory: answer "absent" this time, without caching it. */
                if (!a->value)
                        return NULL;
        }

        HASH_ADD_KEYPTR(hh, node->attributes, a->name, strlen(a->name), a);
        return TAKE_PTR(a)->value;
}

static void node_free(struct policy_udev_device *node) {
        struct attribute *a, *tmp;

        HASH_ITER(hh, node->attributes, a, tmp) {
                HASH_DEL(node->attributes, a);
                attribute_free(a);
        }
        udev_device_unref(node->udev);
        free(node);
}

struct policy_udev_device *policy_udev_device_free(struct policy_udev_device *d) {
        while (d) {
                struct policy_udev_device *parent = d->parent_node;
                node_free(d);
                d = parent;
        }
        return NULL;
}

static int node_new(struct udev_device *u, struct policy_udev_device **ret) {
        struct policy_udev_device *node;
        const char *slash;
        dev_t devnum;

        node = calloc(1, sizeof(*node));
        if (!node)
                return -ENOMEM;
        node->udev = udev_device_ref(u);

        node->pd.devpath = udev_device_get_devpath(u);
        node->pd.subsystem = udev_device_get_subsystem(u);
        /* Not udev_device_get_sysname(), which turns '!' into '/': the KERNEL
         * key matches the devpath's last component, as in the daemon. */
        slash = strrchr(node->pd.devpath, '/');
        node->pd.sysname = slash ? slash + 1 : node->pd.devpath;
        node->pd.devtype = udev_device_get_devtype(u);
        node->pd.driver = udev_device_get_driver(u);
        node->pd.devname = udev_device_get_devnode(u);

        devnum = udev_device_get_devnum(u);
        if (major(devnum) != 0 || minor(devnum) != 0) {
                node->pd.type = streq_ptr(node->pd.subsystem, "block") ? 'b' : 'c';
                node->pd.major = major(devnum);
                node->pd.minor = minor(devnum);
        }

        node->pd.property = udev_property;
        node->pd.attribute = udev_attribute;
        *ret = node;
        return 0;
}

int policy_udev_device_new(struct udev_device *d, struct policy_udev_device **ret) {
        _cleanup_(policy_udev_device_freep) struct policy_udev_device *head = NULL;
        struct policy_udev_device **tail = &head, *child = NULL;
        int r;

        if (!d || !ret)
                return -EINVAL;

        for (struct udev_device *u = d; u;) {
                struct policy_udev_device *node;

                r = node_new(u, &node);
                if (r < 0)
                        return r;
                *tail = node;
                tail = &node->parent_node;
                if (child)
                        child->pd.parent = &node->pd;
                child = node;

                /* NULL with ENOENT is the top of the chain; only running out
                 * of memory must not pass for it. */
                errno = 0;
                u = udev_device_get_parent(u);
                if (!u && errno == ENOMEM)
                        return -ENOMEM;
        }

        *ret = TAKE_PTR(head);
        return 0;
}

const struct policy_device *policy_udev_device_get(const struct policy_udev_device *d) {
        return &d->pd;
}

struct udev_device *policy_udev_device_get_udev(const struct policy_udev_device *d) {
        return d->udev;
}
