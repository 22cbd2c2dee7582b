/* Audit records: one per decision that matters (every block; every allow too when
 * log_allowed = yes), and one when a session loses its supervisor. They go to journald as structured fields with a MESSAGE_ID when
 * journald is there, else to syslog (LOG_AUTHPRIV) as one key="value" line; and, when the
 * policy names a log_file, to that file as JSON lines whose field names follow the Elastic
 * Common Schema. Every field a process controls is escaped, so a file name with a newline
 * cannot forge a record. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "policy.h"

/* The MESSAGE_ID of every execguard decision record in the journal. */
#define AUDIT_MESSAGE_ID "5f0e3a8c9b1d4c6e8a2f7b3d1c9e4a60"
/* The MESSAGE_ID of the record of a lost supervisor (AUDIT_SUPERVISOR_LOST). */
#define AUDIT_MESSAGE_ID_SUPERVISOR_LOST "0391c20619c643a38cc3594d7833746f"
/* The MESSAGE_ID of the record of a degraded session's start (AUDIT_SESSION_DEGRADED). */
#define AUDIT_MESSAGE_ID_SESSION_DEGRADED "a7c41e9d02b84f5c9e6d3b18f0a25c77"

/* Bounds on what a record carries of a process's argv. */
#define AUDIT_ARGS_MAX   64   /* arguments kept; the rest are counted, not shown */
#define AUDIT_ARG_BYTES  1024 /* bytes kept of one argument */
#define AUDIT_ARGS_BYTES 8192 /* bytes kept of all of them */
#define AUDIT_CHAIN_MAX  8    /* files of one exec: program, interpreters, loaded */

enum audit_decision {
        AUDIT_ALLOW,       /* exec allowed (recorded only when log_allowed = yes) */
        AUDIT_DENY,        /* exec refused with EACCES */
        AUDIT_KILL,        /* process killed before the program ran */
        AUDIT_WOULD_BLOCK, /* mode = audit: allowed, but a rule matched */
        /* Not a decision about an exec: the session's standalone supervisor died (process.pid
         * is its pid; note says how: "killed by signal 9"), so every later exec of the session
         * fails with ENOSYS. Recorded by the wrapper, which is the supervisor's parent. */
        AUDIT_SUPERVISOR_LOST,
        /* Not a decision about an exec either: a session that reached no daemon is supervised
         * standalone short of its policy (degraded says what it lacks). Recorded by the
         * wrapper when the session starts; every record of the session says it too. */
        AUDIT_SESSION_DEGRADED,
};

/* Who execs, as read from /proc when the record is made. Any pointer may be NULL and any
 * id -1 when it could not be read (the process may be gone): the record is still made. */
struct audit_process {
        pid_t pid;
        pid_t ppid;
        uid_t uid;         /* real */
        uid_t euid;        /* effective */
        const char *user;  /* name of uid */
        const char *euser; /* name of euid */
        const char *tty;   /* "pts/3", "tty1"; NULL: none */
        const char *cwd;
        const char *const *argv; /* argc arguments, each already cut to AUDIT_ARG_BYTES */
        size_t argc;
        bool argv_truncated; /* more arguments or bytes than kept */
        /* The kernel's audit login uid and session (/proc/PID/loginuid, sessionid): who
         * logged in, unchanged by sudo and su. Left out unless has_auid, has_audit_session. */
        bool has_auid;
        uid_t auid;
        const char *auser; /* name of auid */
        bool has_audit_session;
        uint32_t audit_session;
};

struct audit_record {
        enum audit_decision decision;
        struct timespec time; /* CLOCK_REALTIME; zero: audit_log() takes the time */
        const char *mode;     /* "enforce" or "audit" */
        const char *session;  /* the session id */
        /* Where the session came from, as SSH_CONNECTION said when it started: a numeric
         * IPv4 or IPv6 address (inet_ntop()) and a port 1-65535; NULL: not known. */
        const char *source_ip;
        unsigned source_port;
        /* What the session lacks of its policy ("no_new_privs forced; log_file not
         * written"): standalone for want of a daemon (run.h). NULL: nothing. */
        const char *degraded;
        const char *requested;    /* the path as the process passed it */
        const char *executable;   /* the program file, as resolved (canonical), or NULL */
        const char *const *chain; /* every file the exec would run, in order */
        size_t chain_len;
        const char *blocked;            /* the file the rule matched (canonical), or NULL */
        const char *policy_source;      /* policy file */
        const struct policy_rule *rule; /* the rule that decided, or NULL */
        const char *note;               /* why, when no rule decided (may be NULL) */
        const char *verifier;           /* the check after exec: "kernel", "ptrace"; NULL: none */
        /* A file operation of a [protect] section rather than an exec: the operation as
         * deny = names it ("unlink"), the syscall made ("unlinkat"), and rename's, link's
         * and symlink's new name as passed (target); NULL: an exec. */
        const char *operation;
        const char *syscall;
        const char *target;
        struct audit_process process;
};

struct audit;

/* Open the sinks: journald when its socket is there, else syslog; plus log_file (NULL: none)
 * as JSON lines, opened O_APPEND|O_CREAT|O_NOFOLLOW, mode 0640. Returns 0, or -errno when
 * log_file cannot be opened (nothing is returned then). When neither journald nor a syslog
 * socket can be reached, *ret_warning is set to a message and the audit still opens. */
int audit_open(const char *log_file, struct audit **ret_audit, const char **ret_warning);

/* Close the sinks. Accepts NULL. */
void audit_free(struct audit *a);
static inline void audit_freep(struct audit **a) {
        audit_free(*a);
}

/* Emit one record to every sink. Returns 0, or -errno if a sink failed (the caller says so
 * once; the other sinks still got the record). */
int audit_log(struct audit *a, const struct audit_record *rec);

/* Format rec as one line of JSON (ECS field names, nested objects, '\n'-terminated, valid
 * UTF-8 with control characters escaped). Returns the length, or -ENOBUFS if it does not
 * fit in size (buf then holds nothing usable). */
int audit_format_json(const struct audit_record *rec, const char *hostname, char *buf, size_t size);

const char *audit_decision_to_string(enum audit_decision d);
