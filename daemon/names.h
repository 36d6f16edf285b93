/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "container.h"

/* Decides which visible device gets which name in the container's /dev when
 * several want the same one. The result depends only on the set of claims,
 * never on arrival order: node names win over symlinks, then the device
 * whose devpath sorts first wins. Names of the /dev skeleton (fd, pts, ...)
 * are never granted, nor a name below a granted name or above one. Losers
 * get a line in their conflicts list.
 *
 * Updates every entry of c->visible in place and appends to before a copy,
 * taken before the update, of each entry whose grants changed. */
int names_assign(struct container *c, struct visible_list *before);

/* The names the /dev view always has, which no device may take. */
extern const char *const names_reserved[];
