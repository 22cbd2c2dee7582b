/* enoexec-loop N FILE: execve() FILE, which no binary format accepts, N times in a row in
 * this one process. Each must fail with ENOEXEC, as it does unsupervised: a failed exec
 * followed at once by another (glibc's execvp() retries a script without "#!" with
 * /bin/sh) must be judged afresh, not refused. Exits 0 if all did, 1 otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
        if (argc != 3)
                return 2;
        long n = strtol(argv[1], NULL, 10);
        char *exec_argv[] = { argv[2], NULL };
        long wrong = 0;
        for (long i = 0; i < n; i++) {
                execve(argv[2], exec_argv, environ);
                if (errno != ENOEXEC && wrong++ == 0)
                        fprintf(stderr, "exec %ld: %s\n", i, strerror(errno));
        }
        printf("%ld of %ld failed otherwise than ENOEXEC\n", wrong, n);
        return wrong ? 1 : 0;
}
