/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdlib.h>

#include "log.h"

/* The logging threshold is process-wide by nature (it is what --log-level
 * sets); it is the only state outside the daemon's context. */
static int max_level = LOG_INFO;
static const char *log_prefix;
static bool priority_prefix = true;

void log_set_max_level(int level) {
        max_level = level;
}

void log_set_priority_prefix(bool on) {
        priority_prefix = on;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_prefix(const char *prefix) {
        log_prefix = prefix;
}

int log_level_from_string(const char *s) {
        static const char *const names[] = {
                [LOG_EMERG] = "emerg",   [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit",
                [LOG_ERR] = "err",       [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
                [LOG_INFO] = "info",     [LOG_DEBUG] = "debug",
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (int) i;
        if (streq(s, "error"))
                return LOG_ERR;
        return -EINVAL;
}

int log_internal(int level, int error, const char *format, ...) {
        int saved = errno;
        if (error < 0)
                error = -error;

        if (level <= max_level) {
                char buf[2048];
                va_list ap;

                /* %m must print the error we were handed, not whatever errno is now. */
                errno = error;
                va_start(ap, format);
                vsnprintf(buf, sizeof(buf), format, ap);
                va_end(ap);
                if (priority_prefix)
                        fprintf(stderr, "<%d>", level);
                fprintf(stderr, "%s%s%s\n", strempty(log_prefix), log_prefix ? ": " : "", buf);
        }

        errno = saved;
        return -error;
}
