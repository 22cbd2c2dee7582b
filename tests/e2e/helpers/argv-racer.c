/* argv-racer [--from-thread] PROGRAM GOOD BAD ATTEMPTS SECONDS [ARG...]: try to make the
 * kernel run PROGRAM
 * with the argument BAD while the supervisor judged GOOD. Each attempt forks a child that
 * execs `PROGRAM WORD [ARG...]` while a second thread of it keeps
 * rewriting WORD in place, in the memory the exec'ing thread passes to execve(), between
 * GOOD and BAD (of the same length, so WORD is always one or the other, or a mix of
 * the two, never a longer string). The supervisor reads the arguments when it judges the
 * exec; the kernel copies them again afterwards: in between they can change.
 * --from-thread: the exec is made by a third thread, not the leader, which stays alive
 * (the kernel's de_thread() waits for the others to go: a tracer must reap them).
 *
 * PROGRAM is meant to be argv-record, which appends the words it got to $ARGV_RECORD: how
 * often it ran with BAD is counted from there. Prints the tally of the attempts:
 *   ran      the program ran (exit 0): with whatever word the kernel copied
 *   denied   the exec failed with EACCES (the supervisor read BAD)
 *   killed   the process was killed by SIGKILL (the verifier saw other arguments)
 *   other    anything else
 * Exits 0 when the attempts were made, 2 on a usage or system error. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *good, *bad;
static char word[256];

static void *flip(void *arg) {
        (void) arg;
        size_t n = strlen(good);
        for (;;) {
                memcpy(word, bad, n);
                for (volatile int i = 0; i < 50; i++)
                        ;
                memcpy(word, good, n);
                for (volatile int i = 0; i < 50; i++)
                        ;
        }
        return NULL;
}

static void *exec_argv(void *argv) {
        for (volatile int i = 0; i < 2000; i++)
                ;
        execve(((char **) argv)[0], argv, environ);
        _exit(100 + errno);
}

static _Noreturn void attempt(char **argv, bool from_thread) {
        pthread_t t;
        memcpy(word, good, strlen(good) + 1);
        if (pthread_create(&t, NULL, flip, NULL) != 0)
                _exit(99);
        if (from_thread) {
                if (pthread_create(&t, NULL, exec_argv, argv) != 0)
                        _exit(99);
                for (;;)
                        pause();
        }
        exec_argv(argv);
        _exit(99);
}

int main(int argc, char **argv) {
        bool from_thread = argc > 1 && strcmp(argv[1], "--from-thread") == 0;
        if (from_thread) {
                argc--;
                argv++;
        }
        if (argc < 6)
                return 2;
        const char *program = argv[1];
        good = argv[2];
        bad = argv[3];
        long attempts = atol(argv[4]);
        double seconds = atof(argv[5]);
        if (strlen(good) != strlen(bad) || strlen(good) >= sizeof word)
                return 2;

        /* PROGRAM WORD [ARG...] NULL */
        size_t n_extra = (size_t) (argc - 6);
        char **child_argv = calloc(n_extra + 3, sizeof *child_argv);
        if (!child_argv)
                return 2;
        child_argv[0] = (char *) program;
        child_argv[1] = word;
        for (size_t i = 0; i < n_extra; i++)
                child_argv[2 + i] = argv[6 + i];

        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        long n = 0, ran = 0, denied = 0, killed = 0, other = 0;
        for (; n < attempts; n++) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                if ((double) (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 > seconds)
                        break;
                pid_t pid = fork();
                if (pid == 0)
                        attempt(child_argv, from_thread);
                int status;
                if (pid < 0 || waitpid(pid, &status, 0) != pid)
                        return 2;
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                        ran++;
                else if (WIFEXITED(status) && WEXITSTATUS(status) == 100 + EACCES)
                        denied++;
                else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
                        killed++;
                else
                        other++;
        }
        printf("argv racer: attempts=%ld ran=%ld denied=%ld killed=%ld other=%ld\n", n, ran, denied, killed, other);
        return 0;
}
