#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "filter.h"
#include "log.h"
#include "supervise.h"
#include "util.h"

#define EXIT_SETUP_FAILED   125
#define EXIT_CANNOT_EXECUTE 126
#define EXIT_NOT_FOUND      127

static int send_fd(int sock, int fd) {
        char byte = 'L';
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct msghdr msg = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof control.buf,
        };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
        return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? negative_errno() : 0;
}

static int receive_fd(int sock, int *ret_fd) {
        char byte;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct msghdr msg = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof control.buf,
        };
        /* MSG_CMSG_CLOEXEC: the listener must never leak into anything we start. */
        ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0)
                return negative_errno();
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (n == 0 || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
            c->cmsg_len != CMSG_LEN(sizeof(int)) || (msg.msg_flags & MSG_CTRUNC))
                return -EBADMSG;
        memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
        return 0;
}

/* Messages from the supervisor to the wrapper over their socket. */
struct report {
        char kind; /* 'P': the command's pid; 'S': its wait status */
        int value;
};

static int send_report(int sock, char kind, int value) {
        struct report m = { .kind = kind, .value = value };
        return send(sock, &m, sizeof m, MSG_NOSIGNAL) == sizeof m ? 0 : -EIO;
}

static void reset_signals(const sigset_t *mask) {
        static const int defaulted[] = { SIGINT, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU };
        for (size_t i = 0; i < ELEMENTSOF(defaulted); i++)
                signal(defaulted[i], SIG_DFL);
        sigprocmask(SIG_SETMASK, mask, NULL);
}

/* The command. Never returns. */
static _Noreturn void command_main(char **argv, int sock, const sigset_t *old_mask) {
        reset_signals(old_mask);

        int listener = -1;
        int r = filter_install(&listener);
        if (r < 0) {
                log_error_errno(r, "Failed to install the seccomp filter: %m (is CONFIG_SECCOMP_FILTER enabled?)");
                _exit(EXIT_SETUP_FAILED);
        }
        r = send_fd(sock, listener);
        safe_close(listener);
        if (r < 0) {
                log_error_errno(r, "Failed to hand the listener to the supervisor: %m");
                _exit(EXIT_SETUP_FAILED);
        }
        /* Wait until the supervisor holds the listener, so that a failure to set up is
         * reported as such and not as a mysterious ENOSYS from our own exec. */
        char ready;
        if (read(sock, &ready, 1) != 1) {
                log_error("The supervisor failed to start; not running %s", argv[0]);
                _exit(EXIT_SETUP_FAILED);
        }
        /* The supervised tree keeps stdio and nothing else of ours or of our caller's. */
        if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0) {
                for (int fd = 3; fd < 65536; fd++)
                        close(fd);
        }
        /* Inherited from the supervisor, non-dumpability would make our /proc files
         * unreadable to a supervisor that is not root. Nothing of the supervisor's is left
         * in this process now. */
        if (prctl(PR_SET_DUMPABLE, 1) < 0) {
                log_error_errno(negative_errno(), "prctl(PR_SET_DUMPABLE) failed: %m");
                _exit(EXIT_SETUP_FAILED);
        }
        execvp(argv[0], argv);
        int e = errno;
        fprintf(stderr, "execguard: %s: %s\n", argv[0], strerror(e));
        _exit(e == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE);
}

struct command_watch {
        pid_t command;
        int report_sock;
};

/* The command changed state: once it has ended, tell the wrapper how. */
static void on_child(pid_t pid, int status, void *data) {
        struct command_watch *w = data;
        if (pid != w->command || !(WIFEXITED(status) || WIFSIGNALED(status)) || w->report_sock < 0)
                return;
        if (send_report(w->report_sock, 'S', status) < 0)
                log_debug("The wrapper is gone; the command's status is not reported");
        w->report_sock = safe_close(w->report_sock);
}

/* The supervisor. Never returns. */
static _Noreturn void supervisor_main(const struct policy *policy, char **argv, int report_sock,
                                      const sigset_t *old_mask) {
        /* Until setsid() below we share the terminal's process group: a Ctrl-C or Ctrl-Z
         * then must not stop or kill us. Writing a block message to a closed pipe must not
         * kill us either. */
        static const int ignored[] = { SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE };
        for (size_t i = 0; i < ELEMENTSOF(ignored); i++)
                signal(ignored[i], SIG_IGN);
        prctl(PR_SET_NAME, "execguard-sup");

        /* SIGCHLD only arrives through the signalfd; SIGTERM and SIGHUP, blocked in the
         * wrapper, take their default action again: a supervisor told to stop stops, and
         * the session fails closed. */
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_SETMASK, &chld, NULL);
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                log_error_errno(negative_errno(), "Failed to set up the supervisor: %m");
                _exit(EXIT_SETUP_FAILED);
        }

        pid_t command = fork();
        if (command < 0) {
                log_error_errno(negative_errno(), "fork() failed: %m");
                _exit(EXIT_SETUP_FAILED);
        }
        if (command == 0) {
                safe_close(sv[0]);
                command_main(argv, sv[1], old_mask);
        }
        safe_close(sv[1]);
        if (send_report(report_sock, 'P', command) < 0)
                _exit(EXIT_SETUP_FAILED); /* the wrapper is gone; the command fails closed */
        /* Our own session: the terminal's signals, its hangup and job control are for the
         * command, never for the supervisor, which must outlive them. */
        setsid();

        int listener = -1;
        int r = receive_fd(sv[0], &listener);
        if (r < 0) {
                log_error_errno(r, "Supervisor did not receive the listener: %m");
                _exit(EXIT_SETUP_FAILED);
        }
        r = audit_open();
        if (r < 0)
                log_warning_errno(r, "No syslog at /dev/log (%m): audit records of this session will be lost");
        if (write(sv[0], "R", 1) != 1) {
                log_error_errno(negative_errno(), "Failed to tell the command that supervision is ready: %m");
                _exit(EXIT_SETUP_FAILED);
        }
        safe_close(sv[0]);

        /* From here on the supervisor holds nothing of the caller's: its stdio could keep a
         * pipe open long after the command has gone. Diagnostics go to syslog. */
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                safe_close(null);
        }
        log_set_target(LOG_TARGET_SYSLOG);

        struct command_watch w = { .command = command, .report_sock = report_sock };
        struct supervise_hooks hooks = { .on_child = on_child, .data = &w };
        r = supervise(listener, policy, &hooks);
        _exit(r < 0 ? 1 : 0);
}

static int exit_status_of(int status) {
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return EXIT_SETUP_FAILED;
}

static int receive_report(int sock, struct report *m) {
        ssize_t n;
        do
                n = recv(sock, m, sizeof *m, 0);
        while (n < 0 && errno == EINTR);
        return n == sizeof *m ? 0 : -EIO;
}

int run_supervised(const struct policy *policy, char **argv) {
        /* Nothing in this process, or the supervisor forked from it, may be read or traced
         * by the supervised tree running as the same user. */
        if (prctl(PR_SET_DUMPABLE, 0) < 0)
                return log_error_errno(negative_errno(), "prctl(PR_SET_DUMPABLE) failed: %m"), EXIT_SETUP_FAILED;
        /* Should the supervisor die, the command is reparented to us: its status stays
         * known, and so does the fact that supervision failed. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return log_error_errno(negative_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed: %m"), EXIT_SETUP_FAILED;

        sigset_t mask, old_mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        /* Blocked before forking, so no signal is lost between fork and signalfd. */
        sigprocmask(SIG_BLOCK, &mask, &old_mask);

        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return log_error_errno(negative_errno(), "socketpair() failed: %m"), EXIT_SETUP_FAILED;

        pid_t supervisor = fork();
        if (supervisor < 0)
                return log_error_errno(negative_errno(), "fork() failed: %m"), EXIT_SETUP_FAILED;
        if (supervisor == 0) {
                safe_close(sv[0]);
                supervisor_main(policy, argv, sv[1], &old_mask);
        }
        safe_close(sv[1]);
        _cleanup_close_ int sock = sv[0];

        /* The terminal sends SIGINT and SIGQUIT to the whole foreground group; the command
         * decides what they mean. */
        signal(SIGINT, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);

        struct report m;
        if (receive_report(sock, &m) < 0 || m.kind != 'P') {
                waitpid(supervisor, NULL, 0);
                log_error("Supervision could not be set up; %s was not run", argv[0]);
                return EXIT_SETUP_FAILED;
        }
        pid_t command = m.value;

        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0) {
                kill(command, SIGKILL);
                return log_error_errno(negative_errno(), "signalfd() failed: %m"), EXIT_SETUP_FAILED;
        }

        struct pollfd pfd[2] = {
                { .fd = sfd, .events = POLLIN },
                { .fd = sock, .events = POLLIN },
        };
        for (;;) {
                if (poll(pfd, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        kill(command, SIGKILL);
                        return log_error_errno(negative_errno(), "poll() failed: %m"), EXIT_SETUP_FAILED;
                }
                if (pfd[1].revents) {
                        if (receive_report(sock, &m) == 0 && m.kind == 'S')
                                return exit_status_of(m.value);
                        /* The supervisor is gone without a word about the command: it died.
                         * The command is now our child; its status comes with SIGCHLD. */
                        pfd[1].fd = -1;
                }
                if (!(pfd[0].revents & POLLIN))
                        continue;
                struct signalfd_siginfo si;
                if (read(sfd, &si, sizeof si) != sizeof si)
                        continue;
                if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP) {
                        kill(command, (int) si.ssi_signo);
                        continue;
                }
                /* SIGCHLD: reap whatever is ready (signals coalesce). Besides the supervisor
                 * and, should it die, the command, that is whatever the tree orphaned while
                 * we are its subreaper. */
                for (;;) {
                        int status;
                        pid_t pid = waitpid(-1, &status, WNOHANG);
                        if (pid <= 0)
                                break;
                        if (pid == supervisor) {
                                /* It exits 0 only once no supervised process is left. If
                                 * it did not reap the command first, the command is ours now. */
                                if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                                        continue;
                                log_error("The supervisor exited (%s %d); execs in this session now fail",
                                          WIFSIGNALED(status) ? "signal" : "status",
                                          WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
                                continue;
                        }
                        if (pid == command)
                                return exit_status_of(status);
                }
        }
}
