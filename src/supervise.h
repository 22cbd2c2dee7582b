/* The supervisor: receive each exec notification of a session's listener, work out what
 * would run, ask the policy, record, answer. One supervisor serves any number of sessions
 * (the daemon) or one (`execguard run`). Its own events (tracees, kernel reports, changed
 * rule files) are the main thread's, on an fd its caller polls; notifications are decided
 * by deciders, the main thread's own or those of worker threads (workers.h). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <linux/seccomp.h>
#include <sys/types.h>

#include "audit.h"
#include "policy.h"

/* A session id: 16 hex digits. */
#define SESSION_ID_LEN 16
/* A numeric IPv6 address with its terminator (INET6_ADDRSTRLEN). */
#define SESSION_SOURCE_IP_MAX 46

/* One supervised command tree: the listener of its seccomp filter. */
struct session {
        int listener;
        char id[SESSION_ID_LEN + 1];
        uid_t uid; /* who started it (SO_PEERCRED for the daemon; ourselves for run) */
        pid_t pid;
        uint64_t decisions; /* atomic: deciders of several threads count */
        /* Where it came from, as SSH_CONNECTION said when it started (session_source_set());
         * "": not known. Every record of the session carries it. */
        char source_ip[SESSION_SOURCE_IP_MAX];
        uint16_t source_port;
        /* What it lacks of its policy, supervised standalone for want of a daemon (run.h);
         * NULL: nothing. Every record of the session carries it. */
        const char *degraded;
        /* The workers' (workers.h), under their lock: notifications received and not done
         * with, those among them whose worker is stuck, and whether the daemon is done with
         * the session. */
        unsigned held, stuck;
        bool over;
};

/* Fill id with a fresh random session id. Returns 0 or -errno. */
int session_id_new(char id[static SESSION_ID_LEN + 1]);

/* Whether s is a session id as session_id_new() makes them. */
bool session_id_valid(const char *s);

/* Set sess's source to ip and port if ip is an IPv4 or IPv6 address inet_pton() takes and
 * port is 1-65535, written as inet_ntop() writes it; else clear it. Returns whether it was
 * set. */
bool session_source_set(struct session *sess, const char *ip, unsigned long port);

/* Set sess's source from the value of SSH_CONNECTION ("client_ip client_port server_ip
 * server_port", as sshd sets it; NULL: not set), strictly: anything else clears it and
 * nothing of it is kept. Returns whether it was set. */
bool session_source_from_ssh(struct session *sess, const char *ssh_connection);

/* What the loop tells its caller: a child that is not a tracee under verification (the
 * command, for `execguard run`) has changed state. */
struct supervise_hooks {
        void (*on_child)(pid_t pid, int status, void *data);
        void *data;
};

struct supervisor_stats {
        uint64_t allowed, denied, killed, audited;
};

struct supervisor;

/* A supervisor judging by policy (which must outlive it, or be replaced with
 * supervisor_set_policy()) and recording to audit. The caller must have SIGCHLD blocked:
 * the supervisor takes it through a signalfd, to verify execs (verify.h) and to reap.
 * Returns 0 or -errno, having logged why. */
int supervisor_new(const struct policy *policy, struct audit *audit, struct supervisor **ret);

/* The check after exec the supervisor chose at its start (the policy's verifier =, and
 * what the kernel allows): "kernel" or "ptrace". */
const char *supervisor_verifier(const struct supervisor *s);
void supervisor_free(struct supervisor *s);
static inline void supervisor_freep(struct supervisor **s) {
        supervisor_free(*s);
}

/* Judge by policy from the next exec on (a reload). Returns 0, or -errno if the files of its
 * rules cannot be watched (the new policy is in force all the same). */
int supervisor_set_policy(struct supervisor *s, const struct policy *policy);

/* Record to audit from the next decision on. */
void supervisor_set_audit(struct supervisor *s, struct audit *audit);

/* How the supervisor finds a session by its id, for the records it makes after the exec
 * was answered (verify.h): the session's source goes in them too. supervise() sets its own. */
typedef const struct session *(*supervisor_session_lookup)(const char *id, void *data);
void supervisor_set_session_lookup(struct supervisor *s, supervisor_session_lookup lookup, void *data);

/* The fd to poll for the supervisor's own events (children, tracees, changed rule files);
 * when readable, call supervisor_process_events(). */
int supervisor_fd(const struct supervisor *s);
void supervisor_process_events(struct supervisor *s, const struct supervise_hooks *hooks);

/* Serve one notification of sess (its listener is readable). Every notification received
 * gets an answer; it is "deny" until the decision says otherwise. Returns 0, or -errno if
 * the listener failed. */
int supervisor_serve(struct supervisor *s, struct session *sess);

/* Keep in *slot the task whose notification is being answered (0 between answers): memory
 * that outlives us (a shared mapping of a file), so that should we be killed mid-answer,
 * the next supervisor can wake that task with supervisor_wake_stuck(). */
void supervisor_set_inflight(struct supervisor *s, volatile pid_t *slot);

/* Wake task tid if it still waits for an answer to a notification that nobody will give
 * (its supervisor died after receiving it): its exec is restarted and notified again.
 * Returns 1 if it was woken, 0 if it was not waiting, or -errno. */
int supervisor_wake_stuck(pid_t tid);

/* Execs approved and still being verified (ptrace): a supervisor that stops now kills them. */
size_t supervisor_verifying(const struct supervisor *s);

struct supervisor_stats supervisor_stats(struct supervisor *s);

/* How long decisions took, from a notification received to its answer sent (timed up to
 * the ioctl that sends it; the verification after the exec not included), over all served
 * since the supervisor was made: nearest-rank percentiles to within 6% (latency.h), in
 * nanoseconds. */
struct supervisor_latency {
        uint64_t count, p50_ns, p99_ns, max_ns;
};
struct supervisor_latency supervisor_latency(struct supervisor *s);

/* A decider: one thread's means to decide notifications. The supervisor has one of its own
 * for supervisor_serve(); the daemon's workers (workers.h) each have theirs. */
struct decider;

/* Who else may answer a notification a decider serves: the workers' watchdog, which answers
 * one not decided within resolve_timeout. claim() is asked before the decider's first act
 * that shows (a record, a message to the process, a kill, an approval, the answer): true,
 * and the answer is the decider's alone from then on; false, and it was given already: the
 * decider drops the notification without a trace. requested() is told the path the exec
 * names as soon as it is read, for the watchdog's record. following() is told, after an
 * answer "continue" the ptrace check holds, a pidfd of the process while the decider
 * follows its exec to the end (the watchdog kills it past resolve_timeout), then -1. */
struct decision_owner {
        bool (*claim)(void *data);
        void (*requested)(void *data, const char *path);
        void (*following)(void *data, int pidfd);
        void *data;
};

/* A decider of another thread runs fn(arg) on the main thread with this (a change of a
 * rule's file is taken in there), and waits for it. */
typedef void (*supervisor_main_call)(void (*fn)(void *arg), void *arg, void *data);
void supervisor_set_main_call(struct supervisor *s, supervisor_main_call call, void *data);

/* A decider for the calling thread (its message timer is bound to it). Returns 0 or -errno. */
int decider_new(struct supervisor *s, struct decider **ret);
void decider_free(struct decider *d);

/* Decide and answer req, a notification of sess received at received_ns (latency.h's
 * clock), as supervisor_serve() does. owner: who else may answer it (NULL: nobody). Returns
 * whether this decider answered it (false: the owner had). */
bool decider_serve(struct decider *d, struct session *sess, const struct seccomp_notif *req, uint64_t received_ns,
                   const struct decision_owner *owner);

/* Answer req of sess "denied" for a decider that has not in time, and record it with why
 * (requested: the path the exec names, if known). Reads nothing of the process: what stalls
 * its decider may stall that too. Returns 0 or -errno of the answer (-ENOENT: gone). */
int supervisor_time_out(struct supervisor *s, struct session *sess, const struct seccomp_notif *req,
                        const char *requested, const char *why);

/* Record that the exec of req (answered "continue") was killed, as it was not verified in
 * time (its decider, following it, is stuck): why says so. */
void supervisor_follow_timed_out(struct supervisor *s, struct session *sess, const struct seccomp_notif *req,
                                 const char *requested, const char *why);

/* Hand over an object no longer in force (the daemon's policy, or its audit sinks, after a
 * reload): freed with free_fn once no decision begun while it was in force is still being
 * made. */
void supervisor_retire(struct supervisor *s, void *object, void (*free_fn)(void *object));

/* `execguard run`'s loop: serve sess until no supervised process is left (returns 0) or
 * its listener fails (returns -errno). hooks may be NULL. */
int supervise(struct supervisor *s, struct session *sess, const struct supervise_hooks *hooks);
