/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "device-spec.h"

/* Decimal digits only: strtoul() would also take signs, blanks and "0x". */
static int parse_number(const char **p, unsigned max, unsigned *ret) {
        const char *s = *p;
        unsigned long v = 0;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
                v = v * 10 + (unsigned long) (*s - '0');
                if (v > max)
                        return -ERANGE;
        }
        *p = s;
        *ret = (unsigned) v;
        return 0;
}

static int parse_devnum(const char *s, struct device_spec *ret) {
        unsigned major, minor;
        char type = s[0];
        int r;

        s++;
        if (*s == ' ')
                s++;
        r = parse_number(&s, DEVICE_SPEC_MAJOR_MAX, &major);
        if (r < 0)
                return r;
        if (*s != ':')
                return -EINVAL;
        s++;
        r = parse_number(&s, DEVICE_SPEC_MINOR_MAX, &minor);
        if (r < 0)
                return r;
        if (*s != '\0')
                return -EINVAL;

        *ret = (struct device_spec){ .kind = DEVICE_SPEC_DEVNUM, .type = type, .major = major, .minor = minor };
        return 0;
}

int device_spec_parse(const char *s, struct device_spec *ret) {
        const char *rest;

        if (!s || !ret)
                return -EINVAL;

        if (s[0] == 'b' || s[0] == 'c')
                return parse_devnum(s, ret);

        if (s[0] != '/')
                return -EINVAL;

        rest = startswith(s, "/sys");
        if (rest && (*rest == '\0' || *rest == '/')) {
                /* "/sys" and "/sys/" name the mount, not a device. */
                rest += strspn(rest, "/");
                if (*rest == '\0')
                        return -EINVAL;
                *ret = (struct device_spec){ .kind = DEVICE_SPEC_SYSPATH, .path = s };
                return 0;
        }

        if (s[strspn(s, "/")] == '\0')
                return -EINVAL;
        *ret = (struct device_spec){ .kind = DEVICE_SPEC_NODE, .path = s };
        return 0;
}
