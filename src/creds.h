/* Who a process is when it execs: its effective uid and its groups, read from
 * /proc/PID/status at that moment (not the session's at login), and the policy's scopes
 * that apply to it. */
#pragma once

#include <sys/types.h>

#include "policy.h"

/* Groups read at most; a process with more is refused its exec (-E2BIG), when the policy
 * has user or group sections. */
#define CREDS_GROUPS_MAX 1024

/* The subject for the process whose /proc/PID directory is proc_fd. Returns 0 or -errno
 * (the exec must then be refused). */
int creds_subject_of_process(const struct policy *p, int proc_fd, struct policy_subject *ret);

/* The subject for the calling process. */
int creds_subject_of_self(const struct policy *p, struct policy_subject *ret);
