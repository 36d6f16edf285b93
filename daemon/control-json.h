/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

#include "container.h"
#include "daemon.h"
#include "policy/adapters/policy-json.h"

/* The JSON shapes of the daemon's own objects in control replies
 * (docs/control-protocol.md). Each returns a new reference or NULL on
 * -ENOMEM. */

/* A row as policy-json.h describes it, for what the container really gets
 * (overrides and name conflicts included), plus "host_uid", "host_gid",
 * "conflicts" and "warnings". */
json_t *control_json_visible(const struct visible_device *v);
/* Every visible device of c, sorted as `devsieve check --all` sorts them. */
json_t *control_json_visible_all(const struct container *c);
/* {"name", "policy", "state", "pid", "relay", "devices", "overrides", "dev", "sys"} */
json_t *control_json_container(const struct daemon_container *dc);
json_t *control_json_override(const struct override *o);
