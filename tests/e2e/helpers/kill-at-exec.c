/* kill-at-exec N PROGRAM [ARG...]: N times, fork a child that execs PROGRAM, and SIGKILL it
 * as soon as it is seen in a tracing stop ('t' in /proc/PID/stat): under execguard, the stop
 * at its exec where the supervisor verifies it. Each kill comes a little later than the
 * one before (0 to 30 µs after the stop is seen, in steps of 2), to land at every point of the
 * verification. What a parent's timeout does by chance (CPython's subprocess.run(...,
 * timeout=...)), done on purpose. Prints the tally; exits 0 unless a fork fails. */
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The state letter of pid (/proc/PID/stat, after the ")" that ends its name), or 0. */
static char state_of(int stat_fd) {
        char buf[512];
        ssize_t n = pread(stat_fd, buf, sizeof buf - 1, 0);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        for (ssize_t i = n - 1; i > 0; i--)
                if (buf[i] == ')')
                        return i + 2 < n ? buf[i + 2] : 0;
        return 0;
}

static long long now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: kill-at-exec N PROGRAM [ARG...]\n");
                return 2;
        }
        long n = atol(argv[1]), at_stop = 0, before_stop = 0, exited = 0;
        for (long i = 0; i < n; i++) {
                pid_t pid = fork();
                if (pid < 0) {
                        perror("fork");
                        return 1;
                }
                if (pid == 0) {
                        execv(argv[2], argv + 2);
                        _exit(127);
                }
                char name[64];
                snprintf(name, sizeof name, "/proc/%d/stat", (int) pid);
                int fd = open(name, O_RDONLY | O_CLOEXEC);
                bool stopped = false;
                long long deadline = now_ns() + 200000000LL; /* 0.2 s: then kill it anyway */
                while (fd >= 0 && now_ns() < deadline) {
                        char s = state_of(fd);
                        if (s == 't') {
                                stopped = true;
                                break;
                        }
                        if (s == 0 || s == 'Z' || s == 'X')
                                break;
                }
                if (stopped)
                        for (long long until = now_ns() + (i % 16) * 2000; now_ns() < until;)
                                ;
                kill(pid, SIGKILL);
                if (fd >= 0)
                        close(fd);
                int status;
                if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
                        exited++;
                else if (stopped)
                        at_stop++;
                else
                        before_stop++;
        }
        printf("kill-at-exec: %ld children: killed at a tracing stop %ld, killed otherwise %ld, exited %ld\n", n,
               at_stop, before_stop, exited);
        return 0;
}
