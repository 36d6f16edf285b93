/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* devsieve upgrade: devsieved re-executes its binary (a new one after a
 * package upgrade) and restores every container (devsieved(8), RESTART). */
#include <getopt.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "client.h"
#include "clock.h"
#include "command.h"
#include "log.h"

#define UPGRADE_TIMEOUT_SEC 120

/* Whether a new daemon listens, without the error client_connect() logs. */
static bool socket_answers(const char *runtime_dir) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;

        if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/devsieved.sock", runtime_dir) >= (int) sizeof(sa.sun_path))
                return false;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        return fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof(sa)) >= 0;
}

static int ask(const char *runtime_dir, const char *command, json_t **ret) {
        _cleanup_(client_done) struct client client = { .fd = -EBADF };
        _cleanup_(json_decrefp) json_t *request = json_pack("{s:s}", "command", command);
        int r;

        if (!request)
                return log_error_errno(ENOMEM, "Out of memory.");
        if (client_connect(runtime_dir, &client) < 0 || client_send(&client, request) < 0)
                return -EHOSTUNREACH;
        r = client_receive(&client, CLIENT_TIMEOUT_SEC, ret);
        if (r == 0)
                return log_error_errno(ECONNRESET, "devsieved closed the connection without a reply.");
        if (r < 0)
                return r;
        if (!json_is_true(json_object_get(*ret, "ok")))
                return log_error_errno(EINVAL, "devsieve %s: %s", command,
                                       json_string_value(json_object_get(*ret, "error")) ?: "the request failed");
        /* The old process closes every connection as it goes, after its
         * listener: from then on whatever answers is the new one. */
        if (streq(command, "upgrade")) {
                _cleanup_(json_decrefp) json_t *more = NULL;
                r = client_receive(&client, CLIENT_TIMEOUT_SEC, &more);
                if (r != 0)
                        return log_error_errno(r < 0 ? r : EBADMSG, "devsieved did not go away after the upgrade reply.");
        }
        return 0;
}

static int wait_for_new_daemon(const char *runtime_dir) {
        struct timespec pause = { .tv_nsec = 50 * 1000 * 1000 };
        uint64_t deadline = now_usec() + UPGRADE_TIMEOUT_SEC * 1000000ULL;

        /* The new process listens only once every container is restored. */
        while (now_usec() < deadline) {
                if (socket_answers(runtime_dir))
                        return 0;
                nanosleep(&pause, NULL);
        }
        return log_error_errno(ETIMEDOUT, "devsieved did not come back within %d s; see its log.", UPGRADE_TIMEOUT_SEC);
}

static int run(const struct command *c, const struct cli_context *ctx, int argc, char *argv[]) {
        static const struct option options[] = { { "help", no_argument, NULL, 'h' }, {} };
        _cleanup_(json_decrefp) json_t *reply = NULL, *status = NULL;
        int opt, r;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        command_help(c, stdout);
                        return DEVSIEVE_EXIT_OK;
                default:
                        return command_option_error(c, opt, argv);
                }
        if (optind < argc)
                return command_usage_error(c, "unexpected argument '%s'", argv[optind]);

        r = ask(ctx->runtime_dir, "upgrade", &reply);
        if (r == -EHOSTUNREACH)
                return DEVSIEVE_EXIT_UNREACHABLE;
        if (r < 0)
                return DEVSIEVE_EXIT_RUNTIME;
        if (wait_for_new_daemon(ctx->runtime_dir) < 0)
                return DEVSIEVE_EXIT_UNREACHABLE;
        r = ask(ctx->runtime_dir, "status", &status);
        if (r < 0)
                return r == -EHOSTUNREACH ? DEVSIEVE_EXIT_UNREACHABLE : DEVSIEVE_EXIT_RUNTIME;
        printf("devsieved %s (pid %lld) serves %zu container(s).\n",
               json_string_value(json_object_get(status, "version")) ?: "?",
               (long long) json_integer_value(json_object_get(status, "pid")),
               json_array_size(json_object_get(status, "containers")));
        return DEVSIEVE_EXIT_OK;
}

const struct command command_upgrade = {
        .name = "upgrade",
        .summary = "Make devsieved re-execute its binary; the containers are restored",
        .synopsis = "",
        .options = "  -h, --help           show this help\n",
        .run = run,
};
