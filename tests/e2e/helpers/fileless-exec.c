/* fileless-exec MODE FILE [ARG...]: run FILE's bytes from a file that has no name, and exit
 * with the errno the exec failed with.
 *   memfd    copy into memfd_create() and execveat(fd, "", AT_EMPTY_PATH)
 *   deleted  copy into a temporary file, unlink it, execve("/proc/self/fd/N") */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static int copy_into(int dst, const char *src_path) {
        int src = open(src_path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (src < 0 || fstat(src, &st) < 0)
                return -1;
        off_t off = 0;
        while (off < st.st_size)
                if (sendfile(dst, src, &off, (size_t) (st.st_size - off)) <= 0)
                        return -1;
        close(src);
        return 0;
}

int main(int argc, char **argv) {
        if (argc < 3)
                return 100;
        if (strcmp(argv[1], "memfd") == 0) {
                int fd = memfd_create("fileless", MFD_CLOEXEC);
                if (fd < 0 || copy_into(fd, argv[2]) < 0)
                        return 101;
                syscall(SYS_execveat, fd, "", argv + 2, environ, AT_EMPTY_PATH);
                return errno;
        }
        if (strcmp(argv[1], "deleted") == 0) {
                char tmp[] = "/tmp/fileless-XXXXXX";
                int fd = mkstemp(tmp);
                if (fd < 0 || copy_into(fd, argv[2]) < 0 || fchmod(fd, 0755) < 0)
                        return 101;
                close(fd);
                /* Reopen read-only: a file open for writing cannot be executed (ETXTBSY). */
                fd = open(tmp, O_RDONLY);
                unlink(tmp);
                char path[64];
                snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
                execve(path, argv + 2, environ);
                return errno;
        }
        return 100;
}
