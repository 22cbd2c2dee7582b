/* timeit RESULT COMMAND [ARG...]: run COMMAND (fork, execvp, wait) and time it from inside
 * the supervised tree, so that a supervisor's own start-up (a policy load, a daemon's
 * hand-shake) is not counted: only the command's run and its one exec.
 *
 * Writes "START_NS END_NS ERRORS MAXRSS_KB" (CLOCK_MONOTONIC) to RESULT; ERRORS is 1 when
 * COMMAND did not exit 0; MAXRSS_KB is COMMAND's peak resident set (its process only, from
 * wait4(): the copy of this small program it was forked as counts, nothing bigger). Exits with COMMAND's status (128+N for signal N), 2 on a usage or setup error. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: timeit RESULT COMMAND [ARG...]\n");
                return 2;
        }
        long long start = now_ns();
        pid_t pid = fork();
        if (pid < 0) {
                perror("timeit: fork");
                return 2;
        }
        if (pid == 0) {
                execvp(argv[2], argv + 2);
                fprintf(stderr, "timeit: cannot execute %s: %s\n", argv[2], strerror(errno));
                _exit(127);
        }
        int status;
        struct rusage ru;
        while (wait4(pid, &status, 0, &ru) < 0)
                if (errno != EINTR) {
                        perror("timeit: wait4");
                        return 2;
                }
        long long stop = now_ns();
        int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);

        FILE *f = fopen(argv[1], "we");
        if (!f || fprintf(f, "%lld %lld %d %ld\n", start, stop, code != 0, ru.ru_maxrss) < 0 || fclose(f) != 0) {
                fprintf(stderr, "timeit: cannot write %s: %s\n", argv[1], strerror(errno));
                return 2;
        }
        return code;
}
