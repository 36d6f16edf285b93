/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* model-trace NAME=POLICY... : runs the device model on the host's real
 * devices (libudev enumeration + kernel monitor) with one container per
 * argument and prints every delta, one line each:
 *
 *     NAME VISIBLE|CHANGED|HIDDEN DEVPATH node=N event=ACTION|-
 *
 * "ready N" (N devices enumerated) goes to stdout once the monitor and
 * enumeration are done, so a test knows when to start hot-plugging.
 * SIGTERM/SIGINT end it. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>

#include "daemon/udev-source.h"
#include <fcntl.h>
#include "log.h"

static void print_deltas(struct container *c, const struct delta *deltas, size_t n, void *userdata) {
        static const char *const kinds[] = { "VISIBLE", "CHANGED", "HIDDEN" };

        for (size_t i = 0; i < n; i++) {
                const struct visible_device *v = deltas[i].new ?: deltas[i].old;
                printf("%s %s %s node=%s event=%s\n", c->name, kinds[deltas[i].kind], deltas[i].device->devpath,
                       v->node ?: "-", deltas[i].event ? uevent_action_to_string(deltas[i].event->action) : "-");
        }
        fflush(stdout);
}

static int add_container(struct model *m, const char *arg) {
        struct policy_load_options options = { .unknown_names_are_errors = true };
        struct policy_diagnostics diags = {};
        _cleanup_free_ char *name = NULL;
        const char *eq = strchr(arg, '=');
        struct policy *p = NULL;
        struct container *c;
        int r;

        if (!eq)
                return log_error_errno(EINVAL, "expected NAME=POLICY, got '%s'", arg);
        name = strndup(arg, (size_t) (eq - arg));
        if (!name)
                return -ENOMEM;
        r = policy_load_file(eq + 1, &options, &p, &diags);
        for (size_t i = 0; i < diags.n_items; i++) {
                _cleanup_free_ char *line = NULL;
                if (policy_diagnostic_format(&diags.items[i], &line) >= 0)
                        log_error("%s", line);
        }
        policy_diagnostics_done(&diags);
        if (r < 0)
                return r;
        r = container_new(name, p, eq + 1, &c);
        if (r < 0)
                return r;
        r = model_add_container(m, c);
        if (r < 0)
                return r;
        return model_refresh_container(m, c);
}

int main(int argc, char **argv) {
        _cleanup_(udev_source_freep) struct udev_source *source = NULL;
        _cleanup_(model_freep) struct model *m = NULL;
        _cleanup_close_ int sfd = -EBADF;
        unsigned count;
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0)
                return 1;

        r = model_new(open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC), &m);
        if (r < 0)
                return 1;
        r = model_subscribe(m, print_deltas, NULL);
        if (r < 0)
                return 1;
        r = udev_source_new(true, &source);
        if (r < 0)
                return log_error_errno(r, "Failed to start the monitor: %m"), 1;
        r = udev_source_enumerate(source, m, &count);
        if (r < 0)
                return 1;
        for (int i = 1; i < argc; i++)
                if (add_container(m, argv[i]) < 0)
                        return 1;
        printf("ready %u\n", count);
        fflush(stdout);

        for (;;) {
                struct pollfd fds[] = { { udev_source_fd(source), POLLIN, 0 }, { sfd, POLLIN, 0 } };

                if (poll(fds, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return 1;
                }
                if (fds[1].revents)
                        return 0;
                if (udev_source_dispatch(source, m) < 0)
                        return 1;
        }
}
