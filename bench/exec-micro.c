/* exec-micro N FILE RESULT: N execve() calls of FILE in this one process, no fork.
 *
 * FILE is an executable file that no binary format accepts: the kernel opens it, finds no
 * handler and fails the exec with ENOEXEC, and this process goes on. What one call costs is
 * the exec path up to that point plus whatever supervision adds to it: the exec-control
 * path alone, without a fork, a new program or an exit.
 *
 * Writes "START_NS END_NS ERRORS PARENT_CPU_NS" (CLOCK_MONOTONIC) to RESULT; ERRORS counts the
 * calls that did not fail with ENOEXEC (the first is described on stderr); PARENT_CPU_NS is
 * the CPU time the parent (a supervisor) used meanwhile, -1 if unknown (parentcpu.h). Exits 0 when there were
 * none, 1 otherwise, 2 on a usage or setup error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parentcpu.h"

extern char **environ;

static long long now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv) {
        if (argc != 4) {
                fprintf(stderr, "usage: exec-micro N FILE RESULT\n");
                return 2;
        }
        char *end;
        unsigned long n = strtoul(argv[1], &end, 10);
        if (*end || n == 0) {
                fprintf(stderr, "exec-micro: bad count '%s'\n", argv[1]);
                return 2;
        }
        char *exec_argv[] = { argv[2], NULL };
        unsigned long errors = 0;

        long long parent_cpu = parent_cpu_ns();
        long long start = now_ns();
        for (unsigned long i = 0; i < n; i++) {
                execve(argv[2], exec_argv, environ);
                if (errno != ENOEXEC && errors++ == 0)
                        fprintf(stderr, "exec-micro: exec %lu of %s: %s (want ENOEXEC)\n", i, argv[2], strerror(errno));
        }
        long long stop = now_ns();
        parent_cpu = parent_cpu_since(parent_cpu);

        FILE *f = fopen(argv[3], "we");
        if (!f || fprintf(f, "%lld %lld %lu %lld\n", start, stop, errors, parent_cpu) < 0 || fclose(f) != 0) {
                fprintf(stderr, "exec-micro: cannot write %s: %s\n", argv[3], strerror(errno));
                return 2;
        }
        return errors ? 1 : 0;
}
