/* Small helpers shared by every module: cleanup attributes, ownership moves, bounds. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

/* Bounds on everything a supervised process controls. */
#define EG_PATH_MAX         4096 /* longest path we read from a process (PATH_MAX) */
#define EG_SYMLINK_MAX      40   /* the kernel's MAXSYMLINKS */
#define EG_INTERP_DEPTH_MAX 5    /* #! rewrites exec_binprm() allows before ELOOP */
#define EG_SHEBANG_BUF      256  /* BINPRM_BUF_SIZE: what the kernel reads of a #! line */

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_     __attribute__((unused))

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* close() is never retried: on Linux the fd is gone even when it fails with EINTR. */
static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -1;
}
static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* Explicit ownership moves out of a cleanup-managed variable. */
#define TAKE_FD(fd)              \
        ({                       \
                int _fd_ = (fd); \
                (fd) = -1;       \
                _fd_;            \
        })
#define TAKE_PTR(p)                      \
        ({                               \
                __typeof__(p) _p_ = (p); \
                (p) = NULL;              \
                _p_;                     \
        })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)     ((a) < (b) ? (a) : (b))
#define MAX(a, b)     ((a) > (b) ? (a) : (b))

static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

/* Read up to len bytes at off, going on after short reads and EINTR: the number of bytes
 * read (less than len only at end of file), or -errno. */
static inline ssize_t pread_full(int fd, void *buf, size_t len, off_t off) {
        size_t got = 0;
        while (got < len) {
                ssize_t n = pread(fd, (char *) buf + got, len - got, off + (off_t) got);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                got += (size_t) n;
        }
        return (ssize_t) got;
}

static inline bool timespec_equal(const struct timespec *a, const struct timespec *b) {
        return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* _exit() for a forked process that has done its work (the supervisor, the keeper): stdio
 * and atexit handlers are the parent's. In a sanitizer build (make check-asan), _exit()
 * would skip LeakSanitizer's check at exit: ask for it first, so that what such a process
 * leaked is reported (and it exits with LeakSanitizer's status). */
static inline _Noreturn void exit_forked(int status) {
#if defined(__SANITIZE_ADDRESS__)
        __lsan_do_leak_check();
#endif
        _exit(status);
}
