/* Audit records: one per decision that matters, to syslog (LOG_AUTHPRIV). Every field a
 * process controls is escaped, so a file name with a newline cannot forge a record. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "policy.h"

enum audit_decision {
        AUDIT_DENY,        /* exec refused with EACCES */
        AUDIT_KILL,        /* process killed before the program ran */
        AUDIT_WOULD_BLOCK, /* mode = audit: allowed, but a rule matched */
};

struct audit_record {
        enum audit_decision decision;
        pid_t pid;
        uid_t uid;
        const char *requested;          /* the path as the process passed it */
        const char *blocked;            /* the file the rule matched (canonical) */
        const char *policy_source;      /* policy file */
        const struct policy_rule *rule; /* the rule that decided, or NULL */
        const char *note;               /* why, when no rule decided (may be NULL) */
};

/* Connect to syslog. Returns -errno if no syslog socket can be reached: records would be
 * lost, and the caller should say so. */
int audit_open(void);

/* Emit one record. */
void audit_log(const struct audit_record *rec);

/* Escape control characters, backslash, double quote and DEL as \xNN into out (always
 * NUL-terminated; truncated with "..." if it does not fit). For records and messages. */
void audit_escape(const char *in, char *out, size_t size);

const char *audit_decision_to_string(enum audit_decision d);
