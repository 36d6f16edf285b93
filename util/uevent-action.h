/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* The kernel's uevent actions and which KEY=VALUE pairs belong to one
 * event rather than to the device. Shared by the model (host events), the
 * views (a container's writes to a uevent file) and the relay. */

enum uevent_action {
        UEVENT_ADD,
        UEVENT_REMOVE,
        UEVENT_CHANGE,
        UEVENT_MOVE,
        UEVENT_ONLINE,
        UEVENT_OFFLINE,
        UEVENT_BIND,
        UEVENT_UNBIND,
        _UEVENT_ACTION_MAX,
};

const char *uevent_action_to_string(enum uevent_action a);
/* The action, or -EINVAL. */
int uevent_action_from_string(const char *s);

/* Keys that describe this one event rather than the device (ACTION,
 * SEQNUM, DEVPATH_OLD, SYNTH_*): they are not stored in the device model. */
bool uevent_key_is_per_event(const char *key_value);
