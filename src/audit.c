#include "audit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>

#include "util.h"

int audit_open(void) {
        openlog("execguard", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);

        /* syslog(3) drops records silently when nothing listens: find out now. */
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return negative_errno();
        return 0;
}

void audit_escape(const char *in, char *out, size_t size) {
        static const char hex[] = "0123456789abcdef";
        size_t o = 0, fits_with_dots = 0;
        if (size == 0)
                return;
        for (const unsigned char *s = (const unsigned char *) in; *s; s++) {
                bool esc = *s < 0x20 || *s == 0x7f || *s == '\\' || *s == '"';
                size_t need = esc ? 4 : 1;
                if (o + need + 1 > size) {
                        /* Does not fit: cut at a character boundary that leaves room
                         * for "..." and the terminator. */
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
                        out[o++] = hex[*s >> 4];
                        out[o++] = hex[*s & 0xf];
                } else
                        out[o++] = (char) *s;
        }
        out[o] = '\0';
}

const char *audit_decision_to_string(enum audit_decision d) {
        switch (d) {
        case AUDIT_DENY:
                return "deny";
        case AUDIT_KILL:
                return "kill";
        case AUDIT_WOULD_BLOCK:
                return "audit";
        }
        return "?";
}

void audit_log(const struct audit_record *rec) {
        char requested[EG_PATH_MAX], blocked[EG_PATH_MAX], rule[EG_PATH_MAX], source[EG_PATH_MAX], note[512];
        audit_escape(rec->requested, requested, sizeof requested);
        audit_escape(rec->blocked, blocked, sizeof blocked);
        audit_escape(rec->rule ? rec->rule->text : "", rule, sizeof rule);
        audit_escape(rec->policy_source, source, sizeof source);
        audit_escape(rec->note ? rec->note : "", note, sizeof note);
        syslog(rec->decision == AUDIT_WOULD_BLOCK ? LOG_NOTICE : LOG_WARNING,
               "decision=%s pid=%d uid=%u requested=\"%s\" blocked=\"%s\" rule=\"%s:%u\" match=\"%s\"%s%s%s",
               audit_decision_to_string(rec->decision), (int) rec->pid, (unsigned) rec->uid, requested, blocked, source,
               rec->rule ? rec->rule->line : 0, rule, rec->note ? " note=\"" : "", note, rec->note ? "\"" : "");
}
