/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"
#include "policy-internal.h"

/* Reading policy files: the top-level entry points, includes (built-in or
 * from disk), cycle and depth checks. */

static int directory_of(const char *path, char **ret) {
        const char *slash = strrchr(path, '/');
        char *d;

        if (!slash)
                d = strdup(".");
        else if (slash == path)
                d = strdup("/");
        else
                d = strndup(path, (size_t) (slash - path));
        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}

static void context_done(struct policy_parse_context *ctx) {
        for (size_t i = 0; i < ctx->n_frames; i++)
                free(ctx->frames[i].directory);
        ctx->n_frames = 0;
        policy_names_cache_free(&ctx->users);
        policy_names_cache_free(&ctx->groups);
        policy_free(ctx->policy);
        ctx->policy = NULL;
}

/* Parses text as the file named name, one level deeper. */
static int parse_nested(struct policy_parse_context *ctx, const char *name, bool builtin, const char *directory,
                        const struct stat *st, const char *text, size_t size) {
        struct policy_include_frame *f = &ctx->frames[ctx->n_frames];
        const char *interned;
        int r;

        r = policy_intern_file(ctx->policy, name, &interned);
        if (r < 0)
                return r;
        *f = (struct policy_include_frame) {
                .name = interned,
                .builtin = builtin,
                .directory = directory ? strdup(directory) : NULL,
                .has_inode = st,
                .dev = st ? st->st_dev : 0,
                .ino = st ? st->st_ino : 0,
        };
        if (directory && !f->directory)
                return -ENOMEM;
        ctx->n_frames++;

        r = policy_parse_text(ctx, interned, text, size);

        ctx->n_frames--;
        free(f->directory);
        f->directory = NULL;
        return r;
}

/* "a.rules -> b.rules -> a.rules", from the frame that is included again. */
static int cycle_description(struct policy_parse_context *ctx, size_t from, const char *written, char **ret) {
        _cleanup_free_ char *s = strdup(ctx->frames[from].name);

        if (!s)
                return -ENOMEM;
        for (size_t i = from + 1; i <= ctx->n_frames; i++) {
                const char *next = i < ctx->n_frames ? ctx->frames[i].name : written;
                char *t;

                if (asprintf(&t, "%s -> %s", s, next) < 0)
                        return -ENOMEM;
                free(s);
                s = t;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static int include_builtin(struct policy_parse_context *ctx, const char *file, unsigned line, unsigned column,
                           const char *written, const char *text) {
        _cleanup_free_ char *name = NULL;

        if (asprintf(&name, "<builtin:%s>", written) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < ctx->n_frames; i++)
                if (ctx->frames[i].builtin && streq(ctx->frames[i].name, name)) {
                        _cleanup_free_ char *chain = NULL;
                        int r = cycle_description(ctx, i, name, &chain);
                        if (r < 0)
                                return r;
                        return policy_diag(ctx, true, file, line, column, "include cycle: %s", chain);
                }
        return parse_nested(ctx, name, true, NULL, NULL, text, strlen(text));
}

int policy_include(struct policy_parse_context *ctx, const char *file, unsigned line, unsigned column,
                   const char *written) {
        const struct policy_include_frame *parent = &ctx->frames[ctx->n_frames - 1];
        _cleanup_free_ char *path = NULL, *directory = NULL, *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *builtin;
        struct stat st;
        size_t size;
        int r;

        if (ctx->n_frames > POLICY_INCLUDE_DEPTH_MAX)
                return policy_diag(ctx, true, file, line, column, "includes nested more than %d deep",
                                   POLICY_INCLUDE_DEPTH_MAX);

        /* Built-in names win, so that a stray file in the policy directory
         * cannot replace what "oci-default" means. */
        builtin = policy_builtin_text(written);
        if (builtin)
                return include_builtin(ctx, file, line, column, written, builtin);

        if (written[0] == '/')
                path = strdup(written);
        else if (asprintf(&path, "%s/%s", parent->directory ?: ".", written) < 0)
                path = NULL;
        if (!path)
                return -ENOMEM;

        /* O_NONBLOCK: opening a FIFO must not hang the daemon. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return policy_diag(ctx, true, file, line, column, "cannot include '%s': %m", written);
        if (fstat(fd, &st) < 0)
                return policy_diag(ctx, true, file, line, column, "cannot include '%s': %m", written);
        if (!S_ISREG(st.st_mode))
                return policy_diag(ctx, true, file, line, column, "cannot include '%s': not a regular file", written);

        for (size_t i = 0; i < ctx->n_frames; i++) {
                const struct policy_include_frame *f = &ctx->frames[i];
                _cleanup_free_ char *chain = NULL;

                if (!f->has_inode || f->dev != st.st_dev || f->ino != st.st_ino)
                        continue;
                r = cycle_description(ctx, i, written, &chain);
                if (r < 0)
                        return r;
                return policy_diag(ctx, true, file, line, column, "include cycle: %s", chain);
        }

        /* One byte more than allowed is enough for the parser to refuse the
         * file; a runaway file (or /dev/zero) is never read in full. */
        r = read_fd_bounded(fd, POLICY_FILE_MAX + 1, (size_t) st.st_size, &text, &size);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                errno = -r;
                return policy_diag(ctx, true, file, line, column, "cannot include '%s': %m", written);
        }

        r = directory_of(path, &directory);
        if (r < 0)
                return r;
        return parse_nested(ctx, written, false, directory, &st, text, size);
}

static int load_finish(struct policy_parse_context *ctx, int r, struct policy **ret) {
        if (r >= 0 && ctx->n_errors > 0)
                r = -EINVAL;
        if (r >= 0)
                r = policy_seal(ctx->policy);
        if (r >= 0)
                *ret = TAKE_PTR(ctx->policy);
        context_done(ctx);
        return r;
}

int policy_load_file(const char *path, const struct policy_load_options *options, struct policy **ret,
                     struct policy_diagnostics *diags) {
        static const struct policy_load_options defaults = {};
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics own = {};
        struct policy_parse_context ctx = {
                .options = options ?: &defaults,
                .diags = diags ?: &own,
        };
        _cleanup_free_ char *directory = NULL, *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        size_t size;
        int r;

        /* The top-level file may be anything the user can name, such as
         * /dev/stdin; only includes are restricted to regular files. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0)
                r = negative_errno();
        else
                r = read_fd_bounded(fd, POLICY_FILE_MAX + 1, (size_t) st.st_size, &text, &size); /* EISDIR for a directory */
        if (r < 0) {
                int k;

                errno = -r;
                k = policy_diag(&ctx, true, path, 0, 0, "cannot read: %m");
                return k == -ENOMEM ? k : r;
        }

        r = directory_of(path, &directory);
        if (r >= 0)
                r = policy_new(&ctx.policy);
        if (r >= 0)
                r = parse_nested(&ctx, path, false, directory, &st, text, size);
        return load_finish(&ctx, r, ret);
}

int policy_load_string(const char *name, const char *text, const struct policy_load_options *options,
                       struct policy **ret, struct policy_diagnostics *diags) {
        static const struct policy_load_options defaults = {};
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics own = {};
        struct policy_parse_context ctx = {
                .options = options ?: &defaults,
                .diags = diags ?: &own,
        };
        _cleanup_free_ char *directory = NULL;
        int r;

        if (!name)
                name = "<string>";
        r = directory_of(name, &directory);
        if (r >= 0)
                r = policy_new(&ctx.policy);
        if (r >= 0)
                r = parse_nested(&ctx, name, false, directory, NULL, text, strlen(text));
        return load_finish(&ctx, r, ret);
}
