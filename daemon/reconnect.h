/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon.h"

enum view_kind {
        VIEW_DEV,
        VIEW_SYS,
};

/* One of the two connections ended under the running daemon (aborted
 * through /sys/fs/fuse/connections/N/abort, or unmounted from outside):
 * every container's view of that kind is dead. Mounts a new connection,
 * gives every container a new view of that kind with what it sees, and
 * covers the dead copies in each running container's mount namespace
 * (repair.h); a container whose copies cannot be covered is marked dead in
 * status. Main loop only. */
void daemon_reconnect(struct daemon *d, enum view_kind kind);
