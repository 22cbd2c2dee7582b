/* The file operations a [protect] section can refuse, as system calls: which calls the
 * filter traps for a policy's operations, on every ABI of the host, and what a notification
 * of one of them asks for (its arguments, read once). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <linux/seccomp.h>
#include <sys/types.h>

/* What a call does, whatever its ABI's number and name. */
enum fileop_kind {
        FILEOP_UNLINK,    /* unlink(path), rmdir(path), unlinkat(dirfd, path, flags) */
        FILEOP_RENAME,    /* rename, renameat, renameat2(olddirfd, old, newdirfd, new, flags) */
        FILEOP_TRUNCATE,  /* truncate(path, length), truncate64 */
        FILEOP_FTRUNCATE, /* ftruncate(fd, length), ftruncate64 */
        FILEOP_OPEN,      /* open, openat, creat */
        FILEOP_MKNOD,     /* mkdir, mkdirat, mknod, mknodat: a new name */
        FILEOP_CHMOD,     /* chmod, fchmodat, fchmodat2 */
        FILEOP_FCHMOD,    /* fchmod(fd, mode) */
        FILEOP_CHOWN,     /* chown, lchown, fchownat (and their 16-bit i386 forms) */
        FILEOP_FCHOWN,    /* fchown(fd, uid, gid) */
        FILEOP_LINK,      /* link, linkat */
        FILEOP_SYMLINK,   /* symlink, symlinkat */
};

/* One notification of a file operation, its arguments as the process passed them: paths are
 * read from its memory once, and everything done for it works from this copy. */
struct fileop_call {
        enum fileop_kind kind;
        const char *syscall; /* its name on the process's ABI ("unlinkat") */
        int dirfd, dirfd2;   /* AT_FDCWD unless the call names one */
        int fd;              /* ftruncate, fchmod, fchown: the process's fd */
        int flags;           /* open flags; AT_* flags; renameat2 flags */
        bool directory;      /* rmdir, mkdir: a directory */
        unsigned mode;       /* open, mkdir, mknod, chmod */
        dev_t dev;           /* mknod */
        uid_t uid;           /* chown: (uid_t) -1 keeps it */
        gid_t gid;
        int64_t length;                 /* truncate */
        uint64_t path_addr, path2_addr; /* 0: none */
};

/* The filter's rules for the operations ops (enum policy_op bits): each call that does one
 * of them is notified (open and openat only with the flags that write or truncate); openat2,
 * whose flags the filter cannot see, fails with ENOSYS, and so does io_uring_setup, whose
 * operations no filter sees. ctx is a libseccomp filter (scmp_filter_ctx). Returns 0 or
 * -errno. */
int fileop_filter_add(void *ctx, unsigned ops);

/* Which file operation the notification req is, with its arguments; false when it is none
 * of them (an exec). pointer_size: 4 or 8, as the ABI's. */
bool fileop_classify(const struct seccomp_data *data, struct fileop_call *ret, unsigned *ret_pointer_size);

/* The policy operations (enum policy_op bits) that a call of this kind may do. */
unsigned fileop_ops(const struct fileop_call *call);
