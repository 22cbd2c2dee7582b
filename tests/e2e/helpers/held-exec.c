/* held-exec ALLOWED BLOCKED MARKER: an exec approved for ALLOWED, held on its way while its
 * supervisor is killed, then let go to BLOCKED. Run as the command of `execguard run` (its
 * parent is the supervisor), as root (userfaultfd of kernel accesses).
 *
 * The path the child execs lies in a page served by userfaultfd: first with ALLOWED (what
 * the supervisor reads), then taken away once the supervisor reads the arguments (it reads
 * the path first), so that the kernel's own read of the path, after the answer, faults. That
 * fault is held while the supervisor is SIGKILLed, then served with BLOCKED: the exec goes
 * on to BLOCKED with no supervisor left. The check after exec must still stop it: ptrace's
 * PTRACE_O_EXITKILL, or the kernel engine, which must outlive its supervisor.
 *
 * BLOCKED is run with MARKER as its argument, which it creates if it ever runs. Prints what
 * became of the child; exits 0 if it was killed, 1 if BLOCKED ran, 2 if the attack could
 * not be set up. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *allowed, *blocked, *marker;
static pid_t supervisor;
static long page;
static char *path_page, *argv_page;
static int uffd;

static void serve(void *at, const void *content) {
        struct uffdio_copy copy = {
                .dst = (unsigned long) at,
                .src = (unsigned long) content,
                .len = (unsigned long) page,
        };
        if (ioctl(uffd, UFFDIO_COPY, &copy) < 0 && errno != EEXIST) {
                perror("held-exec: UFFDIO_COPY");
                _exit(2);
        }
}

static bool gone(pid_t pid) {
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return true;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return true;
        buf[n] = '\0';
        const char *s = strrchr(buf, ')');
        return s && s[1] == ' ' && (s[2] == 'Z' || s[2] == 'X');
}

static void *fault_handler(void *arg) {
        (void) arg;
        char *content = calloc(1, (size_t) page);
        int path_faults = 0;
        for (;;) {
                struct pollfd p = { .fd = uffd, .events = POLLIN };
                if (poll(&p, 1, 20000) <= 0) {
                        fprintf(stderr, "held-exec: no fault for 20 s\n");
                        _exit(2);
                }
                struct uffd_msg msg;
                if (read(uffd, &msg, sizeof msg) != sizeof msg || msg.event != UFFD_EVENT_PAGEFAULT)
                        continue;
                char *at = (char *) (msg.arg.pagefault.address & ~(unsigned long) (page - 1));
                memset(content, 0, (size_t) page);
                if (at == path_page && path_faults++ == 0) {
                        /* The supervisor reads the path. */
                        strcpy(content, allowed);
                        serve(at, content);
                } else if (at == path_page) {
                        /* The kernel reads it again, after the answer: kill the supervisor,
                         * wait for it to be gone, then hand the kernel BLOCKED. */
                        kill(supervisor, SIGKILL);
                        for (int i = 0; i < 500 && !gone(supervisor); i++)
                                usleep(10000);
                        usleep(100000);
                        strcpy(content, blocked);
                        serve(at, content);
                        return NULL;
                } else if (at == argv_page) {
                        /* The supervisor reads the arguments, so it has read the path: take
                         * it away, for the kernel's own read to fault. */
                        if (madvise(path_page, (size_t) page, MADV_DONTNEED) < 0) {
                                perror("held-exec: madvise");
                                _exit(2);
                        }
                        char **argv = (char **) content;
                        char *strings = content + 64;
                        strcpy(strings, "held-exec-child");
                        strcpy(strings + 32, marker);
                        argv[0] = argv_page + 64;
                        argv[1] = argv_page + 64 + 32;
                        argv[2] = NULL;
                        serve(at, content);
                }
        }
}

static _Noreturn void child(void) {
        page = sysconf(_SC_PAGESIZE);
        char *area = mmap(NULL, (size_t) page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        uffd = (int) syscall(SYS_userfaultfd, O_CLOEXEC);
        struct uffdio_api api = { .api = UFFD_API };
        if (area == MAP_FAILED || uffd < 0 || ioctl(uffd, UFFDIO_API, &api) < 0) {
                perror("held-exec: userfaultfd");
                _exit(2);
        }
        struct uffdio_register reg = {
                .range = { .start = (unsigned long) area, .len = (unsigned long) page * 2 },
                .mode = UFFDIO_REGISTER_MODE_MISSING,
        };
        if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) {
                perror("held-exec: UFFDIO_REGISTER");
                _exit(2);
        }
        path_page = area;
        argv_page = area + page;
        pthread_t t;
        pthread_create(&t, NULL, fault_handler, NULL);
        execve(path_page, (char **) argv_page, environ);
        _exit(100 + errno);
}

int main(int argc, char **argv) {
        if (argc != 4)
                return 2;
        allowed = argv[1];
        blocked = argv[2];
        marker = argv[3];
        supervisor = getppid();
        pid_t pid = fork();
        if (pid < 0)
                return 2;
        if (pid == 0)
                child();
        int status;
        if (waitpid(pid, &status, 0) != pid)
                return 2;
        bool ran = access(marker, F_OK) == 0;
        if (WIFSIGNALED(status))
                printf("held exec: killed by signal %d; blocked program ran: %s\n", WTERMSIG(status),
                       ran ? "YES" : "no");
        else
                printf("held exec: exit status %d; blocked program ran: %s\n", WEXITSTATUS(status), ran ? "YES" : "no");
        if (ran)
                return 1;
        return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : 2;
}
