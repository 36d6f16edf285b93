/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

#include "macro.h"
#include "policy/policy.h"

/* The JSON shapes of devices, visible-device rows, explanations and
 * diagnostics, shared by "devsieve check" and the daemon's replies so that
 * the command line client renders both the same way. Consumers must ignore
 * keys they do not know: the daemon adds some (host_uid, host_gid, conflict).
 *
 * device: {"devpath", "subsystem", "sysname", "devtype", "driver", "devname",
 *          "type": "char"|"block"|null, "major", "minor"}
 * row:    {"path": node path relative to /dev or null, "devname", "devpath",
 *          "subsystem", "type", "major", "minor", "uid", "gid" (container ids),
 *          "mode": "0660", "access": "rw", "symlinks": [...],
 *          "writable_attributes": [...], "rule": "FILE:LINE" or null}
 * explanation:
 *         {"device": device, "verdict": "allow"|"deny"|"default-deny",
 *          "rule": "FILE:LINE" or null, "rule_text": the deciding rule as
 *          written or null, "result": row or null when hidden,
 *          "trace": [{"file", "line", "verb": "allow"|"deny", "text",
 *                     "matched", "failed_key", "device_value"}, ...]}
 * diagnostic:
 *         {"file", "line", "column", "severity": "error"|"warning", "message"}
 *
 * Every function returns 0 and a new reference in *ret, or -ENOMEM. */

/* jansson itself provides json_decrefp() for _cleanup_(). */

/* Sets key on o to v and takes v: -ENOMEM when v is NULL (a constructor
 * that failed) or setting fails (json_object_set_new() drops v then too),
 * so a chain of calls needs one check. */
int policy_json_set(json_t *o, const char *key, json_t *v);
/* A mode's permission bits, "0660"; NULL only when out of memory. */
json_t *policy_json_mode(mode_t mode);
/* An access mask as "r", "rw", "rwm"...; NULL only when out of memory. */
json_t *policy_json_access(unsigned access);

int policy_json_device(const struct policy_device *d, json_t **ret);

/* A JSON string of s (null for NULL); values from sysfs and udev need not
 * be UTF-8, so every non-ASCII byte becomes '?' rather than failing the
 * reply. NULL only when out of memory. */
json_t *policy_json_string(const char *s);
/* An array of such strings. */
json_t *policy_json_strv(char *const *l);

/* r must be an allowed result for d (-EINVAL otherwise). */
int policy_json_row(const struct policy_device *d, const struct policy_result *r, json_t **ret);

/* t may be NULL: the trace is then an empty array. */
int policy_json_explanation(const struct policy_device *d, const struct policy_result *r,
                            const struct policy_trace *t, json_t **ret);

int policy_json_diagnostics(const struct policy_diagnostics *diags, json_t **ret);

/* "FILE:LINE", for the "rule" keys. */
int policy_json_rule_location(const struct policy_rule *rule, char **ret);
/* The kernel's name for d's node relative to /dev ("loop0", "bus/usb/001/002"),
 * or NULL when d has none. Points into d->devname. */
const char *policy_json_kernel_node(const struct policy_device *d);
