/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v2: a BPF_CGROUP_DEVICE program that decides from a hash map
 * keyed by (type, major, minor), so that a hot-plugged device is a map
 * update rather than a new program.
 *
 * Programs attached to one cgroup must all allow, so a second program
 * could never grant what the runtime's program denies: devsieve's program
 * takes the decision over (replacing or detaching the runtime's) and keeps
 * the runtime's allowed set in its map, the OCI default devices.
 *
 * Raw bpf(2) rather than libbpf: the program is some thirty instructions
 * built here, which needs no BPF compiler at build time and no new
 * library at run time. */
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "cgroup-internal.h"
#include "policy/policy.h"

struct map_key {
        uint32_t type; /* BPF_DEVCG_DEV_* */
        uint32_t major, minor; /* CGROUP_ANY: any */
};

static int sys_bpf(int cmd, union bpf_attr *attr) {
        long r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));
        return r < 0 ? negative_errno() : (int) r;
}

/* POLICY_ACCESS_* to BPF_DEVCG_ACC_*. */
static uint32_t bpf_access(unsigned access) {
        return ((access & POLICY_ACCESS_READ) ? BPF_DEVCG_ACC_READ : 0) |
               ((access & POLICY_ACCESS_WRITE) ? BPF_DEVCG_ACC_WRITE : 0) |
               ((access & POLICY_ACCESS_MKNOD) ? BPF_DEVCG_ACC_MKNOD : 0);
}

static uint32_t bpf_type(char type) {
        return type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
}

/* The OCI runtime specification's default devices. */
static const struct cgroup_rule oci_defaults[] = {
        { 'c', CGROUP_ANY, CGROUP_ANY, POLICY_ACCESS_MKNOD },
        { 'b', CGROUP_ANY, CGROUP_ANY, POLICY_ACCESS_MKNOD },
        { 'c', 1, 3, POLICY_ACCESS_READ | POLICY_ACCESS_WRITE | POLICY_ACCESS_MKNOD },   /* null */
        { 'c', 1, 5, POLICY_ACCESS_READ | POLICY_ACCESS_WRITE | POLICY_ACCESS_MKNOD },   /* zero */
        { 'c', 1, 7, POLICY_ACCESS_READ | POLICY_ACCESS_WRITE | POLICY_ACCESS_MKNOD },   /* full */
        { 'c', 1, 8, POLICY_ACCESS_READ | POLICY_ACCESS_WRITE | POLICY_ACCESS_MKNOD },   /* random */
        { 'c', 1, 9, POLICY_ACCESS_READ | POLICY_ACCESS_WRITE | POLICY_ACCESS_MKNOD },   /* urandom */
        { 'c', 5, 0, POLICY_ACCESS_READ | POLICY_ACCESS_WRITE | POLICY_ACCESS_MKNOD },   /* tty */
        { 'c', 5, 1, POLICY_ACCESS_READ | POLICY_ACCESS_WRITE | POLICY_ACCESS_MKNOD },   /* console */
        { 'c', 5, 2, POLICY_ACCESS_READ | POLICY_ACCESS_WRITE | POLICY_ACCESS_MKNOD },   /* ptmx */
        { 'c', 136, CGROUP_ANY, POLICY_ACCESS_READ | POLICY_ACCESS_WRITE | POLICY_ACCESS_MKNOD }, /* pts */
};

/* --- The program -------------------------------------------------------- */

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV64_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ALU32_IMM(op, d, i) INSN(BPF_ALU | (op) | BPF_K, d, 0, 0, i)
#define ALU64_IMM(op, d, i) INSN(BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
#define ALU64_REG(op, d, s) INSN(BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define LDX_W(d, s, o) INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define STX_W(d, s, o) INSN(BPF_STX | BPF_MEM | BPF_W, d, s, o, 0)
#define ST_W(d, o, i) INSN(BPF_ST | BPF_MEM | BPF_W, d, 0, o, i)
#define JMP_IMM(op, d, i, o) INSN(BPF_JMP | (op) | BPF_K, d, 0, o, i)
#define JMP_REG(op, d, s, o) INSN(BPF_JMP | (op) | BPF_X, d, s, o, 0)
#define LD_MAP_FD(d, fd) INSN(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), INSN(0, 0, 0, 0, 0)
#define CALL(f) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* r9 |= the map's value for the key at fp-12, if any. */
#define LOOKUP_OR(map_fd)                                   \
        LD_MAP_FD(BPF_REG_1, map_fd), MOV64_REG(BPF_REG_2, BPF_REG_10), \
                ALU64_IMM(BPF_ADD, BPF_REG_2, -12), CALL(BPF_FUNC_map_lookup_elem), \
                JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 2), LDX_W(BPF_REG_1, BPF_REG_0, 0), \
                ALU64_REG(BPF_OR, BPF_REG_9, BPF_REG_1)

/* Allowed when the union of the values for (type, major, minor), (type,
 * major, any) and (type, any, any) holds every access asked for, as a v1
 * devices cgroup decides. */
static int load_program(int map_fd, int *ret) {
        const struct bpf_insn insns[] = {
                LDX_W(BPF_REG_7, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type)),
                MOV64_REG(BPF_REG_8, BPF_REG_7),
                ALU64_IMM(BPF_RSH, BPF_REG_8, 16), /* r8: access asked for */
                ALU32_IMM(BPF_AND, BPF_REG_7, 0xffff), /* r7: type */
                STX_W(BPF_REG_10, BPF_REG_7, -12),
                LDX_W(BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major)),
                STX_W(BPF_REG_10, BPF_REG_2, -8),
                LDX_W(BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor)),
                STX_W(BPF_REG_10, BPF_REG_2, -4),
                MOV64_IMM(BPF_REG_9, 0), /* r9: access granted */
                LOOKUP_OR(map_fd),
                ST_W(BPF_REG_10, -4, -1),
                LOOKUP_OR(map_fd),
                ST_W(BPF_REG_10, -8, -1),
                LOOKUP_OR(map_fd),
                ALU64_REG(BPF_AND, BPF_REG_9, BPF_REG_8),
                MOV64_IMM(BPF_REG_0, 0),
                JMP_REG(BPF_JNE, BPF_REG_9, BPF_REG_8, 1),
                MOV64_IMM(BPF_REG_0, 1),
                EXIT(),
        };
        static const char license[] = "GPL";
        union bpf_attr attr = {
                .prog_type = BPF_PROG_TYPE_CGROUP_DEVICE,
                .insns = (uintptr_t) insns,
                .insn_cnt = ELEMENTSOF(insns),
                .license = (uintptr_t) license,
        };
        int fd;

        strncpy(attr.prog_name, "devsieve_dev", sizeof(attr.prog_name) - 1);
        fd = sys_bpf(BPF_PROG_LOAD, &attr);
        if (fd < 0)
                return fd;
        *ret = fd;
        return 0;
}

static int create_map(int *ret) {
        union bpf_attr attr = {
                .map_type = BPF_MAP_TYPE_HASH,
                .key_size = sizeof(struct map_key),
                .value_size = sizeof(uint32_t),
                .max_entries = 65536,
        };
        int fd;

        strncpy(attr.map_name, "devsieve_dev", sizeof(attr.map_name) - 1);
        fd = sys_bpf(BPF_MAP_CREATE, &attr);
        if (fd < 0)
                return fd;
        *ret = fd;
        return 0;
}

static int map_put(int map_fd, const struct map_key *k, uint32_t value) {
        union bpf_attr attr = {
                .map_fd = (uint32_t) map_fd,
                .key = (uintptr_t) k,
                .value = (uintptr_t) &value,
                .flags = BPF_ANY,
        };

        if (value == 0) {
                attr.value = 0;
                attr.flags = 0;
                int r = sys_bpf(BPF_MAP_DELETE_ELEM, &attr);
                return r == -ENOENT ? 0 : r;
        }
        return sys_bpf(BPF_MAP_UPDATE_ELEM, &attr);
}

static struct map_key rule_key(char type, uint32_t major, uint32_t minor) {
        return (struct map_key){ .type = bpf_type(type), .major = major, .minor = minor };
}

/* --- Taking the decision over ------------------------------------------- */

static int prog_id(int prog_fd, uint32_t *ret) {
        struct bpf_prog_info info = {};
        union bpf_attr attr = {
                .info.bpf_fd = (uint32_t) prog_fd,
                .info.info_len = sizeof(info),
                .info.info = (uintptr_t) &info,
        };
        int r = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr);

        if (r < 0)
                return r;
        *ret = info.id;
        return 0;
}

/* The programs attached to the cgroup itself (not inherited). */
static int query(int dir_fd, uint32_t *ids, uint32_t *n, uint32_t *flags) {
        union bpf_attr attr = {
                .query.target_fd = (uint32_t) dir_fd,
                .query.attach_type = BPF_CGROUP_DEVICE,
                .query.prog_ids = (uintptr_t) ids,
                .query.prog_cnt = *n,
        };
        int r = sys_bpf(BPF_PROG_QUERY, &attr);

        if (r < 0)
                return r;
        *n = attr.query.prog_cnt;
        *flags = attr.query.attach_flags;
        return 0;
}

static int attach(int dir_fd, int prog_fd, uint32_t flags) {
        union bpf_attr attr = {
                .target_fd = (uint32_t) dir_fd,
                .attach_bpf_fd = (uint32_t) prog_fd,
                .attach_type = BPF_CGROUP_DEVICE,
                .attach_flags = flags,
        };
        return sys_bpf(BPF_PROG_ATTACH, &attr);
}

static int detach_id(int dir_fd, uint32_t id) {
        _cleanup_close_ int fd = -EBADF;
        union bpf_attr attr = { .prog_id = id };

        fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
        if (fd < 0)
                return fd;
        attr = (union bpf_attr){
                .target_fd = (uint32_t) dir_fd,
                .attach_bpf_fd = (uint32_t) fd,
                .attach_type = BPF_CGROUP_DEVICE,
        };
        return sys_bpf(BPF_PROG_DETACH, &attr);
}

#define MAX_PROGS 64

/* Ours in, theirs out, with no moment in which the cgroup allows more than
 * either: a single program (no BPF_F_ALLOW_MULTI) is replaced in one
 * attach; among several, ours is added before the others go. */
static int take_over(struct device_cgroup *g, char **ret_error) {
        uint32_t ids[MAX_PROGS], n = MAX_PROGS, flags = 0;
        int r;

        r = query(g->dir_fd, ids, &n, &flags);
        if (r < 0)
                return asprintf(ret_error, "cannot query its device programs: %s", strerror(-r)) < 0 ? -ENOMEM : r;
        if (n > 0 && !(flags & BPF_F_ALLOW_MULTI)) {
                r = attach(g->dir_fd, g->prog_fd, flags);
                if (r < 0)
                        return asprintf(ret_error, "cannot replace the device program: %s", strerror(-r)) < 0
                                       ? -ENOMEM
                                       : r;
                return 0;
        }
        r = attach(g->dir_fd, g->prog_fd, BPF_F_ALLOW_MULTI);
        if (r < 0)
                return asprintf(ret_error, "cannot attach the device program: %s", strerror(-r)) < 0 ? -ENOMEM : r;
        for (uint32_t i = 0; i < n; i++) {
                r = detach_id(g->dir_fd, ids[i]);
                if (r < 0 && r != -ENOENT) {
                        /* Ours would only deny more: do not leave it behind. */
                        (void) detach_id(g->dir_fd, g->prog_id);
                        return asprintf(ret_error, "cannot detach program %u: %s", ids[i], strerror(-r)) < 0
                                       ? -ENOMEM
                                       : r;
                }
        }
        return 0;
}

int cgroup_v2_open(struct device_cgroup *g, const char *root, char **ret_error) {
        _cleanup_free_ char *dir = NULL;
        int r;

        if (asprintf(&dir, "%s%s", root, g->path) < 0)
                return -ENOMEM;
        g->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (g->dir_fd < 0)
                return negative_errno();
        g->baseline = calloc(ELEMENTSOF(oci_defaults), sizeof(*g->baseline));
        if (!g->baseline)
                return -ENOMEM;
        memcpy(g->baseline, oci_defaults, sizeof(oci_defaults));
        g->n_baseline = ELEMENTSOF(oci_defaults);

        r = create_map(&g->map_fd);
        if (r < 0)
                return asprintf(ret_error, "cannot create a BPF map: %s", strerror(-r)) < 0 ? -ENOMEM : r;
        for (size_t i = 0; i < g->n_baseline; i++) {
                const struct cgroup_rule *b = &g->baseline[i];
                struct map_key k = rule_key(b->type, b->major, b->minor);
                r = map_put(g->map_fd, &k, bpf_access(b->access));
                if (r < 0)
                        return r;
        }
        r = load_program(g->map_fd, &g->prog_fd);
        if (r < 0)
                return asprintf(ret_error, "the kernel refused the device program: %s", strerror(-r)) < 0 ? -ENOMEM
                                                                                                        : r;
        r = prog_id(g->prog_fd, &g->prog_id);
        if (r < 0)
                return r;
        return take_over(g, ret_error);
}

int cgroup_v2_set(struct device_cgroup *g, const struct device_devnum_key *k, _unused_ unsigned old, unsigned new) {
        struct map_key key = rule_key((char) k->type, k->major, k->minor);
        unsigned exact = 0;

        /* The map holds the whole decision: the baseline's exact rule for
         * this device, if any, stays in it. */
        for (size_t i = 0; i < g->n_baseline; i++)
                if (g->baseline[i].type == (char) k->type && g->baseline[i].major == k->major &&
                    g->baseline[i].minor == k->minor)
                        exact |= g->baseline[i].access;
        /* A removed cgroup's program lives on until its last reference:
         * updating it is no error, but nothing is left to decide. */
        if (faccessat(g->dir_fd, "cgroup.procs", F_OK, 0) < 0 && errno == ENOENT)
                return -ENOENT;
        return map_put(g->map_fd, &key, bpf_access(new | exact));
}

void cgroup_v2_check(struct device_cgroup *g) {
        uint32_t ids[MAX_PROGS], n = MAX_PROGS, flags = 0;
        bool ours = false;

        if (query(g->dir_fd, ids, &n, &flags) < 0)
                return;
        for (uint32_t i = 0; i < n; i++)
                ours |= ids[i] == g->prog_id;
        if (ours && n == 1)
                return;
        if (!g->replaced) {
                free(g->last_error);
                if (asprintf(&g->last_error,
                             ours ? "another device program was attached next to devsieve's: it may deny visible devices"
                                  : "devsieve's device program was replaced: visible devices may be denied") < 0)
                        g->last_error = NULL;
                g->failures++;
        }
        g->replaced = true;
}

int cgroup_v2_restore(struct device_cgroup *g, char **ret_error) {
        uint32_t ids[MAX_PROGS], n = MAX_PROGS, flags = 0;
        bool ours = false;
        int r;

        r = query(g->dir_fd, ids, &n, &flags);
        if (r < 0)
                return r;
        for (uint32_t i = 0; i < n; i++)
                ours |= ids[i] == g->prog_id;
        if (!ours)
                return take_over(g, ret_error);
        for (uint32_t i = 0; i < n; i++) {
                if (ids[i] == g->prog_id)
                        continue;
                r = detach_id(g->dir_fd, ids[i]);
                if (r < 0 && r != -ENOENT)
                        return asprintf(ret_error, "cannot detach program %u: %s", ids[i], strerror(-r)) < 0
                                       ? -ENOMEM
                                       : r;
        }
        return 0;
}

void cgroup_v2_close(struct device_cgroup *g) {
        /* The program stays attached (the cgroup holds it) with the map
         * back to the baseline: the container keeps the default devices. */
        g->prog_fd = safe_close(g->prog_fd);
        g->map_fd = safe_close(g->map_fd);
}
