/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

/* What a container's uevent listeners are told, and in which bytes: the
 * relay's pure part, without sockets, so that it can be tested alone. */

/* One event in the container's view, still pointing into a delta (valid as
 * long as the delta is). */
struct uevent_view {
        const char *action;
        char *const *properties; /* host event's or device's; ACTION, SEQNUM and DEVNAME are replaced */
        bool set_devname;        /* false: DEVNAME passes as it is (an event already in the view) */
        const char *devname;     /* relative to /dev; NULL drops DEVNAME (no node in the container) */
        uint64_t seqnum;         /* 0: none, the kernel appends its own on netlink injection */
        /* The device as the container sees it, for its udev event (links,
         * tags, initialization time); NULL when unknown. */
        const struct visible_device *visible;
};

#define UEVENT_VIEWS_PER_DELTA_MAX 2

/* The events a delta means for the container, in order (0, 1 or 2):
 * the host's event rewritten; "add" for a device that becomes visible
 * without one (reload, override), "remove" for one that becomes hidden; a
 * remove of the old and an add of the new name when a node is renamed
 * without an event. Nothing for a change the kernel would not announce. */
size_t uevent_view_for_delta(const struct delta *d, struct uevent_view ret[UEVENT_VIEWS_PER_DELTA_MAX]);

/* Keys that only udevd's database adds (DEVLINKS, TAGS, ID_*, ...): the
 * relay speaks the kernel's protocol, and those name host links and host
 * state. Also the node's host owner and mode (DEVUID/DEVGID/DEVMODE): the
 * container's view decides those. */
bool uevent_key_is_host_only(const char *key_value);

/* Frames v as the kernel does: "ACTION@DEVPATH\0ACTION=..\0KEY=VALUE\0...",
 * SEQNUM last when v->seqnum is set. -EINVAL without a DEVPATH. */
int uevent_view_frame(const struct uevent_view *v, char **ret, size_t *ret_size);
