#include "supervise.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "audit.h"
#include "creds.h"
#include "fileop.h"
#include "filter.h"
#include "judge.h"
#include "kverify.h"
#include "latency.h"
#include "loader.h"
#include "log.h"
#include "notify.h"
#include "procmem.h"
#include "procinfo.h"
#include "procstatus.h"
#include "protect.h"
#include "resolve.h"
#include "rulewatch.h"
#include "tell.h"
#include "valgrind.h"
#include "verify.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* What decisions are made under, replaced whole by a reload or a changed rule file. An
 * object replaced is retired, and freed once no decision that began before is still being
 * made (a decider stuck in a file system that does not answer may hold it for long). */
struct retired {
        void *object;
        void (*free)(void *object);
        uint64_t epoch; /* the epoch it was replaced in */
        struct retired *next;
};

struct supervisor {
        /* Guards what deciders of other threads share: the policy and audit pointers and
         * their epoch, the retired list, the deciders, the counts and the latencies. */
        pthread_mutex_t lock;
        const struct policy *policy;
        struct policy *reidentified; /* the policy in force, once its files were replaced */
        struct audit *audit;
        uint64_t epoch; /* bumped each time the policy or the audit sinks are replaced */
        struct retired *retired;
        struct decider *deciders; /* every decider, to know the oldest epoch in use */
        struct rule_watch *watch;
        struct supervisor_stats stats;
        int events_fd;               /* epoll: sigchld_fd and the rule watch */
        struct exec_self self;       /* our root and credentials */
        struct verifier *verifier;   /* the ptrace check: always there, the fallback */
        struct kverifier *kernel;    /* the kernel engine, or NULL */
        const char *engine;          /* "kernel" or "ptrace": the check of this supervisor */
        struct decider *main;        /* the main thread's: supervisor_serve(), and what follows execs */
        struct loader_set loaders;   /* as found at start: each decider keeps a copy */
        int sigchld_fd;
        /* How long each decision took: supervisor_serve(). */
        struct latency_histogram latency;
        supervisor_session_lookup lookup;
        void *lookup_data;
        /* How a decider of another thread has the main thread take in a rule change. */
        supervisor_main_call main_call;
        void *main_call_data;
};

/* One thread's means to decide: the notification it serves and its scratch space, allocated
 * once (nothing on the exec path allocates). */
struct decider {
        struct supervisor *s;
        bool on_main;                /* the main thread's: its tracees' stops come to reap() */
        uint64_t epoch;              /* the epoch its decision began in; 0: not deciding */
        const struct policy *policy; /* this decision's */
        struct audit *audit;
        const struct decision_owner *owner; /* who else may answer (a timeout), or NULL */
        struct session *sess;               /* whose notification is being served */
        struct seccomp_notif *req;
        struct seccomp_notif_resp *resp;
        struct identity_cache *identities;
        const char *verified_by; /* the check of the exec being answered, NULL: the engine */
        struct loader_set loaders;
        pid_t armed;              /* attached for verification, answer not sent yet */
        int follow_pidfd;         /* a worker's: the process armed, for the watchdog's kill, or -1 */
        pid_t kernel_armed;       /* approved to the kernel engine, answer not sent yet */
        volatile pid_t *inflight; /* the task whose notification is being answered, or NULL */
        struct exec_chain chain;
        char path[EG_PATH_MAX];
        char filename[EG_PATH_MAX + 32]; /* the path as the kernel names the file it runs */
        char *args;                      /* the exec's arguments, when command rules need them */
        size_t args_size;                /* allocated: it only grows */
        struct exec_args exec_args;
        struct digest_stream *digest;
        struct verify_scratch *vs;  /* the ptrace check's reads */
        struct verify_report report; /* what the ptrace check says of a tracee */
        struct teller *teller;       /* bound to its thread */
        struct procinfo info;
        const char *chain_paths[AUDIT_CHAIN_MAX];
        struct protect_plan plan; /* a file operation's (protect.h) */
        bool answered;            /* by another thread, which took the notification over */
        struct decider *next;
};

/* The decision d begins is made under the policy and the audit sinks in force now, and
 * keeps them: nothing it holds is freed while it decides (supervisor_retire()). */
static void decider_begin(struct decider *d) {
        struct supervisor *s = d->s;
        pthread_mutex_lock(&s->lock);
        d->epoch = s->epoch;
        d->policy = s->policy;
        d->audit = s->audit;
        pthread_mutex_unlock(&s->lock);
}

static void decider_end(struct decider *d) {
        pthread_mutex_lock(&d->s->lock);
        d->epoch = 0;
        pthread_mutex_unlock(&d->s->lock);
}

/* Free what was retired before every decision still being made began. */
static void collect_retired(struct supervisor *s, bool all) {
        pthread_mutex_lock(&s->lock);
        uint64_t oldest = UINT64_MAX;
        for (const struct decider *d = s->deciders; d && !all; d = d->next)
                if (d->epoch != 0 && d->epoch < oldest)
                        oldest = d->epoch;
        struct retired *unused = NULL;
        for (struct retired **pp = &s->retired; *pp;) {
                struct retired *r = *pp;
                if (all || r->epoch <= oldest) {
                        *pp = r->next;
                        r->next = unused;
                        unused = r;
                } else
                        pp = &r->next;
        }
        pthread_mutex_unlock(&s->lock);
        while (unused) {
                struct retired *r = unused;
                unused = r->next;
                r->free(r->object);
                free(r);
        }
}

void supervisor_retire(struct supervisor *s, void *object, void (*free_fn)(void *object)) {
        if (!object)
                return;
        struct retired *r = malloc(sizeof *r);
        if (!r) {
                /* Kept for good rather than freed under a decision that may use it. */
                log_warning("Out of memory: an old policy or audit sink is kept");
                return;
        }
        pthread_mutex_lock(&s->lock);
        *r = (struct retired){ .object = object, .free = free_fn, .epoch = s->epoch, .next = s->retired };
        s->retired = r;
        pthread_mutex_unlock(&s->lock);
        collect_retired(s, false);
}

static void free_policy(void *p) {
        policy_free(p);
}

/* Put policy in force, and retire the one reidentify() made, if any. */
static void replace_policy(struct supervisor *s, const struct policy *policy, struct policy *reidentified) {
        struct policy *old = s->reidentified;
        pthread_mutex_lock(&s->lock);
        s->policy = policy;
        s->reidentified = reidentified;
        s->epoch++;
        pthread_mutex_unlock(&s->lock);
        supervisor_retire(s, old, free_policy);
}

/* May this decider act on its notification: is the answer still its own to give?
 * (decision_owner) Once false, false for good. */
static bool decider_claim(struct decider *d) {
        if (!d->owner)
                return true;
        return d->owner->claim(d->owner->data);
}

static void count_decision(struct supervisor *s, enum audit_decision decision) {
        pthread_mutex_lock(&s->lock);
        switch (decision) {
        case AUDIT_ALLOW:
                s->stats.allowed++;
                break;
        case AUDIT_DENY:
                s->stats.denied++;
                break;
        case AUDIT_KILL:
                s->stats.killed++;
                break;
        case AUDIT_WOULD_BLOCK:
                s->stats.audited++;
                break;
        case AUDIT_SUPERVISOR_LOST: /* not the supervisor's to record */
        case AUDIT_SESSION_DEGRADED:
                break;
        }
        pthread_mutex_unlock(&s->lock);
}

/* The task that made the notification: still that task, not a recycled PID? */
static bool notification_valid(const struct decider *d) {
        return notify_id_valid(d->sess->listener, d->req->id);
}

/* Record a decision about an exec of session (from: its struct, for its source; NULL: not
 * known), with who made it: executable is the program it loads (NULL: not known), the chain
 * d->chain (empty: not known). argv_addr: see procinfo_read(). */
/* The same, for a process described by view rather than read from /proc (NULL: read
 * through ctx). */
static void record_exec_of(struct decider *d, const struct exec_context *ctx, const struct audit_process *view,
                           enum audit_decision decision, const struct session *from, const char *session,
                           const char *requested, const char *executable, const struct policy_rule *rule,
                           const char *blocked, const char *note, uint64_t argv_addr, unsigned pointer_size) {
        /* What the record says of the process is read first: that read may stall (its
         * memory may be a file's that does not answer), and until the claim the watchdog
         * may still answer for us. */
        if (view)
                d->info.view = *view;
        else if (d->audit)
                procinfo_read(&d->info, ctx->tid, ctx->proc_fd, argv_addr, pointer_size);
        if (!decider_claim(d))
                return;
        count_decision(d->s, decision);
        if (!d->audit)
                return;
        size_t n = 0;
        for (unsigned i = 0; i < d->chain.n && n < AUDIT_CHAIN_MAX; i++)
                d->chain_paths[n++] = d->chain.files[i].path;
        struct audit_record rec = {
                .decision = decision,
                .mode = policy_mode_to_string(policy_mode(d->policy)),
                .session = session,
                .source_ip = from && from->source_ip[0] ? from->source_ip : NULL,
                .source_port = from ? from->source_port : 0,
                .degraded = from ? from->degraded : NULL,
                .requested = requested,
                .executable = executable,
                .chain = d->chain_paths,
                .chain_len = n,
                .blocked = blocked,
                .policy_source = policy_source(d->policy),
                .rule = rule,
                .note = note,
                .verifier = d->verified_by ? d->verified_by : d->s->engine,
                .process = d->info.view,
        };
        int r = audit_log(d->audit, &rec);
        if (r < 0)
                log_warning_errno(r, "Failed to write an audit record: %m");
}

static void record_exec(struct decider *d, const struct exec_context *ctx, enum audit_decision decision,
                        const struct session *from, const char *session, const char *requested, const char *executable,
                        const struct policy_rule *rule, const char *blocked, const char *note, uint64_t argv_addr,
                        unsigned pointer_size) {
        record_exec_of(d, ctx, NULL, decision, from, session, requested, executable, rule, blocked, note, argv_addr,
                       pointer_size);
}

/* The session whose id is id, for a record made after its exec was answered: the one being
 * served may be another by then. */
static const struct session *session_of(const struct decider *d, const char *id) {
        return d->s->lookup && id ? d->s->lookup(id, d->s->lookup_data) : NULL;
}

/* Record a decision about the exec being judged (d->chain). */
static void record(struct decider *d, const struct exec_context *ctx, enum audit_decision decision,
                   const struct session *from, const char *session, const char *requested,
                   const struct policy_rule *rule, const char *blocked, const char *note, uint64_t argv_addr,
                   unsigned pointer_size) {
        record_exec(d, ctx, decision, from, session, requested, d->chain.n ? d->chain.files[d->chain.image].path : NULL,
                    rule, blocked, note, argv_addr, pointer_size);
}

static int open_task_pidfd(pid_t tid) {
        int pidfd = (int) syscall_fd4(SYS_pidfd_open, tid, PIDFD_THREAD, 0, 0);
        if (pidfd < 0 && errno == EINVAL)
                pidfd = (int) syscall_fd4(SYS_pidfd_open, tid, 0, 0, 0); /* kernel < 6.9: leaders only */
        return pidfd < 0 ? negative_errno() : pidfd;
}

/* Tell the user on the process's own stderr why the exec failed: one line, the path
 * escaped (tell.h: through the process's own description, never one we open). Failures
 * are ignored: the audit record is what counts. The process is the one of the
 * notification being served, unless pinned (a tracee in a stop, whose PID cannot be
 * recycled). */
static void tell_process_pinned(struct decider *d, const struct exec_context *ctx, bool pinned, const char *what,
                                const char *path, const char *why) {
        char msg[EG_PATH_MAX + 128], escaped[EG_PATH_MAX];
        _cleanup_close_ int pidfd = open_task_pidfd(ctx->tid);
        /* The pidfd pins the task: is it still the one that asked? */
        if (pidfd < 0 || (!pinned && (!notification_valid(d) || !decider_claim(d))))
                return;
        log_escape(path, escaped, sizeof escaped);
        int len = snprintf(msg, sizeof msg, "execguard: %s %s%s\n", what, escaped, why);
        if (len <= 0)
                return;
        if ((size_t) len >= sizeof msg)
                len = sizeof msg - 1;
        int r = teller_write(d->teller, pidfd, msg, (size_t) len);
        if (r < 0)
                log_debug_errno(r, "Could not write to the stderr of %d: %m", (int) ctx->tid);
}

static void tell_process(struct decider *d, const struct exec_context *ctx, const char *what, const char *path,
                         const char *why) {
        tell_process_pinned(d, ctx, false, what, path, why);
}

static int kill_task(struct decider *d, pid_t tid) {
        _cleanup_close_ int pidfd = open_task_pidfd(tid);
        if (pidfd < 0)
                return pidfd;
        /* The pidfd pins the task; confirm it is still the one that asked. */
        if (!notification_valid(d) || !decider_claim(d))
                return -ESRCH;
        if (syscall_fd4(SYS_pidfd_send_signal, pidfd, SIGKILL, 0, 0) < 0)
                return negative_errno();
        return 0;
}

static void answer_continue(struct seccomp_notif_resp *resp) {
        /* The kernel insists: CONTINUE carries no error and no value. */
        resp->error = 0;
        resp->val = 0;
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
}

/* Answer "continue", and verify after the exec that the kernel ran what was approved (and,
 * for a loader run as a command, what it maps as its program). */
/* The arguments judged, as the new program will receive them after its argv[0]: the
 * verifier kills it if it gets others (another thread rewrote them after our read). */
static int expect_args(struct decider *d, pid_t tid) {
        struct policy_args a;
        judge_args_of(&d->chain, d->chain.image, &d->exec_args, &a);
        int r = digest_stream_begin(d->digest);
        for (size_t i = 0; r >= 0 && i < a.n_pre; i++)
                r = digest_stream_add(d->digest, a.pre[i], strlen(a.pre[i]) + 1);
        if (r >= 0 && a.n_tail > 0) {
                const char *end = a.tail;
                for (size_t i = 0; i < a.n_tail; i++)
                        end += strlen(end) + 1;
                r = digest_stream_add(d->digest, a.tail, (size_t) (end - a.tail));
        }
        uint8_t digest[SHA256_LEN];
        if (r >= 0)
                r = digest_stream_end(d->digest, digest);
        if (r >= 0)
                r = verifier_expect_args(d->s->verifier, tid, a.n_pre + a.n_tail, digest);
        return r;
}

/* Can the kernel engine check this exec alone? Not what the ptrace check does beyond
 * comparing files: a loader's program, arguments, content judged by hash (re-hashed at the
 * exec stop), a program the kernel may replace (binfmt_misc), judged at the exec stop; nor a
 * 32-bit program (its auxiliary vector is of 32-bit words), nor files it cannot recognise
 * (kverifier_covers()). */
static bool kernel_checks(struct decider *d, const struct verdict *v, bool loader, const struct exec_file *image,
                          const struct exec_file *interp) {
        return d->s->kernel && !loader && !d->chain.unpredictable && !(v->hashed & (1u << d->chain.image)) &&
               !policy_has_commands(d->policy) && !image->elf32 &&
               kverifier_covers(d->s->kernel, &image->st, image->fd) &&
               (!interp || kverifier_covers(d->s->kernel, &interp->st, interp->fd));
}

/* Approve the exec to the kernel engine. Returns 0, or -errno (denied then). */
static int allow_kernel_checked(struct decider *d, const struct exec_context *ctx, const struct exec_file *image,
                                const struct exec_file *interp) {
        _cleanup_close_ int pidfd = open_task_pidfd(ctx->tid);
        if (pidfd < 0)
                return pidfd;
        if (!decider_claim(d))
                return -ESRCH;
        int r = kverifier_approve(d->s->kernel, pidfd, ctx->tid, &image->st, image->path, interp ? &interp->st : NULL,
                                  d->sess->id);
        if (r < 0)
                return r;
        /* The pidfd named the thread that asked only if it still waits in its notification
         * now (a PID recycled before pidfd_open() names another task). */
        if (!notification_valid(d)) {
                kverifier_withdraw(d->s->kernel, ctx->tid);
                return -ESRCH;
        }
        d->kernel_armed = ctx->tid;
        d->verified_by = "kernel";
        answer_continue(d->resp);
        return 0;
}

/* How long a worker waits for another to let go of a thread that execs again. */
#define TRACER_WAIT_MS 2000

/* The ptrace check's part of an approval. The deciding thread attaches: a tracee is its
 * tracer thread's alone, and this one follows the exec to its end. */
struct ptrace_arm {
        struct decider *d;
        const struct exec_context *ctx;
        const struct verdict *v;
        const struct exec_file *image, *interp; /* interp: NULL if none */
        bool loader;
        int r; /* 0: attached; -EDQUOT: max_pending_per_user; -ESRCH: not ours to answer; -errno */
};

static void arm_ptrace(struct ptrace_arm *a) {
        struct decider *d = a->d;
        struct verifier *verifier = d->s->verifier;
        const struct exec_chain *chain = &d->chain;
        const struct exec_file *image = a->image, *interp = a->interp;
        /* One more exec of this session's user to verify: within max_pending_per_user? (The
         * count of one user is taken only when the whole table is that full.) */
        unsigned max = policy_settings(d->policy)->max_pending_per_user;
        if (verifier_count(verifier) >= max && verifier_count_of(verifier, d->sess->uid) >= max) {
                a->r = -EDQUOT;
                return;
        }
        if (!decider_claim(d)) {
                a->r = -ESRCH;
                return;
        }
        a->r = verifier_attach(verifier, a->ctx->tid, &image->st, image->path, interp ? &interp->st : NULL,
                               interp ? interp->path : NULL, a->loader, d->sess->id, d->sess->uid);
        if (a->r < 0)
                return;
        /* binfmt_misc may run another program: judged then, not killed. */
        if (chain->unpredictable)
                (void) verifier_judge_ran(verifier, a->ctx->tid);
        /* The program was judged by its content: it must still have it when it runs. */
        if (a->v->hashed & (1u << chain->image))
                a->r = verifier_expect_content(verifier, a->ctx->tid, a->v->digests[chain->image]);
        if (a->r >= 0 && policy_has_commands(d->policy)) {
                a->r = expect_args(d, a->ctx->tid);
                if (a->r < 0)
                        log_warning_errno(a->r, "Cannot verify the arguments of the exec of '%s' by %d: %m; denied",
                                          d->path, (int) a->ctx->tid);
        }
        if (a->r < 0) {
                verifier_cancel(verifier, a->ctx->tid);
                return;
        }
        /* What the watchdog kills should the exec not be verified in time: the process (its
         * exec may give the thread the leader's PID), by a pidfd of its leader, whose PID
         * stays while the group lives; the Tgid read through /proc/TID, pinned to the task. */
        if (d->owner && d->owner->following) {
                char status[PROCSTATUS_BUF];
                unsigned long tgid;
                if (procstatus_read(a->ctx->proc_fd, status, sizeof status) >= 0 &&
                    procstatus_number(status, "Tgid", 0, &tgid) == 0)
                        d->follow_pidfd = (int) syscall_fd4(SYS_pidfd_open, (long) tgid, 0, 0, 0);
                /* Never followed without the means to end it. */
                if (d->follow_pidfd < 0) {
                        a->r = errno > 0 ? -errno : -ESRCH;
                        verifier_cancel(verifier, a->ctx->tid);
                }
        }
}

/* Run fn(arg) on the main thread: here, or through the caller's means. */
static void on_main(struct decider *d, void (*fn)(void *arg), void *arg) {
        if (d->on_main || !d->s->main_call)
                fn(arg);
        else
                d->s->main_call(fn, arg, d->s->main_call_data);
}

static void refuse_over_limit(struct decider *d, const struct exec_context *ctx, const char *why, uint64_t argv_addr,
                              unsigned pointer_size);

/* Answer "continue" if the exec can be verified (resp). Returns false if it was refused and
 * recorded already (a limit), true otherwise. */
static bool allow_verified(struct decider *d, const struct exec_context *ctx, const struct verdict *v, bool loader,
                           uint64_t argv_addr, unsigned pointer_size) {
        const struct exec_chain *chain = &d->chain;
        const struct exec_file *image = &chain->files[chain->image];
        const struct exec_file *interp =
                chain->image + 1 < chain->n && chain->files[chain->image + 1].role == EXEC_ROLE_ELF_INTERP
                        ? &chain->files[chain->image + 1]
                        : NULL;
        if (kernel_checks(d, v, loader, image, interp)) {
                int r = allow_kernel_checked(d, ctx, image, interp);
                /* Its table of expected execs full (threads whose execs failed leave theirs
                 * until they exit or exec again): the ptrace check takes this one. */
                if (r != -E2BIG) {
                        if (r < 0 && r != -ESRCH)
                                log_warning_errno(r, "Cannot verify the exec of '%s' by %d in the kernel: %m; denied",
                                                  d->path, (int) ctx->tid);
                        return true;
                }
        }
        d->verified_by = "ptrace";
        struct ptrace_arm arm = { .d = d, .ctx = ctx, .v = v, .image = image, .interp = interp, .loader = loader };
        arm_ptrace(&arm);
        /* Still traced by another worker: its last exec failed (ENOEXEC, then execvp()'s
         * retry with /bin/sh), and it made this one before that worker's PTRACE_INTERRUPT
         * came. The interrupt takes it out of this notification, and it makes it again once
         * let go: wait for that, and never answer this one (a "deny" would fail the retry). */
        for (unsigned waited = 0; arm.r == -EAGAIN && waited < TRACER_WAIT_MS; waited++) {
                if (!notification_valid(d))
                        return false; /* nothing to answer, nothing to record */
                usleep(1000);
                arm_ptrace(&arm);
        }
        if (arm.r == -EDQUOT) {
                unsigned max = policy_settings(d->policy)->max_pending_per_user;
                char why[128];
                snprintf(why, sizeof why, "%u execs of uid %u being verified: max_pending_per_user", max,
                         (unsigned) d->sess->uid);
                refuse_over_limit(d, ctx, why, argv_addr, pointer_size);
                return false;
        }
        if (arm.r == -EBUSY)
                tell_process(d, ctx, "cannot verify", d->path,
                             " in a process traced by another (a debugger): exec denied");
        if (arm.r < 0) {
                if (arm.r != -ESRCH)
                        log_warning_errno(arm.r, "Cannot verify the exec of '%s' by %d: %m; denied", d->path,
                                          (int) ctx->tid);
                return true; /* the preset answer: deny */
        }
        d->armed = ctx->tid;
        answer_continue(d->resp);
        return true;
}

/* The name the kernel passes a script's interpreter for the file: the path as given, or
 * /dev/fd/N[/path] for an execveat() relative to a directory fd (fs/exec.c alloc_bprm()). */
static void kernel_filename(struct decider *d, int dirfd, int flags) {
        if (dirfd == AT_FDCWD || d->path[0] == '/')
                snprintf(d->filename, sizeof d->filename, "%s", d->path);
        else if (d->path[0] == '\0' && (flags & AT_EMPTY_PATH))
                snprintf(d->filename, sizeof d->filename, "/dev/fd/%d", dirfd);
        else
                snprintf(d->filename, sizeof d->filename, "/dev/fd/%d/%s", dirfd, d->path);
}

/* Refuse, and record, an exec that passes a limit of the policy (what is too much for the
 * supervisor to read, or to keep in flight), or that cannot be held to what was judged; in
 * audit mode, only record it. */
static void refuse_over_limit(struct decider *d, const struct exec_context *ctx, const char *why, uint64_t argv_addr,
                              unsigned pointer_size) {
        bool audit_only = policy_mode(d->policy) == POLICY_MODE_AUDIT;
        if (!audit_only) {
                char suffix[160];
                snprintf(suffix, sizeof suffix, " (%s)", why);
                tell_process(d, ctx, "refused", d->path, suffix);
        }
        record(d, ctx, audit_only ? AUDIT_WOULD_BLOCK : AUDIT_DENY, d->sess, d->sess->id, d->path, NULL, NULL, why,
               argv_addr, pointer_size);
}

/* Command rules judge the arguments: read them (bytes, as just measured) into d->args. A
 * vector that grew since it was measured is the process racing itself: -EAGAIN, denied. */
static int read_args(struct decider *d, const struct exec_context *ctx, uint64_t argv_addr, unsigned pointer_size,
                     size_t bytes) {
        if (bytes + 1 > d->args_size) {
                char *grown = realloc(d->args, bytes + 1);
                if (!grown)
                        return -ENOMEM;
                d->args = grown;
                d->args_size = bytes + 1;
        }
        size_t argc = 0, read = 0;
        d->args[0] = '\0';
        int r = procmem_read_argv(ctx->tid, argv_addr, pointer_size, SIZE_MAX, d->args_size, d->args, &argc, &read);
        if (!notification_valid(d))
                return -ESRCH;
        if (r == -E2BIG)
                return -EAGAIN;
        if (r < 0)
                return r;
        /* An empty argv: the kernel gives the program argv[0] = "" (fs/exec.c). */
        d->exec_args = (struct exec_args){ .bytes = d->args, .argc = argc ? argc : 1 };
        return 0;
}

/* The measure of an exec's arguments (procmem_measure_argv()): its result, the count and
 * the bytes. */
struct argv_measure {
        int r;
        size_t args, bytes;
};

/* The path (read already, path_len bytes) and the arguments (measured already) within
 * max_path, max_args and max_argv_bytes? Returns 0, -E2BIG (refused and recorded), -EFAULT
 * (execve would fault), or -errno. */
static int check_limits(struct decider *d, const struct exec_context *ctx, size_t path_len,
                        const struct argv_measure *m, uint64_t argv_addr, unsigned pointer_size) {
        const struct policy_settings *st = policy_settings(d->policy);
        char why[128];
        if (path_len >= st->max_path) {
                snprintf(why, sizeof why, "path longer than max_path = %zu bytes", st->max_path);
                refuse_over_limit(d, ctx, why, argv_addr, pointer_size);
                return -E2BIG;
        }
        if (m->r == -E2BIG) {
                if (m->args > st->max_args)
                        snprintf(why, sizeof why, "more arguments than max_args = %zu", st->max_args);
                else
                        snprintf(why, sizeof why, "arguments longer than max_argv_bytes = %zu", st->max_argv_bytes);
                refuse_over_limit(d, ctx, why, argv_addr, pointer_size);
        }
        if (m->r < 0 || !policy_has_commands(d->policy))
                return m->r;
        return read_args(d, ctx, argv_addr, pointer_size, m->bytes);
}

/* Record an exec denied before it could be judged (requested: its path, if read), with why
 * and the error. */
static void record_unjudged(struct decider *d, const struct exec_context *ctx, const char *requested, const char *why,
                            int error) {
        char note[160];
        snprintf(note, sizeof note, "%s: %s", why, strerror(-error));
        record(d, ctx, AUDIT_DENY, d->sess, d->sess->id, requested, NULL, NULL, note, 0, 0);
}

/* An error that says the supervisor ran out of fds or memory, whatever the exec. */
static bool out_of_resources(int r) {
        return r == -EMFILE || r == -ENFILE || r == -ENOMEM;
}

/* Record a decision about the file operation of d->plan: op refused (or audited) by rule,
 * on blocked (canonical). */
static void record_file(struct decider *d, const struct exec_context *ctx, enum audit_decision decision, unsigned op,
                        const struct policy_rule *rule, const char *blocked, const char *note) {
        const struct protect_plan *plan = &d->plan;
        if (d->audit)
                procinfo_read(&d->info, ctx->tid, ctx->proc_fd, 0, 0);
        if (!decider_claim(d))
                return;
        count_decision(d->s, decision);
        if (!d->audit)
                return;
        char fd_text[32];
        const char *requested = plan->call->path_addr ? plan->path : NULL;
        if (plan->call->fd >= 0 && !plan->call->path_addr) {
                snprintf(fd_text, sizeof fd_text, "fd %d", plan->call->fd);
                requested = fd_text;
        }
        struct audit_record rec = {
                .decision = decision,
                .mode = policy_mode_to_string(policy_mode(d->policy)),
                .session = d->sess->id,
                .source_ip = d->sess->source_ip[0] ? d->sess->source_ip : NULL,
                .source_port = d->sess->source_port,
                .degraded = d->sess->degraded,
                .requested = requested,
                .target = plan->call->path2_addr ? plan->path2 : NULL,
                .blocked = blocked && blocked[0] ? blocked : NULL,
                .policy_source = policy_source(d->policy),
                .rule = rule,
                .note = note,
                .operation = policy_op_to_string(op),
                .syscall = plan->call->syscall,
                .process = d->info.view,
        };
        int r = audit_log(d->audit, &rec);
        if (r < 0)
                log_warning_errno(r, "Failed to write an audit record: %m");
}

/* Give the process the outcome of the operation done for it: the fd opened (put in its
 * table now), or the value, or the error. */
static void answer_performed(struct decider *d, const struct protect_result *res) {
        struct seccomp_notif_resp *resp = d->resp;
        if (res->fd >= 0) {
                int n = notify_addfd(d->sess->listener, d->req->id, res->fd, res->newfd_flags, false);
                safe_close(res->fd);
                /* EMFILE and the like are the process's; ENOENT: it is gone. */
                resp->error = n < 0 ? n : 0;
                resp->val = n < 0 ? 0 : n;
                return;
        }
        resp->error = res->error;
        resp->val = res->error ? 0 : res->value;
}

/* How often a lookup may meet a name changed under it before the operation is refused. */
#define FILE_OP_TRIES 8

/* A file operation of a [protect] policy: read, look up, judge, record, perform, answer. The
 * process's paths are read once; what is performed is done on what was judged. */
static void decide_file(struct decider *d, const struct fileop_call *call) {
        const struct seccomp_notif *req = d->req;
        struct protect_plan *plan = &d->plan;
        pid_t pid = (pid_t) req->pid;
        int r = 0;

        protect_plan_init(plan, call);
        _cleanup_(exec_context_close) struct exec_context ctx = EXEC_CONTEXT_NULL;
        r = exec_context_open(pid, &d->s->self, &ctx);
        if (r < 0) {
                log_debug_errno(r, "Cannot open /proc/%d: %m; %s denied", (int) pid, call->syscall);
                return;
        }
        ctx.own_proc_only = true;
        if (call->path_addr)
                r = procmem_read_string(pid, call->path_addr, plan->path, sizeof plan->path);
        if (r >= 0 && call->path2_addr)
                r = procmem_read_string(pid, call->path2_addr, plan->path2, sizeof plan->path2);
        if (r >= 0 && d->owner && d->owner->requested)
                d->owner->requested(d->owner->data, plan->path);
        _cleanup_close_ int pidfd = -1;
        if (r >= 0 && call->fd >= 0 && !call->path_addr) {
                pidfd = open_task_pidfd(pid);
                r = pidfd < 0 ? pidfd : 0;
        }
        if (!notification_valid(d))
                return;
        if (r == -EFAULT || r == -ENAMETOOLONG) {
                d->resp->error = r; /* as the kernel would say */
                return;
        }
        struct policy_subject subj;
        if (r >= 0)
                r = creds_subject_of_process(d->policy, ctx.proc_fd, ctx.euid, ctx.egid, ctx.creds.groups,
                                             ctx.creds.n_groups, &subj);
        if (r < 0) {
                log_warning_errno(r, "Cannot judge the %s of process %d: %m; denied", call->syscall, (int) pid);
                return;
        }

        for (unsigned tries = 0; tries < FILE_OP_TRIES; tries++) {
                protect_plan_close(plan);
                r = protect_prepare(&ctx, pidfd, plan);
                if (r == -EAGAIN)
                        continue;
                if (r < 0 && out_of_resources(r)) {
                        log_warning_errno(r, "Cannot look up the %s of '%s' by %d: %m; denied", call->syscall,
                                          plan->path, (int) pid);
                        break;
                }
                if (r < 0) {
                        d->resp->error = r; /* what the kernel would answer */
                        break;
                }
                unsigned op;
                const char *blocked;
                const struct policy_rule *rule = protect_judge(d->policy, &subj, plan, &op, &blocked);
                if (rule && policy_mode(d->policy) == POLICY_MODE_AUDIT)
                        record_file(d, &ctx, AUDIT_WOULD_BLOCK, op, rule, blocked, NULL);
                else if (rule) {
                        enum audit_decision decision =
                                policy_action(d->policy) == POLICY_ACTION_KILL ? AUDIT_KILL : AUDIT_DENY;
                        record_file(d, &ctx, decision, op, rule, blocked, NULL);
                        if (decision == AUDIT_KILL && (r = kill_task(d, pid)) < 0 && r != -ESRCH)
                                log_warning_errno(r, "Failed to kill %d: %m; its %s is denied", (int) pid,
                                                  call->syscall);
                        break; /* resp->error is still the preset -EACCES */
                }
                if (!decider_claim(d))
                        break;
                if (!rule)
                        count_decision(d->s, AUDIT_ALLOW);
                struct protect_result res;
                r = protect_perform(&ctx, plan, &res);
                if (r == -EAGAIN)
                        continue;
                if (res.later) {
                        r = protect_open_later(&ctx, plan, d->sess->listener, req->id);
                        if (r < 0)
                                log_warning_errno(r, "Cannot wait for a reader of FIFO '%s' for %d: %m; its open "
                                                     "fails (ENXIO)",
                                                  plan->path, (int) pid);
                        d->answered = r >= 0;
                        d->resp->error = -ENXIO;
                } else
                        answer_performed(d, &res);
                break;
        }
        protect_plan_close(plan);
}

static void decide(struct decider *d) {
        const struct seccomp_notif *req = d->req;
        struct seccomp_notif_resp *resp = d->resp;
        unsigned pointer_size;
        int r;

        enum exec_syscall kind = filter_classify(req->data.arch, req->data.nr, &pointer_size);
        if (kind == EXEC_SYSCALL_OTHER) {
                struct fileop_call call;
                if (fileop_classify(&req->data, &call, &pointer_size)) {
                        decide_file(d, &call);
                        return;
                }
                log_warning("Unexpected notification: arch %#x syscall %d; denied", req->data.arch, req->data.nr);
                return;
        }

        uint64_t mask = pointer_size == 4 ? UINT32_MAX : UINT64_MAX;
        int dirfd = AT_FDCWD, flags = 0;
        uint64_t path_addr = req->data.args[0] & mask, argv_addr = req->data.args[1] & mask;
        if (kind == EXEC_SYSCALL_EXECVEAT) {
                dirfd = (int) req->data.args[0];
                path_addr = req->data.args[1] & mask;
                argv_addr = req->data.args[2] & mask;
                flags = (int) req->data.args[4];
                if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) {
                        resp->error = -EINVAL; /* what execveat() itself answers */
                        return;
                }
        }

        _cleanup_(exec_context_close) struct exec_context ctx = EXEC_CONTEXT_NULL;
        r = exec_context_open((pid_t) req->pid, &d->s->self, &ctx);
        if (r < 0) {
                if (out_of_resources(r))
                        log_warning_errno(r, "Cannot open /proc/%u: %m; exec denied", req->pid);
                else
                        log_debug_errno(r, "Cannot open /proc/%u: %m; denied", req->pid);
                return;
        }
        r = procmem_read_string((pid_t) req->pid, path_addr, d->path, sizeof d->path);
        if (r >= 0 && d->owner && d->owner->requested)
                d->owner->requested(d->owner->data, d->path);
        const struct policy_settings *st = policy_settings(d->policy);
        struct argv_measure m = {};
        if (r >= 0 && (size_t) r < st->max_path)
                m.r = procmem_measure_argv((pid_t) req->pid, argv_addr, pointer_size, st->max_args, st->max_argv_bytes,
                                           &m.args, &m.bytes);
        /* Everything above was opened, and read, for a PID. The notification still pending
         * means the task that made it is alive, so the PID was its all along: the memory
         * reads were that task's, and from here on ctx.proc_fd is known to be it (every
         * later open goes through it). */
        if (!notification_valid(d))
                return;
        if (r == -EFAULT || r == -ENAMETOOLONG) {
                resp->error = r; /* as the kernel would say */
                return;
        }
        if (r < 0) {
                log_warning_errno(r, "Cannot read the memory of %u: %m; exec denied", req->pid);
                record_unjudged(d, &ctx, NULL, "cannot read the process's memory", r);
                return;
        }
        r = check_limits(d, &ctx, (size_t) r, &m, argv_addr, pointer_size);
        if (r < 0) {
                if (r == -EFAULT)
                        resp->error = r; /* as the kernel would say */
                else if (r == -E2BIG && policy_mode(d->policy) == POLICY_MODE_AUDIT)
                        answer_continue(resp);
                else if (r != -E2BIG && r != -ESRCH) {
                        log_warning_errno(r, "Cannot read the arguments of %u: %m; exec denied", req->pid);
                        record_unjudged(d, &ctx, d->path, "cannot read the exec's arguments", r);
                }
                return;
        }

        if (ctx.creds_mode == EXEC_CREDS_CANNOT)
                /* resolve_exec() refuses every lookup then (EACCES): fail closed. */
                log_debug("Process %u has other credentials than ours (fsuid %u, fsgid %u), which we cannot take on "
                          "to look its exec up: '%s' denied",
                          req->pid, (unsigned) ctx.creds.fsuid, (unsigned) ctx.creds.fsgid, d->path);
        r = resolve_exec(&ctx, dirfd, d->path, flags, &d->chain);
        if (r < 0 && out_of_resources(r)) {
                /* Ours, not the process's: its exec would not fail so. Denied. */
                log_warning_errno(r, "Cannot resolve the exec of '%s' by %u: %m; exec denied", d->path, req->pid);
                exec_chain_reset(&d->chain);
                return;
        }
        if (r < 0) {
                /* The kernel would fail this exec too; answer with its errno rather than
                 * let it look again at a path that may have changed meanwhile. */
                log_debug_errno(r, "exec of '%s' by %u fails: %m", d->path, req->pid);
                resp->error = r;
                exec_chain_reset(&d->chain);
                return;
        }

        /* A dynamic loader run as a command: what it will load is in its arguments. */
        r = loader_set_recognises(&d->loaders, d->identities, &d->chain.files[d->chain.image]);
        bool loader = r > 0;
        if (loader) {
                kernel_filename(d, dirfd, flags);
                struct exec_argv argv = {
                        .pid = (pid_t) req->pid,
                        .addr = argv_addr,
                        .pointer_size = pointer_size,
                        .filename = d->filename,
                };
                r = loader_add_programs(&ctx, &d->chain, &argv);
                if (!notification_valid(d)) {
                        exec_chain_reset(&d->chain);
                        return;
                }
        }
        if (r < 0) {
                log_warning_errno(r, "Cannot tell what the exec of '%s' by %u would run: %m; denied", d->path,
                                  req->pid);
                exec_chain_reset(&d->chain);
                return;
        }

        /* Who execs, as the process is now: its own user and groups pick the rules. */
        struct policy_subject subj;
        struct verdict v;
        const struct exec_args *args = NULL;
        if (policy_has_commands(d->policy)) {
                kernel_filename(d, dirfd, flags);
                d->exec_args.filename = d->filename;
                args = &d->exec_args;
        }
        r = creds_subject_of_process(d->policy, ctx.proc_fd, ctx.euid, ctx.egid, ctx.creds.groups, ctx.creds.n_groups,
                                     &subj);
        if (r >= 0)
                r = judge_chain(d->policy, &subj, d->identities, &d->chain, args, &v);
        if (r < 0) {
                log_warning_errno(r, "Cannot judge the exec of '%s' by %u: %m; denied", d->path, req->pid);
                exec_chain_reset(&d->chain);
                return;
        }
        const struct policy_rule *rule = v.rule;
        const struct exec_file *hit = v.file;
        const char *session = d->sess->id;
        const struct exec_file *unpinned = rule ? NULL : judge_unpinned(&d->chain, &v);
        if (unpinned) {
                char why[EG_PATH_MAX + 128];
                snprintf(why, sizeof why, "%s was judged by its content, which its user can change while it runs",
                         unpinned->path);
                refuse_over_limit(d, &ctx, why, argv_addr, pointer_size);
                if (policy_mode(d->policy) == POLICY_MODE_AUDIT)
                        answer_continue(resp);
                exec_chain_reset(&d->chain);
                return;
        }
        if (!rule) {
                /* In audit mode nothing is ever blocked, so nothing needs verifying. */
                if (policy_mode(d->policy) == POLICY_MODE_AUDIT)
                        answer_continue(resp);
                else if (!allow_verified(d, &ctx, &v, loader, argv_addr, pointer_size)) {
                        exec_chain_reset(&d->chain);
                        return;
                }
                if (resp->flags & SECCOMP_USER_NOTIF_FLAG_CONTINUE) {
                        if (policy_settings(d->policy)->log_allowed)
                                /* The allow rule that let the exec's file run, as check names it;
                                 * NULL only when none matched (default = allow). */
                                record(d, &ctx, AUDIT_ALLOW, d->sess, session, d->path, v.allow, NULL, NULL, argv_addr,
                                       pointer_size);
                        else if (decider_claim(d))
                                count_decision(d->s, AUDIT_ALLOW);
                } else
                        record(d, &ctx, AUDIT_DENY, d->sess, session, d->path, NULL, NULL, "cannot be verified",
                               argv_addr, pointer_size);
                exec_chain_reset(&d->chain);
                return;
        }

        if (policy_mode(d->policy) == POLICY_MODE_AUDIT) {
                record(d, &ctx, AUDIT_WOULD_BLOCK, d->sess, session, d->path, rule, hit->path, v.why[0] ? v.why : NULL,
                       argv_addr, pointer_size);
                exec_chain_reset(&d->chain);
                answer_continue(resp);
                return;
        }

        enum audit_decision decision = policy_action(d->policy) == POLICY_ACTION_KILL ? AUDIT_KILL : AUDIT_DENY;
        tell_process(d, &ctx, "blocked", hit->path, "");
        /* The record is made while the process is still frozen in its notification. */
        record(d, &ctx, decision, d->sess, session, d->path, rule, hit->path, v.why[0] ? v.why : NULL, argv_addr,
               pointer_size);
        if (decision == AUDIT_KILL) {
                r = kill_task(d, (pid_t) req->pid);
                if (r < 0 && r != -ESRCH)
                        log_warning_errno(r, "Failed to kill %u: %m; its exec is denied", req->pid);
        }
        exec_chain_reset(&d->chain);
        /* resp->error is still the preset -EACCES. */
}

static void reidentify(struct supervisor *s);
static void follow(struct decider *d);

/* Answer d's notification (received already, at received) of sess: decide, answer, count.
 * Returns whether d answered it (else its owner had), and in *ret the answer's result. */
static bool serve(struct decider *d, struct session *sess, uint64_t received, int *ret) {
        struct supervisor *s = d->s;
        decider_begin(d);
        d->sess = sess;
        /* Should we die before answering, the next supervisor must wake this task: the
         * kernel never hands a received notification out again. */
        if (d->inflight)
                *d->inflight = (pid_t) d->req->pid;

        /* Fail safe by construction: the answer is "deny" before anything can fail. */
        *d->resp = (struct seccomp_notif_resp){ .id = d->req->id, .error = -EACCES };
        /* In audit mode nothing is verified. */
        d->verified_by = policy_mode(d->policy) == POLICY_MODE_AUDIT ? "none" : NULL;
        d->answered = false;
        decide(d);

        int r = -ENOENT;
        bool ours = decider_claim(d);
        if (ours && d->answered) {
                __atomic_add_fetch(&sess->decisions, 1, __ATOMIC_RELAXED);
                r = 0;
        } else if (ours) {
                __atomic_add_fetch(&sess->decisions, 1, __ATOMIC_RELAXED);
                /* A "continue" the kernel engine does not check must not meet an expectation
                 * left by an earlier exec of this thread that failed. */
                if (s->kernel && !d->kernel_armed && (d->resp->flags & SECCOMP_USER_NOTIF_FLAG_CONTINUE))
                        kverifier_withdraw(s->kernel, (pid_t) d->req->pid);
                /* Timed up to the answer, not past its send: the task it wakes may take our
                 * CPU at the very return from the ioctl, and how long we then wait for the
                 * CPU is the scheduler's, not the decision's. */
                uint64_t took = latency_now_ns() - received;
                pthread_mutex_lock(&s->lock);
                latency_record(&s->latency, took);
                pthread_mutex_unlock(&s->lock);
                r = notify_respond(sess->listener, d->resp);
        }
        if (d->inflight)
                *d->inflight = 0;
        if (d->armed) {
                pid_t tid = d->armed;
                d->armed = 0;
                if (r == 0)
                        verifier_armed(s->verifier, tid);
                else
                        verifier_cancel(s->verifier, tid);
                /* A worker follows its tracee to the end of its exec: its stops are its own. */
                if (r == 0 && !d->on_main)
                        follow(d);
                d->follow_pidfd = safe_close(d->follow_pidfd);
        }
        if (d->kernel_armed) {
                if (r < 0)
                        kverifier_withdraw(s->kernel, d->kernel_armed);
                d->kernel_armed = 0;
        }
        decider_end(d);
        *ret = r == -ENOENT ? 0 : r;
        return ours;
}

int supervisor_serve(struct supervisor *s, struct session *sess) {
        /* First: a change made to a blocked file before this exec is known before it is
         * judged (one read that finds nothing, most of the time). */
        reidentify(s);
        int r = notify_receive(sess->listener, s->main->req);
        if (r < 0)
                /* ENOENT: the task went away before we read the notification. */
                return r == -ENOENT || r == -EINTR ? 0 : r;
        (void) serve(s->main, sess, latency_now_ns(), &r);
        return r;
}

static void reidentify_on_main(void *arg) {
        reidentify(arg);
}

/* Has a file a rule names changed, and the main thread not taken it in yet? */
static bool rule_change_pending(struct supervisor *s) {
        pthread_mutex_lock(&s->lock);
        struct pollfd pfd = { .fd = rule_watch_fd(s->watch), .events = POLLIN };
        pthread_mutex_unlock(&s->lock);
        return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

bool decider_serve(struct decider *d, struct session *sess, const struct seccomp_notif *req, uint64_t received_ns,
                   const struct decision_owner *owner) {
        /* A change made to a blocked file before this exec is known before it is judged. */
        if (rule_change_pending(d->s))
                on_main(d, reidentify_on_main, d->s);
        memcpy(d->req, req, sizeof *req);
        d->owner = owner;
        int r;
        bool ours = serve(d, sess, received_ns, &r);
        if (r < 0)
                log_warning_errno(r, "Session %s: cannot answer process %u: %m", sess->id, req->pid);
        d->owner = NULL;
        return ours;
}

/* On the main thread, for the watchdog: record an exec of sess it answered or ended, from
 * what the notification says alone (what stalled its decider may stall a read of the
 * process too). */
static void record_timed_out(struct supervisor *s, struct session *sess, const struct seccomp_notif *req,
                             enum audit_decision decision, const char *verified_by, const char *requested,
                             const char *why) {
        struct decider *d = s->main;
        decider_begin(d);
        exec_chain_reset(&d->chain);
        d->verified_by = verified_by;
        struct audit_process view = { .pid = (pid_t) req->pid };
        struct exec_context none = EXEC_CONTEXT_NULL;
        record_exec_of(d, &none, &view, decision, sess, sess->id, requested, NULL, NULL, NULL, why, 0, 0);
        d->verified_by = NULL;
        decider_end(d);
}

int supervisor_time_out(struct supervisor *s, struct session *sess, const struct seccomp_notif *req,
                        const char *requested, const char *why) {
        struct seccomp_notif_resp resp = { .id = req->id, .error = -EACCES };
        int r = notify_respond(sess->listener, &resp);
        if (r < 0)
                return r; /* gone: nothing was decided */
        __atomic_add_fetch(&sess->decisions, 1, __ATOMIC_RELAXED);
        record_timed_out(s, sess, req, AUDIT_DENY, "none", requested, why);
        return 0;
}

void supervisor_follow_timed_out(struct supervisor *s, struct session *sess, const struct seccomp_notif *req,
                                 const char *requested, const char *why) {
        record_timed_out(s, sess, req, AUDIT_KILL, "ptrace", requested, why);
}

void supervisor_set_main_call(struct supervisor *s, supervisor_main_call call, void *data) {
        s->main_call = call;
        s->main_call_data = data;
}

int decider_new(struct supervisor *s, struct decider **ret) {
        struct decider *d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        d->s = s;
        d->follow_pidfd = -1;
        int r = notify_alloc(&d->req, &d->resp);
        if (r >= 0)
                r = exec_chain_init(&d->chain);
        if (r >= 0 && !(d->identities = identity_cache_new()))
                r = -ENOMEM;
        if (r >= 0 && !(d->digest = digest_stream_new()))
                r = -ENOMEM;
        if (r >= 0 && !(d->vs = verify_scratch_new(d->identities)))
                r = -ENOMEM;
        if (r >= 0)
                r = teller_new(&d->teller);
        if (r < 0) {
                decider_free(d);
                return r;
        }
        d->loaders = s->loaders;
        pthread_mutex_lock(&s->lock);
        d->next = s->deciders;
        s->deciders = d;
        pthread_mutex_unlock(&s->lock);
        *ret = d;
        return 0;
}

void decider_free(struct decider *d) {
        if (!d)
                return;
        struct supervisor *s = d->s;
        pthread_mutex_lock(&s->lock);
        for (struct decider **pp = &s->deciders; *pp; pp = &(*pp)->next)
                if (*pp == d) {
                        *pp = d->next;
                        break;
                }
        pthread_mutex_unlock(&s->lock);
        if (d->req)
                notify_free(d->req, d->resp);
        digest_stream_free(d->digest);
        verify_scratch_free(d->vs);
        teller_free(d->teller);
        free(d->args);
        identity_cache_free(d->identities);
        exec_chain_fini(&d->chain);
        free(d);
}

/* Is pid still this thread's tracee? Then it is in a stop and its PID cannot have been
 * recycled. (TracerPid names the tracer thread.) */
static bool traced_by_us(const struct exec_context *ctx) {
        char status[PROCSTATUS_BUF];
        unsigned long tracer;
        return procstatus_read(ctx->proc_fd, status, sizeof status) >= 0 &&
               procstatus_number(status, "TracerPid", 0, &tracer) == 0 && tracer == (unsigned long) gettid();
}

/* A loader run as a command is about to map fd_number executable: its program. Judge that
 * file, then let the loader go on, or kill it before the program runs. */
static void judge_loaded(struct decider *d, pid_t pid, int fd_number) {
        struct supervisor *s = d->s;
        _cleanup_(exec_context_close) struct exec_context ctx = EXEC_CONTEXT_NULL;
        struct verdict v = {};
        int r = exec_context_open(pid, &s->self, &ctx);
        if (r >= 0 && !traced_by_us(&ctx))
                r = -ESRCH;
        if (r >= 0)
                r = resolve_loaded_fd(&ctx, fd_number, &d->chain);
        struct policy_subject subj;
        if (r >= 0)
                r = creds_subject_of_process(d->policy, ctx.proc_fd, ctx.euid, ctx.egid, ctx.creds.groups,
                                             ctx.creds.n_groups, &subj);
        if (r >= 0)
                r = judge_chain(d->policy, &subj, d->identities, &d->chain, NULL, &v);
        if (r < 0) {
                log_warning_errno(r, "Cannot judge what the loader '%s' (process %d) maps: %m; killed",
                                  d->report.approved, (int) pid);
                verifier_kill(s->verifier, pid);
                exec_chain_reset(&d->chain);
                return;
        }
        /* What it maps is an ordinary file: content that decided, its user could change. */
        const struct exec_file *unpinned = v.rule ? NULL : judge_unpinned(&d->chain, &v);
        if (!v.rule && !unpinned) {
                verifier_release(s->verifier, pid);
                exec_chain_reset(&d->chain);
                return;
        }

        /* The loader is stopped at its exec: /proc/PID/cmdline is its argv. */
        const char *note = unpinned ? "run by the dynamic loader; judged by its content, which its user can change"
                                    : "run by the dynamic loader";
        if (unpinned)
                v.file = unpinned;
        if (policy_mode(d->policy) == POLICY_MODE_AUDIT) {
                record(d, &ctx, AUDIT_WOULD_BLOCK, session_of(d, d->report.tag), d->report.tag, d->report.approved,
                       v.rule, v.file->path, note, 0, 0);
                verifier_release(s->verifier, pid);
        } else {
                tell_process_pinned(d, &ctx, true, "blocked", v.file->path, "");
                record(d, &ctx, AUDIT_KILL, session_of(d, d->report.tag), d->report.tag, d->report.approved, v.rule,
                       v.file->path, note, 0, 0);
                verifier_kill(s->verifier, pid);
        }
        exec_chain_reset(&d->chain);
}

/* The kernel runs another program than the one approved, for a file none of its own
 * loaders take (a binfmt_misc handler, of the host's or of the process's own user
 * namespace): judge what runs, with the process held at its exec stop; allowed, it runs. */
static void judge_ran(struct decider *d, pid_t pid) {
        struct supervisor *s = d->s;
        _cleanup_(exec_context_close) struct exec_context ctx = EXEC_CONTEXT_NULL;
        struct verdict v = {};
        struct policy_subject subj;
        int r = exec_context_open(pid, &s->self, &ctx);
        if (r < 0)
                ctx.tid = pid; /* for the record */
        if (r >= 0 && !traced_by_us(&ctx))
                r = -ESRCH;
        if (r >= 0)
                r = resolve_ran(&ctx, &d->chain);
        /* A dynamic loader would go on to map whatever program its arguments name (a
         * handler is given the file's name as its first: "--inhibit-cache" is an option to
         * ld.so), which is judged only when a loader is run as a command, foreseen: killed. */
        if (r >= 0 && loader_set_recognises(&d->loaders, d->identities, &d->chain.files[0]) != 0)
                r = -EPERM;
        if (r >= 0)
                r = creds_subject_of_process(d->policy, ctx.proc_fd, ctx.euid, ctx.egid, ctx.creds.groups,
                                             ctx.creds.n_groups, &subj);
        if (r >= 0)
                r = judge_chain(d->policy, &subj, d->identities, &d->chain, NULL, &v);
        const struct session *from = session_of(d, d->report.tag);
        char note[EG_PATH_MAX + 96];
        snprintf(note, sizeof note, "ran in place of %s (binfmt_misc)", d->report.approved);
        if (r < 0) {
                log_warning_errno(r, "Cannot judge '%s', which process %d runs in place of '%s': %m; killed",
                                  d->report.ran, (int) pid, d->report.approved);
                verifier_kill(s->verifier, pid);
                record_exec(d, &ctx, AUDIT_KILL, from, d->report.tag, d->report.approved, d->report.ran, NULL,
                            d->report.ran, note, 0, 0);
                exec_chain_reset(&d->chain);
                return;
        }
        const struct exec_file *unpinned = v.rule ? NULL : judge_unpinned(&d->chain, &v);
        if (unpinned)
                v.file = unpinned;
        bool audit_only = policy_mode(d->policy) == POLICY_MODE_AUDIT;
        if ((v.rule || unpinned) && !audit_only) {
                tell_process_pinned(d, &ctx, true, "blocked", v.file->path, "");
                record(d, &ctx, AUDIT_KILL, from, d->report.tag, d->report.approved, v.rule, v.file->path, note, 0, 0);
                verifier_kill(s->verifier, pid);
                exec_chain_reset(&d->chain);
                return;
        }
        const struct exec_file *image = &d->chain.files[0];
        const struct exec_file *interp = d->chain.n > 1 ? &d->chain.files[1] : NULL;
        r = verifier_confirm_ran(s->verifier, d->vs, pid, &image->st, image->path, interp ? &interp->st : NULL,
                                 interp ? interp->path : NULL, d->report.mapped, sizeof d->report.mapped);
        if (r <= 0) {
                log_warning("Process %d runs '%s' with another interpreter than it names (%s): killed", (int) pid,
                            image->path, d->report.mapped);
                record(d, &ctx, AUDIT_KILL, from, d->report.tag, d->report.approved, NULL, d->report.mapped,
                       "exec changed after it was approved", 0, 0);
        } else if (v.rule || unpinned)
                record(d, &ctx, AUDIT_WOULD_BLOCK, from, d->report.tag, d->report.approved, v.rule, v.file->path, note,
                       0, 0);
        else if (policy_settings(d->policy)->log_allowed)
                record(d, &ctx, AUDIT_ALLOW, from, d->report.tag, d->report.approved, v.allow, NULL, note, 0, 0);
        exec_chain_reset(&d->chain);
}

/* The race was run and lost by the racer: what the kernel loaded for pid is not what was
 * approved (d->report), and it was killed before running. The record names the program the
 * kernel loaded as the executable. */
static void record_mismatch(struct decider *d, pid_t pid, bool content) {
        struct supervisor *s = d->s;
        const struct verify_report *rep = &d->report;
        char note[sizeof rep->why + 64];
        if (content) {
                log_warning("Process %d execed '%s' with other content than was approved (%s): killed", (int) pid,
                            rep->ran, rep->why);
                snprintf(note, sizeof note, "content changed after it was approved: %s", rep->why);
        } else {
                log_warning("Process %d execed '%s' instead of the approved '%s': killed", (int) pid, rep->mapped,
                            rep->approved);
                snprintf(note, sizeof note, "exec changed after it was approved");
        }
        _cleanup_(exec_context_close) struct exec_context ctx = EXEC_CONTEXT_NULL;
        if (exec_context_open(pid, &s->self, &ctx) < 0)
                ctx.tid = pid; /* gone already: the record has what we know */
        record_exec(d, &ctx, AUDIT_KILL, session_of(d, rep->tag), rep->tag, rep->approved,
                    rep->ran[0] ? rep->ran : NULL, NULL, content ? rep->ran : rep->mapped, note, 0, 0);
}

/* One stop or end of a tracee of this thread (d's), the verifier's to say: act on what it
 * found. */
static enum verify_outcome settle_event(struct decider *d, pid_t pid, int status,
                                        const struct supervise_hooks *hooks) {
        struct supervisor *s = d->s;
        d->report.tag[0] = d->report.ran[0] = '\0';
        d->report.fd = -1;
        enum verify_outcome outcome = verifier_handle(s->verifier, d->vs, pid, status, &d->report);
        /* A tracee that ends may be our child too (the command): its end counts. */
        if (hooks && (outcome == VERIFY_NOT_OURS || WIFEXITED(status) || WIFSIGNALED(status)))
                hooks->on_child(pid, status, hooks->data);
        switch (outcome) {
        case VERIFY_LOADED:
                judge_loaded(d, pid, d->report.fd);
                break;
        case VERIFY_UNPREDICTED:
                d->verified_by = "ptrace";
                judge_ran(d, pid);
                d->verified_by = NULL;
                break;
        case VERIFY_NOT_OURS:
                break;
        case VERIFY_MISMATCH:
        case VERIFY_CHANGED:
                d->verified_by = "ptrace";
                record_mismatch(d, pid, outcome == VERIFY_CHANGED);
                d->verified_by = NULL;
                break;
        case VERIFY_KILLED:
                /* Its parent's SIGKILL, say, in the middle of its exec (a timeout): nothing of
                 * the new program ran, and nothing was found to differ from what was
                 * approved. Not a mismatch, so no record. */
                log_debug("Process %d was killed by another during its exec of '%s', before it could be "
                          "verified (%s): nothing ran",
                          (int) pid, d->report.approved, d->report.why);
                break;
        case VERIFY_PENDING:
        case VERIFY_CONFIRMED:
                break;
        }
        return outcome;
}

/* A worker's tracee, from the answer to the end of its exec: its stop there (verified,
 * then let go or killed), back in its old program (the exec failed), or the stops of a
 * loader followed to the mapping of its program. The worker is its tracer, and traces
 * nothing else: it is done when it has no tracee left. What stalls here (the file system
 * of the program hashed again) stalls this worker alone; the watchdog kills the tracee
 * past resolve_timeout. */
static void follow(struct decider *d) {
        const struct decision_owner *owner = d->owner;
        if (owner && owner->following)
                owner->following(owner->data, d->follow_pidfd);
        for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, __WALL | __WNOTHREAD);
                if (pid < 0 && errno == EINTR)
                        continue;
                if (pid < 0)
                        break; /* ECHILD: let go, or gone */
                /* Stopped, and no verification of ours: it would wait for us forever, and
                 * nothing says what it may run. */
                if (settle_event(d, pid, status, NULL) == VERIFY_NOT_OURS && WIFSTOPPED(status)) {
                        log_error("Process %d stopped for this worker with no exec of it being verified: killed",
                                  (int) pid);
                        kill(pid, SIGKILL);
                }
        }
        if (owner && owner->following)
                owner->following(owner->data, -1);
        d->follow_pidfd = safe_close(d->follow_pidfd);
}

/* The kernel engine killed an exec: what ran was not what was approved. */
static void record_kernel_kill(const struct kverify_kill *kill, void *data) {
        struct supervisor *s = data;
        struct decider *d = s->main;
        if (kill->pid == 0) {
                log_error("The kernel engine killed %s: its reports were lost (the ring was full)", kill->ran);
                d->verified_by = "kernel";
                exec_chain_reset(&d->chain);
                struct exec_context none = EXEC_CONTEXT_NULL;
                record_exec(d, &none, AUDIT_KILL, NULL, NULL, NULL, NULL, NULL, NULL, kill->ran, 0, 0);
                d->verified_by = NULL;
                return;
        }
        log_warning("Process %d execed %s instead of the approved '%s' (%s): killed by the kernel engine",
                    (int) kill->pid, kill->ran, kill->approved, kill->why);
        if (kill->signal_failed)
                log_error("The kernel engine could not kill process %d itself: killed late, by its pidfd",
                          (int) kill->pid);
        char note[160];
        snprintf(note, sizeof note, "exec changed after it was approved: %s", kill->why);
        /* Who it was, as the kernel said at the exec: the process is dead by now, and its PID
         * may be another's. */
        struct audit_process view = {
                .pid = kill->pid,
                .ppid = kill->ppid,
                .uid = kill->uid,
                .euid = kill->euid,
                .has_auid = kill->auid != (uid_t) -1,
                .auid = kill->auid,
                .has_audit_session = kill->audit_session != UINT32_MAX,
                .audit_session = kill->audit_session,
        };
        struct exec_context none = EXEC_CONTEXT_NULL;
        exec_chain_reset(&d->chain);
        d->verified_by = "kernel";
        record_exec_of(d, &none, &view, AUDIT_KILL, session_of(d, kill->tag), kill->tag,
                       kill->approved[0] ? kill->approved : NULL, kill->ran_name[0] ? kill->ran_name : NULL, NULL,
                       kill->ran, note, 0, 0);
        d->verified_by = NULL;
}

static void drain_kernel_reports(struct supervisor *s) {
        if (!s->kernel)
                return;
        decider_begin(s->main);
        int r = kverifier_drain(s->kernel, record_kernel_kill, s);
        decider_end(s->main);
        if (r < 0)
                log_warning_errno(r, "Cannot read the kernel engine's reports: %m");
}

/* SIGCHLD: the main thread's tracees stopped at their exec (or back in their old
 * program), and children. (A worker's tracees are its own: follow().) */
static void reap(struct supervisor *s, const struct supervise_hooks *hooks) {
        /* SIGCHLD is pending once at most: one read clears it. (One that comes after is
         * for a child the loop below may reap already; the wake-up it causes finds none.) */
        struct signalfd_siginfo si;
        (void) !read(s->sigchld_fd, &si, sizeof si);
        for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, __WALL | WNOHANG | __WNOTHREAD);
                if (pid <= 0)
                        return;
                decider_begin(s->main);
                (void) settle_event(s->main, pid, status, hooks);
                decider_end(s->main);
        }
}

/* A file a rule names has changed: identify the rules' files again, and put the result in
 * force. A failure leaves the policy as it was, which still blocks by path. */
static void reidentify(struct supervisor *s) {
        int r = rule_watch_drain(s->watch);
        if (r < 0)
                log_warning_errno(r, "Cannot read file change events: %m");
        if (r == 0)
                return;
        rule_watch_files(s->watch, s->policy);
        struct policy *fresh = NULL;
        struct policy_error err = {};
        r = policy_reidentify(s->policy, &fresh, &err);
        if (r < 0) {
                log_error("A blocked file changed, and %s:%u could not be applied again: %s; the rules' files "
                          "are still known as they were",
                          policy_source(s->policy), err.line, err.message);
                return;
        }
        replace_policy(s, fresh, fresh);
        log_debug("A blocked file changed: its identity and content were taken again");
}

int session_id_new(char id[static SESSION_ID_LEN + 1]) {
        uint64_t v;
        if (getrandom(&v, sizeof v, 0) != sizeof v)
                return negative_errno();
        snprintf(id, SESSION_ID_LEN + 1, "%016" PRIx64, v);
        return 0;
}

bool session_id_valid(const char *s) {
        return strlen(s) == SESSION_ID_LEN && strspn(s, "0123456789abcdef") == SESSION_ID_LEN;
}

bool session_source_set(struct session *sess, const char *ip, unsigned long port) {
        unsigned char addr[sizeof(struct in6_addr)];
        int family = strchr(ip, ':') ? AF_INET6 : AF_INET;
        sess->source_ip[0] = '\0';
        sess->source_port = 0;
        if (port < 1 || port > 65535 || inet_pton(family, ip, addr) != 1 ||
            !inet_ntop(family, addr, sess->source_ip, sizeof sess->source_ip)) {
                sess->source_ip[0] = '\0';
                return false;
        }
        sess->source_port = (uint16_t) port;
        return true;
}

/* A port as sshd writes it: 1-65535 in decimal, nothing else. */
static bool parse_port(const char *s, size_t n, unsigned long *ret) {
        unsigned long v = 0;
        if (n == 0 || n > 5 || s[0] == '0')
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned long) (s[i] - '0');
        }
        if (v > 65535)
                return false;
        *ret = v;
        return true;
}

bool session_source_from_ssh(struct session *sess, const char *ssh_connection) {
        /* Four words, each between single spaces: client address and port, server address
         * and port. The addresses must be what inet_pton() takes, the ports 1-65535. */
        const char *word[4];
        size_t len[4];
        const char *p = ssh_connection;
        sess->source_ip[0] = '\0';
        sess->source_port = 0;
        if (!p)
                return false;
        for (int i = 0; i < 4; i++) {
                word[i] = p;
                len[i] = strcspn(p, " ");
                if (len[i] == 0)
                        return false;
                p += len[i];
                if (i < 3) {
                        if (*p != ' ')
                                return false;
                        p++;
                }
        }
        if (*p != '\0')
                return false;
        char ip[SESSION_SOURCE_IP_MAX];
        unsigned long port, server_port;
        struct session server = {};
        if (len[0] >= sizeof ip || len[2] >= sizeof ip || !parse_port(word[1], len[1], &port) ||
            !parse_port(word[3], len[3], &server_port))
                return false;
        snprintf(ip, sizeof ip, "%.*s", (int) len[2], word[2]);
        if (!session_source_set(&server, ip, server_port))
                return false;
        snprintf(ip, sizeof ip, "%.*s", (int) len[0], word[0]);
        return session_source_set(sess, ip, port);
}

void supervisor_set_session_lookup(struct supervisor *s, supervisor_session_lookup lookup, void *data) {
        s->lookup = lookup;
        s->lookup_data = data;
}

static int add_event_fd(int epoll_fd, int fd) {
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
        return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? negative_errno() : 0;
}

/* Watch the files of policy's rules instead of those of the policy before. */
static int watch_rules(struct supervisor *s, const struct policy *policy) {
        struct rule_watch *watch = NULL;
        int r = rule_watch_new(policy, &watch);
        if (r < 0)
                return r;
        r = add_event_fd(s->events_fd, rule_watch_fd(watch));
        if (r < 0) {
                rule_watch_free(watch);
                return r;
        }
        /* Swapped under the lock: a decider of another thread looks at it (rule_change_pending()). */
        pthread_mutex_lock(&s->lock);
        struct rule_watch *old = s->watch;
        s->watch = watch;
        pthread_mutex_unlock(&s->lock);
        rule_watch_free(old); /* closing its fd takes it out of the epoll set */
        return 0;
}

/* The kernel engine where the policy lets us and the kernel can, else the ptrace check. */
static int choose_engine(struct supervisor *s, const struct policy *policy) {
        enum policy_verifier want = policy_settings(policy)->verifier;
        s->engine = "ptrace";
        if (want == POLICY_VERIFIER_PTRACE) {
                log_debug("Verifier: ptrace (verifier = ptrace)");
                return 0;
        }
        char why[256] = "";
        int r = kverifier_open(&s->kernel, why, sizeof why);
        if (r < 0) {
                if (want == POLICY_VERIFIER_KERNEL)
                        return log_error_errno(r, "verifier = kernel, and the kernel engine cannot be used: %s", why);
                log_debug("Verifier: ptrace (the kernel engine cannot be used: %s)", why);
                return 0;
        }
        s->engine = "kernel";
        r = add_event_fd(s->events_fd, kverifier_fd(s->kernel));
        if (r < 0)
                return log_error_errno(r, "Failed to set up the kernel engine's reports: %m");
        log_debug("Verifier: kernel (BPF on sched_process_exec, proven by its canaries)");
        return 0;
}

const char *supervisor_verifier(const struct supervisor *s) {
        return s->engine;
}

int supervisor_new(const struct policy *policy, struct audit *audit, struct supervisor **ret) {
        _cleanup_(supervisor_freep) struct supervisor *s = calloc(1, sizeof *s);
        if (!s)
                return log_error_errno(-ENOMEM, "Failed to allocate the supervisor: %m");
        pthread_mutex_init(&s->lock, NULL);
        s->sigchld_fd = s->events_fd = -1;
        s->policy = policy;
        s->audit = audit;
        s->epoch = 1; /* 0: a decider that is not deciding */
        int r = exec_self_get(&s->self);
        if (r < 0)
                return log_error_errno(r, "Failed to identify our root directory and credentials: %m");

        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        s->sigchld_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
        s->events_fd = epoll_create1(EPOLL_CLOEXEC);
        if (s->sigchld_fd < 0 || s->events_fd < 0)
                return log_error_errno(negative_errno(), "Failed to set up the supervisor's events: %m");
        r = add_event_fd(s->events_fd, s->sigchld_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the supervisor's events: %m");
        r = loader_set_scan(&s->loaders);
        if (r < 0)
                return log_error_errno(r, "Failed to find the host's dynamic loaders: %m");
        log_debug("%d dynamic loaders on this host", r);
        r = decider_new(s, &s->main);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the supervisor's decisions: %m");
        s->main->on_main = true;
        s->verifier = verifier_new();
        if (!s->verifier)
                return log_error_errno(-ENOMEM, "Failed to allocate the supervisor's tables: %m");
        r = choose_engine(s, policy);
        if (r < 0)
                return r;
        r = watch_rules(s, policy);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the files of the policy's rules: %m (is "
                                          "fs.inotify.max_user_instances reached?)");
        *ret = TAKE_PTR(s);
        return 0;
}

void supervisor_free(struct supervisor *s) {
        if (!s)
                return;
        rule_watch_free(s->watch);
        collect_retired(s, true);
        policy_free(s->reidentified);
        verifier_free(s->verifier);
        kverifier_free(s->kernel);
        decider_free(s->main);
        safe_close(s->sigchld_fd);
        safe_close(s->events_fd);
        pthread_mutex_destroy(&s->lock);
        free(s);
}

int supervisor_set_policy(struct supervisor *s, const struct policy *policy) {
        replace_policy(s, policy, NULL);
        int r = watch_rules(s, policy);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the files of the new policy's rules: %m; a replaced "
                                          "blocked file stays blocked by path only");
        return 0;
}

void supervisor_set_audit(struct supervisor *s, struct audit *audit) {
        pthread_mutex_lock(&s->lock);
        s->audit = audit;
        s->epoch++;
        pthread_mutex_unlock(&s->lock);
}

int supervisor_fd(const struct supervisor *s) {
        return s->events_fd;
}

void supervisor_process_events(struct supervisor *s, const struct supervise_hooks *hooks) {
        /* Level-triggered: draining the signalfd and the inotify fd clears the epoll fd. */
        reidentify(s);
        drain_kernel_reports(s);
        reap(s, hooks);
}

void supervisor_set_inflight(struct supervisor *s, volatile pid_t *slot) {
        s->main->inflight = slot;
}

/* Whether task tid sleeps in a seccomp user notification: waiting for an answer. */
static bool waits_in_notification(pid_t tid) {
        char path[64], wchan[128] = "";
        snprintf(path, sizeof path, "/proc/%d/wchan", (int) tid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, wchan, sizeof wchan - 1);
        if (n <= 0)
                return false;
        wchan[n] = '\0';
        /* The compiler may have suffixed it (".constprop.0"). */
        return strncmp(wchan, "seccomp_do_user_notification", strlen("seccomp_do_user_notification")) == 0;
}

int supervisor_wake_stuck(pid_t tid) {
        if (tid <= 0 || !waits_in_notification(tid))
                return 0;
        /* A ptrace interrupt is a pending "signal" to its interruptible wait: the syscall
         * is restarted, and notified again, to whoever holds the listener now. Nothing of
         * the process changes. A recycled PID that happens to wait in some other seccomp
         * notification is restarted just the same, which is harmless. */
        if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0)
                return negative_errno();
        int status, r = 0;
        if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0 || waitpid(tid, &status, __WALL) != tid)
                r = negative_errno();
        (void) ptrace(PTRACE_DETACH, tid, NULL, NULL);
        return r < 0 ? r : 1;
}

size_t supervisor_verifying(const struct supervisor *s) {
        return verifier_count(s->verifier);
}

struct supervisor_stats supervisor_stats(struct supervisor *s) {
        pthread_mutex_lock(&s->lock);
        struct supervisor_stats st = s->stats;
        pthread_mutex_unlock(&s->lock);
        return st;
}

struct supervisor_latency supervisor_latency(struct supervisor *s) {
        pthread_mutex_lock(&s->lock);
        struct supervisor_latency lat = {
                .count = s->latency.count,
                .p50_ns = latency_percentile(&s->latency, 50),
                .p99_ns = latency_percentile(&s->latency, 99),
                .max_ns = s->latency.max_ns,
        };
        pthread_mutex_unlock(&s->lock);
        return lat;
}

/* supervise()'s one session. */
static const struct session *only_session(const char *id, void *data) {
        const struct session *sess = data;
        return strcmp(sess->id, id) == 0 ? sess : NULL;
}

int supervise(struct supervisor *s, struct session *sess, const struct supervise_hooks *hooks) {
        supervisor_set_session_lookup(s, only_session, sess);
        /* The event sources each on their own rather than through events_fd: poll() says
         * which one is ready, so that nothing is read in vain. */
        struct pollfd pfd[4] = {
                { .fd = sess->listener, .events = POLLIN },
                { .fd = s->sigchld_fd, .events = POLLIN },
                { .events = POLLIN },
                { .fd = s->kernel ? kverifier_fd(s->kernel) : -1, .events = POLLIN },
        };
        int r;
        for (;;) {
                pfd[2].fd = rule_watch_fd(s->watch);
                if (poll(pfd, 4, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = log_error_errno(negative_errno(), "poll() on the listener failed: %m");
                        break;
                }
                /* A change to a blocked file is taken in before the exec that follows it. */
                if (pfd[2].revents & POLLIN)
                        reidentify(s);
                if (pfd[3].revents & POLLIN)
                        drain_kernel_reports(s);
                if (pfd[1].revents & POLLIN)
                        reap(s, hooks);
                if (pfd[0].revents & POLLIN) {
                        r = supervisor_serve(s, sess);
                        if (r < 0) {
                                log_error_errno(r, "Failed to serve a notification: %m");
                                break;
                        }
                        continue;
                }
                /* POLLHUP: the last supervised process has exited. */
                if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
                        r = (pfd[0].revents & POLLHUP) ? 0 : -EIO;
                        break;
                }
        }
        /* The command may have been reported in the same breath as the last exit. */
        drain_kernel_reports(s);
        reap(s, hooks);
        return r;
}
