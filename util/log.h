/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

/* Logging for the programs (devsieved, devsieve). Libraries (policy/) return
 * errors instead of logging. Every line goes to stderr with a "<N>" syslog
 * priority prefix, which journald and most supervisors understand. */

void log_set_max_level(int level);
int log_get_max_level(void);
int log_level_from_string(const char *s);
void log_set_prefix(const char *prefix);
/* The "<N>" prefix is for journald and supervisors (devsieved); an
 * interactive tool (devsieve) turns it off. */
void log_set_priority_prefix(bool on);

/* Returns -abs(error), so that "return log_error_errno(r, ...)" works; %m
 * in the format prints strerror(error). */
int log_internal(int level, int error, const char *format, ...) _printf_(3, 4);

#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)

#define log_debug_errno(e, ...) log_internal(LOG_DEBUG, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_ERR, (e), __VA_ARGS__)
