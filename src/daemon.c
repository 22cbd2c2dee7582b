#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "fds.h"
#include "hostcheck.h"
#include "log.h"
#include "policy.h"
#include "protocol.h"
#include "supervise.h"
#include "workers.h"
#include "util.h"

/* How long a stopping daemon waits for execs it approved to be verified: it must not kill
 * them by leaving (PTRACE_O_EXITKILL), but it must stop. */
#define STOP_DRAIN_MS 5000

/* Free fds the execs of the running sessions may need at once: /proc/PID, its root and
 * cwd, the files of the exec's chain, a pidfd, a file being hashed. A connection or a
 * session is taken only while this many are left beyond it; else it is refused with a
 * reason, rather than taken and its execs, or everybody's, failed for want of fds. */
#define FDS_HEADROOM       12
#define CLIENTS_SETTING_UP 8 /* a user's connections beyond their sessions: handshakes, reloads */

/* How long a listening socket we could not accept from stays out of the epoll set. */
#define LISTEN_PAUSE_MS 1000

/* What an epoll event is about. */
enum source_kind {
        SOURCE_LISTEN,      /* the socket: a client connects */
        SOURCE_SIGNAL,      /* SIGTERM, SIGINT, SIGHUP */
        SOURCE_SUPERVISOR,  /* children, tracees, changed rule files */
        SOURCE_POLICY_FILE, /* the policy file's directory changed */
        SOURCE_CLIENT,      /* a request, or a client gone */
        SOURCE_SESSIONS,    /* the sessions' listeners' own epoll set: a notification, or a session over */
        SOURCE_SESSION,     /* in that set: a session's listener */
        SOURCE_WORKERS,     /* the workers: a call for the main thread, the watchdog, a session released */
};

struct source {
        enum source_kind kind;
};

struct client {
        struct source source;
        int fd;
        struct ucred peer;
        struct client *next;
};

struct daemon_session {
        struct source source;
        struct session s;
        bool ending; /* over, and still held by a decision (workers_release()) */
        struct daemon_session *next;
};

struct daemon {
        const char *config;
        const char *socket_path;
        int epoll_fd, listen_fd, signal_fd, policy_watch_fd;
        /* Kept open to be closed when accept() fails for want of fds: then the one
         * connection it frees is taken, told why it is refused, and closed, instead of
         * left in the backlog to wake the level-triggered epoll for ever. */
        int reserve_fd;
        uint64_t listen_paused_usec; /* when the listener was taken out of the epoll set, or 0 */
        struct source listen_source, signal_source, supervisor_source, policy_file_source;
        char policy_name[256]; /* base name of the policy file, for its directory's events */

        struct policy *policy; /* in force; replaced whole by a reload */
        struct audit *audit;
        struct supervisor *supervisor;
        struct workers *workers;
        struct source workers_source;
        /* The sessions' listeners, in an epoll set of their own that is in the main one but
         * while the workers can take no more (workers_take()): then the notifications wait
         * in the kernel. */
        int sessions_fd;
        struct source sessions_source;
        bool sessions_paused;

        struct client *clients;
        struct daemon_session *sessions;
        size_t n_sessions, n_sessions_ever;
        bool stopping;
        volatile pid_t *inflight; /* mapped from inflight_path */
        char inflight_path[EG_PATH_MAX];
        struct supervisor_stats status_sent; /* the counts STATUS= last said */
        char reload_note[128];               /* said in STATUS= until the next reload */
        uint64_t status_sent_usec;
};

static int epoll_add(struct daemon *d, int fd, struct source *source) {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = source };
        return epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? negative_errno() : 0;
}

static uint64_t monotonic_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* STATUS= for systemctl status: sessions and decisions. */
static void notify_status(struct daemon *d, const char *state) {
        struct supervisor_stats st = supervisor_stats(d->supervisor);
        struct supervisor_latency lat = supervisor_latency(d->supervisor);
        d->status_sent = st;
        d->status_sent_usec = monotonic_usec();
        sd_notifyf(0,
                   "%s%sSTATUS=%s%s%zu sessions (%zu since start); decisions: %llu allowed, %llu denied, %llu killed, "
                   "%llu audited; decision latency p50 %llu us, p99 %llu us, max %llu us; verifier %s",
                   state ? state : "", state ? "\n" : "", d->reload_note, d->reload_note[0] ? "; " : "", d->n_sessions,
                   d->n_sessions_ever, (unsigned long long) st.allowed, (unsigned long long) st.denied,
                   (unsigned long long) st.killed, (unsigned long long) st.audited,
                   (unsigned long long) (lat.p50_ns + 500) / 1000, (unsigned long long) (lat.p99_ns + 500) / 1000,
                   (unsigned long long) (lat.max_ns + 500) / 1000, supervisor_verifier(d->supervisor));
}

/* The decision counts in STATUS= follow the decisions, at most once a second. Returns
 * whether counts are still unsaid. */
static bool refresh_status(struct daemon *d) {
        struct supervisor_stats st = supervisor_stats(d->supervisor);
        if (memcmp(&st, &d->status_sent, sizeof st) == 0)
                return false;
        if (monotonic_usec() - d->status_sent_usec < 1000000u)
                return true;
        notify_status(d, NULL);
        return false;
}

static void free_policy(void *p) {
        policy_free(p);
}

static void free_audit(void *a) {
        audit_free(a);
}

static void log_policy_warnings(const struct policy *p) {
        for (size_t i = 0; i < policy_n_warnings(p); i++) {
                char msg[512];
                policy_warning_format(p, i, msg, sizeof msg);
                log_warning("%s", msg);
        }
}

/* Load the policy file, validate it whole, and put it in force with its audit sinks; or
 * leave everything as it was. Says why in msg either way. Returns 0 or -errno. */
/* The log_file of the policy in force, opened again: a reload is also how a rotated file is
 * taken up (logrotate's postrotate), and a policy file that does not load then must not
 * leave the records going to the rotated file for good. */
static void reopen_log_file(struct daemon *d) {
        const char *log_file = policy_settings(d->policy)->log_file, *warning = NULL;
        if (!log_file)
                return;
        struct audit *audit = NULL;
        int r = audit_open(log_file, &audit, &warning);
        if (r < 0) {
                log_error_errno(r, "Cannot open log_file '%s' again: %m; the records go on to the file open before",
                                log_file);
                return;
        }
        supervisor_set_audit(d->supervisor, audit);
        supervisor_retire(d->supervisor, d->audit, free_audit);
        d->audit = audit;
}

static int reload(struct daemon *d, char *msg, size_t size) {
        sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long) monotonic_usec());
        struct policy *fresh = NULL;
        struct policy_error err = {};
        int r = policy_load(d->config, &fresh, &err);
        if (r < 0) {
                policy_error_format(d->config, r, &err, msg, size);
                log_error("Reload failed, the policy in force is unchanged: %s", msg);
                reopen_log_file(d);
                notify_status(d, "READY=1");
                return r;
        }
        struct audit *audit = NULL;
        const char *warning = NULL;
        r = audit_open(policy_settings(fresh)->log_file, &audit, &warning);
        if (r < 0) {
                snprintf(msg, size, "%s: cannot open log_file '%s': %s", d->config, policy_settings(fresh)->log_file,
                         strerror(-r));
                log_error("Reload failed, the policy in force is unchanged: %s", msg);
                policy_free(fresh);
                reopen_log_file(d);
                notify_status(d, "READY=1");
                return r;
        }
        if (warning)
                log_warning("%s", warning);
        log_policy_warnings(fresh);
        /* From here nothing fails: the swap is whole. */
        size_t before = policy_n_rules(d->policy), after = policy_n_rules(fresh);
        supervisor_set_policy(d->supervisor, fresh);
        supervisor_set_audit(d->supervisor, audit);
        workers_set_timeout(d->workers, policy_settings(fresh)->resolve_timeout);
        /* Decisions begun under the old ones may still be made: the supervisor frees them
         * once none is. */
        supervisor_retire(d->supervisor, d->policy, free_policy);
        supervisor_retire(d->supervisor, d->audit, free_audit);
        d->policy = fresh;
        d->audit = audit;
        /* A file cut short (an editor's crash, a half-copied file reloaded) loses rules
         * quietly: more than half of them gone is said where an administrator looks. */
        if (after < before - before / 2) {
                snprintf(d->reload_note, sizeof d->reload_note, "the last reload dropped %zu of %zu rules",
                         before - after, before);
                snprintf(msg, size, "%s: loaded, %zu rules: %zu of the %zu rules in force before are gone", d->config,
                         after, before - after, before);
                log_warning("Policy reloaded: %s", msg);
        } else {
                d->reload_note[0] = '\0';
                snprintf(msg, size, "%s: loaded, %zu rules", d->config, after);
                log_info("Policy reloaded: %s", msg);
        }
        notify_status(d, "READY=1");
        return 0;
}

/* The directory that holds the socket must be root's and writable by nobody else: else
 * somebody could put their own socket in the daemon's place. */
static int prepare_socket_dir(const char *socket_path) {
        char buf[sizeof(((struct sockaddr_un *) 0)->sun_path)];
        if (strlen(socket_path) >= sizeof buf)
                return log_error_errno(-ENAMETOOLONG, "Socket path '%s' is too long", socket_path);
        strcpy(buf, socket_path);
        const char *dir = dirname(buf);
        if (strcmp(socket_path, DAEMON_SOCKET_DEFAULT) == 0 && mkdir(dir, 0755) < 0 && errno != EEXIST)
                return log_error_errno(negative_errno(), "Failed to create %s: %m", dir);
        struct stat st;
        if (lstat(dir, &st) < 0)
                return log_error_errno(negative_errno(), "Cannot use the socket directory %s: %m", dir);
        if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return log_error_errno(-EPERM,
                                       "Refusing the socket directory %s: it must be a directory owned by root "
                                       "and not writable by group or others",
                                       dir);
        return 0;
}

static int open_socket(struct daemon *d) {
        int r = prepare_socket_dir(d->socket_path);
        if (r < 0)
                return r;
        /* A daemon that answers is already there: do not take its place. */
        int probe = protocol_connect(d->socket_path);
        if (probe >= 0) {
                safe_close(probe);
                return log_error_errno(-EADDRINUSE, "Another daemon is listening on %s", d->socket_path);
        }
        struct stat st;
        if (lstat(d->socket_path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return log_error_errno(-EEXIST, "%s exists and is not a socket", d->socket_path);
                (void) unlink(d->socket_path); /* left by a daemon that died */
        }
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strcpy(sa.sun_path, d->socket_path);
        d->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (d->listen_fd < 0)
                return log_error_errno(negative_errno(), "socket() failed: %m");
        if (bind(d->listen_fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return log_error_errno(negative_errno(), "Failed to bind %s: %m", d->socket_path);
        /* Any local user may ask for supervision; who asks comes from SO_PEERCRED. */
        if (chmod(d->socket_path, 0666) < 0 || listen(d->listen_fd, SOMAXCONN) < 0)
                return log_error_errno(negative_errno(), "Failed to listen on %s: %m", d->socket_path);
        return epoll_add(d, d->listen_fd, &d->listen_source);
}

/* Watch the policy file's directory: editors replace files by renaming over them. */
static int watch_policy_file(struct daemon *d) {
        char buf[EG_PATH_MAX];
        snprintf(buf, sizeof buf, "%s", d->config);
        snprintf(d->policy_name, sizeof d->policy_name, "%s", basename(buf));
        snprintf(buf, sizeof buf, "%s", d->config);
        const char *dir = dirname(buf);
        d->policy_watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (d->policy_watch_fd < 0)
                return log_error_errno(negative_errno(), "inotify_init1() failed: %m");
        if (inotify_add_watch(d->policy_watch_fd, dir,
                              IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB |
                                      IN_ONLYDIR) < 0)
                return log_error_errno(negative_errno(), "Failed to watch %s for changes of the policy: %m", dir);
        return epoll_add(d, d->policy_watch_fd, &d->policy_file_source);
}

/* The tasks whose notifications are received and not yet answered, one slot per job of the
 * workers, in a file next to the socket: if we are killed meanwhile, the next daemon finds
 * them there and wakes them (supervisor_wake_stuck()), else their execs would wait for ever.
 * (A file of one slot is a daemon's from before the workers.) */
#define INFLIGHT_SIZE (WORKERS_JOBS_MAX * sizeof(pid_t))

static int open_inflight(struct daemon *d) {
        snprintf(d->inflight_path, sizeof d->inflight_path, "%s.inflight", d->socket_path);
        _cleanup_close_ int fd = open(d->inflight_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return log_error_errno(negative_errno(), "Failed to open %s: %m", d->inflight_path);
        if (!S_ISREG(st.st_mode) ||
            (st.st_size != 0 && st.st_size != sizeof(pid_t) && st.st_size != (off_t) INFLIGHT_SIZE) ||
            ftruncate(fd, INFLIGHT_SIZE) < 0)
                return log_error_errno(-EINVAL, "%s is not ours: remove it", d->inflight_path);
        void *map = mmap(NULL, INFLIGHT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED)
                return log_error_errno(negative_errno(), "Failed to map %s: %m", d->inflight_path);
        d->inflight = map;
        for (size_t i = 0; i < WORKERS_JOBS_MAX; i++) {
                pid_t stuck = d->inflight[i];
                d->inflight[i] = 0;
                int r = supervisor_wake_stuck(stuck);
                if (r > 0)
                        log_warning("The daemon before us died answering process %d: its exec is notified again",
                                    (int) stuck);
                else if (r < 0)
                        log_warning_errno(r, "Cannot wake process %d, left waiting by the daemon before us: %m",
                                          (int) stuck);
        }
        return 0;
}

static void policy_file_changed(struct daemon *d) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool ours = false;
        for (;;) {
                ssize_t n = read(d->policy_watch_fd, buf, sizeof buf);
                if (n <= 0)
                        break;
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *) p;
                        p += sizeof *ev + ev->len;
                        if ((ev->mask & IN_Q_OVERFLOW) || (ev->len > 0 && strcmp(ev->name, d->policy_name) == 0))
                                ours = true;
                }
        }
        if (!ours)
                return;
        char msg[512];
        log_info("%s changed: reloading", d->config);
        (void) reload(d, msg, sizeof msg);
}

static void client_free(struct daemon *d, struct client *c) {
        for (struct client **pp = &d->clients; *pp; pp = &(*pp)->next)
                if (*pp == c) {
                        *pp = c->next;
                        break;
                }
        (void) epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
        safe_close(c->fd);
        free(c);
}

/* Whether n more fds can be opened now. */
static bool fds_to_spare(const struct daemon *d, int n) {
        int fds[FDS_HEADROOM];
        int got = 0;
        while (got < n && got < (int) ELEMENTSOF(fds) && (fds[got] = fcntl(d->epoll_fd, F_DUPFD_CLOEXEC, 0)) >= 0)
                got++;
        for (int i = 0; i < got; i++)
                safe_close(fds[i]);
        return got == n;
}

/* What a client is told when there is no fd to spare for it (what: "connection", "session"). */
static void no_fds_message(const char *what, char *msg, size_t size) {
        struct rlimit rl = {};
        (void) getrlimit(RLIMIT_NOFILE, &rl);
        snprintf(msg, size,
                 "the daemon has too few file descriptors left (limit %llu) to take another %s; try again later, "
                 "or raise its LimitNOFILE=",
                 (unsigned long long) rl.rlim_cur, what);
}

/* Tell a connection we cannot take why, and close it. Closing a socket with unread data
 * resets the connection, and the client would never see the reason: so no more may come
 * (the client's send fails, and it reads the reply anyway, see protocol_request()), and
 * what came already is read first. */
static void refuse_connection(int fd, int error, const char *message) {
        (void) shutdown(fd, SHUT_RD);
        for (int i = 0; i < 8; i++) {
                struct request req;
                int got = -1;
                int r = protocol_receive_request(fd, &req, MSG_DONTWAIT, &got);
                safe_close(got);
                if (r == -EAGAIN || r == -ECONNRESET || r == -EINVAL || r == -ENOTCONN)
                        break;
        }
        struct reply rep = { .magic = PROTOCOL_MAGIC, .error = error };
        if (message)
                snprintf(rep.message, sizeof rep.message, "%s", message);
        else
                no_fds_message("connection", rep.message, sizeof rep.message);
        (void) protocol_send(fd, &rep, sizeof rep, -1);
        safe_close(fd);
}

static void pause_listening(struct daemon *d) {
        if (d->listen_paused_usec == 0 && epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, d->listen_fd, NULL) == 0)
                d->listen_paused_usec = monotonic_usec();
}

/* Put a paused listener back once its pause is over; returns the ms left, or -1. */
static int resume_listening(struct daemon *d) {
        if (d->listen_paused_usec == 0 || d->listen_fd < 0)
                return -1;
        uint64_t waited = monotonic_usec() - d->listen_paused_usec;
        if (waited < LISTEN_PAUSE_MS * 1000u)
                return (int) (LISTEN_PAUSE_MS - waited / 1000u);
        if (d->reserve_fd < 0)
                d->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (epoll_add(d, d->listen_fd, &d->listen_source) < 0)
                return LISTEN_PAUSE_MS;
        d->listen_paused_usec = 0;
        return -1;
}

static void accept_client(struct daemon *d) {
        int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
                /* The connection stays in the backlog, and the listener readable: answer
                 * it with the fd kept for this, or stop listening a while. */
                log_warning_errno(negative_errno(), "Cannot take a connection: %m; refused");
                if (d->reserve_fd < 0) {
                        pause_listening(d);
                        return;
                }
                d->reserve_fd = safe_close(d->reserve_fd);
                fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd >= 0)
                        refuse_connection(fd, -EMFILE, NULL);
                d->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd < 0 || d->reserve_fd < 0)
                        pause_listening(d);
                return;
        }
        if (fd < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        log_warning_errno(negative_errno(), "accept4() failed: %m");
                return;
        }
        if (!fds_to_spare(d, FDS_HEADROOM)) {
                log_warning("Too few fds left to take a connection; refused (limit: RLIMIT_NOFILE)");
                refuse_connection(fd, -EMFILE, NULL);
                return;
        }
        struct client *c = calloc(1, sizeof *c);
        socklen_t len = sizeof c->peer;
        if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->peer, &len) < 0 || epoll_add(d, fd, &c->source) < 0) {
                log_warning("Cannot take a client: %s", c ? strerror(errno) : "out of memory");
                safe_close(fd);
                free(c);
                return;
        }
        /* Every session keeps its wrapper's connection: a user's connections are bounded by
         * their sessions, plus a few being set up, or fds would be theirs for the taking. */
        unsigned max = policy_settings(d->policy)->max_sessions_per_user + CLIENTS_SETTING_UP, n = 0;
        for (const struct client *other = d->clients; other; other = other->next)
                n += other->peer.uid == c->peer.uid;
        if (n >= max) {
                char msg[256];
                snprintf(msg, sizeof msg, "uid %u has %u connections already (max_sessions_per_user + %d)",
                         (unsigned) c->peer.uid, n, CLIENTS_SETTING_UP);
                log_warning("Refused a connection of pid %d: %s", (int) c->peer.pid, msg);
                (void) epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
                free(c);
                refuse_connection(fd, -EUSERS, msg);
                return;
        }
        c->source.kind = SOURCE_CLIENT;
        c->fd = fd;
        c->next = d->clients;
        d->clients = c;
}

static int add_session(struct daemon *d, const struct client *c, const struct request *req, int listener, char *msg,
                       size_t size) {
        const char *id = req->session;
        if (listener < 0 || !protocol_fd_is_listener(listener)) {
                snprintf(msg, size, "no seccomp listener attached");
                return -EBADF;
        }
        /* One user must not take the daemon from everybody else: sessions are cheap to start. */
        unsigned max = policy_settings(d->policy)->max_sessions_per_user, n = 0;
        for (const struct daemon_session *other = d->sessions; other; other = other->next)
                n += other->s.uid == c->peer.uid;
        if (n >= max) {
                snprintf(msg, size, "uid %u has %u sessions already (max_sessions_per_user = %u)",
                         (unsigned) c->peer.uid, n, max);
                log_warning("Refused a session of pid %d: %s", (int) c->peer.pid, msg);
                return -EUSERS;
        }
        struct daemon_session *ds = calloc(1, sizeof *ds);
        if (!ds)
                return -ENOMEM;
        ds->source.kind = SOURCE_SESSION;
        ds->s = (struct session){ .listener = listener, .uid = c->peer.uid, .pid = c->peer.pid };
        /* What the client says of its source is checked as the client checked it: a client
         * that is not ours sends what it likes, and none of it may reach a record raw. */
        if (req->source_ip[0])
                session_source_set(&ds->s, req->source_ip, req->source_port);
        int r = 0;
        if (session_id_valid(id))
                snprintf(ds->s.id, sizeof ds->s.id, "%s", id);
        else
                r = session_id_new(ds->s.id);
        if (r >= 0) {
                struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &ds->source };
                r = epoll_ctl(d->sessions_fd, EPOLL_CTL_ADD, listener, &ev) < 0 ? negative_errno() : 0;
        }
        if (r < 0) {
                free(ds);
                snprintf(msg, size, "cannot supervise: %s", strerror(-r));
                return r;
        }
        ds->next = d->sessions;
        d->sessions = ds;
        d->n_sessions++;
        d->n_sessions_ever++;
        log_info("Session %s: supervising for uid %u (pid %d)", ds->s.id, (unsigned) c->peer.uid, (int) c->peer.pid);
        snprintf(msg, size, "supervised by the daemon, session %s", ds->s.id);
        notify_status(d, NULL);
        return 0;
}

/* The session of id, for the supervisor's records made after an exec was answered. */
static const struct session *find_session(const char *id, void *data) {
        const struct daemon *d = data;
        for (const struct daemon_session *ds = d->sessions; ds; ds = ds->next)
                if (strcmp(ds->s.id, id) == 0)
                        return &ds->s;
        return NULL;
}

/* A session over and held by no decision: gone. */
static void finish_session(struct daemon *d, struct daemon_session *ds) {
        for (struct daemon_session **pp = &d->sessions; *pp; pp = &(*pp)->next)
                if (*pp == ds) {
                        *pp = ds->next;
                        break;
                }
        log_info("Session %s: ended after %llu decisions", ds->s.id,
                 (unsigned long long) __atomic_load_n(&ds->s.decisions, __ATOMIC_RELAXED));
        safe_close(ds->s.listener);
        free(ds);
        d->n_sessions--;
        notify_status(d, NULL);
}

static void end_session(struct daemon *d, struct daemon_session *ds) {
        /* Explicitly: the wrapper holds the same open file, so closing our fd would not
         * take it out of the epoll set, which would go on reporting it. */
        (void) epoll_ctl(d->sessions_fd, EPOLL_CTL_DEL, ds->s.listener, NULL);
        if (workers_release(d->workers, &ds->s))
                finish_session(d, ds);
        else
                ds->ending = true; /* finished when its last decision is done with */
}

static void session_released(struct session *sess, void *data) {
        struct daemon *d = data;
        for (struct daemon_session *ds = d->sessions; ds; ds = ds->next)
                if (&ds->s == sess) {
                        finish_session(d, ds);
                        return;
                }
}

/* The workers can take notifications again. */
static void resume_sessions(void *data) {
        struct daemon *d = data;
        if (!d->sessions_paused || d->stopping)
                return;
        if (epoll_add(d, d->sessions_fd, &d->sessions_source) == 0)
                d->sessions_paused = false;
}

/* One request of a client; a client that sends garbage is answered and dropped. */
static void serve_client(struct daemon *d, struct client *c) {
        struct request req;
        int fd = -1;
        /* Of version 1 or 2: a wrapper started before an upgrade hands its session to the
         * new daemon too. */
        int r = protocol_receive_request(c->fd, &req, MSG_DONTWAIT, &fd);
        if (r == -EAGAIN)
                return;
        struct reply rep = { .magic = PROTOCOL_MAGIC };
        if (r < 0) {
                if (r == -EMFILE) {
                        /* The fd it sent could not be taken: not a bad client, a full table. */
                        rep.error = r;
                        no_fds_message("session", rep.message, sizeof rep.message);
                        (void) protocol_send(c->fd, &rep, sizeof rep, -1);
                        log_warning("Refused a session of uid %u (pid %d): %s", (unsigned) c->peer.uid,
                                    (int) c->peer.pid, rep.message);
                } else if (r != -ECONNRESET) {
                        rep.error = r;
                        snprintf(rep.message, sizeof rep.message, "bad request: %s", strerror(-r));
                        (void) protocol_send(c->fd, &rep, sizeof rep, -1);
                        log_warning("Dropped a client (uid %u, pid %d): %s", (unsigned) c->peer.uid, (int) c->peer.pid,
                                    rep.message);
                }
                safe_close(fd);
                client_free(d, c);
                return;
        }
        req.session[SESSION_ID_LEN] = '\0';

        const struct policy_settings *st = policy_settings(d->policy);
        switch (req.kind) {
        case REQUEST_HELLO:
                rep.error = session_id_new(rep.session);
                rep.no_new_privs = st->no_new_privs;
                rep.limit_capabilities = st->limit_capabilities;
                rep.capabilities = st->capabilities;
                rep.protected_ops = policy_protected_ops(d->policy);
                break;
        case REQUEST_SESSION:
                if (fd >= 0 && !fds_to_spare(d, FDS_HEADROOM)) {
                        rep.error = -EMFILE;
                        no_fds_message("session", rep.message, sizeof rep.message);
                        log_warning("Refused a session of uid %u (pid %d): %s", (unsigned) c->peer.uid,
                                    (int) c->peer.pid, rep.message);
                        break;
                }
                rep.error = add_session(d, c, &req, fd, rep.message, sizeof rep.message);
                if (rep.error == 0) {
                        fd = -1; /* the session's now */
                        snprintf(rep.session, sizeof rep.session, "%s", d->sessions->s.id);
                }
                break;
        case REQUEST_RELOAD:
                if (c->peer.uid != 0) {
                        rep.error = -EPERM;
                        snprintf(rep.message, sizeof rep.message, "only root may reload the policy");
                } else
                        rep.error = reload(d, rep.message, sizeof rep.message);
                break;
        default:
                rep.error = -EPROTO;
                snprintf(rep.message, sizeof rep.message, "unknown request %u", req.kind);
        }
        safe_close(fd);
        if (protocol_send(c->fd, &rep, sizeof rep, -1) < 0 || rep.error == -EPROTO)
                client_free(d, c);
}

/* A session's listener is ready. Returns false if the workers can take no more now. */
static bool serve_session(struct daemon *d, struct daemon_session *ds, uint32_t events) {
        if (ds->ending)
                return true;
        if (events & EPOLLIN) {
                int r = workers_take(d->workers, &ds->s);
                if (r == -EAGAIN)
                        return false;
                if (r < 0) {
                        log_error_errno(r,
                                        "Session %s: the listener failed (%m); the session is dropped, and its "
                                        "execs fail",
                                        ds->s.id);
                        end_session(d, ds);
                }
                return true;
        }
        /* EPOLLHUP: no process of the session is left. */
        if (events & (EPOLLHUP | EPOLLERR))
                end_session(d, ds);
        return true;
}

/* The sessions' listeners that are ready, while the workers take their notifications; when
 * they can take no more, the set is out of the main one until they can (resume_sessions()). */
static void serve_sessions(struct daemon *d) {
        struct epoll_event evs[64];
        int n = epoll_wait(d->sessions_fd, evs, ELEMENTSOF(evs), 0);
        for (int i = 0; i < n; i++)
                if (!serve_session(d, evs[i].data.ptr, evs[i].events)) {
                        if (epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, d->sessions_fd, NULL) == 0)
                                d->sessions_paused = true;
                        return;
                }
}

/* SIGTERM: stop taking work, let the execs already approved be verified, then go. What is
 * not served waits in the kernel, for the next daemon, as long as a wrapper holds a copy
 * of the listener. */
static void begin_stop(struct daemon *d) {
        d->stopping = true;
        notify_status(d, "STOPPING=1");
        log_info("Stopping: %zu sessions wait for the next daemon", d->n_sessions);
        if (d->listen_fd >= 0) {
                (void) unlink(d->socket_path);
                d->listen_fd = safe_close(d->listen_fd);
        }
        if (!d->sessions_paused)
                (void) epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, d->sessions_fd, NULL);
        d->sessions_paused = true;
}

static void handle_signal(struct daemon *d) {
        struct signalfd_siginfo si;
        while (read(d->signal_fd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGHUP) {
                        char msg[512];
                        log_info("SIGHUP: reloading %s", d->config);
                        (void) reload(d, msg, sizeof msg);
                } else if (!d->stopping)
                        begin_stop(d);
        }
}

static int event_loop(struct daemon *d) {
        struct epoll_event evs[64];
        struct timespec deadline = {};
        for (;;) {
                int timeout = -1;
                if (d->stopping) {
                        if (supervisor_verifying(d->supervisor) == 0 && workers_pending(d->workers) == 0)
                                return 0;
                        struct timespec now;
                        clock_gettime(CLOCK_MONOTONIC, &now);
                        if (deadline.tv_sec == 0) {
                                deadline = now;
                                deadline.tv_sec += STOP_DRAIN_MS / 1000;
                        }
                        long left = (deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1000000;
                        if (left <= 0) {
                                log_warning("%zu approved execs not verified in time, and %u not answered: they "
                                            "are killed, or notified again to the next daemon, as we stop",
                                            supervisor_verifying(d->supervisor), workers_pending(d->workers));
                                return 0;
                        }
                        timeout = (int) left;
                }
                /* Counts that changed less than a second ago are said within a second. */
                if (refresh_status(d) && timeout < 0)
                        timeout = 1000;
                int paused = d->stopping ? -1 : resume_listening(d);
                if (paused >= 0 && (timeout < 0 || paused < timeout))
                        timeout = paused;
                int n = epoll_wait(d->epoll_fd, evs, ELEMENTSOF(evs), timeout);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(negative_errno(), "epoll_wait() failed: %m");
                }
                /* Rule files and tracees first: a change made before an exec is known
                 * before that exec is judged (supervisor_serve() checks again). */
                for (int i = 0; i < n; i++)
                        if (((struct source *) evs[i].data.ptr)->kind == SOURCE_SUPERVISOR)
                                supervisor_process_events(d->supervisor, NULL);
                for (int i = 0; i < n; i++) {
                        struct source *src = evs[i].data.ptr;
                        switch (src->kind) {
                        case SOURCE_LISTEN:
                                if (!d->stopping)
                                        accept_client(d);
                                break;
                        case SOURCE_SIGNAL:
                                handle_signal(d);
                                break;
                        case SOURCE_SUPERVISOR:
                                break;
                        case SOURCE_POLICY_FILE:
                                policy_file_changed(d);
                                break;
                        case SOURCE_CLIENT:
                                serve_client(d, (struct client *) src);
                                break;
                        case SOURCE_SESSIONS:
                                if (!d->stopping)
                                        serve_sessions(d);
                                break;
                        case SOURCE_SESSION: /* in sessions_fd's set, not ours */
                                break;
                        case SOURCE_WORKERS:
                                workers_process(d->workers);
                                break;
                        }
                }
        }
}

static void daemon_free(struct daemon *d) {
        while (d->clients)
                client_free(d, d->clients);
        /* Workers stuck in a file system that does not answer may yet use the supervisor,
         * the policy, the audit sinks and the sessions: those are left to the exit. */
        bool clean = workers_free(d->workers);
        while (clean && d->sessions) {
                struct daemon_session *ds = d->sessions;
                d->sessions = ds->next;
                safe_close(ds->s.listener);
                free(ds);
        }
        if (clean)
                supervisor_free(d->supervisor);
        if (d->inflight) {
                munmap((void *) d->inflight, INFLIGHT_SIZE);
                (void) unlink(d->inflight_path);
        }
        if (clean)
                audit_free(d->audit);
        /* syslog's connection is the process's (see audit_free()); the daemon is done with
         * it here, and leaves no fd of its own open (make check-valgrind, --track-fds). */
        closelog();
        if (clean)
                policy_free(d->policy);
        if (d->listen_fd >= 0) {
                (void) unlink(d->socket_path);
                safe_close(d->listen_fd);
        }
        safe_close(d->policy_watch_fd);
        safe_close(d->signal_fd);
        safe_close(d->sessions_fd);
        safe_close(d->epoll_fd);
        safe_close(d->reserve_fd);
}

static int daemon_start(struct daemon *d) {
        if (geteuid() != 0)
                return log_error_errno(-EPERM, "The daemon must run as root: it traces and reads the memory of "
                                               "every supervised process");
        /* Nothing of ours may be read or traced by what we supervise. */
        if (prctl(PR_SET_DUMPABLE, 0) < 0)
                return log_error_errno(negative_errno(), "prctl(PR_SET_DUMPABLE) failed: %m");
        signal(SIGPIPE, SIG_IGN);
        /* Whatever we inherited beyond stdio is not ours (we take no sockets from systemd),
         * and we outlive whoever started us: held here, a pipe of theirs would never see
         * EOF. Before anything of ours is opened, so the low numbers are ours again. */
        int closed = fds_close_inherited();
        if (closed > 0)
                log_debug("Closed %d fds inherited from the caller", closed);
        /* First, so that it has a low number: one below even a limit lowered under what we
         * hold (prlimit on the running daemon). */
        d->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (d->reserve_fd < 0)
                return log_error_errno(negative_errno(), "Failed to open /dev/null: %m");
        /* Two fds a session: take all the hard limit allows (systemd's soft limit of 1024 is
         * for programs that use select(); we do not). */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        log_debug_errno(negative_errno(), "Cannot raise RLIMIT_NOFILE: %m");
        }

        struct policy_error err = {};
        int r = policy_load(d->config, &d->policy, &err);
        if (r < 0) {
                char msg[512];
                policy_error_format(d->config, r, &err, msg, sizeof msg);
                return log_error_errno(r, "%s", msg);
        }
        log_policy_warnings(d->policy);
        const char *warning = NULL;
        r = audit_open(policy_settings(d->policy)->log_file, &d->audit, &warning);
        if (r < 0)
                return log_error_errno(r, "Failed to open log_file '%s': %m", policy_settings(d->policy)->log_file);
        if (warning)
                log_warning("%s", warning);

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sigdelset(&mask, SIGCHLD); /* the supervisor's own signalfd takes that one */
        d->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        d->sessions_fd = epoll_create1(EPOLL_CLOEXEC);
        if (d->signal_fd < 0 || d->epoll_fd < 0 || d->sessions_fd < 0)
                return log_error_errno(negative_errno(), "Failed to set up the event loop: %m");
        r = epoll_add(d, d->signal_fd, &d->signal_source);
        if (r >= 0)
                r = epoll_add(d, d->sessions_fd, &d->sessions_source);
        if (r < 0)
                return log_error_errno(r, "epoll_ctl() failed: %m");

        r = supervisor_new(d->policy, d->audit, &d->supervisor);
        if (r < 0)
                return r;
        supervisor_set_session_lookup(d->supervisor, find_session, d);
        r = epoll_add(d, supervisor_fd(d->supervisor), &d->supervisor_source);
        if (r < 0)
                return log_error_errno(r, "epoll_ctl() failed: %m");
        r = watch_policy_file(d);
        if (r < 0)
                return r;
        r = open_socket(d);
        if (r < 0)
                return r;
        r = open_inflight(d);
        if (r < 0)
                return r;
        const struct workers_hooks hooks = { .released = session_released, .resume = resume_sessions, .data = d };
        const struct policy_settings *st = policy_settings(d->policy);
        r = workers_new(d->supervisor, st->workers, st->resolve_timeout, d->inflight, &hooks, &d->workers);
        if (r < 0)
                return r;
        r = epoll_add(d, workers_fd(d->workers), &d->workers_source);
        if (r < 0)
                return log_error_errno(r, "epoll_ctl() failed: %m");
        return 0;
}

/* What an exec control cannot stop, and the host can: a session's user who has processes
 * outside the session under the same uid (another login, a cron job, a systemd --user
 * service) can ptrace one of them, or write its memory, and make it run anything,
 * unsupervised. Yama's ptrace_scope 1 lets a process trace only its descendants. Said once,
 * at start, by the daemon, the host's supervisor; not by every standalone session. */
static void warn_about_ptrace_scope(void) {
        int scope;
        int r = hostcheck_ptrace_scope(&scope);
        if (r == -ENOENT)
                log_warning("Yama is not enabled (no %s): any process may ptrace another of the same user, so a "
                            "session's user can ptrace their processes outside the session and run anything there; "
                            "enable Yama and set kernel.yama.ptrace_scope to 1 (see SECURITY in execguard(8))",
                            HOSTCHECK_PTRACE_SCOPE);
        else if (r < 0)
                log_warning_errno(r,
                                  "Cannot read %s: %m; if it is 0, a session's user can ptrace their processes "
                                  "outside the session and run anything there",
                                  HOSTCHECK_PTRACE_SCOPE);
        else if (scope == 0)
                log_warning("kernel.yama.ptrace_scope is 0: a session's user can ptrace their processes outside the "
                            "session and run anything there; set it to 1 (see SECURITY in execguard(8))");
}

int daemon_run(const struct daemon_options *o) {
        struct daemon d = {
                .config = o->config,
                .socket_path = o->socket_path,
                .epoll_fd = -1,
                .listen_fd = -1,
                .signal_fd = -1,
                .policy_watch_fd = -1,
                .reserve_fd = -1,
                .listen_source = { SOURCE_LISTEN },
                .signal_source = { SOURCE_SIGNAL },
                .supervisor_source = { SOURCE_SUPERVISOR },
                .policy_file_source = { SOURCE_POLICY_FILE },
                .workers_source = { SOURCE_WORKERS },
                .sessions_source = { SOURCE_SESSIONS },
                .sessions_fd = -1,
        };
        int r = daemon_start(&d);
        if (r >= 0) {
                warn_about_ptrace_scope();
                log_info("Listening on %s with %s (%zu rules); verifier: %s; %u workers", d.socket_path, d.config,
                         policy_n_rules(d.policy), supervisor_verifier(d.supervisor), workers_count(d.workers));
                notify_status(&d, "READY=1");
                r = event_loop(&d);
        }
        if (r < 0)
                sd_notifyf(0, "STOPPING=1\nERRNO=%d", -r);
        daemon_free(&d);
        return r < 0 ? 1 : 0;
}
