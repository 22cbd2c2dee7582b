/* The seccomp filter: execve and execveat of every ABI this host can enter the kernel with
 * go to a user-notification listener, and so do the file operations of a [protect] policy
 * (fileop.h); every other syscall is allowed in BPF; a syscall of an ABI the filter does not
 * know kills the process. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum exec_syscall {
        EXEC_SYSCALL_OTHER,    /* not an exec: never notified unless the filter is wrong */
        EXEC_SYSCALL_EXECVE,   /* execve(path, argv, envp) */
        EXEC_SYSCALL_EXECVEAT, /* execveat(dirfd, path, argv, envp, flags) */
};

/* Install the filter on the calling (single-threaded) process and return the listener fd
 * (O_CLOEXEC) in *ret_listener. protected_ops: the policy's (policy_protected_ops()), whose
 * calls are trapped too; 0: exec alone. With no_new_privs, sets it first; without, the caller
 * needs CAP_SYS_ADMIN in its effective set (setuid programs then gain privileges in the
 * session, and only a root supervisor can judge their execs). Returns 0 or -errno. */
int filter_install(bool no_new_privs, unsigned protected_ops, int *ret_listener);

/* Which exec syscall (arch, nr) from a notification is, and the pointer size of its ABI
 * (8 for x86_64, 4 for i386 and x32). */
enum exec_syscall filter_classify(uint32_t arch, int nr, unsigned *ret_pointer_size);
