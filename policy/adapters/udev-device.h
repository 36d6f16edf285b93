/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libudev.h>

#include "macro.h"
#include "policy/device.h"

/* A libudev device presented to the policy engine: the device and its whole
 * parent chain, with ENV{} answered from the udev properties and ATTR{} from
 * sysfs. Attribute values are read on first use and kept (trailing whitespace
 * removed), so the strings handed to the engine stay valid until the adapter
 * is freed even if sysfs changes meanwhile. Used by the offline checker,
 * which has no device model of its own. */

struct policy_udev_device;

/* Takes its own references on d and its parents. Returns 0, or -ENOMEM. */
int policy_udev_device_new(struct udev_device *d, struct policy_udev_device **ret);
struct policy_udev_device *policy_udev_device_free(struct policy_udev_device *d);
DEFINE_POINTER_CLEANUP(struct policy_udev_device, policy_udev_device_free);

/* Valid as long as d; its parent pointers lead through the adapted chain. */
const struct policy_device *policy_udev_device_get(const struct policy_udev_device *d);
struct udev_device *policy_udev_device_get_udev(const struct policy_udev_device *d);
