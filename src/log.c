#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "utf8.h"

static enum log_target log_target = LOG_TARGET_STDERR;
static bool log_verbose = false;

void log_set_target(enum log_target target) {
        log_target = target;
}

void log_set_verbose(bool verbose) {
        log_verbose = verbose;
}

void log_escape(const char *in, char *out, size_t size) {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *s = (const unsigned char *) in;
        size_t n = strlen(in), o = 0, fits_with_dots = 0;
        if (size == 0)
                return;
        for (size_t i = 0; i < n;) {
                size_t len = utf8_sequence(s + i, n - i);
                bool esc = len == 0 || utf8_is_c1(s + i, len) || s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\';
                size_t need = esc ? 4 : len;
                if (o + need + 1 > size) {
                        /* Cut at a character boundary that leaves room for "..." and the NUL. */
                        o = fits_with_dots;
                        if (o + 4 <= size) {
                                memcpy(out + o, "...", 3);
                                o += 3;
                        }
                        break;
                }
                if (o + 4 <= size)
                        fits_with_dots = o;
                if (esc) {
                        out[o++] = '\\';
                        out[o++] = 'x';
                        out[o++] = hex[s[i] >> 4];
                        out[o++] = hex[s[i] & 0xf];
                        i++;
                } else {
                        memcpy(out + o, s + i, len);
                        o += len;
                        i += len;
                }
        }
        out[o] = '\0';
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
        /* Messages quote paths that processes chose: a newline in one must not forge a
         * line of the log, nor an escape sequence act on the reader's terminal. */
        char escaped[4 * sizeof msg];
        log_escape(msg, escaped, sizeof escaped);

        if (log_target == LOG_TARGET_SYSLOG)
                syslog(LOG_DAEMON | priority, "%s", escaped);
        else
                fprintf(stderr, "execguard: %s\n", escaped);
        errno = saved;
        return error;
}
