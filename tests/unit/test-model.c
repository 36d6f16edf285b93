/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device model on synthetic devices: deltas per container for
 * add/remove/change/move/bind, reloads, overrides, name conflicts and user
 * namespace id mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "daemon/model.h"
#include "daemon/names.h"
#include "strv.h"

struct recorder {
        char **lines; /* "c1 VISIBLE loop0 node=loop0 event=add" */
};

static void record(struct container *c, const struct delta *deltas, size_t n, void *userdata) {
        struct recorder *rec = userdata;

        for (size_t i = 0; i < n; i++) {
                const struct delta *d = &deltas[i];
                const struct visible_device *v = d->new ?: d->old;
                static const char *const kinds[] = { "VISIBLE", "CHANGED", "HIDDEN" };
                char *line;

                assert_true(asprintf(&line, "%s %s %s node=%s uid=%u mode=%04o event=%s", c->name, kinds[d->kind],
                                     device_sysname(d->device), v->node ?: "-", (unsigned) v->uid,
                                     (unsigned) v->mode,
                                     d->event ? uevent_action_to_string(d->event->action) : "-") >= 0);
                assert_int_equal(strv_consume(&rec->lines, line), 0);
        }
}

struct fixture {
        char sysfs[64];
        struct model *model;
        struct recorder rec;
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        int fd;

        strcpy(f->sysfs, "/tmp/test-model-XXXXXX");
        assert_non_null(mkdtemp(f->sysfs));
        fd = open(f->sysfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(model_new(fd, &f->model), 0);
        assert_int_equal(model_subscribe(f->model, record, &f->rec), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        char cmd[128];

        model_free(f->model);
        strv_free(f->rec.lines);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", f->sysfs);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static void expect_lines(struct fixture *f, const char *const *expected) {
        size_t n = 0;

        for (; expected[n]; n++) {
                if (n >= strv_length(f->rec.lines))
                        fail_msg("missing delta #%zu: %s", n, expected[n]);
                assert_string_equal(f->rec.lines[n], expected[n]);
        }
        if (strv_length(f->rec.lines) != n)
                fail_msg("unexpected delta: %s", f->rec.lines[n]);
        strv_free(f->rec.lines);
        f->rec.lines = NULL;
}

static struct container *add_container(struct fixture *f, const char *name, const char *rules) {
        struct policy_diagnostics diags = {};
        struct policy_load_options options = { .unknown_names_are_errors = true };
        struct policy *p = NULL;
        struct container *c;

        assert_int_equal(policy_load_string(name, rules, &options, &p, &diags), 0);
        policy_diagnostics_done(&diags);
        assert_int_equal(container_new(name, p, name, &c), 0);
        assert_int_equal(model_add_container(f->model, c), 0);
        assert_int_equal(model_refresh_container(f->model, c), 0);
        return c;
}

static struct policy *load(const char *rules) {
        struct policy_load_options options = { .unknown_names_are_errors = true };
        struct policy *p = NULL;

        assert_int_equal(policy_load_string("reloaded", rules, &options, &p, NULL), 0);
        return p;
}

/* Builds and applies one event; extra is "KEY=VALUE" pairs, NULL-terminated. */
static void event(struct fixture *f, const char *action, const char *devpath, ...) {
        _cleanup_strv_free_ char **props = NULL;
        struct uevent *ev;
        va_list ap;

        assert_int_equal(strv_env_set(&props, "ACTION", action), 0);
        assert_int_equal(strv_env_set(&props, "DEVPATH", devpath), 0);
        va_start(ap, devpath);
        for (const char *kv; (kv = va_arg(ap, const char *));)
                assert_int_equal(strv_extend(&props, kv), 0);
        va_end(ap);
        assert_int_equal(uevent_new(TAKE_PTR(props), &ev), 0);
        assert_int_equal(model_apply_event(f->model, ev), 0);
        uevent_free(ev);
}

#define LOOP(n) "/devices/virtual/block/loop" #n
#define LOOP_PROPS(n) "SUBSYSTEM=block", "DEVTYPE=disk", "MAJOR=7", "MINOR=" #n, "DEVNAME=loop" #n
#define ZRAM_PROPS(n) "SUBSYSTEM=block", "DEVTYPE=disk", "MAJOR=253", "MINOR=" #n, "DEVNAME=zram" #n

static void test_add_remove_two_containers(void **state) {
        struct fixture *f = *state;

        add_container(f, "loops", "allow SUBSYSTEM==\"block\", KERNEL==\"loop*\", MODE=\"0660\"\n");
        add_container(f, "zrams", "allow KERNEL==\"zram*\"\n");
        expect_lines(f, (const char *const[]){ NULL });

        /* The bdi device comes first, as on the host; neither policy wants it. */
        event(f, "add", "/devices/virtual/bdi/7:8", "SUBSYSTEM=bdi", NULL);
        event(f, "add", LOOP(8), LOOP_PROPS(8), NULL);
        event(f, "add", "/devices/virtual/block/zram1", ZRAM_PROPS(1), NULL);
        expect_lines(f, (const char *const[]){
                                "loops VISIBLE loop8 node=loop8 uid=0 mode=0660 event=add",
                                "zrams VISIBLE zram1 node=zram1 uid=0 mode=0600 event=add",
                                NULL });

        event(f, "remove", LOOP(8), LOOP_PROPS(8), NULL);
        event(f, "remove", "/devices/virtual/block/zram1", ZRAM_PROPS(1), NULL);
        event(f, "remove", "/devices/virtual/bdi/7:8", "SUBSYSTEM=bdi", NULL);
        expect_lines(f, (const char *const[]){
                                "loops HIDDEN loop8 node=loop8 uid=0 mode=0660 event=remove",
                                "zrams HIDDEN zram1 node=zram1 uid=0 mode=0600 event=remove",
                                NULL });
        assert_null(model_find_device(f->model, LOOP(8)));
        assert_null(model_find_devnum(f->model, 'b', 7, 8));
}

static void test_change_reaches_only_seeing_containers(void **state) {
        struct fixture *f = *state;

        event(f, "add", LOOP(3), LOOP_PROPS(3), NULL);
        add_container(f, "sees", "allow KERNEL==\"loop3\"\n");
        add_container(f, "blind", "allow KERNEL==\"loop4\"\n");
        expect_lines(f, (const char *const[]){ "sees VISIBLE loop3 node=loop3 uid=0 mode=0600 event=-", NULL });

        event(f, "change", LOOP(3), LOOP_PROPS(3), "DISK_MEDIA_CHANGE=1", NULL);
        expect_lines(f, (const char *const[]){ "sees CHANGED loop3 node=loop3 uid=0 mode=0600 event=change", NULL });
        /* The event-only key is not part of the device's record. */
        assert_null(device_property(model_find_device(f->model, LOOP(3)), "ACTION"));
}

static void write_attribute(struct fixture *f, const char *devpath, const char *name, const char *value) {
        char path[512], cmd[1024];
        FILE *file;

        snprintf(path, sizeof(path), "%s%s/%s", f->sysfs, devpath, name);
        snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
        assert_int_equal(system(cmd), 0);
        file = fopen(path, "we");
        assert_non_null(file);
        fprintf(file, "%s\n", value);
        fclose(file);
}

static void test_change_of_attribute_hides(void **state) {
        struct fixture *f = *state;

        write_attribute(f, LOOP(5), "loop/backing_file", "/srv/allowed.img");
        event(f, "add", LOOP(5), LOOP_PROPS(5), NULL);
        add_container(f, "c", "allow KERNEL==\"loop*\", ATTR{loop/backing_file}==\"/srv/allowed*\"\n");
        expect_lines(f, (const char *const[]){ "c VISIBLE loop5 node=loop5 uid=0 mode=0600 event=-", NULL });

        /* The cached attribute must be dropped by the change event. */
        write_attribute(f, LOOP(5), "loop/backing_file", "/srv/secret.img");
        event(f, "change", LOOP(5), LOOP_PROPS(5), NULL);
        expect_lines(f, (const char *const[]){ "c HIDDEN loop5 node=loop5 uid=0 mode=0600 event=change", NULL });
}

static void test_move_renames_subtree(void **state) {
        struct fixture *f = *state;
        struct device *d, *queue;

        event(f, "add", "/devices/virtual/net/veth0", "SUBSYSTEM=net", "INTERFACE=veth0", NULL);
        event(f, "add", "/devices/virtual/net/veth0/queues/rx-0", "SUBSYSTEM=queues", NULL);
        add_container(f, "c", "allow SUBSYSTEM==\"net\"\n");
        expect_lines(f, (const char *const[]){ "c VISIBLE veth0 node=- uid=0 mode=0600 event=-", NULL });

        event(f, "move", "/devices/virtual/net/eth9", "SUBSYSTEM=net", "INTERFACE=eth9",
              "DEVPATH_OLD=/devices/virtual/net/veth0", NULL);
        expect_lines(f, (const char *const[]){ "c CHANGED eth9 node=- uid=0 mode=0600 event=move", NULL });

        d = model_find_device(f->model, "/devices/virtual/net/eth9");
        queue = model_find_device(f->model, "/devices/virtual/net/eth9/queues/rx-0");
        assert_non_null(d);
        assert_non_null(queue);
        assert_ptr_equal(queue->parent, d);
        assert_null(model_find_device(f->model, "/devices/virtual/net/veth0"));
        assert_null(model_find_device(f->model, "/devices/virtual/net/veth0/queues/rx-0"));
}

static void test_bind_reevaluates_descendants(void **state) {
        struct fixture *f = *state;

        event(f, "add", "/devices/pci0000:00/0000:00:05.0", "SUBSYSTEM=pci", NULL);
        event(f, "add", "/devices/pci0000:00/0000:00:05.0/tty/ttyS9", "SUBSYSTEM=tty", "MAJOR=4", "MINOR=73",
              "DEVNAME=ttyS9", NULL);
        add_container(f, "c", "allow SUBSYSTEM==\"tty\", DRIVERS==\"serial\"\n");
        expect_lines(f, (const char *const[]){ NULL });

        event(f, "bind", "/devices/pci0000:00/0000:00:05.0", "SUBSYSTEM=pci", "DRIVER=serial", NULL);
        expect_lines(f, (const char *const[]){ "c VISIBLE ttyS9 node=ttyS9 uid=0 mode=0600 event=-", NULL });
        event(f, "unbind", "/devices/pci0000:00/0000:00:05.0", "SUBSYSTEM=pci", NULL);
        expect_lines(f, (const char *const[]){ "c HIDDEN ttyS9 node=ttyS9 uid=0 mode=0600 event=-", NULL });
}

static void test_reload_adds_and_hides(void **state) {
        struct fixture *f = *state;
        struct container *c;

        event(f, "add", LOOP(1), LOOP_PROPS(1), NULL);
        event(f, "add", LOOP(2), LOOP_PROPS(2), NULL);
        c = add_container(f, "c", "allow KERNEL==\"loop1\"\n");
        expect_lines(f, (const char *const[]){ "c VISIBLE loop1 node=loop1 uid=0 mode=0600 event=-", NULL });

        assert_int_equal(model_set_policy(f->model, c, load("allow KERNEL==\"loop2\"\n"), "reloaded"), 0);
        expect_lines(f, (const char *const[]){ "c HIDDEN loop1 node=loop1 uid=0 mode=0600 event=-",
                                               "c VISIBLE loop2 node=loop2 uid=0 mode=0600 event=-", NULL });

        /* Same policy again: nothing changes, nothing is sent. */
        assert_int_equal(model_set_policy(f->model, c, load("allow KERNEL==\"loop2\"\n"), "reloaded"), 0);
        expect_lines(f, (const char *const[]){ NULL });

        assert_int_equal(model_set_policy(f->model, c, load("allow KERNEL==\"loop2\", MODE=\"0640\"\n"), "x"), 0);
        expect_lines(f, (const char *const[]){ "c CHANGED loop2 node=loop2 uid=0 mode=0640 event=-", NULL });
}

static struct override *override(bool allow, const char *name) {
        struct override *o = calloc(1, sizeof(*o));

        assert_non_null(o);
        o->allow = allow;
        o->name = name ? strdup(name) : NULL;
        return o;
}

static void test_overrides(void **state) {
        struct fixture *f = *state;
        struct container *c;
        struct device *loop6;

        event(f, "add", LOOP(6), LOOP_PROPS(6), NULL);
        event(f, "add", LOOP(7), LOOP_PROPS(7), NULL);
        c = add_container(f, "c", "allow KERNEL==\"loop7\", MODE=\"0660\"\n");
        expect_lines(f, (const char *const[]){ "c VISIBLE loop7 node=loop7 uid=0 mode=0660 event=-", NULL });

        loop6 = model_find_device(f->model, LOOP(6));
        assert_int_equal(model_set_override(f->model, c, loop6, override(true, "disk/extra")), 0);
        expect_lines(f,
                     (const char *const[]){ "c VISIBLE loop6 node=disk/extra uid=0 mode=0600 event=-", NULL });
        assert_string_equal(container_find_visible(c, loop6)->decided_by, "runtime override");

        /* remove beats the policy's allow */
        assert_int_equal(
                model_set_override(f->model, c, model_find_device(f->model, LOOP(7)), override(false, NULL)), 0);
        expect_lines(f, (const char *const[]){ "c HIDDEN loop7 node=loop7 uid=0 mode=0660 event=-", NULL });

        /* The override dies with the device: a new loop6 is the policy's again. */
        event(f, "remove", LOOP(6), LOOP_PROPS(6), NULL);
        event(f, "add", LOOP(6), LOOP_PROPS(6), NULL);
        expect_lines(f, (const char *const[]){ "c HIDDEN loop6 node=disk/extra uid=0 mode=0600 event=remove",
                                               NULL });
        assert_null(container_find_override(c, model_find_device(f->model, LOOP(6))));
}

static void test_name_conflict_is_deterministic(void **state) {
        struct fixture *f = *state;
        struct container *c;
        struct visible_device *v1, *v2;

        c = add_container(f, "c", "allow KERNEL==\"loop*\", NAME=\"disk0\"\n");
        /* loop2 arrives first but loop1's devpath sorts first: loop1 wins. */
        event(f, "add", LOOP(2), LOOP_PROPS(2), NULL);
        event(f, "add", LOOP(1), LOOP_PROPS(1), NULL);
        expect_lines(f, (const char *const[]){ "c VISIBLE loop2 node=disk0 uid=0 mode=0600 event=add",
                                               "c CHANGED loop2 node=- uid=0 mode=0600 event=-",
                                               "c VISIBLE loop1 node=disk0 uid=0 mode=0600 event=add", NULL });
        v1 = container_find_visible(c, model_find_device(f->model, LOOP(1)));
        v2 = container_find_visible(c, model_find_device(f->model, LOOP(2)));
        assert_string_equal(v1->node, "disk0");
        assert_null(v2->node);
        assert_string_equal(v2->conflicts[0], "NAME 'disk0' is taken by " LOOP(1));

        /* The winner leaves: the name passes on, after the release. */
        event(f, "remove", LOOP(1), LOOP_PROPS(1), NULL);
        expect_lines(f, (const char *const[]){ "c HIDDEN loop1 node=disk0 uid=0 mode=0600 event=remove",
                                               "c CHANGED loop2 node=disk0 uid=0 mode=0600 event=-", NULL });
        v2 = container_find_visible(c, model_find_device(f->model, LOOP(2)));
        assert_string_equal(v2->node, "disk0");
        assert_null(v2->conflicts);
}

static void test_reserved_and_prefix_conflicts(void **state) {
        struct fixture *f = *state;
        struct container *c;
        struct visible_device *v;

        event(f, "add", LOOP(1), LOOP_PROPS(1), NULL);
        event(f, "add", LOOP(2), LOOP_PROPS(2), NULL);
        event(f, "add", LOOP(3), LOOP_PROPS(3), NULL);
        c = add_container(f, "c",
                          "allow KERNEL==\"loop1\", NAME=\"pts/9\"\n"
                          "allow KERNEL==\"loop2\", NAME=\"input\", SYMLINK+=\"disk/by-id/two\"\n"
                          "allow KERNEL==\"loop3\", NAME=\"input/event3\", SYMLINK+=\"disk\"\n");
        strv_free(f->rec.lines);
        f->rec.lines = NULL;

        v = container_find_visible(c, model_find_device(f->model, LOOP(1)));
        assert_null(v->node);
        assert_string_equal(v->conflicts[0], "NAME 'pts/9' is inside 'pts', which is reserved for the container's /dev skeleton");

        v = container_find_visible(c, model_find_device(f->model, LOOP(2)));
        assert_string_equal(v->node, "input");
        assert_string_equal(v->symlinks[0], "disk/by-id/two");

        v = container_find_visible(c, model_find_device(f->model, LOOP(3)));
        assert_null(v->node);
        assert_string_equal(v->conflicts[0], "NAME 'input/event3' needs directory 'input', which is the node of " LOOP(2));
        assert_string_equal(v->conflicts[1], "SYMLINK 'disk' has no node to point to");
}

static void test_userns_id_mapping(void **state) {
        struct fixture *f = *state;
        struct idmap uids, gids;
        struct container *c;
        struct visible_device *v;

        event(f, "add", LOOP(1), LOOP_PROPS(1), NULL);
        event(f, "add", LOOP(2), LOOP_PROPS(2), NULL);
        c = add_container(f, "c",
                          "allow KERNEL==\"loop1\", OWNER=\"5\", GROUP=\"6\"\n"
                          "allow KERNEL==\"loop2\", OWNER=\"70000\"\n");
        expect_lines(f, (const char *const[]){ "c VISIBLE loop1 node=loop1 uid=5 mode=0600 event=-",
                                               "c VISIBLE loop2 node=loop2 uid=70000 mode=0600 event=-", NULL });

        assert_int_equal(idmap_parse("0 100000 65536\n", &uids), 0);
        assert_int_equal(idmap_parse("0 200000 65536\n", &gids), 0);
        assert_int_equal(model_set_idmaps(f->model, c, &uids, &gids), 0);
        expect_lines(f, (const char *const[]){ "c CHANGED loop1 node=loop1 uid=100005 mode=0600 event=-",
                                               "c CHANGED loop2 node=loop2 uid=100000 mode=0600 event=-", NULL });

        v = container_find_visible(c, model_find_device(f->model, LOOP(1)));
        assert_int_equal(v->gid, 200006);
        assert_int_equal(v->container_uid, 5);
        v = container_find_visible(c, model_find_device(f->model, LOOP(2)));
        assert_string_equal(v->warnings[0], "owner 70000 is not mapped into the container; using the container's root");
}

/* Containers whose policies are equal share the policy's decision for a
 * device; ids, overrides and names stay each container's own. */
static struct container *add_shared(struct fixture *f, const char *name, const char *rules) {
        struct policy *p = NULL;
        struct container *c;

        assert_int_equal(policy_load_string("shared.rules", rules, &(struct policy_load_options){}, &p, NULL), 0);
        assert_int_equal(container_new(name, p, "shared.rules", &c), 0);
        assert_int_equal(model_add_container(f->model, c), 0);
        assert_int_equal(model_refresh_container(f->model, c), 0);
        return c;
}

static void test_shared_decisions(void **state) {
        struct fixture *f = *state;
        const char *rules = "allow KERNEL==\"loop*\", OWNER=\"5\", MODE=\"0640\", SYMLINK+=\"disk/%k\"\n"
                            "deny KERNEL==\"loop9\"\n";
        struct container *a, *b, *c, *d;
        struct idmap uids, gids;
        struct device *loop5;

        event(f, "add", LOOP(5), LOOP_PROPS(5), NULL);
        a = add_shared(f, "a", rules);
        b = add_shared(f, "b", rules);
        c = add_shared(f, "c", rules);
        d = add_shared(f, "d", "allow KERNEL==\"loop9\"\n");
        assert_string_equal(policy_identity(a->policy, NULL, NULL), policy_identity(b->policy, NULL, NULL));
        assert_string_not_equal(policy_identity(a->policy, NULL, NULL), policy_identity(d->policy, NULL, NULL));
        assert_int_equal(idmap_parse("0 100000 65536\n", &uids), 0);
        assert_int_equal(idmap_parse("0 200000 65536\n", &gids), 0);
        assert_int_equal(model_set_idmaps(f->model, b, &uids, &gids), 0);
        loop5 = model_find_device(f->model, LOOP(5));
        assert_int_equal(model_set_override(f->model, c, loop5, override(false, NULL)), 0);
        strv_free(f->rec.lines);
        f->rec.lines = NULL;

        event(f, "change", LOOP(5), LOOP_PROPS(5), NULL);
        event(f, "add", LOOP(9), LOOP_PROPS(9), NULL);
        event(f, "add", LOOP(6), LOOP_PROPS(6), NULL);
        expect_lines(f, (const char *const[]){ "a CHANGED loop5 node=loop5 uid=5 mode=0640 event=change",
                                               "b CHANGED loop5 node=loop5 uid=100005 mode=0640 event=change",
                                               "d VISIBLE loop9 node=loop9 uid=0 mode=0600 event=add",
                                               "a VISIBLE loop6 node=loop6 uid=5 mode=0640 event=add",
                                               "b VISIBLE loop6 node=loop6 uid=100005 mode=0640 event=add",
                                               "c VISIBLE loop6 node=loop6 uid=5 mode=0640 event=add", NULL });
        for (struct container *x = a; x; x = x == a ? b : x == b ? c : NULL) {
                struct visible_device *v = container_find_visible(x, model_find_device(f->model, LOOP(6)));

                assert_non_null(v);
                assert_string_equal(v->decided_by, "shared.rules:1");
                assert_string_equal(v->wanted_symlinks[0], "disk/%k");
        }
        assert_int_equal(container_find_visible(b, model_find_device(f->model, LOOP(6)))->gid, 200000);
}

/* The model grants one device's names without handing out every name again
 * when nothing collides; whatever path it takes, the grants after each
 * event must be what a full names_assign() gives (which then changes
 * nothing). Devices come and go in a fixed pseudo-random order, with
 * names that collide, nest, hit reserved names, or are free. */
static void assert_names_settled(struct model *m) {
        struct container *c, *tmp;

        HASH_ITER(hh, m->containers, c, tmp) {
                _cleanup_(visible_list_done) struct visible_list before = {};

                assert_int_equal(names_assign(c, &before), 0);
                if (before.n > 0)
                        fail_msg("container %s: names of %s were not what names_assign() gives", c->name,
                                 before.items[0]->device->devpath);
        }
}

static void test_names_one_device_matches_full_assignment(void **state) {
        struct fixture *f = *state;
        static const char *const props[][5] = {
                { LOOP_PROPS(1) }, { LOOP_PROPS(2) }, { LOOP_PROPS(3) }, { LOOP_PROPS(4) }, { LOOP_PROPS(5) },
                { LOOP_PROPS(6) }, { LOOP_PROPS(7) }, { LOOP_PROPS(8) }, { LOOP_PROPS(9) },
        };
        bool present[9] = {};
        uint32_t seed = 12345;
        unsigned n_present_max = 0;

        add_container(f, "colliding",
                      "allow KERNEL==\"loop*\"\n"
                      "allow KERNEL==\"loop1|loop2\", NAME=\"disk0\"\n"
                      "allow KERNEL==\"loop3\", NAME=\"disk0/p\", SYMLINK+=\"by/three\"\n"
                      "allow KERNEL==\"loop4\", SYMLINK+=\"by\"\n"
                      "allow KERNEL==\"loop5\", SYMLINK+=\"s5 by/five\"\n"
                      "allow KERNEL==\"loop6\", NAME=\"pts\"\n"
                      "allow KERNEL==\"loop7\", NAME=\"x/y\", SYMLINK+=\"x\"\n"
                      "allow KERNEL==\"loop8\", SYMLINK+=\"loop9\"\n");
        /* Every name free: the path without names_assign() throughout. */
        add_container(f, "free",
                      "allow KERNEL==\"loop*\"\n"
                      "allow KERNEL==\"loop1\", SYMLINK+=\"disk/1 one\"\n"
                      "allow KERNEL==\"loop2\", NAME=\"disk/two\", SYMLINK+=\"two\"\n"
                      "allow KERNEL==\"loop3\", SYMLINK+=\"disk/3\"\n");
        add_container(f, "nodes", "allow KERNEL==\"loop[1-5]\"\n");

        for (unsigned step = 0; step < 300; step++) {
                char devpath[64];
                unsigned i;

                seed = seed * 1103515245u + 12345u;
                i = (seed >> 16) % 9;
                snprintf(devpath, sizeof(devpath), "/devices/virtual/block/loop%u", i + 1);
                event(f, present[i] ? "remove" : "add", devpath, props[i][0], props[i][1], props[i][2],
                      props[i][3], props[i][4], NULL);
                present[i] = !present[i];
                assert_names_settled(f->model);

                unsigned n = 0;
                for (unsigned k = 0; k < 9; k++)
                        n += present[k];
                n_present_max = n > n_present_max ? n : n_present_max;
        }
        assert_true(n_present_max >= 7);
}

/* Containers are grouped by policy, and a group whose containers a change
 * cannot affect is not visited. Whatever the model skips, every container
 * must end up as a fresh evaluation would leave it (refreshing it changes
 * nothing) and every container that sees a changed device hears of the
 * change: checked after each step of a pseudo-random run of hot-plug,
 * property changes, overrides, policy reloads and containers coming and
 * going. */
static const char *const class_policies[] = {
        "allow KERNEL==\"loop*\", ENV{ID_FS_TYPE}!=\"swap\"\n",
        "allow KERNEL==\"loop[0-4]\"\n",
        "allow KERNEL==\"zram*\"\n",
};

static size_t count_lines(const struct fixture *f) {
        return strv_length(f->rec.lines);
}

static void assert_settled(struct fixture *f) {
        struct container *c, *tmp;

        HASH_ITER(hh, f->model->containers, c, tmp) {
                size_t before = count_lines(f);

                assert_int_equal(model_refresh_container(f->model, c), 0);
                if (count_lines(f) != before)
                        fail_msg("container %s was not up to date: %s", c->name, f->rec.lines[before]);
        }
}

/* Every container that sees d after a change event heard of it. */
static void assert_change_heard(struct fixture *f, struct device *d, size_t first_line) {
        struct container *c, *tmp;

        HASH_ITER(hh, f->model->containers, c, tmp) {
                bool heard = false;
                char prefix[64];

                if (!container_find_visible(c, d))
                        continue;
                snprintf(prefix, sizeof(prefix), "%s ", c->name);
                for (size_t i = first_line; i < count_lines(f); i++)
                        if (startswith(f->rec.lines[i], prefix) && strstr(f->rec.lines[i], device_sysname(d)) &&
                            strstr(f->rec.lines[i], "event=change"))
                                heard = true;
                if (!heard)
                        fail_msg("container %s sees %s but did not hear of its change", c->name, device_sysname(d));
        }
}

static uint32_t next_step(uint32_t *seed) {
        *seed = *seed * 1103515245u + 12345u;
        return *seed >> 16;
}

/* Policies whose rules the index files under KERNEL and SUBSYSTEM values,
 * sharing runs (the model decides once per distinct set of rules a device
 * meets, policy/set.c) and differing in others. */
static const char *const indexed_policies[] = {
        "allow SUBSYSTEM==\"block\", KERNEL==\"loop*\", ENV{ID_FS_TYPE}!=\"swap\"\n",
        "allow SUBSYSTEM==\"block\", KERNEL==\"loop*\", ENV{ID_FS_TYPE}!=\"swap\"\nallow KERNEL==\"loop1|loop3\", "
        "MODE=\"0640\"\n",
        "include \"oci-default\"\nallow KERNEL==\"loop2|loop7\"\ndeny KERNEL==\"loop*\", ENV{ID_FS_TYPE}==\"swap\"\n",
        "include \"oci-default\"\nallow KERNEL==\"loop2|loop8\"\ndeny KERNEL==\"loop*\", ENV{ID_FS_TYPE}==\"swap\"\n",
        "allow KERNEL==\"loop[0-4]\"\nallow SUBSYSTEM==\"block\", KERNEL==\"loop[5-9]\", MODE=\"0600\"\n"
        "deny KERNEL==\"loop5\"\n",
        "allow KERNEL==\"zram*\"\n",
};

static void run_classes_skip_only_unaffected(struct fixture *f, const char *const *policies, size_t n_policies) {
        static const char *const names[] = { "a1", "b1", "a2", "c1", "b2", "c2", "c3", "c4", "c5", "c6", "c7", "c8" };
        bool present[10] = {}, swap[10] = {};
        uint32_t seed = 4242;

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                add_container(f, names[i], policies[n_policies == 3 ? (i < 5 ? (i == 1 || i == 4) : 2) : i % n_policies]);

        for (unsigned step = 0; step < 400; step++) {
                unsigned op = next_step(&seed) % 10, k = next_step(&seed) % 10;
                struct container *c = model_find_container(f->model, names[next_step(&seed) % ELEMENTSOF(names)]);
                char devpath[64], minor[16], devname[16];
                size_t first_line = count_lines(f);

                snprintf(devpath, sizeof(devpath), "/devices/virtual/block/loop%u", k);
                snprintf(minor, sizeof(minor), "MINOR=%u", k);
                snprintf(devname, sizeof(devname), "DEVNAME=loop%u", k);
                if (op < 5 || (op == 5 && !present[k])) {
                        event(f, present[k] ? "remove" : "add", devpath, "SUBSYSTEM=block", "DEVTYPE=disk", "MAJOR=7",
                              minor, devname, NULL);
                        present[k] = !present[k];
                        swap[k] = false;
                } else if (op == 5) {
                        swap[k] = !swap[k];
                        event(f, "change", devpath, "SUBSYSTEM=block", "DEVTYPE=disk", "MAJOR=7", minor, devname,
                              swap[k] ? "ID_FS_TYPE=swap" : "ID_FS_TYPE=ext4", NULL);
                        assert_change_heard(f, model_find_device(f->model, devpath), first_line);
                } else if (op < 8 && present[k]) {
                        unsigned how = next_step(&seed) % 3;

                        assert_int_equal(model_set_override(f->model, c, model_find_device(f->model, devpath),
                                                            how == 2 ? NULL : override(how == 0, NULL)),
                                         0);
                } else if (op == 8) {
                        assert_int_equal(model_set_policy(f->model, c,
                                                          load(policies[next_step(&seed) % n_policies]), "reloaded"),
                                         0);
                } else if (op == 9) {
                        char *name = strdup(c->name);

                        assert_non_null(name);
                        model_remove_container(f->model, c);
                        add_container(f, name, policies[next_step(&seed) % n_policies]);
                        free(name);
                }
                assert_settled(f);
        }
}

static void test_classes_skip_only_unaffected(void **state) {
        run_classes_skip_only_unaffected(*state, class_policies, ELEMENTSOF(class_policies));
}

static void test_classes_skip_only_unaffected_indexed(void **state) {
        run_classes_skip_only_unaffected(*state, indexed_policies, ELEMENTSOF(indexed_policies));
}

/* The containers a change concerns hear of it in the order they were
 * added, whether the model walks every container or picks them out. */
static void test_classes_keep_container_order(void **state) {
        struct fixture *f = *state;
        char name[16];

        for (unsigned i = 0; i < 12; i++) {
                snprintf(name, sizeof(name), "c%02u", i);
                /* Two of twelve see loop devices: picked out. */
                add_container(f, name, i == 3 || i == 9 ? class_policies[1] : class_policies[2]);
        }
        add_container(f, "late", class_policies[1]);
        event(f, "add", LOOP(1), LOOP_PROPS(1), NULL);
        expect_lines(f, (const char *const[]){ "c03 VISIBLE loop1 node=loop1 uid=0 mode=0600 event=add",
                                               "c09 VISIBLE loop1 node=loop1 uid=0 mode=0600 event=add",
                                               "late VISIBLE loop1 node=loop1 uid=0 mode=0600 event=add", NULL });
        /* Now ten of thirteen do: every container is walked. */
        for (unsigned i = 0; i < 12; i++) {
                snprintf(name, sizeof(name), "c%02u", i);
                if (i != 3 && i != 9 && i % 3 != 0)
                        assert_int_equal(model_set_policy(f->model, model_find_container(f->model, name),
                                                          load(class_policies[0]), "reloaded"),
                                         0);
        }
        expect_lines(f, (const char *const[]){ "c01 VISIBLE loop1 node=loop1 uid=0 mode=0600 event=-",
                                               "c02 VISIBLE loop1 node=loop1 uid=0 mode=0600 event=-",
                                               "c04 VISIBLE loop1 node=loop1 uid=0 mode=0600 event=-",
                                               "c05 VISIBLE loop1 node=loop1 uid=0 mode=0600 event=-",
                                               "c07 VISIBLE loop1 node=loop1 uid=0 mode=0600 event=-",
                                               "c08 VISIBLE loop1 node=loop1 uid=0 mode=0600 event=-",
                                               "c10 VISIBLE loop1 node=loop1 uid=0 mode=0600 event=-",
                                               "c11 VISIBLE loop1 node=loop1 uid=0 mode=0600 event=-", NULL });
        event(f, "remove", LOOP(1), LOOP_PROPS(1), NULL);
        expect_lines(f, (const char *const[]){ "c01 HIDDEN loop1 node=loop1 uid=0 mode=0600 event=remove",
                                               "c02 HIDDEN loop1 node=loop1 uid=0 mode=0600 event=remove",
                                               "c03 HIDDEN loop1 node=loop1 uid=0 mode=0600 event=remove",
                                               "c04 HIDDEN loop1 node=loop1 uid=0 mode=0600 event=remove",
                                               "c05 HIDDEN loop1 node=loop1 uid=0 mode=0600 event=remove",
                                               "c07 HIDDEN loop1 node=loop1 uid=0 mode=0600 event=remove",
                                               "c08 HIDDEN loop1 node=loop1 uid=0 mode=0600 event=remove",
                                               "c09 HIDDEN loop1 node=loop1 uid=0 mode=0600 event=remove",
                                               "c10 HIDDEN loop1 node=loop1 uid=0 mode=0600 event=remove",
                                               "c11 HIDDEN loop1 node=loop1 uid=0 mode=0600 event=remove",
                                               "late HIDDEN loop1 node=loop1 uid=0 mode=0600 event=remove", NULL });
}

static void record_first(struct container *c, const struct delta *deltas, size_t n, void *userdata) {
        struct recorder *rec = userdata;
        char *line;

        assert_true(asprintf(&line, "first %s %zu", c->name, n) >= 0);
        assert_int_equal(strv_consume(&rec->lines, line), 0);
}

/* The first subscribers hear of every container's deltas of one change
 * before the others hear of any container's. */
static void test_first_subscribers(void **state) {
        struct fixture *f = *state;

        assert_int_equal(model_subscribe_first(f->model, record_first, &f->rec), 0);
        add_container(f, "one", "allow KERNEL==\"loop*\"\n");
        add_container(f, "two", "allow KERNEL==\"loop*\"\n");
        add_container(f, "blind", "allow KERNEL==\"zram*\"\n");
        expect_lines(f, (const char *const[]){ NULL });

        event(f, "add", LOOP(4), LOOP_PROPS(4), NULL);
        expect_lines(f, (const char *const[]){ "first one 1", "first two 1",
                                               "one VISIBLE loop4 node=loop4 uid=0 mode=0600 event=add",
                                               "two VISIBLE loop4 node=loop4 uid=0 mode=0600 event=add", NULL });
        /* One container's own change: both at once. */
        assert_int_equal(model_set_policy(f->model, model_find_container(f->model, "blind"),
                                          load("allow KERNEL==\"loop4\"\n"), "reloaded"),
                         0);
        expect_lines(f, (const char *const[]){ "first blind 1",
                                               "blind VISIBLE loop4 node=loop4 uid=0 mode=0600 event=-", NULL });
}

static void test_remove_unknown_and_duplicate_add(void **state) {
        struct fixture *f = *state;

        add_container(f, "c", "allow KERNEL==\"loop*\"\n");
        event(f, "remove", LOOP(9), LOOP_PROPS(9), NULL);
        expect_lines(f, (const char *const[]){ NULL });

        /* Enumeration and the monitor may both report a device: the second
         * add still reaches the container (the kernel sent it). */
        event(f, "add", LOOP(9), LOOP_PROPS(9), NULL);
        event(f, "add", LOOP(9), LOOP_PROPS(9), NULL);
        expect_lines(f, (const char *const[]){ "c VISIBLE loop9 node=loop9 uid=0 mode=0600 event=add",
                                               "c CHANGED loop9 node=loop9 uid=0 mode=0600 event=add", NULL });
        assert_int_equal(HASH_CNT(hh_devpath, f->model->by_devpath), 1);
}

static void test_late_parent_adopts_children(void **state) {
        struct fixture *f = *state;
        struct device *child, *parent;
        struct device_snapshot s;
        char *props[] = { "DEVPATH=/devices/platform", NULL };

        event(f, "add", "/devices/platform/serial8250/tty/ttyS0", "SUBSYSTEM=tty", NULL);
        s = (struct device_snapshot){ .properties = props };
        assert_int_equal(model_add_device(f->model, &s, &parent), 0);
        child = model_find_device(f->model, "/devices/platform/serial8250/tty/ttyS0");
        assert_ptr_equal(child->parent, parent);
        assert_ptr_equal(child->pd.parent, &parent->pd);
        assert_null(parent->parent);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_add_remove_two_containers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_change_reaches_only_seeing_containers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_change_of_attribute_hides, setup, teardown),
                cmocka_unit_test_setup_teardown(test_move_renames_subtree, setup, teardown),
                cmocka_unit_test_setup_teardown(test_names_one_device_matches_full_assignment, setup, teardown),
                cmocka_unit_test_setup_teardown(test_classes_skip_only_unaffected, setup, teardown),
                cmocka_unit_test_setup_teardown(test_classes_skip_only_unaffected_indexed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_classes_keep_container_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bind_reevaluates_descendants, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reload_adds_and_hides, setup, teardown),
                cmocka_unit_test_setup_teardown(test_overrides, setup, teardown),
                cmocka_unit_test_setup_teardown(test_name_conflict_is_deterministic, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reserved_and_prefix_conflicts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_userns_id_mapping, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remove_unknown_and_duplicate_add, setup, teardown),
                cmocka_unit_test_setup_teardown(test_late_parent_adopts_children, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shared_decisions, setup, teardown),
                cmocka_unit_test_setup_teardown(test_first_subscribers, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
