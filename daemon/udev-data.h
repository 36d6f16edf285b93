/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "container.h"
#include "device.h"

/* What udevd would have recorded about a device, in one container's names:
 * the file of its database (/run/udev/data/ID) and the properties of its
 * udev events. Pure: no I/O, so that it can be tested and fuzzed alone.
 * See docs/udev.md. */

/* sd-device's name for d in the database: "b7:0" or "c1:3" for a device
 * with a node, "n2" for a network interface, "+SUBSYSTEM:SYSNAME" for any
 * other. -ENOENT for a device without a subsystem (udev keeps none). The
 * caller frees *ret. */
int udev_data_id(const struct device *d, char **ret);

/* The id d had before a move from devpath_old, when it differs from its
 * id now (only "+SUBSYSTEM:SYSNAME" ids follow the name); -ENOENT when it
 * does not. */
int udev_data_old_id(const struct device *d, const char *devpath_old, char **ret);

/* Keys the container's udev does not take from the host as they are: the
 * event's number and action (ACTION, SEQNUM), the node's name and links
 * (DEVNAME, DEVLINKS: the container's), what libudev derives from the
 * database itself (TAGS, CURRENT_TAGS, USEC_INITIALIZED), the host node's
 * owner and mode, and udev's private "." keys. */
bool udev_data_key_is_replaced(const char *key_value);

/* The database file for v, in udev's format ("S:", "I:", "E:", "G:",
 * "Q:", "V:1" lines). The caller frees *ret. */
int udev_data_format(const struct visible_device *v, char **ret, size_t *ret_size);

/* The properties of a udev event: from (the event's or the device's) minus
 * the replaced keys (SYNTH_* and DEVPATH_OLD stay: `udevadm trigger
 * --settle` waits for its SYNTH_UUID), then ACTION, DEVNAME=/dev/NODE (when v has a node),
 * DEVLINKS, TAGS, CURRENT_TAGS, USEC_INITIALIZED from v, and SEQNUM. The
 * caller frees *ret. */
int udev_data_event_properties(char *const *from, const char *action, const struct visible_device *v, uint64_t seqnum,
                               char ***ret);
