/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy-internal.h"
#include "strv.h"

/* What values are acceptable, decided at load time so that evaluation and
 * the filesystems never meet a node path like "../../etc". */

static bool is_graph(char c) {
        return c > ' ' && c < 0x7f;
}

/* Relative paths below some directory: node paths below /dev, attribute
 * names below a device's sysfs directory. */
static const char *check_relative_path(const char *s, bool reject_dot) {
        const char *p = s;

        if (*s == '\0')
                return "must not be empty";
        if (*s == '/')
                return "must be relative (no leading '/')";
        for (const char *c = s; *c; c++)
                if (!is_graph(*c))
                        return "may only contain printable ASCII characters other than space";
        if (s[strlen(s) - 1] == '/')
                return "must not end in '/'";

        for (;;) {
                size_t n = strcspn(p, "/");

                if (n == 0)
                        return "must not contain empty components ('//')";
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return "must not contain '..' components";
                if (reject_dot && n == 1 && p[0] == '.')
                        return "must not contain '.' components";
                if (p[n] == '\0')
                        return NULL;
                p += n + 1;
        }
}

const char *policy_check_node_path(const char *s) {
        return check_relative_path(s, true);
}

const char *policy_check_attribute_name(const char *s) {
        return check_relative_path(s, false);
}

const char *policy_check_env_key(const char *s) {
        if (*s == '\0')
                return "must not be empty";
        for (const char *c = s; *c; c++)
                if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
                        return "may only contain letters, digits and '_'";
        return NULL;
}

/* Equal to dir or below it. */
static bool path_is_at_or_below(const char *path, const char *dir) {
        const char *rest = startswith(path, dir);
        return rest && (*rest == '\0' || *rest == '/');
}

const char *policy_check_expose_path(const char *s) {
        /* devsieve builds these listings itself, showing only the devices the
         * policy allows; exposing them would undo the filtering. */
        static const char *const filtered[] = { "/sys/class", "/sys/bus", "/sys/block", "/sys/dev" };
        const char *p;

        if (*s != '/')
                return "must be absolute";
        for (const char *c = s; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        return "must not contain control characters";
        if (streq(s, "/sys") || streq(s, "/sys/"))
                return "must be strictly below /sys";
        if (!startswith(s, "/sys/"))
                return "must be below /sys";
        if (s[strlen(s) - 1] == '/')
                return "must not end in '/'";

        p = s + 1;
        for (;;) {
                size_t n = strcspn(p, "/");

                if (n == 0)
                        return "must not contain '//'";
                if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return "must be normalized (no '.' or '..' components)";
                if (p[n] == '\0')
                        break;
                p += n + 1;
        }

        /* Every device directory lives below /sys/devices: exposing one
         * shows the host's devices, hidden or not, with their attributes and
         * uevent files. /sys/devices/system holds the CPUs, memory blocks
         * and NUMA nodes, none of them a device node. */
        if (path_is_at_or_below(s, "/sys/devices") && !path_is_at_or_below(s, "/sys/devices/system"))
                return "must not be at or below /sys/devices, except /sys/devices/system (devsieve filters the "
                       "devices)";
        for (size_t i = 0; i < ELEMENTSOF(filtered); i++)
                if (path_is_at_or_below(s, filtered[i]))
                        return "must not be at or below /sys/class, /sys/bus, /sys/block or /sys/dev (devsieve filters "
                               "those)";
        return NULL;
}

/* MAJOR and MINOR compare decimal strings: anything but digits and glob
 * characters can never match and is a typo such as "0x7". */
const char *policy_check_number_pattern(const char *s) {
        for (const char *c = s; *c; c++)
                if (!((*c >= '0' && *c <= '9') || strchr("*?[]!^-|", *c)))
                        return "must be decimal numbers or globs of them";
        return NULL;
}

const char *policy_check_type_pattern(const char *s) {
        const char *p = s;

        for (;;) {
                size_t n = strcspn(p, "|");

                if (!(n == 0 || (n == 4 && strncmp(p, "char", 4) == 0) || (n == 5 && strncmp(p, "block", 5) == 0)))
                        return "must be \"char\" or \"block\"";
                if (p[n] == '\0')
                        return NULL;
                p += n + 1;
        }
}

const char *policy_parse_mode(const char *s, mode_t *ret) {
        size_t n = strlen(s);
        mode_t m = 0;

        if (n < 3 || n > 4)
                return "expected 3 or 4 octal digits";
        for (const char *c = s; *c; c++) {
                if (*c < '0' || *c > '7')
                        return "expected 3 or 4 octal digits";
                m = m * 8 + (mode_t) (*c - '0');
        }
        if (m > 0777)
                return "only permission bits are allowed (at most 0777; no setuid, setgid or sticky bit)";
        *ret = m;
        return NULL;
}

const char *policy_parse_access(const char *s, unsigned *ret) {
        unsigned access = 0;

        if (*s == '\0')
                return "expected one or more of 'r', 'w' and 'm'";
        for (const char *c = s; *c; c++) {
                unsigned bit;

                switch (*c) {
                case 'r':
                        bit = POLICY_ACCESS_READ;
                        break;
                case 'w':
                        bit = POLICY_ACCESS_WRITE;
                        break;
                case 'm':
                        bit = POLICY_ACCESS_MKNOD;
                        break;
                default:
                        return "expected one or more of 'r', 'w' and 'm'";
                }
                if (access & bit)
                        return "a letter is given twice";
                access |= bit;
        }
        *ret = access;
        return NULL;
}

int policy_parse_id(const char *s, uint32_t *ret) {
        uint64_t id = 0;

        if (*s == '\0')
                return 0;
        for (const char *c = s; *c; c++) {
                if (*c < '0' || *c > '9')
                        return 0;
                id = id * 10 + (uint64_t) (*c - '0');
                /* (uid_t) -1 means "no id" to chown(2) and friends. */
                if (id >= UINT32_MAX)
                        return -ERANGE;
        }
        *ret = (uint32_t) id;
        return 1;
}

int policy_split_words(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *p = s;

        for (;;) {
                size_t n;
                int r;

                p += strspn(p, " ");
                if (*p == '\0')
                        break;
                n = strcspn(p, " ");
                r = strv_consume(&l, strndup(p, n));
                if (r < 0)
                        return r;
                p += n;
        }
        *ret = TAKE_PTR(l);
        return 0;
}
