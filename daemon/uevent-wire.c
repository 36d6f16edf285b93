/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "strv.h"
#include "uevent-wire.h"

static struct uevent_view view_of_event(const struct uevent *ev, const struct visible_device *v) {
        return (struct uevent_view){
                .action = uevent_action_to_string(ev->action),
                .properties = ev->properties,
                .set_devname = true,
                .devname = v->node,
                .visible = v,
        };
}

/* An event the kernel did not send: the device as the model knows it. */
static struct uevent_view view_of_device(enum uevent_action action, const struct visible_device *v) {
        return (struct uevent_view){
                .action = uevent_action_to_string(action),
                .properties = v->device->properties,
                .set_devname = true,
                .devname = v->node,
                .visible = v,
        };
}

size_t uevent_view_for_delta(const struct delta *d, struct uevent_view ret[UEVENT_VIEWS_PER_DELTA_MAX]) {
        switch (d->kind) {
        case DELTA_VISIBLE:
                /* A change that makes a device match is, for the container,
                 * the device's arrival. */
                ret[0] = d->event && d->event->action == UEVENT_ADD ? view_of_event(d->event, d->new)
                                                                     : view_of_device(UEVENT_ADD, d->new);
                return 1;
        case DELTA_HIDDEN:
                ret[0] = d->event && d->event->action == UEVENT_REMOVE ? view_of_event(d->event, d->old)
                                                                        : view_of_device(UEVENT_REMOVE, d->old);
                return 1;
        case DELTA_CHANGED:
                if (d->event) {
                        ret[0] = view_of_event(d->event, d->new);
                        return 1;
                }
                /* A reload or a name handed over renamed the node: to the
                 * container's udev that is the old node going and a new
                 * one coming, as it would be after a kernel rename. */
                if (!streq_ptr(d->old->node, d->new->node)) {
                        ret[0] = view_of_device(UEVENT_REMOVE, d->old);
                        ret[1] = view_of_device(UEVENT_ADD, d->new);
                        return 2;
                }
                return 0;
        }
        return 0;
}

bool uevent_key_is_host_only(const char *key_value) {
        static const char *const keys[] = {
                "DEVLINKS=", "TAGS=",   "CURRENT_TAGS=", "USEC_INITIALIZED=", "ID_",
                "SYSTEMD_",  "DEVUID=", "DEVGID=",       "DEVMODE=",          ".",
        };

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (startswith(key_value, keys[i]))
                        return true;
        return false;
}

/* Whether a property of the source goes out as it is. ACTION and SEQNUM
 * are the event's own and written separately; DEVNAME may be replaced. */
static bool copied(const struct uevent_view *v, const char *p) {
        return !startswith(p, "ACTION=") && !startswith(p, "SEQNUM=") &&
               !(v->set_devname && startswith(p, "DEVNAME=")) && !uevent_key_is_host_only(p);
}

int uevent_view_frame(const struct uevent_view *v, char **ret, size_t *ret_size) {
        const char *devpath = strv_env_get(v->properties, "DEVPATH");
        char seqnum[32] = "", *buf, *p;
        size_t size;

        if (!devpath || !v->action)
                return -EINVAL;
        if (v->seqnum > 0)
                snprintf(seqnum, sizeof(seqnum), "SEQNUM=%" PRIu64, v->seqnum);

        /* Header, ACTION=, the copied properties, DEVNAME=, SEQNUM=, each
         * with its NUL. */
        size = strlen(v->action) + 1 + strlen(devpath) + 1 + strlen("ACTION=") + strlen(v->action) + 1;
        STRV_FOREACH(s, v->properties)
                if (copied(v, *s))
                        size += strlen(*s) + 1;
        if (v->set_devname && v->devname)
                size += strlen("DEVNAME=") + strlen(v->devname) + 1;
        if (seqnum[0])
                size += strlen(seqnum) + 1;

        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        p = buf + sprintf(buf, "%s@%s", v->action, devpath) + 1;
        p += sprintf(p, "ACTION=%s", v->action) + 1;
        STRV_FOREACH(s, v->properties)
                if (copied(v, *s))
                        p = stpcpy(p, *s) + 1;
        if (v->set_devname && v->devname)
                p += sprintf(p, "DEVNAME=%s", v->devname) + 1;
        if (seqnum[0])
                p = stpcpy(p, seqnum) + 1;

        *ret = buf;
        *ret_size = (size_t) (p - buf);
        return 0;
}
