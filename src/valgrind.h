/* Under valgrind (make check-valgrind): syscalls valgrind 3.19 does not know, made on the
 * real CPU instead of failing with ENOSYS. Everything else runs under memcheck as usual.
 *
 * valgrind emulates every syscall its program makes and answers ENOSYS for the ones it has
 * no wrapper for. 3.19 (Debian 12) has none for openat2(), which resolving an exec target
 * cannot do without (RESOLVE_IN_ROOT is what keeps `..` and absolute symlinks inside a
 * chroot), nor for pidfd_open(), pidfd_getfd() and pidfd_send_signal() (the block message
 * on the process's stderr, kill mode).
 * VALGRIND_NON_SIMD_CALL runs a function of ours on the real CPU, where a `syscall`
 * instruction reaches the kernel. Only for syscalls that write no memory of ours (their
 * result is the return value): memcheck would not see such writes. What they read is
 * checked as defined first, as valgrind's own wrappers do. Outside valgrind, and in a build
 * without valgrind's headers, nothing of this exists: syscall_unemulated4() is never
 * called. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__has_include) && __has_include(<valgrind/valgrind.h>) && __has_include(<valgrind/memcheck.h>) && \
        defined(__x86_64__)
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>

/* Whether this process runs under valgrind. */
static inline bool under_valgrind(void) {
        return RUNNING_ON_VALGRIND != 0;
}

/* On the real CPU: a raw syscall, no libc (errno lives in memory valgrind manages for us). */
static inline unsigned long native_syscall4_on_cpu(unsigned long tid, unsigned long *a) {
        (void) tid;
        long ret;
        register long r10 __asm__("r10") = (long) a[4];
        __asm__ volatile("syscall"
                         : "=a"(ret)
                         : "a"(a[0]), "D"(a[1]), "S"(a[2]), "d"(a[3]), "r"(r10)
                         : "rcx", "r11", "memory");
        return (unsigned long) ret;
}

/* syscall(nr, a1, a2, a3, a4) past valgrind: the result, or -1 with errno set. */
static inline long syscall_unemulated4(long nr, long a1, long a2, long a3, long a4) {
        unsigned long args[5] = { (unsigned long) nr, (unsigned long) a1, (unsigned long) a2, (unsigned long) a3,
                                  (unsigned long) a4 };
        long r = (long) VALGRIND_NON_SIMD_CALL1(native_syscall4_on_cpu, args);
        if (r < 0 && r > -4096) {
                errno = (int) -r;
                return -1;
        }
        return r;
}
#else
static inline bool under_valgrind(void) {
        return false;
}
static inline long syscall_unemulated4(long nr, long a1, long a2, long a3, long a4) {
        (void) nr, (void) a1, (void) a2, (void) a3, (void) a4;
        errno = ENOSYS; /* never called: under_valgrind() is false */
        return -1;
}
#define VALGRIND_CHECK_MEM_IS_DEFINED(addr, len) ((void) (addr), (void) (len))
#endif

/* syscall(nr, a1, a2, a3, a4) for a syscall valgrind 3.19 answers ENOSYS (openat2,
 * pidfd_open, pidfd_getfd, pidfd_send_signal) and that writes no memory of ours: under
 * valgrind on the real CPU, else as usual. Returns what syscall() returns. */
static inline long syscall_fd4(long nr, long a1, long a2, long a3, long a4) {
        if (under_valgrind())
                return syscall_unemulated4(nr, a1, a2, a3, a4);
        return syscall(nr, a1, a2, a3, a4);
}
