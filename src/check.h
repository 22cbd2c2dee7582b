/* `execguard check`: what the policy would decide for paths, resolved the way an exec by
 * this process would resolve them, and why. */
#pragma once

#include <stdio.h>

#include "policy.h"

struct check_options {
        const char *user;   /* --user: judge for this user and its groups (NULL: the caller) */
        const char *argv;   /* --argv: the exec's arguments, argv[0] first, split at blanks
                             * (quotes and backslashes as in sh); NULL: the path alone */
        const char *parent; /* --parent: the program making the exec (NULL: none matches) */
        const char *time;   /* --time: "YYYY-MM-DD HH:MM", local (NULL: now) */
        const char *op;     /* --op: judge this file operation of [protect] on each path, not an
                             * exec (NULL: an exec) */
};

/* Print one line per path to out. Returns 0 if all are allowed, 1 if any is blocked, 2 if
 * none is blocked but some could not be resolved or judged, or the options are invalid. */
int check_paths(const struct policy *policy, const struct check_options *o, char *const *paths, int n, FILE *out);
