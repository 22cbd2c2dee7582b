/* Protected paths: a file operation of a supervised process (fileop.h), looked up as the
 * process would look it up, judged against the policy's [protect] sections, and, when
 * allowed, performed by the supervisor itself on the very objects it judged, with the
 * process's credentials and umask: the kernel never reads the process's paths again, so a
 * racer that changes them after the check changes nothing (seccomp_unotify(2), "Design
 * goals; use of SECCOMP_USER_NOTIF_FLAG_CONTINUE").
 *
 *     prepare (look up) → judge → perform → the supervisor answers with the result */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fileop.h"
#include "policy.h"
#include "resolve.h"
#include "util.h"

/* One side of an operation: a name in a directory, and what is there. */
struct protect_object {
        int dir;        /* O_PATH: the directory holding name; -1: not by name */
        char name[256]; /* the last component */
        int fd;         /* O_PATH: the object itself; -1: none at that name (yet) */
        int file;       /* fd operations: the process's open file, ours now; else -1 */
        bool exists;    /* st is the object's */
        struct stat st;
        char path[EG_PATH_MAX]; /* canonical, as the policy names files */
};

struct protect_plan {
        const struct fileop_call *call;
        char path[EG_PATH_MAX];  /* the path as the process passed it ("" when none) */
        char path2[EG_PATH_MAX]; /* the second one: rename's and link's new name, symlink's */
        struct protect_object a; /* the object; rename and link: the old side */
        struct protect_object b; /* the new name: rename, link, symlink, mkdir, mknod */
        unsigned umask;          /* the process's, for what it creates */
};

/* Make plan empty (every fd -1), for protect_prepare() and protect_plan_close(). */
void protect_plan_init(struct protect_plan *plan, const struct fileop_call *call);
void protect_plan_close(struct protect_plan *plan);

/* Look up what call names, as ctx's process would (its root, cwd, fds, credentials):
 * plan->path and path2 must hold the paths read from its memory. pidfd: a pidfd of the thread,
 * to take its open files from (fd operations). Returns 0, or the -errno the kernel would fail
 * the call with. */
int protect_prepare(struct exec_context *ctx, int pidfd, struct protect_plan *plan);

/* The rule that refuses what plan does, for subj, with the operation refused in *ret_op and
 * the canonical path of what it protects in *ret_path; NULL if no rule does. */
const struct policy_rule *protect_judge(const struct policy *p, const struct policy_subject *subj,
                                        const struct protect_plan *plan, unsigned *ret_op, const char **ret_path);

/* What the process gets: an fd of ours to install (open), or a value, or an error. */
struct protect_result {
        int error;            /* -errno, or 0 */
        int64_t value;        /* the call's result when error is 0 and fd is -1 */
        int fd;               /* open: ours, to give the process (newfd_flags), then close */
        unsigned newfd_flags; /* O_CLOEXEC or 0 */
        bool later;           /* a FIFO's open that waits for a reader: protect_open_later() */
};

/* Do what plan says, on the objects it holds, with the process's credentials (and umask, for
 * a new name). Returns -EAGAIN when a new name appeared meanwhile (prepare again), else 0
 * with the outcome in *ret. */
int protect_perform(struct exec_context *ctx, struct protect_plan *plan, struct protect_result *ret);

/* Open the FIFO of plan for writing on a thread of its own, which answers notification id of
 * listener once a reader comes (the open blocks until then, as the process's would). Returns
 * 0, or -errno when it cannot (too many waiting). */
int protect_open_later(struct exec_context *ctx, struct protect_plan *plan, int listener, uint64_t id);

/* For `execguard check --op`: the rule that refuses op on path for subj, path looked up as
 * ctx's process (the caller itself) would for that operation (into o, to be closed with the
 * plan's objects by the caller: object fds), or NULL; *ret_error: the lookup's -errno or 0. */
const struct policy_rule *protect_explain(struct exec_context *ctx, const struct policy *p,
                                          const struct policy_subject *subj, unsigned op, const char *path,
                                          struct protect_object *o, int *ret_error);
