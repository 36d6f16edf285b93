/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "container-name.h"

bool container_name_is_valid(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n > CONTAINER_NAME_MAX || name[0] == '.' || name[0] == '-')
                return false;
        return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}
