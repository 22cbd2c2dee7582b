/* soak-exec N ALLOWED BLOCKED MARKER [TIMEOUT-SECONDS]: one soak session's load.
 *
 * N times, one after the other, fork a child that execve()s ALLOWED (even iterations) or
 * BLOCKED (odd ones), so that allowed and blocked execs interleave. The programs are the
 * e2e marker: ALLOWED is given /dev/null to "create" (it exits 0), BLOCKED is given MARKER,
 * which exists afterwards if it ever ran.
 *
 * Each exec's outcome is known exactly, not guessed from an exit status: the child reports
 * the errno of a failed execve() through a close-on-exec pipe, which a successful exec
 * closes empty. Counts, one line on stdout:
 *
 *   ran=A refused=R wrong=W lost=L blocked-ran=B
 *
 *   ran          ALLOWED was executed and exited 0
 *   refused      BLOCKED was refused with EACCES
 *   wrong        anything else: ALLOWED refused or failing, BLOCKED refused with another errno
 *   lost         no answer within TIMEOUT-SECONDS (default 120): the exec, or the program,
 *                hung; the child is killed
 *   blocked-ran  BLOCKED was executed (counted in wrong too)
 *
 * The first few wrong or lost execs are described on stderr. Exits 0 when every exec
 * was what it should be, 1 otherwise, 2 on a usage or setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DESCRIBE_MAX 5

extern char **environ;

struct counts {
        unsigned long ran, refused, wrong, lost, blocked_ran;
};

static unsigned long described;

static void describe(unsigned long i, const char *what, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void describe(unsigned long i, const char *what, const char *fmt, ...) {
        if (described++ >= DESCRIBE_MAX)
                return;
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "soak-exec: exec %lu (%s): ", i, what);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

static long long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is readable or deadline (CLOCK_MONOTONIC, ms) passes: 1, 0 on timeout. */
static int wait_readable(int fd, long long deadline) {
        for (;;) {
                long long left = deadline - now_ms();
                if (left <= 0)
                        return 0;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int n = poll(&p, 1, left > 60000 ? 60000 : (int) left);
                if (n > 0)
                        return 1;
                if (n < 0 && errno != EINTR)
                        return -errno;
        }
}

/* Run one exec of path; classify its outcome into c. */
static int one_exec(unsigned long i, const char *path, const char *arg, int blocked, int timeout_s, struct counts *c) {
        const char *what = blocked ? "blocked" : "allowed";
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return r;
        }
        if (pid == 0) {
                /* Should we die, a child waiting for an answer must not wait for ever. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                char *argv[] = { (char *) path, (char *) arg, NULL };
                execve(path, argv, environ);
                int e = errno;
                (void) !write(pipefd[1], &e, sizeof e);
                _exit(127);
        }
        close(pipefd[1]);
        int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        long long deadline = now_ms() + (long long) timeout_s * 1000;

        /* The exec's answer: an errno, or the pipe closed by the exec. */
        int err = 0, answered = wait_readable(pipefd[0], deadline);
        if (answered > 0) {
                ssize_t n = read(pipefd[0], &err, sizeof err);
                if (n != 0 && n != (ssize_t) sizeof err)
                        err = -1; /* cannot happen: a short report */
        }
        close(pipefd[0]);
        /* Then its end. */
        if (answered > 0 && pidfd >= 0 && wait_readable(pidfd, deadline) <= 0)
                answered = 0;
        if (answered <= 0) {
                kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                if (pidfd >= 0)
                        close(pidfd);
                c->lost++;
                describe(i, what, "no answer within %d s: lost", timeout_s);
                return 0;
        }
        int status;
        if (waitpid(pid, &status, 0) != pid) {
                int r = -errno;
                close(pidfd);
                return r;
        }
        if (pidfd >= 0)
                close(pidfd);

        if (!blocked) {
                if (err == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
                        c->ran++;
                else {
                        c->wrong++;
                        describe(i, what, "errno %d (%s), status %#x", err, err > 0 ? strerror(err) : "-",
                                 (unsigned) status);
                }
        } else if (err == EACCES)
                c->refused++;
        else {
                c->wrong++;
                if (err == 0) {
                        c->blocked_ran++;
                        describe(i, what, "it ran (status %#x)", (unsigned) status);
                } else
                        describe(i, what, "errno %d (%s), not EACCES", err, err > 0 ? strerror(err) : "-");
        }
        return 0;
}

int main(int argc, char **argv) {
        if (argc < 5 || argc > 6) {
                fprintf(stderr, "usage: soak-exec N ALLOWED BLOCKED MARKER [TIMEOUT-SECONDS]\n");
                return 2;
        }
        char *end;
        unsigned long n = strtoul(argv[1], &end, 10);
        int timeout_s = argc == 6 ? atoi(argv[5]) : 120;
        if (*end || timeout_s <= 0) {
                fprintf(stderr, "soak-exec: bad N or TIMEOUT-SECONDS\n");
                return 2;
        }
        struct counts c = {};
        for (unsigned long i = 0; i < n; i++) {
                int blocked = i % 2 == 1;
                int r = one_exec(i, blocked ? argv[3] : argv[2], blocked ? argv[4] : "/dev/null", blocked, timeout_s,
                                 &c);
                if (r < 0) {
                        fprintf(stderr, "soak-exec: exec %lu: cannot run it: %s\n", i, strerror(-r));
                        break; /* what is not counted is reported missing by the caller */
                }
        }
        printf("ran=%lu refused=%lu wrong=%lu lost=%lu blocked-ran=%lu\n", c.ran, c.refused, c.wrong, c.lost,
               c.blocked_ran);
        fflush(stdout);
        return c.wrong || c.lost || c.ran + c.refused != n ? 1 : 0;
}
