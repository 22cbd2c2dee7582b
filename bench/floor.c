/* floor [-v] [--wake=sync|default] [--verify | --bpf] -- COMMAND [ARG...]: the benchmark's floor.
 *
 * A supervisor that does no work: it installs execguard's own seccomp filter on COMMAND
 * (filter_install() from the library, the same BPF, the same no_new_privs) and answers every
 * notification with CONTINUE at once, without reading the process, resolving or asking a
 * policy. What COMMAND's tree pays under it is the cost of the mechanism itself: the filter
 * on every syscall, and for each exec the trip to a listener and back. execguard cannot do
 * better than this; the benchmark reports every configuration against it.
 *
 * It waits the way a real supervisor does (poll, then receive), and asks the kernel for its
 * best wake-up: SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux >= 6.6) wakes the supervisor on
 * the notifying task's CPU, and the task on the supervisor's, as one hand-off. --wake=default
 * leaves the kernel's ordinary wake-up, for comparison. -v says on stderr which mode is in
 * use.
 *
 * --verify adds the mechanism of a race-free verification and nothing of its work: before
 * each CONTINUE the exec's thread is attached with PTRACE_SEIZE and PTRACE_O_TRACEEXEC, after
 * it PTRACE_INTERRUPTed (as src/verify.c does), and every stop that follows is let go at
 * once, unchecked: the cost of the second hand-off any design that checks the exec after the
 * kernel's own path walk pays (the `floor-verify` configuration).
 *
 * --bpf does the same for the kernel engine (src/kverify.h), loaded and proven as execguard
 * loads it: before each CONTINUE the approval of the exec is stored for the thread, as
 * execguard stores it, and the engine's program checks the exec in the kernel. No policy,
 * no resolution: the identity of an absolute path (and of its ELF interpreter) is taken
 * once and remembered, which is the least an approval needs (the `floor-bpf` configuration).
 *
 * Ends when the last task of the tree is gone (the listener reports POLLHUP), with COMMAND's
 * exit status (128+N for signal N); 125 if supervision could not be set up. */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "elf.h"
#include "filter.h"
#include "kverify.h"
#include "notify.h"
#include "procmem.h"
#include "util.h"

#define EXIT_SETUP 125

static int send_fd(int sock, int fd) {
        char byte = 0;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct msghdr msg = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf
        };
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
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
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf
        };
        ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0)
                return negative_errno();
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        if (n == 0 || !cmsg || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS ||
            cmsg->cmsg_len != CMSG_LEN(sizeof(int)))
                return -EBADMSG; /* the child failed before it could send: it said why */
        memcpy(ret_fd, CMSG_DATA(cmsg), sizeof *ret_fd);
        return 0;
}

/* The child: filter, hand the listener over, keep nothing of ours, exec. */
static _Noreturn void run_command(int sock, char **argv) {
        int listener = -1;
        int r = filter_install(true, 0, &listener); /* exec alone: the floor has no [protect] */
        if (r < 0) {
                fprintf(stderr, "floor: cannot install the filter: %s (is CONFIG_SECCOMP_FILTER enabled?)\n",
                        strerror(-r));
                _exit(EXIT_SETUP);
        }
        r = send_fd(sock, listener);
        if (r < 0) {
                fprintf(stderr, "floor: cannot hand over the listener: %s\n", strerror(-r));
                _exit(EXIT_SETUP);
        }
        /* Both are O_CLOEXEC already; closed now so that not even the exec below holds them. */
        safe_close(listener);
        safe_close(sock);
        execvp(argv[0], argv);
        fprintf(stderr, "floor: cannot execute %s: %s\n", argv[0], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
}

/* --verify: the tracees of the verification mechanism that have stopped, at their exec or
 * back in their old program, let go as they are. Returns true once child itself has ended
 * (a tracee, and our child: its status comes here), its status in *ret_status. */
static bool release_stopped(int sigfd, pid_t child, int *ret_status) {
        struct signalfd_siginfo si;
        bool ended = false;
        (void) !read(sigfd, &si, sizeof si);
        for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, __WALL | WNOHANG);
                if (pid <= 0)
                        return ended;
                if (WIFSTOPPED(status)) {
                        /* A signal-delivery stop hands its signal back; an event stop has none. */
                        int sig = status >> 16 ? 0 : WSTOPSIG(status);
                        (void) ptrace(PTRACE_DETACH, pid, NULL, (void *) (long) sig);
                } else if (pid == child) {
                        *ret_status = status;
                        ended = true;
                }
        }
}

/* --bpf: the identities of the programs execed so far, by the path they were named by. */
struct known {
        char path[256];
        struct stat image, interp;
        bool has_interp;
};
static struct known known[64];
static unsigned n_known;

static const struct known *identify(const char *path) {
        for (unsigned i = 0; i < n_known; i++)
                if (strcmp(known[i].path, path) == 0)
                        return &known[i];
        if (path[0] != '/' || strlen(path) >= sizeof known[0].path || n_known == ELEMENTSOF(known))
                return NULL;
        struct known k = {};
        char interp[EG_PATH_MAX];
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &k.image) < 0)
                return NULL;
        int r = elf_interpreter(fd, interp, sizeof interp);
        if (r < 0 || (r > 0 && stat(interp, &k.interp) < 0))
                return NULL;
        k.has_interp = r > 0;
        snprintf(k.path, sizeof k.path, "%s", path);
        known[n_known] = k;
        return &known[n_known++];
}

/* --bpf: store the approval of the exec tid asks for, or expect nothing of it (a path that
 * is not there: the exec fails). */
static void approve(struct kverifier *kernel, const struct seccomp_notif *req) {
        pid_t tid = (pid_t) req->pid;
        char path[EG_PATH_MAX];
        const struct known *k = NULL;
        if (procmem_read_string(tid, req->data.args[0], path, sizeof path) >= 0)
                k = identify(path);
        int pidfd = k ? (int) syscall(SYS_pidfd_open, tid, O_EXCL /* PIDFD_THREAD */) : -1;
        if (pidfd < 0 ||
            kverifier_approve(kernel, pidfd, tid, &k->image, k->path, k->has_interp ? &k->interp : NULL, "floor") < 0)
                kverifier_withdraw(kernel, tid);
        safe_close(pidfd);
}

/* Answer CONTINUE to everything until no task uses the filter any more. The direct child
 * is reaped on the way (through its pidfd, or with --verify among the stopped tracees): a
 * zombie keeps its filter, so the listener would not hang up while it waited to be reaped. */
static int serve(int listener, pid_t child, int sigfd, struct kverifier *kernel, int *ret_status) {
        struct seccomp_notif *req = NULL;
        struct seccomp_notif_resp *resp = NULL;
        int r = notify_alloc(&req, &resp);
        if (r < 0)
                return r;
        bool verify = sigfd >= 0, reaped = false;
        _cleanup_close_ int pidfd = verify ? -1 : (int) syscall(SYS_pidfd_open, child, 0);
        if (!verify && pidfd < 0) {
                r = negative_errno();
                goto out;
        }
        int status = 0;
        for (;;) {
                struct pollfd fds[2] = { { .fd = listener, .events = POLLIN },
                                         { .fd = verify ? sigfd : pidfd, .events = POLLIN } };
                if (poll(fds, reaped && !verify ? 1 : 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        goto out;
                }
                if (verify && (fds[1].revents & POLLIN) && release_stopped(sigfd, child, &status))
                        reaped = true;
                if (fds[0].revents & POLLIN) {
                        r = notify_receive(listener, req);
                        if (r == -ENOENT || r == -EINTR)
                                continue; /* the task went away before we read it */
                        if (r < 0)
                                goto out;
                        pid_t tid = (pid_t) req->pid;
                        /* Traced already (its last exec failed and the stop that lets it go
                         * has not come yet): it stays so, as in src/verify.c. */
                        if (verify)
                                (void) ptrace(PTRACE_SEIZE, tid, NULL,
                                              (void *) (PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL));
                        if (kernel)
                                approve(kernel, req);
                        resp->id = req->id;
                        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
                        resp->error = 0;
                        resp->val = 0;
                        r = notify_respond(listener, resp);
                        if (r < 0 && r != -ENOENT)
                                goto out;
                        /* A failed exec then stops back in the old program, to be let go. */
                        if (verify)
                                (void) ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
                } else if (fds[0].revents & (POLLHUP | POLLERR)) {
                        break;
                }
                if (!verify && !reaped && (fds[1].revents & POLLIN)) {
                        if (waitpid(child, &status, 0) < 0) {
                                r = negative_errno();
                                goto out;
                        }
                        reaped = true;
                }
        }
        if (!reaped && waitpid(child, &status, 0) < 0) {
                r = negative_errno();
                goto out;
        }
        *ret_status = status;
        r = 0;
out:
        notify_free(req, resp);
        return r;
}

static void usage(void) {
        fprintf(stderr, "usage: floor [-v] [--wake=sync|default] [--verify | --bpf] -- COMMAND [ARG...]\n");
        exit(2);
}

int main(int argc, char **argv) {
        bool verbose = false, want_sync = true, verify = false, bpf = false;
        int i = 1;
        for (; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0) {
                        i++;
                        break;
                } else if (strcmp(argv[i], "-v") == 0) {
                        verbose = true;
                } else if (strcmp(argv[i], "--wake=sync") == 0) {
                        want_sync = true;
                } else if (strcmp(argv[i], "--verify") == 0) {
                        verify = true;
                } else if (strcmp(argv[i], "--bpf") == 0) {
                        bpf = true;
                } else if (strcmp(argv[i], "--wake=default") == 0) {
                        want_sync = false;
                } else {
                        usage();
                }
        }
        if (i >= argc || (verify && bpf))
                usage();
        _cleanup_(kverifier_freep) struct kverifier *kernel = NULL;
        if (bpf) {
                char why[256];
                int r = kverifier_open(&kernel, why, sizeof why);
                if (r < 0) {
                        fprintf(stderr, "floor: the kernel engine cannot be used: %s\n", why);
                        return EXIT_SETUP;
                }
        }

        /* --verify learns of its tracees' stops through SIGCHLD. */
        sigset_t chld, old_mask;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        _cleanup_close_ int sigfd = -1;
        if (verify) {
                sigprocmask(SIG_BLOCK, &chld, &old_mask);
                sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
                if (sigfd < 0) {
                        perror("floor: signalfd");
                        return EXIT_SETUP;
                }
        }
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                perror("floor: socketpair");
                return EXIT_SETUP;
        }
        pid_t child = fork();
        if (child < 0) {
                perror("floor: fork");
                return EXIT_SETUP;
        }
        if (child == 0) {
                safe_close(sv[0]);
                if (verify)
                        sigprocmask(SIG_SETMASK, &old_mask, NULL);
                run_command(sv[1], argv + i);
        }
        safe_close(sv[1]);
        _cleanup_close_ int listener = -1;
        int r = receive_fd(sv[0], &listener);
        safe_close(sv[0]);
        if (r < 0) {
                if (r != -EBADMSG)
                        fprintf(stderr, "floor: cannot receive the listener: %s\n", strerror(-r));
                kill(child, SIGKILL);
                (void) waitpid(child, NULL, 0);
                return EXIT_SETUP;
        }

        const char *mode = "default";
        if (want_sync) {
                r = notify_set_sync_wakeup(listener);
                if (r == 0)
                        mode = "sync";
                else
                        mode = r == -EINVAL ? "default (SYNC_WAKE_UP not supported: EINVAL)"
                                            : "default (SYNC_WAKE_UP refused)";
        }
        if (verbose)
                fprintf(stderr, "floor: wake-up mode: %s\n", mode);

        int status = 0;
        r = serve(listener, child, sigfd, kernel, &status);
        if (r < 0) {
                fprintf(stderr, "floor: supervision failed: %s\n", strerror(-r));
                kill(child, SIGKILL);
                return EXIT_SETUP;
        }
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
}
