/* `execguard check`: what the policy would decide for paths, resolved the way an exec by
 * this process would resolve them. */
#pragma once

#include <stdio.h>

#include "policy.h"

/* Print one line per path to out. Returns 0 if all are allowed, 1 if any is blocked, 2 if
 * none is blocked but some could not be resolved. */
int check_paths(const struct policy *policy, char *const *paths, int n, FILE *out);
