/* Shared parts of the libFuzzer targets (tests/fuzz/fuzz_*.c): keeping a fuzzer that runs
 * as root from touching the host, and the scratch tree and subject processes that the
 * resolver targets resolve in. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "resolve.h"

/* The library code reads whatever files the fuzzer makes it name (policy rules are hashed,
 * exec targets have their headers read). As root that could read /proc/kmsg (and take the
 * messages from the host's log) or block for ever on a tracefs pipe. So a fuzzer running as
 * root first moves into a private mount namespace where /proc shows processes only
 * (subset=pid) and /sys is an empty tmpfs; unprivileged, those files are not readable
 * anyway. Aborts if that fails: a root fuzzer never runs uncontained. */
void fuzz_contain(void);

/* Abort with a message: a broken invariant is a finding, like a sanitizer report. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Where an exec is resolved from. Each view is a process of its own, forked once, that
 * sits in the scratch tree and answers the kernel's own lookups (the oracle). */
enum fuzz_view {
        FUZZ_VIEW_OWN,     /* our root, cwd the scratch directory */
        FUZZ_VIEW_CHROOT,  /* chrooted into the scratch directory, cwd its root (root only) */
        FUZZ_VIEW_OUTSIDE, /* chrooted into scratch/sub, cwd left outside it (root only) */
        FUZZ_VIEWS,
};

/* Build the scratch tree (once; files, symlinks and loops, "#!" chains, small ELF files,
 * /proc/self/fd links to fds the views hold) and start the views. Aborts on failure. */
void fuzz_scratch_init(void);

/* The context of a view, as the supervisor would open it; NULL if that view is not
 * available (unprivileged). */
struct exec_context *fuzz_view_context(enum fuzz_view view);

/* What the kernel says about execveat(dirfd, path, flags) in the view's process, up to
 * opening the file: fstatat() there with the same lookup flags. Returns 0 with *ret_st,
 * or -errno. */
int fuzz_view_stat(enum fuzz_view view, int dirfd, const char *path, int flags, struct stat *ret_st);

/* An fd number for execveat's dirfd: one the views hold (the scratch directory, a
 * subdirectory, a program, a script, a symlink, a memfd, a deleted file), AT_FDCWD, or a
 * number nobody holds. */
int fuzz_dirfd(uint8_t selector);

/* The lowest free fd: equal before and after a call, or the call leaked one. */
int fuzz_lowest_free_fd(void);
