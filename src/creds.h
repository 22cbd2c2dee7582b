/* Who a process is when it execs: its effective uid and its groups, read from
 * /proc/PID/status at that moment (not the session's at login), the policy's sections
 * that apply to it, and what their conditions look at: the time, and its program. */
#pragma once

#include <sys/types.h>

#include "policy.h"

/* Groups read at most; a process with more is refused its exec (-E2BIG), when the policy
 * has user or group sections. */
#define CREDS_GROUPS_MAX 1024

/* The subject for the process whose /proc/PID directory is proc_fd, at its exec now: its
 * effective uid and gid and its n_groups groups, as exec_context_open() read them (resolve.h:
 * one read of /proc/PID/status per exec), and its program for parent conditions. Returns 0
 * or -errno (the exec must then be refused). */
int creds_subject_of_process(const struct policy *p, int proc_fd, uid_t euid, gid_t egid, const gid_t *groups,
                             size_t n_groups, struct policy_subject *ret);

/* The subject for the calling process, or for user (a name or uid, with the groups the
 * group database gives it) when not NULL; in ctx (NULL: now, and this program). */
int creds_subject_of_self(const struct policy *p, const char *user, const struct policy_context *ctx,
                          struct policy_subject *ret);
