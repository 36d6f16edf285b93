/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device model's costs on this machine's real devices:
 *
 * 1. start-up: libudev enumeration into the model, against libudev's own
 *    enumeration that reads the same properties (what any udev client pays);
 * 2. one hot-plug event through the model with 1, 10, 100, 500 and 1000
 *    containers on one policy, and with 1000 containers on 10 or on 1000
 *    distinct policies (the device seen by the containers of every tenth
 *    policy, or by all; policy_for() says how they differ), against libudev
 *    building the event's device from sysfs.
 *
 * All of it runs in this one thread, so both sides are timed in the
 * thread's CPU time: on a shared machine wall-clock time would add
 * whatever other processes ran meanwhile, more to the longer side.
 */
#include <fcntl.h>
#include <libudev.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "daemon/udev-source.h"
#include "strv.h"

#define ROUNDS 21

static void discard(struct container *c, const struct delta *deltas, size_t n, void *userdata) {
        (*(uint64_t *) userdata) += n;
}

static uint64_t time_libudev_enumeration(void) {
        struct udev *udev = udev_new();
        struct udev_enumerate *e = udev_enumerate_new(udev);
        struct udev_list_entry *entry, *p;
        uint64_t start = bench_cpu_ns();
        size_t properties = 0;

        udev_enumerate_scan_devices(e);
        udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e)) {
                struct udev_device *d = udev_device_new_from_syspath(udev, udev_list_entry_get_name(entry));
                if (!d)
                        continue;
                udev_list_entry_foreach(p, udev_device_get_properties_list_entry(d))
                        properties++;
                udev_device_unref(d);
        }
        uint64_t t = bench_cpu_ns() - start;
        udev_enumerate_unref(e);
        udev_unref(udev);
        return properties ? t : 0;
}

static uint64_t time_model_enumeration(unsigned *ret_count) {
        struct udev_source *s = NULL;
        struct model *m = NULL;
        uint64_t start, t;

        if (model_new(open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC), &m) < 0 ||
            udev_source_new(true, &s) < 0)
                abort();
        start = bench_cpu_ns();
        if (udev_source_enumerate(s, m, ret_count) < 0)
                abort();
        t = bench_cpu_ns() - start;
        udev_source_free(s);
        model_free(m);
        return t;
}

static struct uevent *loop_event(const char *action) {
        char **props = NULL;
        struct uevent *ev;

        strv_extend(&props, "SUBSYSTEM=block");
        strv_extend(&props, "DEVTYPE=disk");
        strv_extend(&props, "MAJOR=7");
        strv_extend(&props, "MINOR=4000");
        strv_extend(&props, "DEVNAME=loop4000");
        strv_extend(&props, "DEVPATH=/devices/virtual/block/loop4000");
        strv_env_set(&props, "ACTION", action);
        if (uevent_new(props, &ev) < 0)
                abort();
        return ev;
}

/* A realistic policy: the OCI defaults plus a few device classes, one of
 * which matches the event's device. */
static const char *const POLICY = "include \"oci-default\"\n"
                                  "allow SUBSYSTEM==\"block\", KERNEL==\"loop*\", MODE=\"0660\", GROUP=\"6\"\n"
                                  "deny KERNEL==\"loop0\"\n"
                                  "allow SUBSYSTEM==\"input\", KERNEL==\"event*\"\n"
                                  "allow SUBSYSTEM==\"block\", KERNEL==\"zram*\", NAME=\"xvdb\"\n";

/* Container i of a run with n_policies distinct policies: the rules all
 * share (the OCI defaults, block rules as an included file would give
 * them), and devices of its own that make the policies differ in what
 * they allow: an input device, a loop device and a misc device by minor.
 * The event's device (loop4000) is allowed by every policy, or by every
 * tenth. With own_block, each policy also has a rule of its own that every
 * block device meets (a filesystem UUID of its own): then no two policies
 * decide the event's device through the same rules. */
static char *policy_for(unsigned i, unsigned n_policies, bool visible_in_all, bool own_block) {
        unsigned k = i % n_policies;
        char own[96] = "";
        char *text;

        if (n_policies == 1 && visible_in_all)
                return strdup(POLICY);
        if (own_block)
                snprintf(own, sizeof(own), "allow SUBSYSTEM==\"block\", ENV{ID_FS_UUID}==\"0000-%04X\"\n", k);
        if (asprintf(&text,
                     "include \"oci-default\"\n"
                     "%s"
                     "deny KERNEL==\"loop0\"\n"
                     "allow SUBSYSTEM==\"input\", KERNEL==\"event%u\"\n"
                     "allow SUBSYSTEM==\"block\", KERNEL==\"loop%u\", MODE=\"0600\"\n"
                     "allow SUBSYSTEM==\"misc\", MAJOR==\"10\", MINOR==\"%u\"\n"
                     "allow SUBSYSTEM==\"block\", KERNEL==\"zram*\", NAME=\"xvdb\"\n"
                     "%s",
                     visible_in_all || k % 10 == 0 ? "allow SUBSYSTEM==\"block\", KERNEL==\"loop*\", MODE=\"0660\"\n" : "",
                     k, 10000 + k, 200 + k, own) < 0)
                return NULL;
        return text;
}

static void set_containers(struct model *m, unsigned n_containers, unsigned n_policies, bool visible_in_all,
                           bool own_block) {
        struct container *c, *tmp;

        HASH_ITER(hh, m->containers, c, tmp)
                model_remove_container(m, c);
        for (unsigned i = 0; i < n_containers; i++) {
                struct policy *p = NULL;
                char name[32], *text = policy_for(i, n_policies, visible_in_all, own_block);

                snprintf(name, sizeof(name), "c%u", i);
                if (!text || policy_load_string("bench.rules", text, &(struct policy_load_options){}, &p, NULL) < 0 ||
                    container_new(name, p, "bench.rules", &c) < 0 || model_add_container(m, c) < 0 ||
                    model_refresh_container(m, c) < 0)
                        abort();
                free(text);
        }
}

static void bench_events(struct model *m, unsigned n_containers, unsigned n_policies, bool visible_in_all,
                         bool own_block, struct udev *udev) {
        struct uevent *add = loop_event("add"), *change = loop_event("change"), *remove = loop_event("remove");
        uint64_t samples[ROUNDS * 3], baseline[ROUNDS];
        char title[96];
        size_t n = 0;

        set_containers(m, n_containers, n_policies, visible_in_all, own_block);
        for (unsigned i = 0; i < ROUNDS; i++) {
                struct uevent *events[] = { add, change, remove };
                for (size_t k = 0; k < 3; k++) {
                        uint64_t start = bench_cpu_ns();
                        if (model_apply_event(m, events[k]) < 0)
                                abort();
                        samples[n++] = bench_cpu_ns() - start;
                }
                uint64_t start = bench_cpu_ns();
                struct udev_device *d = udev_device_new_from_syspath(udev, "/sys/devices/virtual/block/loop1");
                struct udev_list_entry *p;
                unsigned k = 0;
                udev_list_entry_foreach(p, udev_device_get_properties_list_entry(d))
                        k++;
                udev_device_unref(d);
                baseline[i] = k ? bench_cpu_ns() - start : 0;
        }
        if (n_policies == 1 && visible_in_all)
                snprintf(title, sizeof(title), "model: one event, %u container%s", n_containers,
                         n_containers == 1 ? "" : "s");
        else
                snprintf(title, sizeof(title), "model: one event, %u containers, %u policies%s, seen by %s",
                         n_containers, n_policies, own_block ? " with own block rules" : "",
                         visible_in_all ? "all" : "10%");
        bench_print_row(title, bench_percentile(samples, n, 50) / 1000.0, "libudev: device from sysfs",
                        bench_percentile(baseline, ROUNDS, 50) / 1000.0);
        uevent_free(add);
        uevent_free(change);
        uevent_free(remove);
}

int main(void) {
        uint64_t model_t[ROUNDS], udev_t[ROUNDS], deltas = 0;
        static const unsigned containers[] = { 1, 10, 100, 500, 1000 };
        struct udev *udev = udev_new();
        struct model *m = NULL;
        unsigned count = 0;
        char title[64];

        for (unsigned i = 0; i < ROUNDS; i++) {
                /* Interleaved, so drift on a noisy machine hits both sides. */
                udev_t[i] = time_libudev_enumeration();
                model_t[i] = time_model_enumeration(&count);
        }
        bench_print_header();
        snprintf(title, sizeof(title), "model: enumerate %u devices", count);
        bench_print_row(title, bench_percentile(model_t, ROUNDS, 50) / 1000.0, "libudev: enumerate + properties",
                        bench_percentile(udev_t, ROUNDS, 50) / 1000.0);

        if (model_new(open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC), &m) < 0 ||
            model_subscribe(m, discard, &deltas) < 0)
                abort();
        {
                struct udev_source *s = NULL;
                if (udev_source_new(true, &s) < 0 || udev_source_enumerate(s, m, NULL) < 0)
                        abort();
                udev_source_free(s);
        }
        for (size_t i = 0; i < sizeof(containers) / sizeof(containers[0]); i++)
                bench_events(m, containers[i], 1, true, false, udev);
        /* Containers with equal policies share the decision, and policies
         * whose rules for the device are the same share it too (two
         * evaluations for these thousand: with and without loop*); the
         * containers of a policy that hides the device are not visited.
         * With a block rule of each policy's own, nothing is shared: a
         * thousand evaluations. */
        bench_events(m, 1000, 10, false, false, udev);
        bench_events(m, 1000, 10, true, false, udev);
        bench_events(m, 1000, 1000, false, false, udev);
        bench_events(m, 1000, 1000, true, false, udev);
        bench_events(m, 1000, 1000, false, true, udev);
        model_free(m);
        udev_unref(udev);
        return deltas > 0 ? 0 : 1;
}
