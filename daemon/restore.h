/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon.h"

/* At start, after the devices are enumerated: every container a previous
 * devsieved saved (state.h) is served again. One whose process is gone (or
 * whose pid now names another process: the start time differs) is cleaned
 * up with its directory. A directory without a state file is left alone:
 * a runtime may have made and bound it before creating the container
 * (removing it would detach the container's binds of it).
 * Dead views in a running container's mount namespace are covered with
 * live ones (repair.h). A container that cannot be restored is logged and
 * cleaned up; the others are served. Main loop only. */
void daemon_restore(struct daemon *d);

/* Detaches whatever is mounted (dead or live) at DIR/dev, DIR/sys,
 * DIR/proc and DIR/udev and removes what a container's directory holds. */
void daemon_clean_container_dir(const char *dir);

