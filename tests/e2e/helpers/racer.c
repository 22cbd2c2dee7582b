/* racer MODE ALLOWED BLOCKED MARKER ATTEMPTS SECONDS [LINK]: try to make the kernel run
 * BLOCKED while the supervisor approves ALLOWED. Each attempt forks a child that execs
 * while a second thread of it keeps swapping what the exec names:
 *   string   the path string itself, in memory the exec'ing thread shares;
 *   symlink  a symlink LINK, renamed over between one to ALLOWED and one to BLOCKED;
 *   interp   the same symlink, while the child execs PROGRAM, an ELF whose program
 *            interpreter (PT_INTERP) is LINK;
 *   loader   the same symlink, while the child runs PROGRAM, a dynamic loader, as a
 *            command: `PROGRAM LINK MARKER`;
 *   thread   the path string, as string, but the exec is made by a thread that is not
 *            the leader while the leader lives (the kernel's de_thread());
 *   fd       execveat(FD, "", AT_EMPTY_PATH) while the second thread dup2()s BLOCKED and
 *            ALLOWED, opened O_PATH, over FD in turn.
 * BLOCKED is run with MARKER as its argument, which it creates if it ever runs; a blocked
 * program that cannot run as an interpreter crashes instead, which is counted (segv).
 * Prints the tally; exits 1 if MARKER exists at the end, 0 otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *allowed, *blocked, *marker, *link_path, *program;
static char path_buf[4096];

static void *swap_string(void *arg) {
        (void) arg;
        size_t la = strlen(allowed) + 1, lb = strlen(blocked) + 1;
        for (;;) {
                memcpy(path_buf, blocked, lb);
                for (volatile int i = 0; i < 50; i++)
                        ;
                memcpy(path_buf, allowed, la);
                for (volatile int i = 0; i < 50; i++)
                        ;
        }
        return NULL;
}

static void *swap_symlink(void *arg) {
        (void) arg;
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.%d", link_path, (int) getpid());
        for (;;) {
                unlink(tmp);
                if (symlink(blocked, tmp) == 0)
                        rename(tmp, link_path);
                unlink(tmp);
                if (symlink(allowed, tmp) == 0)
                        rename(tmp, link_path);
        }
        return NULL;
}

static int fd_allowed, fd_blocked;
#define EXEC_FD 100

static void *swap_fd(void *arg) {
        (void) arg;
        for (;;) {
                dup2(fd_blocked, EXEC_FD);
                for (volatile int i = 0; i < 50; i++)
                        ;
                dup2(fd_allowed, EXEC_FD);
                for (volatile int i = 0; i < 50; i++)
                        ;
        }
        return NULL;
}

static void *exec_from_thread(void *arg) {
        char **argv = arg;
        execve(path_buf, argv, environ);
        _exit(100 + errno);
}

static _Noreturn void attempt(const char *mode) {
        pthread_t t, t2;
        char *argv[] = { (char *) "racer-child", (char *) marker, NULL };
        if (strcmp(mode, "thread") == 0) {
                memcpy(path_buf, allowed, strlen(allowed) + 1);
                pthread_create(&t, NULL, swap_string, NULL);
                pthread_create(&t2, NULL, exec_from_thread, argv);
                for (;;)
                        pause(); /* the leader lives on until the exec takes it */
        } else if (strcmp(mode, "fd") == 0) {
                fd_allowed = open(allowed, O_PATH | O_CLOEXEC);
                fd_blocked = open(blocked, O_PATH | O_CLOEXEC);
                if (fd_allowed < 0 || fd_blocked < 0 || dup2(fd_allowed, EXEC_FD) < 0)
                        _exit(99);
                pthread_create(&t, NULL, swap_fd, NULL);
                for (volatile int i = 0; i < 2000; i++)
                        ;
                syscall(SYS_execveat, EXEC_FD, "", argv, environ, AT_EMPTY_PATH);
        } else if (strcmp(mode, "string") == 0) {
                memcpy(path_buf, allowed, strlen(allowed) + 1);
                pthread_create(&t, NULL, swap_string, NULL);
                for (volatile int i = 0; i < 2000; i++)
                        ;
                execve(path_buf, argv, environ);
        } else {
                char *loader_argv[] = { (char *) program, (char *) link_path, (char *) marker, NULL };
                pthread_create(&t, NULL, swap_symlink, NULL);
                for (volatile int i = 0; i < 2000; i++)
                        ;
                if (strcmp(mode, "loader") == 0)
                        execve(program, loader_argv, environ);
                else
                        execve(program ? program : link_path, argv, environ);
        }
        _exit(100 + errno);
}

int main(int argc, char **argv) {
        if (argc < 7)
                return 2;
        const char *mode = argv[1];
        allowed = argv[2];
        blocked = argv[3];
        marker = argv[4];
        long attempts = atol(argv[5]);
        double seconds = atof(argv[6]);
        link_path = argc > 7 ? argv[7] : NULL;
        program = argc > 8 ? argv[8] : NULL;
        if ((strcmp(mode, "symlink") == 0 && !link_path) ||
            ((strcmp(mode, "interp") == 0 || strcmp(mode, "loader") == 0) && !program))
                return 2;

        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        long n = 0, ran_allowed = 0, denied = 0, killed = 0, segv = 0, other = 0;
        for (; n < attempts; n++) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                if ((double) (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 > seconds)
                        break;
                pid_t pid = fork();
                if (pid == 0)
                        attempt(mode);
                int status;
                if (pid < 0 || waitpid(pid, &status, 0) != pid)
                        return 2;
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                        ran_allowed++;
                else if (WIFEXITED(status) && WEXITSTATUS(status) == 100 + EACCES)
                        denied++;
                else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
                        killed++;
                else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
                        segv++;
                else
                        other++;
                if (access(marker, F_OK) == 0 || segv > 0) {
                        n++;
                        break;
                }
        }
        bool ran_blocked = access(marker, F_OK) == 0 || segv > 0;
        printf("%s racer: attempts=%ld allowed-ran=%ld denied=%ld killed-by-verification=%ld segv=%ld other=%ld "
               "blocked-ran=%s\n",
               mode, n, ran_allowed, denied, killed, segv, other, ran_blocked ? "YES" : "no");
        return ran_blocked ? 1 : 0;
}
