/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <sys/sysmacros.h>

#include "strv.h"
#include "udev-data.h"
#include "uevent.h"

int udev_data_id(const struct device *d, char **ret) {
        const char *subsystem = device_subsystem(d), *ifindex = device_property(d, "IFINDEX");
        int k;

        if (!subsystem)
                return -ENOENT;
        if (d->type)
                k = asprintf(ret, "%c%u:%u", d->type, major(d->devnum), minor(d->devnum));
        else if (streq(subsystem, "net") && ifindex && *ifindex && strspn(ifindex, "0123456789") == strlen(ifindex))
                k = asprintf(ret, "n%s", ifindex);
        else
                k = asprintf(ret, "+%s:%s", subsystem, device_sysname(d));
        return k < 0 ? -ENOMEM : 0;
}

int udev_data_old_id(const struct device *d, const char *devpath_old, char **ret) {
        const char *subsystem = device_subsystem(d), *slash = devpath_old ? strrchr(devpath_old, '/') : NULL;
        _cleanup_free_ char *now = NULL, *old = NULL;
        int r;

        if (!subsystem || !slash || !slash[1])
                return -ENOENT;
        r = udev_data_id(d, &now);
        if (r < 0)
                return r;
        if (now[0] != '+')
                return -ENOENT;
        if (asprintf(&old, "+%s:%s", subsystem, slash + 1) < 0)
                return -ENOMEM;
        if (streq(old, now))
                return -ENOENT;
        *ret = TAKE_PTR(old);
        return 0;
}

bool udev_data_key_is_replaced(const char *key_value) {
        static const char *const keys[] = {
                "ACTION=",           "SEQNUM=", "DEVNAME=", "DEVLINKS=", "TAGS=", "CURRENT_TAGS=",
                "USEC_INITIALIZED=", "DEVUID=", "DEVGID=",  "DEVMODE=",  ".",
        };

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (startswith(key_value, keys[i]))
                        return true;
        return false;
}

/* sd-device reads these from sysfs (the view's uevent file): a database
 * line would only repeat them. */
static bool key_is_from_sysfs(const char *key_value) {
        static const char *const keys[] = {
                "DEVPATH=", "SUBSYSTEM=", "MAJOR=", "MINOR=", "DEVTYPE=", "DRIVER=", "IFINDEX=",
        };

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (startswith(key_value, keys[i]))
                        return true;
        return false;
}

int udev_data_format(const struct visible_device *v, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        STRV_FOREACH(s, v->symlinks)
                fprintf(f, "S:%s\n", *s);
        if (strv_length(v->symlinks) > 0)
                fputs("L:0\n", f);
        fprintf(f, "I:%" PRIu64 "\n", v->device->usec_initialized);
        STRV_FOREACH(p, v->device->properties)
                if (!udev_data_key_is_replaced(*p) && !uevent_key_is_per_event(*p) && !key_is_from_sysfs(*p) &&
                    !strchr(*p, '\n'))
                        fprintf(f, "E:%s\n", *p);
        STRV_FOREACH(t, v->device->tags)
                fprintf(f, "G:%s\n", *t);
        STRV_FOREACH(t, v->device->tags)
                fprintf(f, "Q:%s\n", *t);
        fputs("V:1\n", f);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

static int set_links(char ***l, char *const *symlinks) {
        _cleanup_free_ char *s = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        if (strv_length(symlinks) == 0)
                return 0;
        f = open_memstream(&s, &size);
        if (!f)
                return -ENOMEM;
        STRV_FOREACH(link, symlinks)
                fprintf(f, "%s/dev/%s", link == symlinks ? "" : " ", *link);
        if (fclose(f) != 0)
                return -ENOMEM;
        r = strv_env_set(l, "DEVLINKS", s);
        return r;
}

/* udev's ":a:b:" form. */
static int set_tags(char ***l, const char *key, char *const *tags) {
        _cleanup_free_ char *s = NULL;
        size_t size = 0;
        FILE *f;

        if (strv_length(tags) == 0)
                return 0;
        f = open_memstream(&s, &size);
        if (!f)
                return -ENOMEM;
        STRV_FOREACH(t, tags)
                fprintf(f, ":%s", *t);
        fputc(':', f);
        if (fclose(f) != 0)
                return -ENOMEM;
        return strv_env_set(l, key, s);
}

int udev_data_event_properties(char *const *from, const char *action, const struct visible_device *v, uint64_t seqnum,
                               char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *devname = NULL;
        char number[32];
        int r;

        r = strv_env_set(&l, "ACTION", action);
        if (r < 0)
                return r;
        STRV_FOREACH(p, from)
                if (!udev_data_key_is_replaced(*p)) {
                        r = strv_extend(&l, *p);
                        if (r < 0)
                                return r;
                }
        if (v && v->node) {
                if (asprintf(&devname, "/dev/%s", v->node) < 0)
                        return -ENOMEM;
                r = strv_env_set(&l, "DEVNAME", devname);
                if (r < 0)
                        return r;
        }
        if (v) {
                r = set_links(&l, v->symlinks);
                if (r >= 0)
                        r = set_tags(&l, "TAGS", v->device->tags);
                if (r >= 0)
                        r = set_tags(&l, "CURRENT_TAGS", v->device->tags);
                if (r < 0)
                        return r;
                snprintf(number, sizeof(number), "%" PRIu64, v->device->usec_initialized);
                r = strv_env_set(&l, "USEC_INITIALIZED", number);
                if (r < 0)
                        return r;
        }
        snprintf(number, sizeof(number), "%" PRIu64, seqnum);
        r = strv_env_set(&l, "SEQNUM", number);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}
