#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

static enum log_target log_target = LOG_TARGET_STDERR;
static bool log_verbose = false;

void log_set_target(enum log_target target) {
        log_target = target;
}

void log_set_verbose(bool verbose) {
        log_verbose = verbose;
}

int log_full_errno(int priority, int error, const char *fmt, ...) {
        if (priority >= LOG_DEBUG && !log_verbose)
                return error;

        int saved = errno;
        char msg[2048];
        va_list ap;
        /* %m reads errno: hand it the error we were given, not whatever errno holds. */
        errno = error < 0 ? -error : error;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);

        if (log_target == LOG_TARGET_SYSLOG)
                syslog(LOG_DAEMON | priority, "%s", msg);
        else
                fprintf(stderr, "execguard: %s\n", msg);
        errno = saved;
        return error;
}
