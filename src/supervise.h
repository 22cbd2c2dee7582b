/* The supervisor's event loop: receive each exec notification, work out what would run,
 * ask the policy, record, answer. */
#pragma once

#include <sys/types.h>

#include "policy.h"

/* What the loop tells its caller: a child that is not a tracee under verification (the
 * command, for `execguard run`) has changed state. */
struct supervise_hooks {
        void (*on_child)(pid_t pid, int status, void *data);
        void *data;
};

/* Serve the listener until no supervised process is left (returns 0) or the listener fails
 * (returns -errno). Every notification received gets an answer; the answer is "deny" until
 * the decision says otherwise. The caller must have SIGCHLD blocked: the loop takes it
 * through a signalfd, to verify execs (verify.h) and to reap. hooks may be NULL. */
int supervise(int listener, const struct policy *policy, const struct supervise_hooks *hooks);
