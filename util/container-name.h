/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Container names become directory names under the runtime directory and
 * appear in logs and errors: 1..CONTAINER_NAME_MAX characters of
 * [A-Za-z0-9_.-], not starting with '.' or '-'. */
#define CONTAINER_NAME_MAX 64U

bool container_name_is_valid(const char *name);
