#include "hostcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>

#include "util.h"

int hostcheck_ptrace_scope(int *ret_scope) {
        _cleanup_close_ int fd = open(HOSTCHECK_PTRACE_SCOPE, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        char buf[16];
        ssize_t n = pread_full(fd, buf, sizeof buf - 1, 0);
        if (n < 0)
                return (int) n;
        buf[n] = '\0';
        char *end;
        errno = 0;
        long v = strtol(buf, &end, 10);
        if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') || v < 0 || v > INT_MAX)
                return -EIO;
        *ret_scope = (int) v;
        return 0;
}
