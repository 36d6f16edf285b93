/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>

#include "strv.h"
#include "uevent-file.h"

/* The kernel's own limits for one uevent's environment. */
#define SYNTH_ARGS_MAX 32
#define UUID_STRING_LEN 36

static bool uuid_is_valid(const char *s, size_t len) {
        if (len != UUID_STRING_LEN)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return false;
                } else if (!isxdigit((unsigned char) s[i]))
                        return false;
        }
        return true;
}

static bool arg_is_valid(const char *s, size_t len) {
        const char *eq = memchr(s, '=', len);

        if (!eq || eq == s || eq == s + len - 1)
                return false;
        for (const char *p = s; p < eq; p++)
                if (!isalnum((unsigned char) *p) && *p != '_')
                        return false;
        for (const char *p = eq + 1; p < s + len; p++)
                if (!isgraph((unsigned char) *p))
                        return false;
        return true;
}

int synth_request_parse(const char *buf, size_t size, struct synth_request *ret) {
        _cleanup_strv_free_ char **words = NULL;
        _cleanup_free_ char *copy = NULL;
        struct synth_request r = {};
        char *save = NULL;
        int action;

        /* "echo add >" writes a newline; the kernel ignores one. */
        if (size > 0 && buf[size - 1] == '\n')
                size--;
        if (size == 0 || size > 2048 || memchr(buf, '\0', size))
                return -EINVAL;
        /* Not strndup(): what FUSE hands over is not NUL-terminated, and
         * ASan's strict string checks (under which the tests and fuzzers
         * run) read strndup()'s argument as a whole string. */
        copy = malloc(size + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, buf, size);
        copy[size] = '\0';
        /* Exactly one space between words, as the kernel parses them. */
        if (copy[0] == ' ' || copy[size - 1] == ' ' || strstr(copy, "  ") || strpbrk(copy, "\t\n"))
                return -EINVAL;
        for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
                if (strv_extend(&words, w) < 0)
                        return -ENOMEM;

        action = uevent_action_from_string(words[0]);
        if (action < 0)
                return -EINVAL;
        r.action = action;
        if (words[1]) {
                if (!uuid_is_valid(words[1], strlen(words[1])))
                        return -EINVAL;
                if (strv_length(words) - 2 > SYNTH_ARGS_MAX)
                        return -EINVAL;
                for (char **a = words + 2; *a; a++)
                        if (!arg_is_valid(*a, strlen(*a)))
                                return -EINVAL;
                r.uuid = strdup(words[1]);
                if (!r.uuid || strv_copy(words + 2, &r.args) < 0) {
                        synth_request_done(&r);
                        return -ENOMEM;
                }
        }
        *ret = r;
        return 0;
}

void synth_request_done(struct synth_request *r) {
        free(r->uuid);
        strv_free(r->args);
        *r = (struct synth_request){};
}

int uevent_file_rewrite(const char *text, const char *node, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);

        if (!f)
                return -ENOMEM;
        for (const char *line = text; *line;) {
                size_t len = strcspn(line, "\n");

                if (strncmp(line, "DEVNAME=", 8) != 0)
                        fprintf(f, "%.*s\n", (int) len, line);
                else if (node)
                        fprintf(f, "DEVNAME=%s\n", node);
                line += len;
                if (*line == '\n')
                        line++;
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}

int synth_event_properties(const struct synth_request *r, const char *devpath, const char *subsystem,
                           const char *uevent_text, char ***ret) {
        _cleanup_strv_free_ char **props = NULL;
        int k;

        if (strv_env_set(&props, "ACTION", uevent_action_to_string(r->action)) < 0 ||
            strv_env_set(&props, "DEVPATH", devpath) < 0 ||
            (subsystem && strv_env_set(&props, "SUBSYSTEM", subsystem) < 0))
                return -ENOMEM;

        for (const char *line = uevent_text; *line;) {
                size_t len = strcspn(line, "\n");
                _cleanup_free_ char *kv = strndup(line, len);

                if (!kv)
                        return -ENOMEM;
                /* The file never holds these; a container must not forge them. */
                if (strchr(kv, '=') && !uevent_key_is_per_event(kv) && !startswith(kv, "DEVPATH=") &&
                    !startswith(kv, "SUBSYSTEM=") && strv_consume(&props, TAKE_PTR(kv)) < 0)
                        return -ENOMEM;
                line += len;
                if (*line == '\n')
                        line++;
        }

        if (strv_env_set(&props, "SYNTH_UUID", r->uuid ?: "0") < 0)
                return -ENOMEM;
        STRV_FOREACH(a, r->args) {
                _cleanup_free_ char *key = NULL;
                size_t l = strcspn(*a, "=");

                k = asprintf(&key, "SYNTH_ARG_%.*s", (int) l, *a);
                if (k < 0 || strv_env_set(&props, key, *a + l + 1) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(props);
        return 0;
}
