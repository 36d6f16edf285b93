/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "device.h"
#include "fileio.h"
#include "strv.h"

struct attribute_cache {
        char *name;
        char *value; /* NULL: absent or unreadable, remembered as such */
        UT_hash_handle hh;
};

/* sysfs attributes are at most a page; some binary ones are bigger and are
 * not what a rule compares against. */
#define ATTRIBUTE_MAX 4096

static const char *policy_property(const struct policy_device *pd, const char *key) {
        return device_property(container_of(pd, struct device, pd), key);
}

static const char *policy_attribute(const struct policy_device *pd, const char *name) {
        struct device *d = container_of(pd, struct device, pd);
        struct attribute_cache *a;
        _cleanup_free_ char *path = NULL, *value = NULL;

        HASH_FIND_STR(d->attributes, name, a);
        if (a)
                return a->value;

        /* devpath starts with "/": skip it to stay relative to the sysfs fd. */
        if (asprintf(&path, "%s/%s", d->devpath + 1, name) < 0)
                return NULL;
        if (read_small_file_at(d->sysfs_fd, path, ATTRIBUTE_MAX, &value) >= 0)
                strip_trailing_whitespace(value);

        a = calloc(1, sizeof(*a));
        if (!a)
                return NULL;
        a->name = strdup(name);
        if (!a->name) {
                free(a);
                return NULL;
        }
        a->value = TAKE_PTR(value);
        HASH_ADD_KEYPTR(hh, d->attributes, a->name, strlen(a->name), a);
        return a->value;
}

void device_forget_attributes(struct device *d) {
        struct attribute_cache *a, *tmp;

        HASH_ITER(hh, d->attributes, a, tmp) {
                HASH_DEL(d->attributes, a);
                free(a->name);
                free(a->value);
                free(a);
        }
}

static int copy_properties(char *const *from, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        STRV_FOREACH(p, from) {
                if (uevent_key_is_per_event(*p))
                        continue;
                r = strv_extend(&l, *p);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int parse_devnum(char **properties, char *ret_type, dev_t *ret_devnum) {
        const char *major = strv_env_get(properties, "MAJOR"), *minor = strv_env_get(properties, "MINOR");
        const char *subsystem = strv_env_get(properties, "SUBSYSTEM");
        unsigned ma, mi;

        if (!major || !minor) {
                *ret_type = 0;
                *ret_devnum = 0;
                return 0;
        }
        if (sscanf(major, "%u", &ma) != 1 || sscanf(minor, "%u", &mi) != 1)
                return -EINVAL;
        /* As the kernel and libudev decide it: block devices are exactly
         * those of the block subsystem. */
        *ret_type = subsystem && streq(subsystem, "block") ? 'b' : 'c';
        *ret_devnum = makedev(ma, mi);
        return 0;
}

/* The policy view and the derived fields point into properties: refresh them
 * whenever properties change. */
static int refresh_fields(struct device *d) {
        const char *devname = strv_env_get(d->properties, "DEVNAME");
        int r;

        free(d->devname);
        d->devname = NULL;
        if (devname && *devname) {
                if (devname[0] == '/')
                        d->devname = strdup(devname);
                else if (asprintf(&d->devname, "/dev/%s", devname) < 0)
                        d->devname = NULL;
                if (!d->devname)
                        return -ENOMEM;
        }

        r = parse_devnum(d->properties, &d->type, &d->devnum);
        if (r < 0)
                return r;

        d->pd.devpath = d->devpath;
        d->pd.sysname = strrchr(d->devpath, '/') + 1;
        d->pd.subsystem = strv_env_get(d->properties, "SUBSYSTEM");
        d->pd.devtype = strv_env_get(d->properties, "DEVTYPE");
        d->pd.driver = strv_env_get(d->properties, "DRIVER");
        d->pd.devname = d->devname;
        d->pd.type = d->type;
        d->pd.major = d->type ? major(d->devnum) : 0;
        d->pd.minor = d->type ? minor(d->devnum) : 0;

        d->devnum_key = (struct device_devnum_key){ .type = (uint32_t) d->type,
                                                    .major = d->pd.major,
                                                    .minor = d->pd.minor };
        return 0;
}

/* The host udevd's time when it has one; else now, as udevd would have
 * stamped a device it just processed. */
static uint64_t initialized_usec(char *const *properties) {
        const char *usec = strv_env_get(properties, "USEC_INITIALIZED");
        struct timespec ts;
        uint64_t u;

        if (usec && sscanf(usec, "%" SCNu64, &u) == 1 && u > 0)
                return u;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

int device_new(uint64_t id, int sysfs_fd, const struct device_snapshot *s, struct device **ret) {
        _cleanup_(device_freep) struct device *d = NULL;
        const char *devpath = strv_env_get(s->properties, "DEVPATH");
        int r;

        if (!devpath || devpath[0] != '/' || devpath[1] == '\0')
                return -EINVAL;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->id = id;
        d->sysfs_fd = sysfs_fd;
        d->usec_initialized = initialized_usec(s->properties);
        d->pd.property = policy_property;
        d->pd.attribute = policy_attribute;
        d->devpath = strdup(devpath);
        if (!d->devpath)
                return -ENOMEM;

        r = device_update(d, s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

int device_update(struct device *d, const struct device_snapshot *s) {
        _cleanup_strv_free_ char **properties = NULL, **tags = NULL;
        int r;

        r = copy_properties(s->properties, &properties);
        if (r < 0)
                return r;
        r = strv_copy(s->tags, &tags);
        if (r < 0)
                return r;

        strv_free(d->properties);
        d->properties = TAKE_PTR(properties);
        strv_free(d->tags);
        d->tags = TAKE_PTR(tags);
        d->subsystem_kind = s->subsystem_kind;
        device_forget_attributes(d);
        return refresh_fields(d);
}

int device_set_devpath(struct device *d, const char *devpath) {
        char *copy = strdup(devpath);
        int r;

        if (!copy)
                return -ENOMEM;
        free(d->devpath);
        d->devpath = copy;
        r = strv_env_set(&d->properties, "DEVPATH", devpath);
        if (r < 0)
                return r;
        device_forget_attributes(d);
        return refresh_fields(d);
}

struct device *device_free(struct device *d) {
        if (!d)
                return NULL;
        device_forget_attributes(d);
        strv_free(d->properties);
        strv_free(d->tags);
        free(d->devname);
        free(d->devpath);
        free(d);
        return NULL;
}

const char *device_property(const struct device *d, const char *key) {
        return strv_env_get(d->properties, key);
}

const char *device_subsystem(const struct device *d) {
        return d->pd.subsystem;
}

const char *device_sysname(const struct device *d) {
        return d->pd.sysname;
}

const char *device_kernel_node(const struct device *d) {
        const char *node = d->devname && d->type ? startswith(d->devname, "/dev/") : NULL;
        return node && *node ? node : NULL;
}

bool device_is_ancestor(const struct device *ancestor, const struct device *d) {
        for (const struct device *p = d->parent; p; p = p->parent)
                if (p == ancestor)
                        return true;
        return false;
}
