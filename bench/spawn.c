/* spawn [-g] [-l] N PROGRAM RESULT: N sequential fork + execve(PROGRAM) + wait.
 *
 * The exec-heavy load (W1, W4) and one session of the concurrent one (W5). PROGRAM runs
 * with no arguments and must exit 0 (/bin/true).
 *
 *   -g  gate: create RESULT.ready, then wait for end of file on standard input before the
 *       first spawn, so that many sessions can be set up first and then started at once
 *   -l  also write each spawn's wall time (fork to reaped, in µs), one a line, after the
 *       first line of RESULT
 *
 * RESULT's first line is "START_NS END_NS ERRORS PARENT_CPU_NS" (CLOCK_MONOTONIC, comparable
 * between the processes of one host); ERRORS counts spawns whose child did not exit 0 (the
 * first is described on stderr); PARENT_CPU_NS is the CPU time the parent (a supervisor)
 * used meanwhile, -1 if unknown (parentcpu.h). Exits 0 when there were none, 1 otherwise, 2 on a usage or setup
 * error. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "parentcpu.h"

extern char **environ;

static long long now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int usage(void) {
        fprintf(stderr, "usage: spawn [-g] [-l] N PROGRAM RESULT\n");
        return 2;
}

/* Say "ready" by creating PATH.ready, then block until standard input is closed by its
 * last writer. */
static int gate(const char *result) {
        char ready[4096];
        if ((size_t) snprintf(ready, sizeof ready, "%s.ready", result) >= sizeof ready)
                return -ENAMETOOLONG;
        int fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        close(fd);
        char buf[64];
        for (;;) {
                ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
                if (n == 0)
                        return 0;
                if (n < 0 && errno != EINTR)
                        return -errno;
        }
}

int main(int argc, char **argv) {
        bool gated = false, latencies = false;
        int opt;
        while ((opt = getopt(argc, argv, "+gl")) != -1) {
                if (opt == 'g')
                        gated = true;
                else if (opt == 'l')
                        latencies = true;
                else
                        return usage();
        }
        if (argc - optind != 3)
                return usage();
        char *end;
        unsigned long n = strtoul(argv[optind], &end, 10);
        if (*end || n == 0) {
                fprintf(stderr, "spawn: bad count '%s'\n", argv[optind]);
                return 2;
        }
        const char *program = argv[optind + 1], *result = argv[optind + 2];
        char *exec_argv[] = { (char *) program, NULL };
        unsigned *lat = NULL;
        if (latencies && !(lat = calloc(n, sizeof *lat))) {
                fprintf(stderr, "spawn: out of memory\n");
                return 2;
        }
        if (gated) {
                int r = gate(result);
                if (r < 0) {
                        fprintf(stderr, "spawn: gate: %s\n", strerror(-r));
                        return 2;
                }
        }

        unsigned long errors = 0;
        long long parent_cpu = parent_cpu_ns();
        long long start = now_ns();
        for (unsigned long i = 0; i < n; i++) {
                long long t0 = latencies ? now_ns() : 0;
                pid_t pid = fork();
                if (pid < 0) {
                        perror("spawn: fork");
                        return 2;
                }
                if (pid == 0) {
                        execve(program, exec_argv, environ);
                        _exit(errno == EACCES ? 126 : 127);
                }
                int status;
                while (waitpid(pid, &status, 0) < 0)
                        if (errno != EINTR) {
                                perror("spawn: waitpid");
                                return 2;
                        }
                if (latencies)
                        lat[i] = (unsigned) ((now_ns() - t0) / 1000);
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        if (errors++ == 0)
                                fprintf(stderr, "spawn: spawn %lu of %s: wait status 0x%x\n", i, program,
                                        (unsigned) status);
                }
        }
        long long stop = now_ns();
        parent_cpu = parent_cpu_since(parent_cpu);

        FILE *f = fopen(result, "we");
        if (!f) {
                fprintf(stderr, "spawn: cannot write %s: %s\n", result, strerror(errno));
                return 2;
        }
        fprintf(f, "%lld %lld %lu %lld\n", start, stop, errors, parent_cpu);
        for (unsigned long i = 0; latencies && i < n; i++)
                fprintf(f, "%u\n", lat[i]);
        if (ferror(f) | (fclose(f) != 0)) {
                fprintf(stderr, "spawn: cannot write %s\n", result);
                return 2;
        }
        free(lat);
        return errors ? 1 : 0;
}
