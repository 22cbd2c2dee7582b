#include "fds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "util.h"

static bool inherited(int fd) {
        int flags = fcntl(fd, F_GETFD);
        return flags >= 0 && !(flags & FD_CLOEXEC);
}

/* Without /proc: every number up to the limit. The limit is the soft one: no fd of ours
 * can be above it, and one of the caller's above it is rare enough to leave open. */
static int close_inherited_slow(void) {
        struct rlimit rl;
        int max = 65536, n = 0;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t) (1 << 20))
                max = (int) rl.rlim_cur;
        for (int fd = 3; fd < max; fd++)
                if (inherited(fd)) {
                        safe_close(fd);
                        n++;
                }
        return n;
}

int fds_close_inherited(void) {
        /* opendir() opens its fd O_CLOEXEC: it never closes itself below. Closing while
         * reading is fine: /proc/self/fd lists the table as it is at each read. */
        DIR *d = opendir("/proc/self/fd");
        if (!d) /* no /proc, or no fd left for it (EMFILE): the slow way needs none */
                return close_inherited_slow();
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                char *end;
                long fd = strtol(e->d_name, &end, 10);
                if (*end || end == e->d_name || fd < 3 || fd == dirfd(d))
                        continue;
                if (inherited((int) fd)) {
                        safe_close((int) fd);
                        n++;
                }
        }
        closedir(d);
        return n;
}

int fds_fill_stdio(void) {
        for (int fd = 0; fd <= 2; fd++) {
                if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
                        continue;
                /* The lowest free number: fd itself, those below it being open. */
                int null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
                if (null < 0)
                        return negative_errno();
                if (null != fd) {
                        safe_close(null);
                        return -EBADF;
                }
        }
        return 0;
}
