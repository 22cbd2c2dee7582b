/* fd-audit: list the fds this process holds beyond stdio; exit 1 if there is any.
 * Run inside a supervised tree, it proves the tree inherited nothing of the supervisor's
 * (no listener, no socket): what it holds beyond stdio is its caller's. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                return 2;
        int extra = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                int fd = atoi(e->d_name);
                if (fd <= 2 || fd == dirfd(d))
                        continue;
                char link[64], target[512];
                snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
                ssize_t n = readlink(link, target, sizeof target - 1);
                target[n < 0 ? 0 : n] = '\0';
                printf("fd %d -> %s\n", fd, target);
                extra++;
        }
        closedir(d);
        return extra ? 1 : 0;
}
