/* The supervisor: receive each exec notification of a session's listener, work out what
 * would run, ask the policy, record, answer. One supervisor serves any number of sessions
 * (the daemon) or one (`execguard run`); it is single-threaded, and everything it waits on
 * is an fd its caller polls. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
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
        uint64_t decisions;
        /* Where it came from, as SSH_CONNECTION said when it started (session_source_set());
         * "": not known. Every record of the session carries it. */
        char source_ip[SESSION_SOURCE_IP_MAX];
        uint16_t source_port;
        /* What it lacks of its policy, supervised standalone for want of a daemon (run.h);
         * NULL: nothing. Every record of the session carries it. */
        const char *degraded;
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

struct supervisor_stats supervisor_stats(const struct supervisor *s);

/* How long decisions took, from a notification received to its answer sent (timed up to
 * the ioctl that sends it; the verification after the exec not included), over all served
 * since the supervisor was made: nearest-rank percentiles to within 6% (latency.h), in
 * nanoseconds. */
struct supervisor_latency {
        uint64_t count, p50_ns, p99_ns, max_ns;
};
struct supervisor_latency supervisor_latency(const struct supervisor *s);

/* `execguard run`'s loop: serve sess until no supervised process is left (returns 0) or
 * its listener fails (returns -errno). hooks may be NULL. */
int supervise(struct supervisor *s, struct session *sess, const struct supervise_hooks *hooks);
