/* Small helpers shared by every module: cleanup attributes, ownership moves, bounds. */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

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

static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}
