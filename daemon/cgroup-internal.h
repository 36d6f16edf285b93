/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <uthash.h>

#include "device-cgroup.h"

/* Shared by device-cgroup.c (what to grant) and the two ways of granting
 * it: cgroup-v1.c (devices.allow/deny) and cgroup-v2.c (a BPF program and
 * its map). Access bits are POLICY_ACCESS_* (r=1, w=2, m=4). */

#define CGROUP_ANY UINT32_MAX /* a wildcard major or minor */

struct cgroup_rule {
        char type;            /* 'c', 'b', or 'a' (v1: all devices) */
        uint32_t major, minor; /* CGROUP_ANY: any */
        unsigned access;
};

/* What devsieve granted for one device, beyond what the runtime allowed. */
struct cgroup_grant {
        struct device_devnum_key key;
        unsigned access;
        UT_hash_handle hh;
};

struct device_cgroup {
        enum device_cgroup_mode mode; /* V1, V2 or OFF once resolved */
        char *name;                   /* the container's, for messages */
        char *path;                   /* within the hierarchy */
        char *off_reason;             /* mode OFF: why */
        char *last_error;
        bool failed;                  /* set-up failed: nothing is granted */
        bool gone;                    /* the cgroup was removed: grants dropped */
        int dir_fd;
        struct cgroup_grant *grants;
        uint64_t updates, failures;

        /* The runtime's own rules: never taken away. v1 reads them from
         * devices.list at set-up; v2 keeps the OCI default devices. */
        struct cgroup_rule *baseline;
        size_t n_baseline;

        bool replaced; /* someone else rewrote the decision since */

        /* v2 */
        int map_fd, prog_fd;
        uint32_t prog_id;
};

/* One devices.list line: "c 1:3 rwm", "b *:* m", "a *:* rwm". */
int cgroup_rule_parse(const char *line, struct cgroup_rule *ret);
/* The access rules (as in devices.list: the union of every match) give a
 * device. */
unsigned cgroup_rules_access(const struct cgroup_rule *rules, size_t n, const struct device_devnum_key *k);
/* The same for many devices against one long list (a container's
 * devices.list holds a line per granted device): cgroup_rules_sort() puts
 * the rules naming one device first, in order, and returns their count;
 * cgroup_sorted_rules_access() then finds a device's by binary search. */
size_t cgroup_rules_sort(struct cgroup_rule *rules, size_t n);
unsigned cgroup_sorted_rules_access(const struct cgroup_rule *rules, size_t n_exact, size_t n,
                                    const struct device_devnum_key *k);

/* Both: open g->path in their hierarchy (mounted at root) and learn the
 * baseline. Errors leave a message in *ret_error. */
int cgroup_v1_open(struct device_cgroup *g, const char *root, char **ret_error);
int cgroup_v2_open(struct device_cgroup *g, const char *root, char **ret_error);

/* Moves devsieve's grant for k from old to new access bits. */
int cgroup_v1_set(struct device_cgroup *g, const struct device_devnum_key *k, unsigned old, unsigned new);
int cgroup_v2_set(struct device_cgroup *g, const struct device_devnum_key *k, unsigned old, unsigned new);

/* Whether devsieve's grants still hold; sets g->replaced and the error. */
void cgroup_v1_check(struct device_cgroup *g);
void cgroup_v2_check(struct device_cgroup *g);

/* Puts devsieve's decision back after someone else rewrote it. */
int cgroup_v1_restore(struct device_cgroup *g);
int cgroup_v2_restore(struct device_cgroup *g, char **ret_error);
void cgroup_v2_close(struct device_cgroup *g);
