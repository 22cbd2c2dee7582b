/* try-exec: perform exactly one exec variant and exit with the errno it failed with
 * (0 never happens: a successful exec runs the program instead).
 *
 *   try-exec execve PATH [ARG...]          execve(PATH)
 *   try-exec execveat DIR NAME [ARG...]    execveat(open(DIR), NAME, 0)
 *   try-exec nofollow PATH [ARG...]        execveat(AT_FDCWD, PATH, AT_SYMLINK_NOFOLLOW)
 *   try-exec fexecve PATH [ARG...]         execveat(open(PATH), "", AT_EMPTY_PATH)
 *   try-exec int80 PATH [ARG...]           i386 execve through int 0x80
 *   try-exec x32 PATH [ARG...]             x32 execve (syscall number | 0x40000000)
 *   try-exec thread PATH [ARG...]          execve from a second thread, the first alive
 *   try-exec traced PATH [ARG...]          execve in a child traced by us (a debugger's
 *                                          PTRACE_TRACEME); exits with the child's errno,
 *                                          or 0 if the exec went through
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static int die_usage(void) {
        fprintf(stderr, "usage: try-exec execve|execveat|nofollow|fexecve|int80|x32|thread ...\n");
        return 100;
}

/* int 0x80 takes 32-bit pointers: copy path and argv below 4 GiB. */
static int exec_int80(const char *path, char **argv) {
        char *low = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        if (low == MAP_FAILED)
                return errno;
        uint32_t *vec = (uint32_t *) low;
        char *strings = low + 4096;
        size_t off = 0;
        int argc = 0;
        for (; argv[argc] && argc < 64; argc++) {
                size_t n = strlen(argv[argc]) + 1;
                memcpy(strings + off, argv[argc], n);
                vec[argc] = (uint32_t) (uintptr_t) (strings + off);
                off += n;
        }
        vec[argc] = 0;
        uint32_t *envp = vec + argc + 1;
        envp[0] = 0;
        char *p = strings + off;
        strcpy(p, path);
        long ret;
        __asm__ volatile("int $0x80"
                         : "=a"(ret)
                         : "a"(11), "b"((uint32_t) (uintptr_t) p), "c"((uint32_t) (uintptr_t) vec),
                           "d"((uint32_t) (uintptr_t) envp)
                         : "memory");
        return (int) -ret;
}

struct thread_args {
        const char *path;
        char **argv;
};

static void *exec_thread(void *data) {
        struct thread_args *a = data;
        execve(a->path, a->argv, environ);
        exit(errno);
}

int main(int argc, char **argv) {
        if (argc < 3)
                return die_usage();
        const char *mode = argv[1];
        const char *path = argv[2];
        char **args = argv + 2;

        if (strcmp(mode, "execve") == 0)
                execve(path, args, environ);
        else if (strcmp(mode, "execveat") == 0) {
                if (argc < 4)
                        return die_usage();
                int dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (dir < 0)
                        return 101;
                syscall(SYS_execveat, dir, argv[3], argv + 3, environ, 0);
        } else if (strcmp(mode, "nofollow") == 0)
                syscall(SYS_execveat, AT_FDCWD, path, args, environ, AT_SYMLINK_NOFOLLOW);
        else if (strcmp(mode, "fexecve") == 0) {
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return 101;
                syscall(SYS_execveat, fd, "", args, environ, AT_EMPTY_PATH);
        } else if (strcmp(mode, "int80") == 0)
                return exec_int80(path, args);
        else if (strcmp(mode, "x32") == 0)
                syscall(0x40000000 | 520, path, args, environ);
        else if (strcmp(mode, "thread") == 0) {
                pthread_t t;
                struct thread_args a = { path, args };
                if (pthread_create(&t, NULL, exec_thread, &a) != 0)
                        return 101;
                for (;;)
                        pause(); /* stay alive while the other thread execs */
        } else if (strcmp(mode, "traced") == 0) {
                pid_t child = fork();
                if (child == 0) {
                        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
                        raise(SIGSTOP);
                        execve(path, args, environ);
                        _exit(errno);
                }
                int status;
                waitpid(child, &status, 0); /* the SIGSTOP */
                ptrace(PTRACE_CONT, child, NULL, NULL);
                waitpid(child, &status, 0);
                if (WIFSTOPPED(status)) { /* SIGTRAP after a successful exec */
                        kill(child, SIGKILL);
                        return 0;
                }
                return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
        } else
                return die_usage();
        return errno;
}
