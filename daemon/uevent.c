/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "strv.h"
#include "uevent.h"

int uevent_new(char **properties, struct uevent **ret) {
        _cleanup_strv_free_ char **props = properties;
        _cleanup_free_ struct uevent *e = NULL;
        const char *action, *seqnum;
        int a;

        action = strv_env_get(props, "ACTION");
        if (!action)
                return -EINVAL;
        a = uevent_action_from_string(action);
        if (a < 0)
                return a;

        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->action = a;
        e->devpath = strv_env_get(props, "DEVPATH");
        if (!e->devpath || e->devpath[0] != '/')
                return -EINVAL;
        e->devpath_old = strv_env_get(props, "DEVPATH_OLD");
        e->subsystem = strv_env_get(props, "SUBSYSTEM");
        seqnum = strv_env_get(props, "SEQNUM");
        if (seqnum && sscanf(seqnum, "%" SCNu64, &e->seqnum) != 1)
                return -EINVAL;
        e->properties = TAKE_PTR(props);
        *ret = TAKE_PTR(e);
        return 0;
}

struct uevent *uevent_free(struct uevent *e) {
        if (!e)
                return NULL;
        strv_free(e->properties);
        free(e);
        return NULL;
}

int uevent_parse_wire(const char *buf, size_t size, struct uevent **ret) {
        _cleanup_strv_free_ char **props = NULL;
        const char *end = buf + size, *p;
        size_t header;
        int r;

        /* The header "ACTION@DEVPATH" repeats what the properties say. */
        header = strnlen(buf, size);
        if (header == size || !memchr(buf, '@', header))
                return -EINVAL;

        for (p = buf + header + 1; p < end;) {
                size_t l = strnlen(p, (size_t) (end - p));

                if (l == (size_t) (end - p))
                        return -EINVAL; /* not NUL-terminated */
                if (l > 0) {
                        if (!strchr(p, '=') || p[0] == '=')
                                return -EINVAL;
                        r = strv_extend(&props, p);
                        if (r < 0)
                                return r;
                }
                p += l + 1;
        }
        return uevent_new(TAKE_PTR(props), ret);
}

int uevent_wire_from_properties(char *const *properties, char **ret, size_t *ret_size) {
        const char *action = strv_env_get(properties, "ACTION"), *devpath = strv_env_get(properties, "DEVPATH");
        _cleanup_free_ char *buf = NULL;
        size_t size, n;

        if (!action || !devpath)
                return -EINVAL;

        size = strlen(action) + 1 + strlen(devpath) + 1;
        STRV_FOREACH(p, properties)
                size += strlen(*p) + 1;

        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        n = (size_t) sprintf(buf, "%s@%s", action, devpath) + 1;
        STRV_FOREACH(p, properties) {
                size_t l = strlen(*p) + 1;
                memcpy(buf + n, *p, l);
                n += l;
        }
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}
