/* The host's local time, as time windows (hours =, days =) see it.
 *
 * Tests need a clock they can set: EXECGUARD_TEST_CLOCK names a file holding a local time,
 * "YYYY-MM-DD HH:MM", read at every exec. It is honoured only outside secure execution
 * (secure_getenv) and only from a regular file owned by root and not writable by group or
 * others (a user starting a supervisor of their own cannot choose its time); anything else
 * makes the clock fail, and the exec is then refused, never judged at another time than the
 * one meant. */
#pragma once

#include "policy.h"

/* Fill ctx's time fields with the local time now. Returns 0 or -errno. */
int wallclock_now(struct policy_context *ctx);

/* Parse "YYYY-MM-DD HH:MM" (a local time) into ctx's time fields. Returns 0 or -EINVAL. */
int wallclock_parse(const char *text, struct policy_context *ctx);
