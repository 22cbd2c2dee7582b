/* Reading a supervised process's memory with process_vm_readv(2), which honours the
 * process's own page protections: what we read is what the kernel's copy from user space
 * would read (a PROT_NONE page is a fault, as it is for execve).
 *
 * The caller brackets each read between two SECCOMP_IOCTL_NOTIF_ID_VALID checks: a task
 * that is alive after the read is the one that was alive before it, since the PID of a
 * live task cannot be recycled. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read the NUL-terminated string at addr in process pid into buf (size bytes, terminator
 * included), with one system call per page it spans. Returns its length, -EFAULT if the
 * memory cannot be read, -ENAMETOOLONG if no terminator lies within size bytes, or another
 * -errno (-ESRCH, -EPERM). */
int procmem_read_string(pid_t pid, uint64_t addr, char *buf, size_t size);

/* Read exactly len bytes (at most a page) at addr in process pid. Returns 0, -EFAULT if
 * any of it cannot be read, or another -errno. */
int procmem_read(pid_t pid, uint64_t addr, void *buf, size_t len);

/* The size of the argument vector at addr in process pid (pointers of pointer_size bytes,
 * NULL-terminated; addr 0 is an empty vector, as for execve). Reads stop as soon as either
 * bound is passed. Returns 0 with *ret_args arguments of *ret_bytes bytes (each with its
 * NUL), -E2BIG beyond max_args arguments (then *ret_args is max_args + 1) or max_bytes bytes,
 * -EFAULT where execve would fault, or another -errno. */
int procmem_read_argv(pid_t pid, uint64_t addr, unsigned pointer_size, size_t max_args, size_t max_bytes, char *buf,
                      size_t *ret_args, size_t *ret_bytes);

/* The same, with the arguments copied into buf (max_bytes bytes at least), each with its
 * NUL, end to end; NULL buf only measures. */
static inline int procmem_measure_argv(pid_t pid, uint64_t addr, unsigned pointer_size, size_t max_args,
                                       size_t max_bytes, size_t *ret_args, size_t *ret_bytes) {
        return procmem_read_argv(pid, addr, pointer_size, max_args, max_bytes, NULL, ret_args, ret_bytes);
}
