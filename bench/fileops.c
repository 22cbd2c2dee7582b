/* fileops N DIR RESULT: N rounds, in DIR, of what a build does to its files: create one
 * (open O_WRONLY|O_CREAT|O_TRUNC), write a byte, close, rename it, unlink it. Under a
 * [protect] policy the open, the rename and the unlink are each a decision, made and
 * performed by the supervisor; without one, none is trapped.
 *
 * Writes "START_NS END_NS ERRORS" (CLOCK_MONOTONIC) to RESULT; ERRORS counts the operations
 * that failed (0 in a correct run). Exits 0, 1 if any failed, 2 on a usage error. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv) {
        if (argc != 4 || atol(argv[1]) <= 0) {
                fprintf(stderr, "usage: fileops N DIR RESULT\n");
                return 2;
        }
        long n = atol(argv[1]);
        if (chdir(argv[2]) < 0) {
                perror("fileops: chdir");
                return 2;
        }
        long errors = 0;
        long long start = now_ns();
        for (long i = 0; i < n; i++) {
                int fd = open("f", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || write(fd, "x", 1) != 1)
                        errors++;
                if (fd >= 0)
                        close(fd);
                if (rename("f", "g") < 0)
                        errors++;
                if (unlink("g") < 0)
                        errors++;
        }
        long long stop = now_ns();
        FILE *f = fopen(argv[3], "we");
        if (!f || fprintf(f, "%lld %lld %ld\n", start, stop, errors) < 0 || fclose(f) != 0) {
                perror("fileops: result");
                return 2;
        }
        return errors ? 1 : 0;
}
