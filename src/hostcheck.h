/* Host settings that execguard depends on but does not own. An exec control judges the
 * execs of a session; what a session's user can do to their processes OUTSIDE the session
 * is the kernel's business. These probes let the daemon say so at start. */
#pragma once

/* The path the kernel shows Yama's ptrace restriction at. */
#define HOSTCHECK_PTRACE_SCOPE "/proc/sys/kernel/yama/ptrace_scope"

/* Yama's kernel.yama.ptrace_scope in *ret_scope: 0 (classic: a process may trace any other
 * of its own uid), 1 (its descendants only), 2 (CAP_SYS_PTRACE only), 3 (nobody). Returns 0,
 * -ENOENT when Yama is not enabled (then the classic rules apply, as with 0), -EIO when the
 * file does not hold a number, or another -errno. */
int hostcheck_ptrace_scope(int *ret_scope);
