/* `execguard learn`: an allowlist written from the audit records of what ran (sessions run
 * with mode = audit and log_allowed = yes, their JSON log_file), or, with --diff, what an
 * existing policy would have refused of it. */
#pragma once

struct learn_options {
        const char *output; /* -o: the policy's file (NULL: standard output) */
        const char *diff;   /* --diff: the policy to hold what ran against, instead */
};

/* Read the records of files (n of them; none, or "-": standard input). Returns the exit
 * status: 0; 1 if nothing that ran was found (no policy is written) or, with --diff, if the
 * policy refuses something that ran; 2 on an error (said on standard error). */
int learn_run(const struct learn_options *o, char *const *files, int n);
