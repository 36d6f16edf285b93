/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a runtime does to a cgroup v2 device cgroup, for the tests:
 *
 *     devcg-bpf deny-all CGROUP_DIR   attach a program that denies every
 *                                     device (BPF_F_ALLOW_MULTI, as runc)
 *     devcg-bpf list CGROUP_DIR       print the ids of the device programs
 *                                     attached to the cgroup, one a line
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_bpf(int cmd, union bpf_attr *attr) {
        return (int) syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int deny_all(int cgroup_fd) {
        const struct bpf_insn insns[] = {
                { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
                { .code = BPF_JMP | BPF_EXIT },
        };
        static const char license[] = "GPL";
        union bpf_attr attr = {
                .prog_type = BPF_PROG_TYPE_CGROUP_DEVICE,
                .insns = (unsigned long) insns,
                .insn_cnt = 2,
                .license = (unsigned long) license,
        };
        int prog = sys_bpf(BPF_PROG_LOAD, &attr);

        if (prog < 0) {
                perror("BPF_PROG_LOAD");
                return 1;
        }
        attr = (union bpf_attr){
                .target_fd = (unsigned) cgroup_fd,
                .attach_bpf_fd = (unsigned) prog,
                .attach_type = BPF_CGROUP_DEVICE,
                .attach_flags = BPF_F_ALLOW_MULTI,
        };
        if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0) {
                perror("BPF_PROG_ATTACH");
                return 1;
        }
        return 0;
}

static int list(int cgroup_fd) {
        unsigned ids[64];
        union bpf_attr attr = {
                .query.target_fd = (unsigned) cgroup_fd,
                .query.attach_type = BPF_CGROUP_DEVICE,
                .query.prog_ids = (unsigned long) ids,
                .query.prog_cnt = 64,
        };

        if (sys_bpf(BPF_PROG_QUERY, &attr) < 0) {
                perror("BPF_PROG_QUERY");
                return 1;
        }
        for (unsigned i = 0; i < attr.query.prog_cnt; i++)
                printf("%u\n", ids[i]);
        return 0;
}

int main(int argc, char *argv[]) {
        int fd;

        if (argc != 3) {
                fprintf(stderr, "usage: devcg-bpf deny-all|list CGROUP_DIR\n");
                return 2;
        }
        fd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "%s: %s\n", argv[2], strerror(errno));
                return 1;
        }
        if (strcmp(argv[1], "deny-all") == 0)
                return deny_all(fd);
        if (strcmp(argv[1], "list") == 0)
                return list(fd);
        fprintf(stderr, "usage: devcg-bpf deny-all|list CGROUP_DIR\n");
        return 2;
}
