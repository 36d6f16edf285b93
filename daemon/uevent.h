/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "fs/view-delta.h"
#include "macro.h"
#include "uevent-action.h"

/* One kernel uevent: an action on a device and the KEY=VALUE properties the
 * kernel sent with it. This is the unit that flows from the host (libudev
 * monitor) through the model to every container's relay. */

struct uevent {
        enum uevent_action action;
        char **properties; /* every KEY=VALUE as sent, ACTION/DEVPATH/SUBSYSTEM/SEQNUM included */
        const char *devpath;     /* the following point into properties */
        const char *devpath_old; /* move only */
        const char *subsystem;   /* NULL for a few kernel objects without one */
        uint64_t seqnum;         /* 0 when the sender gave none */
        enum subsystem_kind subsystem_kind; /* filled in by the source, from sysfs */
};

/* Takes ownership of properties (also on failure). Needs ACTION and DEVPATH;
 * -EINVAL names nothing, the caller knows where the text came from. */
int uevent_new(char **properties, struct uevent **ret);
struct uevent *uevent_free(struct uevent *e);
DEFINE_POINTER_CLEANUP(struct uevent, uevent_free);

/* The kernel's netlink framing: "ACTION@DEVPATH\0KEY=VALUE\0...". */
int uevent_parse_wire(const char *buf, size_t size, struct uevent **ret);
/* Serializes properties in the same framing; header from ACTION/DEVPATH. */
int uevent_wire_from_properties(char *const *properties, char **ret, size_t *ret_size);

