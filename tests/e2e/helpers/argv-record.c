/* argv-record ARG...: append one line to the file $ARGV_RECORD, the ARGs separated by
 * blanks. A stand-in for a program with arguments someone wants to stop (systemctl, rm):
 * each line is a run, with the arguments it really got. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
        const char *record = getenv("ARGV_RECORD");
        if (!record)
                return 2;
        char line[4096];
        size_t n = 0;
        for (int i = 1; i < argc; i++) {
                size_t len = strlen(argv[i]);
                if (n + len + 2 > sizeof line)
                        return 3;
                memcpy(line + n, argv[i], len);
                n += len;
                if (i + 1 < argc)
                        line[n++] = ' ';
        }
        line[n++] = '\n';
        int fd = open(record, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
                return 1;
        /* One write: the lines of runs at the same time never interleave (O_APPEND). */
        return write(fd, line, n) == (ssize_t) n ? 0 : 1;
}
