/* The supervisor's event loop: receive each exec notification, work out what would run,
 * ask the policy, record, answer. */
#pragma once

#include "policy.h"

/* Another fd the loop watches for its caller: when it is readable, on_ready(data) runs;
 * it returns < 0 to stop with that error, 0 to go on, 1 to stop watching the fd. */
struct supervise_watch {
        int fd;
        int (*on_ready)(void *data);
        void *data;
};

/* Serve the listener until no supervised process is left (returns 0) or the listener fails
 * (returns -errno). Every notification received gets an answer; the answer is "deny" until
 * the decision says otherwise. watch may be NULL. */
int supervise(int listener, const struct policy *policy, const struct supervise_watch *watch);
