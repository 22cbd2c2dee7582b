/* Diagnostics for the user running execguard (stderr, and syslog once the supervisor is
 * detached). Audit records are not diagnostics: they go through audit.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum log_target {
        LOG_TARGET_STDERR, /* interactive commands: run (setup), check */
        LOG_TARGET_SYSLOG, /* the detached supervisor, which has no terminal of its own */
};

/* Choose where diagnostics go from now on. */
void log_set_target(enum log_target target);

/* Show debug messages (--verbose). */
void log_set_verbose(bool verbose);

/* Copy in to out (size bytes, terminated, cut with "..." if need be) with every byte a
 * terminal or a log reader could take for a control escaped as \xNN: C0 controls (a
 * newline would forge a line), DEL, the backslash itself (so that an escape in a name reads
 * as one), C1 controls, whether encoded in UTF-8 (U+0080-U+009F) or bare (an 8-bit
 * terminal's CSI is 0x9b), and any byte that is not part of well-formed UTF-8. */
void log_escape(const char *in, char *out, size_t size);

/* Log a message, escaped as log_escape() does (paths in it come from processes); %m expands to strerror(-error). Returns error (a negative errno), so a
 * caller can write: return log_error_errno(r, "Failed to ...: %m"); */
int log_full_errno(int priority, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_error_errno(error, ...)   log_full_errno(3, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(4, (error), __VA_ARGS__)
#define log_error(...)                log_full_errno(3, 0, __VA_ARGS__)
#define log_warning(...)              log_full_errno(4, 0, __VA_ARGS__)
#define log_info(...)                 log_full_errno(6, 0, __VA_ARGS__)
#define log_debug(...)                log_full_errno(7, 0, __VA_ARGS__)
#define log_debug_errno(error, ...)   log_full_errno(7, (error), __VA_ARGS__)
