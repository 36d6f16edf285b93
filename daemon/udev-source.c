/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libudev.h>
#include <limits.h>
#include <uthash.h>

#include "log.h"
#include "strv.h"
#include "udev-source.h"

struct subsystem_kind_cache {
        char *subsystem;
        enum subsystem_kind kind;
        UT_hash_handle hh;
};

struct udev_source {
        struct udev *udev;
        struct udev_monitor *monitor;
        const char *name; /* "kernel" or "udev" */
        struct subsystem_kind_cache *kinds;
};

DEFINE_POINTER_CLEANUP(struct udev_enumerate, udev_enumerate_unref);
DEFINE_POINTER_CLEANUP(struct udev_device, udev_device_unref);

/* Bursts (a hundred loop devices, a USB hub) must not overflow the socket:
 * the kernel drops what does not fit and says only ENOBUFS. */
#define MONITOR_BUFFER_SIZE (128 * 1024 * 1024)

int udev_source_new(bool force_kernel_events, struct udev_source **ret) {
        _cleanup_(udev_source_freep) struct udev_source *s = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->udev = udev_new();
        if (!s->udev)
                return -ENOMEM;

        s->name = !force_kernel_events && access("/run/udev/control", F_OK) >= 0 ? "udev" : "kernel";
        s->monitor = udev_monitor_new_from_netlink(s->udev, s->name);
        if (!s->monitor)
                return negative_errno();
        (void) udev_monitor_set_receive_buffer_size(s->monitor, MONITOR_BUFFER_SIZE);
        r = udev_monitor_enable_receiving(s->monitor);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

struct udev_source *udev_source_free(struct udev_source *s) {
        struct subsystem_kind_cache *k, *tmp;

        if (!s)
                return NULL;
        HASH_ITER(hh, s->kinds, k, tmp) {
                HASH_DEL(s->kinds, k);
                free(k->subsystem);
                free(k);
        }
        udev_monitor_unref(s->monitor);
        udev_unref(s->udev);
        free(s);
        return NULL;
}

int udev_source_fd(const struct udev_source *s) {
        return udev_monitor_get_fd(s->monitor);
}

const char *udev_source_name(const struct udev_source *s) {
        return s->name;
}

/* The device's "subsystem" link points into /sys/class or /sys/bus; all
 * devices of a subsystem agree, so one readlink per subsystem suffices. */
static enum subsystem_kind subsystem_kind_of(struct udev_source *s, struct udev_device *d) {
        const char *subsystem = udev_device_get_subsystem(d);
        struct subsystem_kind_cache *k;
        char link[PATH_MAX], target[PATH_MAX];
        enum subsystem_kind kind = SUBSYSTEM_KIND_NONE;
        ssize_t n;

        if (!subsystem)
                return SUBSYSTEM_KIND_NONE;
        HASH_FIND_STR(s->kinds, subsystem, k);
        if (k)
                return k->kind;

        snprintf(link, sizeof(link), "%s/subsystem", udev_device_get_syspath(d));
        n = readlink(link, target, sizeof(target) - 1);
        if (n < 0)
                return SUBSYSTEM_KIND_NONE; /* gone already: do not cache a guess */
        target[n] = '\0';
        if (strstr(target, "/class/"))
                kind = SUBSYSTEM_KIND_CLASS;
        else if (strstr(target, "/bus/"))
                kind = SUBSYSTEM_KIND_BUS;

        k = calloc(1, sizeof(*k));
        if (k && (k->subsystem = strdup(subsystem))) {
                k->kind = kind;
                HASH_ADD_KEYPTR(hh, s->kinds, k->subsystem, strlen(k->subsystem), k);
        } else
                free(k);
        return kind;
}

static int list_to_strv(struct udev_list_entry *first, bool with_values, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        struct udev_list_entry *e;
        int r;

        udev_list_entry_foreach(e, first) {
                char *kv;

                if (!with_values) {
                        r = strv_extend(&l, udev_list_entry_get_name(e));
                } else {
                        if (asprintf(&kv, "%s=%s", udev_list_entry_get_name(e),
                                     strempty(udev_list_entry_get_value(e))) < 0)
                                return -ENOMEM;
                        r = strv_consume(&l, kv);
                }
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int add_one(struct udev_source *s, struct model *m, struct udev_device *d) {
        _cleanup_strv_free_ char **properties = NULL, **tags = NULL;
        int r;

        r = list_to_strv(udev_device_get_properties_list_entry(d), true, &properties);
        if (r < 0)
                return r;
        /* Some parents (e.g. /devices/pci0000:00) have an empty uevent file and
         * libudev then lists no properties at all, not even DEVPATH. */
        r = strv_env_set(&properties, "DEVPATH", udev_device_get_devpath(d));
        if (r < 0)
                return r;
        if (udev_device_get_subsystem(d) && !strv_env_get(properties, "SUBSYSTEM")) {
                r = strv_env_set(&properties, "SUBSYSTEM", udev_device_get_subsystem(d));
                if (r < 0)
                        return r;
        }
        r = list_to_strv(udev_device_get_tags_list_entry(d), false, &tags);
        if (r < 0)
                return r;
        struct device_snapshot snap = { properties, subsystem_kind_of(s, d), tags };
        return model_add_device(m, &snap, NULL);
}

struct checked_prefix {
        char *devpath;
        UT_hash_handle hh;
};

static void checked_prefixes_free(struct checked_prefix **set) {
        struct checked_prefix *p, *tmp;

        HASH_ITER(hh, *set, p, tmp) {
                HASH_DEL(*set, p);
                free(p->devpath);
                free(p);
        }
}

/* Whether prefix was seen before; remembers it if not. */
static int check_once(struct checked_prefix **set, const char *devpath, size_t len) {
        struct checked_prefix *p;

        HASH_FIND(hh, *set, devpath, len, p);
        if (p)
                return 1;
        p = calloc(1, sizeof(*p));
        if (!p || !(p->devpath = strndup(devpath, len))) {
                free(p);
                return -ENOMEM;
        }
        HASH_ADD_KEYPTR(hh, *set, p->devpath, len, p);
        return 0;
}

/* Ancestors that no subsystem lists (e.g. /devices/platform) are devices
 * too, and ancestor keys (SUBSYSTEMS, ATTRS) must see them. Each distinct
 * path prefix is looked at once: asking libudev for every device's parent
 * chain would rebuild the same parents for every sibling. The model adopts
 * the children of a parent added after them. */
static int add_missing_ancestors(struct udev_source *s, struct model *m) {
        _cleanup_(checked_prefixes_free) struct checked_prefix *checked = NULL;
        _cleanup_free_ char **devpaths = NULL;
        struct device *d, *tmp;
        size_t n = 0;
        int r;

        devpaths = calloc(HASH_CNT(hh_devpath, m->by_devpath) + 1, sizeof(*devpaths));
        if (!devpaths)
                return -ENOMEM;
        HASH_ITER(hh_devpath, m->by_devpath, d, tmp)
                devpaths[n++] = d->devpath;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *devpath = strdup(devpaths[i]);

                if (!devpath)
                        return -ENOMEM;
                for (char *slash = strrchr(devpath, '/'); slash && slash != devpath; slash = strrchr(devpath, '/')) {
                        char syspath[PATH_MAX];

                        *slash = '\0';
                        if (model_find_device(m, devpath))
                                break;
                        r = check_once(&checked, devpath, strlen(devpath));
                        if (r < 0)
                                return r;
                        if (r > 0)
                                break; /* its own ancestors were looked at then */

                        snprintf(syspath, sizeof(syspath), "/sys%s", devpath);
                        _cleanup_(udev_device_unrefp) struct udev_device *a = udev_device_new_from_syspath(s->udev, syspath);
                        if (!a)
                                continue; /* a plain directory, not a device */
                        r = add_one(s, m, a);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int udev_source_enumerate(struct udev_source *s, struct model *m, unsigned *ret_count) {
        _cleanup_(udev_enumerate_unrefp) struct udev_enumerate *e = NULL;
        struct udev_list_entry *entry;
        int r;

        e = udev_enumerate_new(s->udev);
        if (!e)
                return -ENOMEM;
        r = udev_enumerate_scan_devices(e);
        if (r < 0)
                return r;

        udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e)) {
                _cleanup_(udev_device_unrefp) struct udev_device *d =
                        udev_device_new_from_syspath(s->udev, udev_list_entry_get_name(entry));

                /* Gone between listing and reading: the monitor has its remove. */
                if (!d)
                        continue;
                r = add_one(s, m, d);
                if (r < 0)
                        return log_error_errno(r, "Failed to add %s: %m", udev_device_get_devpath(d));
        }
        r = add_missing_ancestors(s, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the ancestors of enumerated devices: %m");
        if (ret_count)
                *ret_count = HASH_CNT(hh_devpath, m->by_devpath);
        return 0;
}

static int event_from_device(struct udev_source *s, struct udev_device *d, struct uevent **ret) {
        _cleanup_strv_free_ char **properties = NULL;
        struct uevent *ev;
        int r;

        r = list_to_strv(udev_device_get_properties_list_entry(d), true, &properties);
        if (r < 0)
                return r;
        r = uevent_new(TAKE_PTR(properties), &ev);
        if (r < 0)
                return r;
        if (ev->action != UEVENT_REMOVE)
                ev->subsystem_kind = subsystem_kind_of(s, d);
        *ret = ev;
        return 0;
}

int udev_source_dispatch(struct udev_source *s, struct model *m) {
        int n = 0, r;

        for (;;) {
                _cleanup_(udev_device_unrefp) struct udev_device *d = udev_monitor_receive_device(s->monitor);
                _cleanup_(uevent_freep) struct uevent *ev = NULL;

                if (!d)
                        return errno == EAGAIN || errno == EWOULDBLOCK || errno == 0 ? n : negative_errno();
                r = event_from_device(s, d, &ev);
                if (r < 0) {
                        log_warning_errno(r, "Ignoring malformed uevent for %s: %m",
                                          strempty(udev_device_get_devpath(d)));
                        continue;
                }
                r = model_apply_event(m, ev);
                if (r < 0)
                        log_error_errno(r, "Failed to apply %s event for %s: %m",
                                        uevent_action_to_string(ev->action), ev->devpath);
                n++;
        }
}
