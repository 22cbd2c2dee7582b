#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

static enum log_target log_target = LOG_TARGET_STDERR;
static bool log_verbose = false;

void log_set_target(enum log_target target) {
        log_target = target;
}

void log_set_verbose(bool verbose) {
        log_verbose = verbose;
}

/* The length of the well-formed UTF-8 sequence at s (of n bytes) that is not a C1 control,
 * or 0. */
static size_t utf8_printable(const unsigned char *s, size_t n) {
        size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
        if (len == 0 || len > n || s[0] > 0xf4)
                return 0;
        for (size_t i = 1; i < len; i++)
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        uint32_t c = len == 2   ? (s[0] & 0x1fu) << 6 | (s[1] & 0x3fu)
                     : len == 3 ? (s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu)
                                : (s[0] & 0x07u) << 18 | (s[1] & 0x3fu) << 12 | (s[2] & 0x3fu) << 6 | (s[3] & 0x3fu);
        /* Overlong forms, surrogates, beyond U+10FFFF, and C1. */
        if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff) ||
            c < 0xa0)
                return 0;
        return len;
}

void log_escape(const char *in, char *out, size_t size) {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *s = (const unsigned char *) in;
        size_t n = strlen(in), o = 0, fits_with_dots = 0;
        if (size == 0)
                return;
        for (size_t i = 0; i < n;) {
                size_t len = s[i] < 0x80 ? 1 : utf8_printable(s + i, n - i);
                bool esc = len == 0 || s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\';
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
