/* Trusted path execution (trusted_path = yes): a file may run only if it and every
 * directory above it are owned by root and writable by nobody else, and its file system
 * is not mounted noexec. What a user can write, a user can swap for a program of their
 * own; this closes that door to everything not exempted by name. */
#pragma once

#include <stddef.h>

#include "resolve.h"

/* Is f on a trusted path? Returns 1, or 0 with the reason in why ("/home/u/bin is
 * writable by its owner, uid 1000"), or -errno when it could not be told (the exec must
 * then be refused). The walk goes up from the file's own directory by "..", so a rename
 * made meanwhile cannot make it look at other directories than the file's. */
int trusted_path_check(const struct exec_file *f, char *why, size_t size);
