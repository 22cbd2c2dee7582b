#include "tell.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "valgrind.h"

/* How long a write that would block may wait before it is interrupted. */
#define TELL_TIMEOUT_NS (20 * 1000 * 1000)

struct teller {
        timer_t timer;
        bool have_timer;
        int signo;
        sigset_t only; /* just signo */
};

/* The signal only interrupts: it must not restart the write (no SA_RESTART). */
static void interrupted(int signo _unused_) {
}

int teller_new(struct teller **ret) {
        _cleanup_free_ struct teller *t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->signo = SIGRTMIN + 1;
        sigemptyset(&t->only);
        sigaddset(&t->only, t->signo);
        struct sigaction sa = { .sa_handler = interrupted };
        sigemptyset(&sa.sa_mask);
        if (sigaction(t->signo, &sa, NULL) < 0)
                return negative_errno();
        /* Blocked but for the one write it is to interrupt. */
        int r = pthread_sigmask(SIG_BLOCK, &t->only, NULL);
        if (r != 0)
                return -r;
        struct sigevent ev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = t->signo };
        ev._sigev_un._tid = (pid_t) syscall(SYS_gettid); /* sigev_notify_thread_id: glibc 2.36 names it not */
        if (timer_create(CLOCK_MONOTONIC, &ev, &t->timer) < 0)
                return negative_errno();
        t->have_timer = true;
        *ret = TAKE_PTR(t);
        return 0;
}

void teller_free(struct teller *t) {
        if (!t)
                return;
        if (t->have_timer)
                timer_delete(t->timer);
        free(t);
}

/* write(), interrupted should it block for longer than TELL_TIMEOUT_NS (a terminal whose
 * output is stopped, a file system that stalls). The signal is unblocked only for the
 * write: one that comes later stays pending, and is taken away before we return. */
static ssize_t write_bounded(struct teller *t, int fd, const char *msg, size_t len) {
        struct itimerspec arm = { .it_value = { .tv_nsec = TELL_TIMEOUT_NS } }, disarm = {};
        if (timer_settime(t->timer, 0, &arm, NULL) < 0)
                return negative_errno();
        pthread_sigmask(SIG_UNBLOCK, &t->only, NULL);
        ssize_t n = write(fd, msg, len);
        int saved = errno;
        pthread_sigmask(SIG_BLOCK, &t->only, NULL);
        timer_settime(t->timer, 0, &disarm, NULL);
        struct timespec now = {};
        while (sigtimedwait(&t->only, NULL, &now) == t->signo)
                ;
        errno = saved;
        return n < 0 ? negative_errno() : n;
}

/* A kernel interface whose files may act, when written, with the writer's credentials
 * rather than the opener's: ours, root's, would be the ones checked. */
static bool kernel_interface(int fd) {
        static const unsigned long magics[] = {
                PROC_SUPER_MAGIC,
                SYSFS_MAGIC,
                DEBUGFS_MAGIC,
                TRACEFS_MAGIC,
                SECURITYFS_MAGIC,
                CGROUP_SUPER_MAGIC,
                CGROUP2_SUPER_MAGIC,
                BPF_FS_MAGIC,
                SELINUX_MAGIC,
                SMACK_MAGIC,
                EFIVARFS_MAGIC,
                PSTOREFS_MAGIC,
                BINFMTFS_MAGIC,
                0x62656570 /* configfs */,
                0x65735543 /* fusectl */,
        };
        struct statfs sfs;
        if (fstatfs(fd, &sfs) < 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(magics); i++)
                if ((unsigned long) sfs.f_type == magics[i])
                        return true;
        return false;
}

/* A terminal: a pseudo-terminal of devpts, or a device of the tty class in sysfs (not an
 * ioctl: a request on a device that is no terminal would reach its driver with our
 * credentials). */
static bool terminal(int fd, dev_t rdev) {
        struct statfs sfs;
        if (fstatfs(fd, &sfs) == 0 && sfs.f_type == DEVPTS_SUPER_MAGIC)
                return true;
        char link[64], target[256];
        snprintf(link, sizeof link, "/sys/dev/char/%u:%u/subsystem", major(rdev), minor(rdev));
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
                return false;
        target[n] = '\0';
        const char *slash = strrchr(target, '/');
        return slash && strcmp(slash + 1, "tty") == 0;
}

int teller_write(struct teller *t, int pidfd, const char *msg, size_t len) {
        /* A duplicate of the process's own description: its access mode and file position,
         * checked by the kernel when the process opened it, not now with ours. */
        _cleanup_close_ int fd = (int) syscall_fd4(SYS_pidfd_getfd, pidfd, STDERR_FILENO, 0, 0); /* O_CLOEXEC */
        if (fd < 0)
                return negative_errno();
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return negative_errno();
        if ((flags & O_PATH) || (flags & O_ACCMODE) == O_RDONLY)
                return -EBADF;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return negative_errno();

        ssize_t n;
        if (S_ISSOCK(st.st_mode)) {
                /* A TCP stream only. Over AF_UNIX the receiver may take our credentials
                 * (SCM_CREDENTIALS) with every write; a datagram would be a message of its
                 * own. */
                int type = 0, domain = 0;
                socklen_t tlen = sizeof type, dlen = sizeof domain;
                if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 ||
                    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) < 0)
                        return negative_errno();
                if (type != SOCK_STREAM || (domain != AF_INET && domain != AF_INET6))
                        return -EPERM;
                n = send(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0)
                        n = negative_errno();
        } else if ((S_ISREG(st.st_mode) && !kernel_interface(fd)) || S_ISFIFO(st.st_mode) ||
                   (S_ISCHR(st.st_mode) && terminal(fd, st.st_rdev))) {
                /* The description's O_NONBLOCK is the process's: never set it. A pipe takes
                 * RWF_NOWAIT; terminals and files refuse it, and get a bounded write. */
                struct iovec iov = { .iov_base = (void *) msg, .iov_len = len };
                n = pwritev2(fd, &iov, 1, -1, RWF_NOWAIT);
                if (n < 0 && errno == EOPNOTSUPP)
                        n = write_bounded(t, fd, msg, len);
                else if (n < 0)
                        n = negative_errno();
        } else
                return -EPERM; /* block devices above all: the message would land on a disk */
        return (int) n;
}
