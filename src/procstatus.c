#include "procstatus.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

ssize_t procstatus_read(int proc_fd, char *buf, size_t size) {
        _cleanup_close_ int fd = openat(proc_fd, "status", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        ssize_t n = pread_full(fd, buf, size - 1, 0);
        if (n < 0)
                return n;
        if ((size_t) n == size - 1)
                return -E2BIG; /* perhaps cut off: a caller must not read a partial line as whole */
        buf[n] = '\0';
        return n;
}

const char *procstatus_field(const char *status, const char *key) {
        size_t len = strlen(key);
        for (const char *line = status; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
                if (strncmp(line, key, len) == 0 && line[len] == ':')
                        return line + len + 1;
        return NULL;
}

int procstatus_number(const char *status, const char *key, unsigned n, unsigned long *ret) {
        const char *s = procstatus_field(status, key);
        if (!s)
                return -EIO;
        bool found = false;
        for (unsigned i = 0;; i++) {
                char *end;
                s += strspn(s, " \t");
                if (*s < '0' || *s > '9')
                        return found && n == PROCSTATUS_LAST ? 0 : -EIO;
                unsigned long v = strtoul(s, &end, 10);
                if (i == n || n == PROCSTATUS_LAST) {
                        *ret = v;
                        found = true;
                        if (i == n)
                                return 0;
                }
                s = end;
        }
}
