#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "fds.h"
#include "filter.h"
#include "log.h"
#include "privs.h"
#include "procinfo.h"
#include "protocol.h"
#include "supervise.h"
#include "util.h"

#define EXIT_USAGE          2
#define EXIT_SETUP_FAILED   125
#define EXIT_CANNOT_EXECUTE 126
#define EXIT_NOT_FOUND      127

/* Messages from the supervisor to the wrapper over their socket. */
struct report {
        char kind; /* 'P': the command's pid; 'S': its wait status */
        int value;
};

static int send_report(int sock, char kind, int value) {
        struct report m = { .kind = kind, .value = value };
        return send(sock, &m, sizeof m, MSG_NOSIGNAL) == sizeof m ? 0 : -EIO;
}

/* The caller's signals as its exec of execguard left them, saved before we change any, for
 * the command: an exec resets every handler, so each signal is either ignored or at its
 * default; the mask survives an exec as it is. Raw syscalls, not glibc's wrappers, which
 * hide the two signals glibc keeps for itself (32 and 33): a caller may have ignored or
 * blocked those too. */
struct caller_signals {
        uint64_t ignored; /* bit sig - 1 for each ignored signal */
        uint64_t mask;
};

/* The kernel's struct sigaction (x86_64): for SIG_IGN and SIG_DFL no restorer is needed. */
struct kernel_sigaction {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)(void);
        uint64_t mask;
};

static void caller_signals_save(struct caller_signals *ret) {
        *ret = (struct caller_signals){};
        for (int sig = 1; sig <= 64; sig++) {
                struct kernel_sigaction old;
                if (syscall(SYS_rt_sigaction, sig, NULL, &old, sizeof(uint64_t)) == 0 && old.handler == SIG_IGN)
                        ret->ignored |= UINT64_C(1) << (sig - 1);
        }
        (void) syscall(SYS_rt_sigprocmask, SIG_SETMASK, NULL, &ret->mask, sizeof(uint64_t));
}

/* In the command, right before its exec: every disposition and the mask as the caller had
 * them, whatever the supervisor or the wrapper we were forked from set for themselves. The
 * flags go too: an exec clears them. Nothing is left to do here that a signal could
 * disturb. */
static void caller_signals_restore(const struct caller_signals *cs) {
        for (int sig = 1; sig <= 64; sig++) {
                if (sig == SIGKILL || sig == SIGSTOP)
                        continue;
                struct kernel_sigaction sa = {
                        .handler = (cs->ignored & (UINT64_C(1) << (sig - 1))) ? SIG_IGN : SIG_DFL,
                };
                (void) syscall(SYS_rt_sigaction, sig, &sa, NULL, sizeof(uint64_t));
        }
        (void) syscall(SYS_rt_sigprocmask, SIG_SETMASK, &cs->mask, NULL, sizeof(uint64_t));
}

/* For a process that outlives the command (the supervisor, the keeper): hold nothing of the
 * caller's, whose stdio could keep a pipe open long after the command has gone, and say
 * what there is to say to syslog. */
static void detach_stdio(void) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                safe_close(null);
        }
        log_set_target(LOG_TARGET_SYSLOG);
}

/* For the wrapper, which runs beside the command: whatever it holds of the caller's would
 * keep a pipe, a socket or a file open after the command has closed it, and the caller's
 * reader would wait for the command's end instead of seeing EOF. Called once the command
 * (or the supervisor that forks it) has been forked, with every fd of the caller's still
 * there for it. Stdin and stdout become /dev/null; stderr stays, to say what becomes of the
 * session (a command that closes its stderr but goes on running keeps that one open). */
static void release_caller_fds(void) {
        int n = fds_close_inherited();
        if (n > 0)
                log_debug("Closed %d fds inherited from the caller", n);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0)
                return;
        /* Stdin or stdout closed by the caller: null took its number. */
        if (null != STDIN_FILENO)
                dup2(null, STDIN_FILENO);
        if (null != STDOUT_FILENO)
                dup2(null, STDOUT_FILENO);
        if (null > STDERR_FILENO)
                safe_close(null);
}

/* How the command must be started: from the policy, or from the daemon's. */
struct command_settings {
        bool no_new_privs;
        unsigned protected_ops; /* the file operations to trap besides exec */
        bool limit_capabilities;
        uint64_t capabilities;
};

/* The command. Never returns. */
/* Why the filter could not be installed, when the kernel tells: a hint about the kernel's
 * configuration only where that is the cause. */
static const char *filter_failure_hint(int r) {
        char actions[256] = "";
        _cleanup_close_ int fd = open("/proc/sys/kernel/seccomp/actions_avail", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, actions, sizeof actions - 1) < 0)
                return " (this kernel has no seccomp filters: is CONFIG_SECCOMP_FILTER enabled?)";
        if (!strstr(actions, "user_notif"))
                return " (this kernel has no seccomp user notification: Linux 5.0 or later is needed)";
        /* The kernel refuses a second listener in a process's chain of filters. */
        char status[4096] = "";
        _cleanup_close_ int sfd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        ssize_t n = sfd < 0 ? -1 : read(sfd, status, sizeof status - 1);
        const char *filters = n > 0 ? strstr(status, "\nSeccomp_filters:\t") : NULL;
        if (r == -EBUSY || (filters && atoi(filters + strlen("\nSeccomp_filters:\t")) > 0))
                return " (the process is already under seccomp filters, perhaps another supervisor's: inside "
                       "an execguard session, or a sandbox; a second one cannot supervise it)";
        return "";
}

static _Noreturn void command_main(const struct command_settings *cs, const char *file, char **argv, int sock,
                                   const struct caller_signals *caller) {
        /* The bounding set first: it limits what setuid programs and file capabilities can
         * give anything in the session. Without CAP_SETPCAP and with no_new_privs nothing in
         * the session can gain a capability anyway. */
        if (cs->limit_capabilities) {
                int r = privs_limit_bounding(cs->capabilities);
                if (r == -EPERM && cs->no_new_privs && getuid() != 0)
                        log_debug("No CAP_SETPCAP to narrow the bounding set; with no_new_privs nothing in the "
                                  "session can gain a capability");
                else if (r < 0) {
                        log_error_errno(r, "Failed to narrow the capability bounding set: %m (is execguard "
                                           "installed with its file capabilities? see make install)");
                        _exit(EXIT_SETUP_FAILED);
                }
        }
        if (!cs->no_new_privs) {
                int r = privs_raise_sys_admin();
                if (r < 0) {
                        log_error_errno(r, "no_new_privs = no needs CAP_SYS_ADMIN to install the filter: %m (is "
                                           "execguard installed with its file capabilities? see make install)");
                        _exit(EXIT_SETUP_FAILED);
                }
        }
        int listener = -1;
        int r = filter_install(cs->no_new_privs, cs->protected_ops, &listener);
        if (r < 0) {
                log_error_errno(r, "Failed to install the seccomp filter: %m%s", filter_failure_hint(r));
                _exit(EXIT_SETUP_FAILED);
        }
        /* No SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (notify.h), although the floor of the
         * benchmark takes it: it runs the supervisor on the exec'ing task's CPU, so that the
         * decision (tens of µs) and the exec that follows are serialised on one CPU while the
         * other idles, and the exec then moves to that idle CPU. Measured here (2 vCPUs), the
         * ordinary wake-up costs 60 µs less per fork+exec+wait (W1) and 13% less on a shell
         * script (W2), the same on an exec loop (W0). The daemon's epoll never had it. */
        r = protocol_send(sock, "L", 1, listener);
        safe_close(listener);
        if (r < 0) {
                log_error_errno(r, "Failed to hand the listener over: %m");
                _exit(EXIT_SETUP_FAILED);
        }
        /* Wait until the supervisor holds the listener, so that a failure to set up is
         * reported as such and not as a mysterious ENOSYS from our own exec. */
        char ready;
        if (read(sock, &ready, 1) != 1) {
                log_error("Supervision failed to start; not running %s", argv[0]);
                _exit(EXIT_SETUP_FAILED);
        }
        /* No capability of ours goes on into the command (file capabilities of an
         * installed execguard), before anything can trace us. */
        r = privs_drop_all();
        if (r < 0) {
                log_error_errno(r, "Failed to drop capabilities: %m");
                _exit(EXIT_SETUP_FAILED);
        }
        /* Inherited from the supervisor, non-dumpability would make our /proc files
         * unreadable to a supervisor that is not root. Nothing of the supervisor's is left
         * in this process now. */
        if (prctl(PR_SET_DUMPABLE, 1) < 0) {
                log_error_errno(negative_errno(), "prctl(PR_SET_DUMPABLE) failed: %m");
                _exit(EXIT_SETUP_FAILED);
        }
        /* The command gets every fd of the caller's, as natively (a make jobserver's pipe,
         * a configure script's fds), and none of ours: the listener is closed above (and
         * the kernel made it close-on-exec), the socket to our parent here, and every
         * other fd execguard or a library it uses opens is close-on-exec (fds.h), so the
         * exec closes it. The caller's stdio it left closed (our /dev/null, fds.h) too. */
        safe_close(sock);
        caller_signals_restore(caller);
        if (file)
                execv(file, argv);
        else
                execvp(argv[0], argv);
        int e = errno;
        /* Through the log, escaped: the name may be a file's a user chose, with a newline or
         * an escape sequence in it. */
        log_error_errno(-e, "%s: %m", file ? file : argv[0]);
        _exit(e == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE);
}

static int receive_listener(int sock, int *ret_fd) {
        char byte;
        int fd = -1;
        int r = protocol_receive(sock, &byte, 1, 0, &fd);
        if (r < 0)
                return r;
        if (fd < 0 || !protocol_fd_is_listener(fd)) {
                safe_close(fd);
                return -EBADMSG;
        }
        *ret_fd = fd;
        return 0;
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

/* How a standalone session applies its policy. One that was meant for the daemon (no -c)
 * and reached none is supervised standalone unless the policy says on_daemon_unavailable =
 * refuse. Run by the session's user, it cannot do all that the policy asks of a root
 * daemon: it does what it can (no_new_privs on, records to journald or syslog only), and
 * says what it lacks to the user in one line, in a record at its start and in every record
 * of the session. An operator is never locked out, and nothing runs that the policy
 * blocks. */
struct standalone {
        const struct policy *policy;
        bool no_new_privs;               /* the policy's, or forced on */
        bool fallback;                   /* for want of the daemon */
        bool daemon_silent;              /* its socket is there but nothing answers: said even if nothing is lacking */
        bool daemon_expected;            /* the host runs one (its socket's directory is there) */
        char unavailable[PATH_MAX + 64]; /* "No daemon at PATH"; "" with -c */
        char degraded[192];              /* what the session lacks of its policy; "": nothing */
};

static void degrade(struct standalone *st, const char *what) {
        size_t len = strlen(st->degraded);
        snprintf(st->degraded + len, sizeof st->degraded - len, "%s%s", len ? "; " : "", what);
}

/* The supervisor. Never returns. audit, session and its origin (its source, what it lacks)
 * come from the wrapper, which opened and made them before the fork so that it can record
 * the supervisor's loss. */
static _Noreturn void supervisor_main(const struct standalone *st, struct audit *audit, const char *session,
                                      const struct session *origin, const char *file, char **argv, int report_sock,
                                      const struct caller_signals *caller) {
        /* Until setpgid() below we share the terminal's process group; and a process of the
         * session could make ours the foreground one after it (tcsetpgrp()). So a Ctrl-C,
         * Ctrl-\ or Ctrl-Z, or a read or write of the terminal, must never stop or kill us.
         * Writing a block message to a closed pipe must not kill us either. */
        static const int ignored[] = { SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE };
        for (size_t i = 0; i < ELEMENTSOF(ignored); i++)
                signal(ignored[i], SIG_IGN);
        prctl(PR_SET_NAME, "execguard-sup");

        /* SIGCHLD only arrives through the signalfd; SIGTERM and SIGHUP, blocked in the
         * wrapper, take their default action again: a supervisor told to stop stops, and
         * the session fails closed. */
        signal(SIGTERM, SIG_DFL); /* even where the caller ignored them */
        signal(SIGHUP, SIG_DFL);
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
                const struct policy_settings *ps = policy_settings(st->policy);
                struct command_settings cs = {
                        .no_new_privs = st->no_new_privs,
                        .protected_ops = policy_protected_ops(st->policy),
                        .limit_capabilities = ps->limit_capabilities,
                        .capabilities = ps->capabilities,
                };
                command_main(&cs, file, argv, sv[1], caller);
        }
        safe_close(sv[1]);
        /* Our file capabilities were for the command's filter only: the supervisor parses
         * what the session hands it, and must hold nothing a bug there could use. */
        (void) privs_drop_all();
        /* The command has what it inherits of the caller's (that is the command's side, in
         * command_main()); we keep none of it. We serve the tree for as long as any of it
         * runs, the command's leftovers too: an fd of the caller's here would keep the
         * caller's pipe open, its reader waiting for EOF, for all that time. */
        int closed = fds_close_inherited();
        if (closed > 0)
                log_debug("Supervisor: closed %d fds inherited from the caller", closed);
        if (send_report(report_sock, 'P', command) < 0)
                _exit(EXIT_SETUP_FAILED); /* the wrapper is gone; the command fails closed */
        /* Our own process group: the terminal's signals, its hangup and job control go to
         * the foreground group (the command's) and to the session's leader, never to us;
         * we must outlive them. Not a session of our own: with autogroup scheduling
         * (sched_autogroup_enabled) a session is a scheduling group, and each exec is a
         * hand-off between the command's tasks and us. In one group that costs about 90 µs
         * less per spawn here (fork+exec+wait of /bin/true, 2 vCPUs). */
        if (setpgid(0, 0) < 0)
                log_warning_errno(negative_errno(),
                                  "setpgid() failed: %m; the supervisor shares the caller's process group");

        int listener = -1;
        int r = receive_listener(sv[0], &listener);
        if (r < 0) {
                log_error_errno(r, "Supervisor did not receive the listener: %m");
                _exit(EXIT_SETUP_FAILED);
        }
        struct session sess = { .listener = listener, .uid = getuid(), .pid = getpid() };
        snprintf(sess.id, sizeof sess.id, "%s", session);
        memcpy(sess.source_ip, origin->source_ip, sizeof sess.source_ip);
        sess.source_port = origin->source_port;
        sess.degraded = origin->degraded;
        _cleanup_(supervisor_freep) struct supervisor *s = NULL;
        if (supervisor_new(st->policy, audit, &s) < 0)
                _exit(EXIT_SETUP_FAILED);
        log_debug("Session %s: supervised standalone with %s", sess.id, policy_source(st->policy));
        if (write(sv[0], "R", 1) != 1) {
                log_error_errno(negative_errno(), "Failed to tell the command that supervision is ready: %m");
                _exit(EXIT_SETUP_FAILED);
        }
        safe_close(sv[0]);

        detach_stdio();

        struct command_watch w = { .command = command, .report_sock = report_sock };
        struct supervise_hooks hooks = { .on_child = on_child, .data = &w };
        r = supervise(s, &sess, &hooks);
        /* Freed, not left to the exit: the kernel engine removes its pins once nothing is
         * left for it to check. */
        supervisor_free(TAKE_PTR(s));
        exit_forked(r < 0 ? 1 : 0);
}

static int exit_status_of(int status) {
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return EXIT_SETUP_FAILED;
}

/* The signals a wrapper takes through a signalfd, blocked before it forks so that none is
 * lost: children, and the ones it passes on to the command. */
static void block_wrapper_signals(sigset_t *ret_mask) {
        sigemptyset(ret_mask);
        sigaddset(ret_mask, SIGCHLD);
        sigaddset(ret_mask, SIGTERM);
        sigaddset(ret_mask, SIGHUP);
        sigprocmask(SIG_BLOCK, ret_mask, NULL);
}

/* The supervisor died while the session may go on: no listener is left, so the kernel fails
 * every later exec of the tree with ENOSYS (nothing runs unchecked). Nobody else knows:
 * tell the user, and the audit trail, with the session id its decisions carry. */
static void report_supervisor_lost(struct audit *audit, const struct policy *policy, const char *session,
                                   const struct session *origin, pid_t supervisor, int status) {
        char how[64];
        if (WIFSIGNALED(status))
                snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(status));
        else
                snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(status));
        log_error("the supervisor of session %s was lost (%s): execs in this session now fail", session, how);
        struct audit_record rec = {
                .decision = AUDIT_SUPERVISOR_LOST,
                .mode = policy_mode_to_string(policy_mode(policy)),
                .session = session,
                .source_ip = origin->source_ip[0] ? origin->source_ip : NULL,
                .source_port = origin->source_port,
                .degraded = origin->degraded,
                .policy_source = policy_source(policy),
                .note = how,
                .process = { .pid = supervisor, .ppid = getpid(), .uid = getuid(), .euid = geteuid() },
        };
        int r = audit_log(audit, &rec);
        if (r < 0)
                log_warning_errno(r, "Failed to write the audit record of the supervisor's loss: %m");
}

/* Read one signal from sfd. SIGTERM and SIGHUP are passed on to the command; returns true
 * for SIGCHLD (a child to reap). */
static bool take_signal(int sfd, pid_t command) {
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof si) != sizeof si)
                return false;
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP) {
                kill(command, (int) si.ssi_signo);
                return false;
        }
        return si.ssi_signo == SIGCHLD;
}

static int receive_report(int sock, struct report *m) {
        ssize_t n;
        do
                n = recv(sock, m, sizeof *m, 0);
        while (n < 0 && errno == EINTR);
        return n == sizeof *m ? 0 : -EIO;
}

/* Why the session is standalone, in one line (to the user when it lacks something or the
 * daemon did not answer; with -v otherwise), and the record of a degraded session's start. */
static void report_fallback(struct audit *audit, const struct standalone *st, const char *session,
                            const struct session *origin) {
        if (st->degraded[0])
                log_warning("%s: supervising standalone with %s, degraded: %s", st->unavailable,
                            policy_source(st->policy), st->degraded);
        else if (st->daemon_silent)
                log_warning("%s: supervising standalone with %s", st->unavailable, policy_source(st->policy));
        else
                log_debug("%s: supervising standalone with %s", st->unavailable, policy_source(st->policy));
        if (!st->degraded[0])
                return;
        struct audit_record rec = {
                .decision = AUDIT_SESSION_DEGRADED,
                .mode = policy_mode_to_string(policy_mode(st->policy)),
                .session = session,
                .source_ip = origin->source_ip[0] ? origin->source_ip : NULL,
                .source_port = origin->source_port,
                .degraded = st->degraded,
                .policy_source = policy_source(st->policy),
                .process = { .pid = getpid(), .ppid = getppid(), .uid = getuid(), .euid = geteuid() },
        };
        /* Who started it, as every record says who: names, the audit login uid behind su
         * and sudo, terminal, directory and argv, all the wrapper's own. */
        _cleanup_free_ struct procinfo *pi = calloc(1, sizeof *pi);
        _cleanup_close_ int self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (pi && self >= 0) {
                procinfo_read(pi, getpid(), self, 0, 0);
                rec.process = pi->view;
        }
        int r = audit_log(audit, &rec);
        if (r < 0)
                log_warning_errno(r, "Failed to write the audit record of the degraded session: %m");
}

static int run_standalone(struct standalone *st, const char *file, char **argv, const struct caller_signals *caller) {
        const struct policy *policy = st->policy;
        /* A supervisor running as the caller must never answer for a setuid program: it
         * could make its exec fail in ways the program does not expect. */
        /* A supervisor of the user's own: the user may stop it (the session then fails
         * closed), and its journal or syslog records come from the user's uid. */
        if (st->daemon_expected && getuid() != 0)
                degrade(st, "supervised as the session's user, not by the daemon");
        if (!st->no_new_privs && getuid() != 0) {
                if (!st->fallback) {
                        log_error("%s: no_new_privs = no needs a supervisor running as root: the daemon",
                                  policy_source(policy));
                        return EXIT_USAGE;
                }
                st->no_new_privs = true;
                degrade(st, "no_new_privs forced, so sudo and other setuid programs will not work");
        }
        /* Nothing in this process, or the supervisor forked from it, may be read or traced
         * by the supervised tree running as the same user. */
        if (prctl(PR_SET_DUMPABLE, 0) < 0)
                return log_error_errno(negative_errno(), "prctl(PR_SET_DUMPABLE) failed: %m"), EXIT_SETUP_FAILED;
        /* Should the supervisor die, the command is reparented to us: its status stays
         * known, and so does the fact that supervision failed. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return log_error_errno(negative_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed: %m"), EXIT_SETUP_FAILED;

        /* The audit sinks and the session id, before the fork: the supervisor records its
         * decisions with them, and we, should it die, its loss. Every fd of the audit is
         * close-on-exec: nothing of it reaches the command. */
        const char *log_file = policy_settings(policy)->log_file, *warning = NULL;
        _cleanup_(audit_freep) struct audit *audit = NULL;
        int r = audit_open(log_file, &audit, &warning);
        if (r < 0 && st->fallback && log_file) {
                /* The daemon's file, which the session's user may not write: the records go
                 * to journald or syslog alone, and say so. */
                char what[96];
                snprintf(what, sizeof what, "log_file not written (%s)", strerror(-r));
                degrade(st, what);
                int e = r;
                r = audit_open(NULL, &audit, &warning);
                if (r >= 0 && warning) {
                        /* Nowhere at all: a session that leaves no record is not run. */
                        errno = -e;
                        log_error("%s: supervising standalone with %s, but its log_file '%s' cannot be written (%m) "
                                  "and neither journald nor syslog listens: the session would leave no record; %s "
                                  "was not run",
                                  st->unavailable, policy_source(policy), log_file, argv[0]);
                        return EXIT_SETUP_FAILED;
                }
        }
        if (r < 0)
                return log_error_errno(r, "Failed to open the audit log '%s': %m", log_file), EXIT_SETUP_FAILED;
        if (warning)
                log_warning("%s", warning);
        char session[SESSION_ID_LEN + 1];
        r = session_id_new(session);
        if (r < 0)
                return log_error_errno(r, "Failed to make a session id: %m"), EXIT_SETUP_FAILED;
        /* Where the session comes from, as its environment says now, at its start. */
        struct session origin = { .degraded = st->degraded[0] ? st->degraded : NULL };
        session_source_from_ssh(&origin, getenv("SSH_CONNECTION"));
        if (st->fallback)
                report_fallback(audit, st, session, &origin);

        sigset_t mask;
        block_wrapper_signals(&mask);

        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return log_error_errno(negative_errno(), "socketpair() failed: %m"), EXIT_SETUP_FAILED;

        pid_t supervisor = fork();
        if (supervisor < 0)
                return log_error_errno(negative_errno(), "fork() failed: %m"), EXIT_SETUP_FAILED;
        if (supervisor == 0) {
                safe_close(sv[0]);
                supervisor_main(st, audit, session, &origin, file, argv, sv[1], caller);
        }
        safe_close(sv[1]);
        _cleanup_close_ int sock = sv[0];
        release_caller_fds();
        (void) privs_drop_all();

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
                if (!(pfd[0].revents & POLLIN) || !take_signal(sfd, command))
                        continue;
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
                                 * it did not reap the command first, the command is ours now.
                                 * It exits EXIT_SETUP_FAILED only before it told the command
                                 * to go on: it never supervised (the command did not run),
                                 * and there is no session to have lost. */
                                if (WIFEXITED(status) &&
                                    (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == EXIT_SETUP_FAILED))
                                        continue;
                                report_supervisor_lost(audit, policy, session, &origin, supervisor, status);
                                continue;
                        }
                        if (pid == command)
                                return exit_status_of(status);
                }
        }
}

/* ---- through the daemon ---------------------------------------------------------------- */

/* How long a new session waits for a daemon whose socket is there but does not answer
 * (it is restarting) before supervising standalone. */
#define DAEMON_WAIT_MS 5000
#define RECONNECT_MS   100

struct daemon_link {
        const char *socket_path;
        int conn;     /* -1 while the daemon is away */
        int listener; /* our copy: with it, the session outlives a daemon restart */
        char session[SESSION_ID_LEN + 1];
        struct session origin; /* its source, sent with it to every daemon */
        bool no_new_privs;
        unsigned away_ms; /* how long the daemon has been away, in polls of RECONNECT_MS */
        bool told_away;   /* the user was told that the session's execs wait */
};

static bool peer_is_root(int conn) {
        struct ucred peer;
        socklen_t len = sizeof peer;
        return getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 && peer.uid == 0;
}

/* A connection to the daemon whose answers are waited for DAEMON_WAIT_MS at most: a daemon
 * that is stuck (a stalled file system under it, SIGSTOP) must not hold a login for ever.
 * A request that times out fails with -ETIMEDOUT. */
static int daemon_connect(const char *path) {
        int fd = protocol_connect(path);
        if (fd < 0)
                return fd;
        struct timeval tv = { .tv_sec = DAEMON_WAIT_MS / 1000, .tv_usec = DAEMON_WAIT_MS % 1000 * 1000 };
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) {
                int r = negative_errno();
                safe_close(fd);
                return r;
        }
        return fd;
}

static int daemon_request(int conn, uint32_t kind, const char *session, const struct session *origin, int fd,
                          struct reply *rep) {
        int r = protocol_request(conn, kind, session, origin, fd, rep);
        return r == -EAGAIN ? -ETIMEDOUT : r;
}

/* Connect to the daemon, waiting up to DAEMON_WAIT_MS for one that is restarting. */
static int daemon_connect_waiting(const char *path) {
        for (int waited = 0;; waited += RECONNECT_MS) {
                int fd = daemon_connect(path);
                if (fd >= 0 || (fd != -ECONNREFUSED && fd != -ENOENT) || waited >= DAEMON_WAIT_MS)
                        return fd;
                usleep(RECONNECT_MS * 1000);
        }
}

/* Hand our listener to the daemon at l->conn. */
static int hand_over(struct daemon_link *l) {
        /* With no_new_privs off, setuid programs run in the session: only a root daemon may
         * answer for them. */
        if (!l->no_new_privs && !peer_is_root(l->conn))
                return log_error_errno(-EPERM, "The daemon at %s is not root; the session is not handed to it",
                                       l->socket_path);
        struct reply rep;
        int r = daemon_request(l->conn, REQUEST_SESSION, l->session, &l->origin, l->listener, &rep);
        if (r == 0 && rep.error == -EBADMSG && l->origin.source_ip[0]) {
                /* A daemon older than protocol version 2 takes no source (and hung up): the
                 * session is handed to it without, as before, rather than not at all. */
                log_debug("The daemon at %s takes no session source; handing the session over without it",
                          l->socket_path);
                l->origin.source_ip[0] = '\0';
                int fd = daemon_connect(l->socket_path);
                if (fd < 0)
                        return fd;
                safe_close(l->conn);
                l->conn = fd;
                if (!l->no_new_privs && !peer_is_root(l->conn))
                        return log_error_errno(-EPERM, "The daemon at %s is not root; the session is not handed to it",
                                               l->socket_path);
                r = daemon_request(l->conn, REQUEST_SESSION, l->session, NULL, l->listener, &rep);
        }
        if (r < 0)
                return r;
        if (rep.error < 0)
                return log_error_errno(rep.error, "The daemon refused the session: %s", rep.message);
        return 0;
}

/* The daemon went away: execs wait. Try to reach the next one. */
static void reconnect(struct daemon_link *l) {
        int fd = daemon_connect(l->socket_path);
        if (fd < 0)
                return;
        l->conn = fd;
        if (hand_over(l) < 0) {
                l->conn = safe_close(l->conn);
                return;
        }
        log_debug("Session %s handed to the daemon again", l->session);
}

/* One poll of RECONNECT_MS without a daemon: try the next one. A user whose commands hang
 * must know why: the wrapper (tell, with the user's stderr) says so once the daemon has
 * been away as long as a new session waits for it, and again when it is back. */
static void wait_for_daemon(struct daemon_link *l, bool tell) {
        reconnect(l);
        if (l->conn >= 0) {
                if (l->told_away)
                        log_warning("The daemon at %s is back: session %s goes on", l->socket_path, l->session);
                l->told_away = false;
                return;
        }
        l->away_ms += RECONNECT_MS;
        if (tell && !l->told_away && l->away_ms >= DAEMON_WAIT_MS) {
                log_warning("The daemon at %s is gone: the execs of session %s wait for it to return", l->socket_path,
                            l->session);
                l->told_away = true;
        }
}

/* Hold the session: forward signals to the command, hand the listener to every new daemon,
 * until the command ends (its wait status in *ret_status; returns 1) or, with no command
 * (the keeper), until no process of the session is left (returns 0). */
static int hold_session(struct daemon_link *l, pid_t command, int sfd, int *ret_status) {
        for (;;) {
                struct pollfd pfd[3] = {
                        { .fd = command > 0 ? sfd : -1, .events = POLLIN },
                        { .fd = l->conn, .events = POLLIN },
                        /* No POLLIN: we never answer; only the end of the session matters. */
                        { .fd = l->listener, .events = 0 },
                };
                int n = poll(pfd, 3, l->conn < 0 && l->listener >= 0 ? RECONNECT_MS : -1);
                if (n < 0 && errno != EINTR)
                        return log_error_errno(negative_errno(), "poll() failed: %m");
                if (n <= 0) {
                        if (l->conn < 0 && l->listener >= 0)
                                wait_for_daemon(l, command > 0);
                        continue;
                }
                if (pfd[2].revents & (POLLHUP | POLLERR | POLLNVAL)) {
                        /* The tree is gone: nothing is left to hold. */
                        l->listener = safe_close(l->listener);
                        l->conn = safe_close(l->conn);
                        if (command <= 0)
                                return 0;
                }
                if (pfd[1].revents) {
                        log_debug("The daemon went away; execs of session %s wait for the next one", l->session);
                        l->conn = safe_close(l->conn);
                        l->away_ms = 0;
                }
                if (!(pfd[0].revents & POLLIN) || !take_signal(sfd, command))
                        continue;
                int status;
                if (waitpid(command, &status, WNOHANG) == command && (WIFEXITED(status) || WIFSIGNALED(status))) {
                        *ret_status = status;
                        return 1;
                }
        }
}

/* The command has ended, and the rest of its tree may go on (a job in the background): a
 * keeper holds the listener for it, so that a daemon restart still does not fail it. */
static void start_keeper(struct daemon_link *l) {
        struct pollfd p = { .fd = l->listener, .events = 0 };
        if (l->listener < 0 || poll(&p, 1, 0) != 0)
                return; /* gone already */
        pid_t pid = fork();
        if (pid != 0)
                return;
        setsid();
        detach_stdio();
        prctl(PR_SET_NAME, "execguard-keep");
        exit_forked(hold_session(l, 0, -1, NULL) < 0 ? 1 : 0);
}

/* Returns the exit status (125 when the daemon refused the session), or -errno when the
 * daemon could not be reached or asked before anything was started. */
static int run_through_daemon(const struct run_options *o, const char *file, char **argv,
                              const struct caller_signals *caller) {
        _cleanup_close_ int conn = daemon_connect_waiting(o->socket_path);
        if (conn < 0)
                return conn;
        struct reply hello;
        int r = daemon_request(conn, REQUEST_HELLO, NULL, NULL, -1, &hello);
        if (r < 0)
                return r;
        /* A daemon that answers and says no is final: supervising standalone instead would
         * step around whatever made it refuse. */
        if (hello.error < 0) {
                log_error("The daemon at %s refused the session: %s; %s was not run", o->socket_path, hello.message,
                          argv[0]);
                return EXIT_SETUP_FAILED;
        }

        struct daemon_link l = {
                .socket_path = o->socket_path, .conn = -1, .listener = -1, .no_new_privs = hello.no_new_privs
        };
        snprintf(l.session, sizeof l.session, "%s", hello.session);
        /* Where the session comes from, as its environment says now, at its start. */
        session_source_from_ssh(&l.origin, getenv("SSH_CONNECTION"));
        if (!l.no_new_privs && !peer_is_root(conn))
                return log_error_errno(-EPERM, "The daemon at %s is not root; no_new_privs = no is refused",
                                       o->socket_path);

        /* Nothing of ours — the listener above all — may be read or traced by the session. */
        if (prctl(PR_SET_DUMPABLE, 0) < 0)
                return log_error_errno(negative_errno(), "prctl(PR_SET_DUMPABLE) failed: %m");
        sigset_t mask;
        block_wrapper_signals(&mask);
        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        int sv[2];
        if (sfd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return log_error_errno(negative_errno(), "Failed to set up the wrapper: %m"), EXIT_SETUP_FAILED;

        pid_t command = fork();
        if (command < 0)
                return log_error_errno(negative_errno(), "fork() failed: %m"), EXIT_SETUP_FAILED;
        if (command == 0) {
                safe_close(sv[0]);
                struct command_settings cs = {
                        .no_new_privs = hello.no_new_privs,
                        .protected_ops = hello.protected_ops & POLICY_OPS_ALL,
                        .limit_capabilities = hello.limit_capabilities,
                        .capabilities = hello.capabilities,
                };
                command_main(&cs, file, argv, sv[1], caller);
        }
        safe_close(sv[1]);
        _cleanup_close_ int sock = sv[0];
        release_caller_fds();
        /* Our capabilities were for the command's filter only. */
        (void) privs_drop_all();
        signal(SIGINT, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);

        l.conn = TAKE_FD(conn);
        r = receive_listener(sock, &l.listener);
        if (r >= 0)
                r = hand_over(&l);
        if (r < 0 || write(sock, "R", 1) != 1) {
                log_error_errno(r, "Supervision by the daemon could not be set up (%m); %s was not run", argv[0]);
                kill(command, SIGKILL);
                waitpid(command, NULL, 0);
                safe_close(l.listener);
                safe_close(l.conn);
                return EXIT_SETUP_FAILED;
        }
        log_debug("Supervised by the daemon at %s, session %s", o->socket_path, l.session);

        int status = 0;
        r = hold_session(&l, command, sfd, &status);
        if (r < 0) {
                kill(command, SIGKILL);
                return EXIT_SETUP_FAILED;
        }
        start_keeper(&l);
        safe_close(l.listener);
        safe_close(l.conn);
        return exit_status_of(status);
}

static int load_policy(const char *path, struct policy **ret) {
        struct policy_error err = {};
        int r = policy_load(path, ret, &err);
        if (r < 0) {
                char msg[512];
                policy_error_format(path, r, &err, msg, sizeof msg);
                log_error("%s", msg);
                return r;
        }
        /* The administrator's, not the session user's: said by check and by the daemon, and
         * here with -v only (a session's stderr is the user's terminal, and the warnings
         * tell of the policy). */
        for (size_t i = 0; i < policy_n_warnings(*ret); i++) {
                char msg[512];
                policy_warning_format(*ret, i, msg, sizeof msg);
                log_debug("%s", msg);
        }
        return r;
}

/* Whether the directory of the daemon's socket exists: the unit's RuntimeDirectory, kept
 * when the daemon stops (RuntimeDirectoryPreserve=yes). On such a host a session without
 * the daemon lacks what only the daemon gives, whatever its policy says. */
static bool socket_dir_exists(const char *socket_path) {
        const char *slash = strrchr(socket_path, '/');
        if (!slash || slash == socket_path)
                return false;
        char dir[PATH_MAX];
        if ((size_t) (slash - socket_path) >= sizeof dir)
                return false;
        memcpy(dir, socket_path, (size_t) (slash - socket_path));
        dir[slash - socket_path] = '\0';
        struct stat sb;
        return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int run_command(const struct run_options *o, const char *file, char **argv) {
        /* Before anything changes them: the command gets them back. */
        struct caller_signals caller;
        caller_signals_save(&caller);
        /* A SIGCHLD the caller ignores would have the kernel reap our children for us:
         * neither the supervisor nor the wrapper would learn how the command ended. */
        signal(SIGCHLD, SIG_DFL);
        /* The wrapper keeps the caller's stderr, whose reader may be gone (`| head`): a line
         * it writes there must not kill it, and with it the session's copy of the listener. */
        signal(SIGPIPE, SIG_IGN);
        int r = fds_fill_stdio();
        if (r < 0)
                return log_error_errno(r, "Failed to open /dev/null: %m"), EXIT_SETUP_FAILED;

        struct standalone st = { .fallback = !o->config };
        const char *config = o->config;
        if (st.fallback) {
                struct stat sb;
                if (o->socket_given || (stat(o->socket_path, &sb) == 0 && S_ISSOCK(sb.st_mode))) {
                        r = run_through_daemon(o, file, argv, &caller);
                        if (r >= 0)
                                return r;
                        if (o->socket_given) {
                                log_error_errno(r, "No daemon answers at %s (%m); %s was not run", o->socket_path,
                                                argv[0]);
                                return EXIT_SETUP_FAILED;
                        }
                        st.daemon_silent = st.daemon_expected = true;
                        errno = -r;
                        snprintf(st.unavailable, sizeof st.unavailable, "The daemon at %s does not answer (%m)",
                                 o->socket_path);
                } else {
                        snprintf(st.unavailable, sizeof st.unavailable, "No daemon at %s", o->socket_path);
                        st.daemon_expected = socket_dir_exists(o->socket_path);
                }
                config = DEFAULT_POLICY;
        } else
                log_debug("Supervising standalone with %s", config);
        _cleanup_(policy_freep) struct policy *p = NULL;
        if (load_policy(config, &p) < 0)
                return EXIT_USAGE;
        if (st.fallback && policy_settings(p)->daemon_required) {
                log_error("%s, and %s says on_daemon_unavailable = refuse; %s was not run", st.unavailable, config,
                          argv[0]);
                return EXIT_SETUP_FAILED;
        }
        st.policy = p;
        st.no_new_privs = policy_settings(p)->no_new_privs;
        return run_standalone(&st, file, argv, &caller);
}
