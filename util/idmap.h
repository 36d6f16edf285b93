/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* A user namespace's uid_map or gid_map: "INSIDE OUTSIDE COUNT" lines. The
 * kernel allows at most 340 extents. */
#define IDMAP_EXTENTS_MAX 340

struct idmap_extent {
        uint32_t inside, outside, count;
};

struct idmap {
        struct idmap_extent extents[IDMAP_EXTENTS_MAX];
        unsigned n_extents;
};

/* The initial namespace's map: every id is itself. */
void idmap_identity(struct idmap *m);
int idmap_parse(const char *text, struct idmap *ret);
/* Reads /proc/PID/uid_map or gid_map (which = "uid_map"/"gid_map"). */
int idmap_read(pid_t pid, const char *which, struct idmap *ret);
/* The host id of a container id: -ERANGE when the container cannot name it. */
int idmap_to_host(const struct idmap *m, uint32_t inside, uint32_t *ret);
/* The container id of a host id: -ERANGE when unmapped. */
int idmap_from_host(const struct idmap *m, uint32_t outside, uint32_t *ret);
int idmap_equal(const struct idmap *a, const struct idmap *b);
