/* The supervisor's event loop: receive each exec notification, work out what would run,
 * ask the policy, record, answer. */
#pragma once

#include "policy.h"

/* Serve the listener until no supervised process is left (returns 0) or the listener fails
 * (returns -errno). Every notification received gets an answer; the answer is "deny" until
 * the decision says otherwise. */
int supervise(int listener, const struct policy *policy);
