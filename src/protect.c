#include "protect.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fscreds.h"
#include "log.h"
#include "notify.h"
#include "procstatus.h"

#ifndef SYS_fchmodat2
#define SYS_FCHMODAT2 452 /* Linux 6.6, the same number on every ABI */
#else
#define SYS_FCHMODAT2 SYS_fchmodat2
#endif

/* How many symlinks an open follows at its last component, as the kernel's MAXSYMLINKS. */
#define OPEN_LINKS_MAX 40

static void object_init(struct protect_object *o) {
        o->dir = o->fd = o->file = -1;
        o->name[0] = '\0';
        o->exists = false;
        o->path[0] = '\0';
}

static void object_close(struct protect_object *o) {
        o->dir = safe_close(o->dir);
        o->fd = safe_close(o->fd);
        o->file = safe_close(o->file);
        o->exists = false;
}

void protect_plan_init(struct protect_plan *plan, const struct fileop_call *call) {
        plan->call = call;
        plan->path[0] = plan->path2[0] = '\0';
        object_init(&plan->a);
        object_init(&plan->b);
        plan->umask = 022;
}

void protect_plan_close(struct protect_plan *plan) {
        object_close(&plan->a);
        object_close(&plan->b);
}

/* The canonical path of our fd: its magic link's text. */
static int fd_path(int fd, char *buf, size_t size) {
        char link[32];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, buf, size);
        if (n < 0)
                return negative_errno();
        if ((size_t) n >= size)
                return -ENAMETOOLONG;
        buf[n] = '\0';
        return 0;
}

/* Split path into the directory part (into dir, "." when none) and its last component (into
 * name), as the kernel's lookup of a parent does: trailing slashes are not a component. */
static int split_path(const char *path, char *dir, char name[static 256]) {
        size_t len = strlen(path);
        if (len == 0)
                return -ENOENT;
        while (len > 1 && path[len - 1] == '/')
                len--;
        size_t start = len;
        while (start > 0 && path[start - 1] != '/')
                start--;
        if (len - start >= 256)
                return -ENAMETOOLONG;
        if (start == len) {
                /* "/" alone: the root, whose name no operation may take */
                strcpy(dir, "/");
                strcpy(name, ".");
                return 0;
        }
        memcpy(name, path + start, len - start);
        name[len - start] = '\0';
        if (start == 0)
                strcpy(dir, ".");
        else {
                size_t dlen = start;
                while (dlen > 1 && path[dlen - 1] == '/')
                        dlen--;
                memcpy(dir, path, dlen);
                dir[dlen] = '\0';
        }
        return 0;
}

/* Where a relative path starts: own_base, a directory fd of ours (a link's, when a link is
 * followed), or else the process's dirfd (AT_FDCWD: its cwd). A new fd of ours. */
static int base_of(struct exec_context *ctx, int own_base, int dirfd) {
        if (own_base < 0)
                return resolve_base(ctx, dirfd);
        int fd = fcntl(own_base, F_DUPFD_CLOEXEC, 3);
        return fd < 0 ? negative_errno() : fd;
}

/* The object by name: the directory that holds the last component of path (relative to
 * base_of()), and what is at that name, not followed. */
static int lookup_name(struct exec_context *ctx, int own_base, int dirfd, const char *path, struct protect_object *o) {
        char dir[EG_PATH_MAX];
        int r = split_path(path, dir, o->name);
        if (r < 0)
                return r;
        _cleanup_close_ int base = -1;
        if (dir[0] != '/') {
                base = base_of(ctx, own_base, dirfd);
                if (base < 0)
                        return base;
        }
        r = exec_context_as_process(ctx);
        if (r < 0)
                return r;
        o->dir = resolve_lookup(ctx, base, dir, true);
        if (o->dir < 0)
                return o->dir;
        struct stat st;
        if (fstat(o->dir, &st) < 0)
                return negative_errno();
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        char parent[EG_PATH_MAX];
        r = fd_path(o->dir, parent, sizeof parent);
        if (r < 0)
                return r;
        if ((size_t) snprintf(o->path, sizeof o->path, "%s%s%s", parent, strcmp(parent, "/") == 0 ? "" : "/",
                              o->name) >= sizeof o->path)
                return -ENAMETOOLONG;
        if (fstatat(o->dir, o->name, &o->st, AT_SYMLINK_NOFOLLOW) == 0)
                o->exists = true;
        else if (errno != ENOENT)
                return negative_errno();
        /* "name/" must be a directory: the kernel refuses the operation on anything else
         * (it would follow a symlink there; refused too, which fails safe). */
        size_t len = strlen(path);
        if (len > 1 && path[len - 1] == '/' && o->exists && !S_ISDIR(o->st.st_mode))
                return -ENOTDIR;
        return 0;
}

/* The object itself: path (relative to dirfd) looked up to its end, its last symlink
 * followed when follow; or, with AT_EMPTY_PATH and "", the file dirfd stands for. */
static int lookup_object(struct exec_context *ctx, int own_base, int dirfd, const char *path, bool follow,
                         bool empty_path, struct protect_object *o) {
        if (path[0] == '\0' && empty_path)
                o->fd = base_of(ctx, own_base, dirfd);
        else if (path[0] == '\0')
                return -ENOENT;
        else {
                _cleanup_close_ int base = -1;
                if (path[0] != '/') {
                        base = base_of(ctx, own_base, dirfd);
                        if (base < 0)
                                return base;
                }
                int r = exec_context_as_process(ctx);
                if (r < 0)
                        return r;
                o->fd = resolve_lookup(ctx, base, path, follow);
        }
        if (o->fd < 0)
                return o->fd;
        if (fstat(o->fd, &o->st) < 0)
                return negative_errno();
        o->exists = true;
        return fd_path(o->fd, o->path, sizeof o->path);
}

/* The process's own open file fd_number, for an fd operation: the very open file, taken
 * with pidfd_getfd() so that what is done to it is what the process would do through it. */
static int lookup_file(int pidfd, int fd_number, struct protect_object *o) {
        if (fd_number < 0)
                return -EBADF;
        o->file = (int) syscall(SYS_pidfd_getfd, pidfd, fd_number, 0);
        if (o->file < 0)
                return errno == EBADF ? -EBADF : negative_errno();
        if (fstat(o->file, &o->st) < 0)
                return negative_errno();
        o->exists = true;
        return fd_path(o->file, o->path, sizeof o->path);
}

static int read_umask(struct exec_context *ctx, unsigned *ret) {
        char status[PROCSTATUS_BUF];
        ssize_t n = procstatus_read(ctx->proc_fd, status, sizeof status);
        if (n < 0)
                return (int) n;
        const char *s = procstatus_field(status, "Umask");
        if (!s)
                return -EIO;
        char *end;
        unsigned long mask = strtoul(s, &end, 8);
        if (end == s)
                return -EIO;
        *ret = (unsigned) mask & 0777;
        return 0;
}

static bool on_procfs(int fd) {
        struct statfs sfs;
        return fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

/* A setting of fs. in /proc/sys (protected_symlinks, ...): 0 when it cannot be read. */
static int fs_sysctl(const char *name) {
        char path[64], buf[16] = "";
        snprintf(path, sizeof path, "/proc/sys/fs/%s", name);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, buf, sizeof buf - 1) <= 0)
                return 0;
        return atoi(buf);
}

/* The kernel's may_follow_link(), which our following of a link in a sticky directory must
 * keep: with fs.protected_symlinks, a link there is followed only by its owner, or when the
 * directory's owner owns it too. */
static int may_follow(struct exec_context *ctx, const struct protect_object *link) {
        struct stat dir;
        if (link->st.st_uid == ctx->creds.fsuid)
                return 0;
        if (fstat(link->dir, &dir) < 0)
                return negative_errno();
        if ((dir.st_mode & (S_ISVTX | S_IWOTH)) != (S_ISVTX | S_IWOTH) || dir.st_uid == link->st.st_uid)
                return 0;
        return fs_sysctl("protected_symlinks") ? -EACCES : 0;
}

/* The kernel's may_create_in_sticky(), for O_CREAT of a file that is there already (the
 * reopen that opens it has no O_CREAT): fs.protected_regular and fs.protected_fifos. */
static int may_open_in_sticky(struct exec_context *ctx, const struct protect_object *o) {
        struct stat dir;
        if (o->dir < 0 || !(S_ISREG(o->st.st_mode) || S_ISFIFO(o->st.st_mode)) || o->st.st_uid == ctx->creds.fsuid)
                return 0;
        if (fstat(o->dir, &dir) < 0)
                return negative_errno();
        if (!(dir.st_mode & S_ISVTX) || dir.st_uid == o->st.st_uid)
                return 0;
        int level = fs_sysctl(S_ISREG(o->st.st_mode) ? "protected_regular" : "protected_fifos");
        if (level == 0)
                return 0;
        return (dir.st_mode & S_IWOTH) || ((dir.st_mode & S_IWGRP) && level >= 2) ? -EACCES : 0;
}

/* open, openat, creat: what the name leads to, its last symlinks followed as the kernel
 * follows them (through a dangling one, its target is what gets created). */
static int prepare_open(struct exec_context *ctx, struct protect_plan *plan) {
        const struct fileop_call *call = plan->call;
        struct protect_object *a = &plan->a;
        int flags = call->flags;
        bool excl = (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
        bool follow = !(flags & O_NOFOLLOW) && !excl;

        if ((flags & O_PATH) || (flags & O_TMPFILE) == O_TMPFILE)
                /* O_PATH writes nothing; O_TMPFILE makes a file of no name (only a link,
                 * judged as one, can give it one): the directory is all there is. */
                return lookup_object(ctx, -1, call->dirfd, plan->path, follow, false, a);
        if (flags & O_CREAT) {
                int r = read_umask(ctx, &plan->umask);
                if (r < 0)
                        return r;
        }

        char path[EG_PATH_MAX];
        snprintf(path, sizeof path, "%s", plan->path);
        _cleanup_close_ int link_dir = -1; /* the directory of the link followed last */
        for (unsigned links = 0;; links++) {
                object_close(a);
                int r = lookup_name(ctx, link_dir, plan->call->dirfd, path, a);
                if (r < 0)
                        return r;
                size_t len = strlen(path);
                if (!a->exists && len > 1 && path[len - 1] == '/')
                        return (flags & O_CREAT) ? -EISDIR : -ENOENT;
                if (!a->exists)
                        return (flags & O_CREAT) ? 0 : -ENOENT;
                if (excl)
                        return -EEXIST;
                if (S_ISLNK(a->st.st_mode) && !follow)
                        return -ELOOP;
                if (S_ISLNK(a->st.st_mode) && on_procfs(a->dir)) {
                        /* A magic link (/proc/self/fd/1): the kernel jumps to its object, and
                         * so does the lookup of the whole path. */
                        object_close(a);
                        return lookup_object(ctx, link_dir, plan->call->dirfd, path, true, false, a);
                }
                if (S_ISLNK(a->st.st_mode)) {
                        if (links >= OPEN_LINKS_MAX)
                                return -ELOOP;
                        r = may_follow(ctx, a);
                        if (r < 0)
                                return r;
                        char target[EG_PATH_MAX];
                        ssize_t n = readlinkat(a->dir, a->name, target, sizeof target);
                        if (n < 0)
                                return negative_errno();
                        if ((size_t) n >= sizeof target)
                                return -ENAMETOOLONG;
                        target[n] = '\0';
                        safe_close(link_dir);
                        link_dir = TAKE_FD(a->dir);
                        memcpy(path, target, (size_t) n + 1);
                        continue;
                }
                a->fd = openat(a->dir, a->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (a->fd < 0)
                        return negative_errno();
                struct stat st;
                if (fstat(a->fd, &st) < 0)
                        return negative_errno();
                if (st.st_dev != a->st.st_dev || st.st_ino != a->st.st_ino)
                        return -EAGAIN; /* replaced meanwhile: look again */
                return 0;
        }
}

int protect_prepare(struct exec_context *ctx, int pidfd, struct protect_plan *plan) {
        const struct fileop_call *call = plan->call;
        int flags = call->flags;
        int r;

        switch (call->kind) {
        case FILEOP_UNLINK:
                if (flags & ~AT_REMOVEDIR)
                        r = -EINVAL;
                else
                        r = lookup_name(ctx, -1, call->dirfd, plan->path, &plan->a);
                break;
        case FILEOP_RENAME:
                r = lookup_name(ctx, -1, call->dirfd, plan->path, &plan->a);
                if (r >= 0)
                        r = lookup_name(ctx, -1, call->dirfd2, plan->path2, &plan->b);
                break;
        case FILEOP_TRUNCATE:
                r = lookup_object(ctx, -1, AT_FDCWD, plan->path, true, false, &plan->a);
                break;
        case FILEOP_FTRUNCATE:
        case FILEOP_FCHMOD:
        case FILEOP_FCHOWN:
                r = lookup_file(pidfd, call->fd, &plan->a);
                break;
        case FILEOP_OPEN:
                r = prepare_open(ctx, plan);
                break;
        case FILEOP_MKNOD:
                r = read_umask(ctx, &plan->umask);
                if (r >= 0)
                        r = lookup_name(ctx, -1, call->dirfd, plan->path, &plan->b);
                break;
        case FILEOP_CHMOD:
        case FILEOP_CHOWN: {
                int known = AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH;
                if (flags & ~known)
                        r = -EINVAL;
                else
                        r = lookup_object(ctx, -1, call->dirfd, plan->path, !(flags & AT_SYMLINK_NOFOLLOW),
                                          flags & AT_EMPTY_PATH, &plan->a);
                break;
        }
        case FILEOP_LINK:
                if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
                        r = -EINVAL;
                else if ((flags & AT_SYMLINK_FOLLOW) || (plan->path[0] == '\0' && (flags & AT_EMPTY_PATH)))
                        r = lookup_object(ctx, -1, call->dirfd, plan->path, true, flags & AT_EMPTY_PATH, &plan->a);
                else {
                        r = lookup_name(ctx, -1, call->dirfd, plan->path, &plan->a);
                        if (r >= 0 && !plan->a.exists)
                                r = -ENOENT;
                }
                if (r >= 0)
                        r = lookup_name(ctx, -1, call->dirfd2, plan->path2, &plan->b);
                break;
        case FILEOP_SYMLINK:
                /* The target is text the link will hold, looked up by nobody now. */
                r = plan->path[0] ? lookup_name(ctx, -1, call->dirfd2, plan->path2, &plan->b) : -ENOENT;
                break;
        default:
                r = -ENOSYS;
        }
        exec_context_as_self(ctx);
        return r;
}

/* The rule that refuses op on o (by its identity when it exists), or NULL. */
static const struct policy_rule *judge_object(const struct policy *p, const struct policy_subject *subj, unsigned op,
                                              const struct protect_object *o) {
        if (!o->path[0])
                return NULL;
        return policy_protects(p, subj, op, o->path, o->exists ? &o->st : NULL);
}

const struct policy_rule *protect_judge(const struct policy *p, const struct policy_subject *subj,
                                        const struct protect_plan *plan, unsigned *ret_op, const char **ret_path) {
        const struct fileop_call *call = plan->call;
        const struct protect_object *a = &plan->a, *b = &plan->b;
        const struct policy_rule *rule = NULL;
        const struct protect_object *hit = NULL;
        unsigned op = fileop_ops(call);

        switch (call->kind) {
        case FILEOP_RENAME:
                /* Either side, and what a directory moved holds. */
                for (int side = 0; side < 2 && !rule; side++) {
                        hit = side ? b : a;
                        rule = judge_object(p, subj, op, hit);
                        if (!rule && hit->exists && S_ISDIR(hit->st.st_mode))
                                rule = policy_protects_beneath(p, subj, op, hit->path);
                }
                break;
        case FILEOP_OPEN:
                hit = a;
                if (!a->exists) {
                        op = POLICY_OP_WRITE; /* a new name */
                        rule = judge_object(p, subj, op, a);
                        break;
                }
                if ((call->flags & O_PATH) || (call->flags & O_TMPFILE) == O_TMPFILE)
                        break;
                if ((call->flags & O_ACCMODE) != O_RDONLY) {
                        op = POLICY_OP_WRITE;
                        rule = judge_object(p, subj, op, a);
                }
                if (!rule && (call->flags & O_TRUNC) && S_ISREG(a->st.st_mode)) {
                        op = POLICY_OP_TRUNCATE;
                        rule = judge_object(p, subj, op, a);
                }
                break;
        case FILEOP_MKNOD:
        case FILEOP_LINK:
        case FILEOP_SYMLINK:
                hit = b; /* the new name */
                rule = judge_object(p, subj, op, b);
                break;
        case FILEOP_UNLINK:
        case FILEOP_TRUNCATE:
        case FILEOP_FTRUNCATE:
        case FILEOP_CHMOD:
        case FILEOP_FCHMOD:
        case FILEOP_CHOWN:
        case FILEOP_FCHOWN:
                hit = a;
                rule = judge_object(p, subj, op, a);
        }
        *ret_op = op;
        *ret_path = hit ? hit->path : "";
        return rule;
}

/* Our thread's umask, for what it creates for a process: the thread keeps a file-system
 * context of its own (CLONE_FS), so that setting it touches no other thread. */
static int set_umask(unsigned mask, unsigned *ret_old) {
        static __thread bool unshared;
        if (!unshared) {
                if (unshare(CLONE_FS) < 0)
                        return negative_errno();
                unshared = true;
        }
        *ret_old = (unsigned) umask((mode_t) mask);
        return 0;
}

/* The controlling terminal of the process, which /dev/tty means to it (to us, ours): one of
 * its open files, if it holds one. */
static int controlling_tty(struct exec_context *ctx, int *ret_fd) {
        char stat_buf[1024];
        _cleanup_close_ int fd = openat(ctx->proc_fd, "stat", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        ssize_t n = read(fd, stat_buf, sizeof stat_buf - 1);
        if (n <= 0)
                return -EIO;
        stat_buf[n] = '\0';
        const char *s = strrchr(stat_buf, ')');
        int tty_nr = 0;
        if (!s || sscanf(s + 1, " %*c %*d %*d %*d %d", &tty_nr) != 1)
                return -EIO;
        if (tty_nr == 0)
                return -ENXIO;
        _cleanup_close_ int fds = openat(ctx->proc_fd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fds < 0)
                return negative_errno();
        for (int number = 0; number < 256; number++) {
                char name[16];
                struct stat st;
                snprintf(name, sizeof name, "%d", number);
                if (fstatat(fds, name, &st, 0) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == (dev_t) tty_nr) {
                        *ret_fd = resolve_process_fd(ctx, number);
                        return *ret_fd < 0 ? *ret_fd : 0;
                }
        }
        return -ENXIO;
}

/* Open our O_PATH fd of a file again, as the process asked to open it. */
static int reopen(int fd, int flags) {
        char link[32];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        /* O_EXCL without O_CREAT means something of its own to a block device: kept. */
        int dropped = O_CREAT | O_TRUNC | O_NOFOLLOW | ((flags & O_CREAT) ? O_EXCL : 0);
        int r = open(link, (flags & ~dropped) | O_CLOEXEC | O_NOCTTY);
        return r < 0 ? negative_errno() : r;
}

/* O_TRUNC, done once the file opened is known to be the one judged. */
static int truncate_opened(int fd, int path_fd, int flags) {
        if ((flags & O_ACCMODE) != O_RDONLY)
                return ftruncate(fd, 0) < 0 ? negative_errno() : 0;
        /* O_RDONLY | O_TRUNC truncates too, with write permission. */
        _cleanup_close_ int w = reopen(path_fd, O_WRONLY | O_NONBLOCK);
        if (w < 0)
                return w;
        return ftruncate(w, 0) < 0 ? negative_errno() : 0;
}

static int perform_open(struct exec_context *ctx, struct protect_plan *plan, struct protect_result *ret) {
        struct protect_object *a = &plan->a;
        int flags = plan->call->flags;
        int fd;
        ret->newfd_flags = flags & O_CLOEXEC;

        if (!a->exists) {
                unsigned old;
                int r = set_umask(plan->umask, &old);
                if (r < 0)
                        return r;
                /* Exclusive: should the name have appeared since it was judged, nothing
                 * there is opened unjudged; the caller looks again. */
                fd = openat(a->dir, a->name, (flags & ~O_TRUNC) | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                            plan->call->mode);
                r = fd < 0 ? negative_errno() : fd;
                umask((mode_t) old);
                if (r == -EEXIST && !(flags & O_EXCL))
                        return -EAGAIN;
                if (r == -ELOOP && !(flags & O_EXCL))
                        return -EAGAIN; /* a symlink appeared there */
                if (r < 0)
                        return r;
                ret->fd = fd;
                return 0;
        }
        if ((flags & O_TMPFILE) == O_TMPFILE) {
                unsigned old;
                int r = set_umask(plan->umask, &old);
                if (r < 0)
                        return r;
                fd = openat(a->fd, ".", flags | O_CLOEXEC, plan->call->mode);
                r = fd < 0 ? negative_errno() : fd;
                umask((mode_t) old);
                if (r < 0)
                        return r;
                ret->fd = fd;
                return 0;
        }
        if (flags & O_CREAT) {
                if (S_ISDIR(a->st.st_mode))
                        return -EISDIR;
                int r = may_open_in_sticky(ctx, a);
                if (r < 0)
                        return r;
        }
        if (S_ISCHR(a->st.st_mode) && a->st.st_rdev == makedev(5, 0)) {
                /* /dev/tty: the process's terminal, not ours. */
                int tty = -1;
                int r = controlling_tty(ctx, &tty);
                if (r < 0)
                        return r;
                safe_close(a->fd);
                a->fd = tty;
                if (fstat(a->fd, &a->st) < 0)
                        return negative_errno();
        }
        if (S_ISFIFO(a->st.st_mode) && (flags & O_ACCMODE) == O_WRONLY && !(flags & O_NONBLOCK)) {
                /* With a reader there it opens at once; else it waits for one, on a thread
                 * of its own. */
                fd = reopen(a->fd, flags | O_NONBLOCK);
                if (fd == -ENXIO) {
                        ret->later = true;
                        return 0;
                }
                if (fd >= 0 &&
                    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK & (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME)) < 0) {
                        safe_close(fd);
                        return negative_errno();
                }
        } else
                fd = reopen(a->fd, flags);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_dev != a->st.st_dev || st.st_ino != a->st.st_ino) {
                safe_close(fd);
                return -EAGAIN;
        }
        if ((flags & O_TRUNC) && S_ISREG(st.st_mode)) {
                int r = truncate_opened(fd, a->fd, flags);
                if (r < 0) {
                        safe_close(fd);
                        return r;
                }
        }
        ret->fd = fd;
        return 0;
}

/* fchmodat2(fd, "", mode, AT_EMPTY_PATH): on the very object, which may be O_PATH. */
static int chmod_fd(int fd, unsigned mode) {
        return syscall(SYS_FCHMODAT2, fd, "", mode, AT_EMPTY_PATH) < 0 ? negative_errno() : 0;
}

static int link_fd(int fd, int dir, const char *name) {
        char link[32];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        return linkat(AT_FDCWD, link, dir, name, AT_SYMLINK_FOLLOW) < 0 ? negative_errno() : 0;
}

static int perform_as_process(struct exec_context *ctx, struct protect_plan *plan, struct protect_result *ret) {
        const struct fileop_call *call = plan->call;
        struct protect_object *a = &plan->a, *b = &plan->b;
        int r;

        switch (call->kind) {
        case FILEOP_UNLINK:
                r = unlinkat(a->dir, a->name, call->directory ? AT_REMOVEDIR : 0) < 0 ? negative_errno() : 0;
                break;
        case FILEOP_RENAME:
                r = syscall(SYS_renameat2, a->dir, a->name, b->dir, b->name, (unsigned) call->flags) < 0
                            ? negative_errno()
                            : 0;
                break;
        case FILEOP_TRUNCATE: {
                if (S_ISDIR(a->st.st_mode))
                        return -EISDIR;
                if (!S_ISREG(a->st.st_mode) || call->length < 0)
                        return -EINVAL;
                _cleanup_close_ int fd = reopen(a->fd, O_WRONLY | O_NONBLOCK);
                if (fd < 0)
                        return fd;
                r = ftruncate(fd, call->length) < 0 ? negative_errno() : 0;
                break;
        }
        case FILEOP_FTRUNCATE:
                if (call->length < 0)
                        return -EINVAL;
                r = ftruncate(a->file, call->length) < 0 ? negative_errno() : 0;
                break;
        case FILEOP_OPEN:
                return perform_open(ctx, plan, ret);
        case FILEOP_MKNOD: {
                unsigned old;
                r = set_umask(plan->umask, &old);
                if (r < 0)
                        return r;
                if (call->directory)
                        r = mkdirat(b->dir, b->name, call->mode & 07777);
                else
                        r = mknodat(b->dir, b->name, call->mode, call->dev);
                r = r < 0 ? negative_errno() : 0;
                umask((mode_t) old);
                break;
        }
        case FILEOP_CHMOD:
                r = chmod_fd(a->fd, call->mode);
                break;
        case FILEOP_FCHMOD:
                r = fchmod(a->file, call->mode) < 0 ? negative_errno() : 0;
                break;
        case FILEOP_CHOWN:
                r = fchownat(a->fd, "", call->uid, call->gid, AT_EMPTY_PATH) < 0 ? negative_errno() : 0;
                break;
        case FILEOP_FCHOWN:
                r = fchown(a->file, call->uid, call->gid) < 0 ? negative_errno() : 0;
                break;
        case FILEOP_LINK:
                if (a->fd >= 0)
                        r = link_fd(a->fd, b->dir, b->name);
                else
                        r = linkat(a->dir, a->name, b->dir, b->name, 0) < 0 ? negative_errno() : 0;
                break;
        case FILEOP_SYMLINK:
                r = symlinkat(plan->path, b->dir, b->name) < 0 ? negative_errno() : 0;
                break;
        default:
                r = -ENOSYS;
        }
        return r;
}

int protect_perform(struct exec_context *ctx, struct protect_plan *plan, struct protect_result *ret) {
        *ret = (struct protect_result){ .fd = -1 };
        int r = exec_context_as_process(ctx);
        if (r >= 0)
                r = perform_as_process(ctx, plan, ret);
        exec_context_as_self(ctx);
        if (r == -EAGAIN)
                return r;
        ret->error = r < 0 ? r : 0;
        return 0;
}

/* ---- a FIFO's open, which waits for a reader ------------------------------------------- */

/* Opens waiting at once, at most: each holds a thread until its reader comes. */
#define OPENS_LATER_MAX 64

static unsigned opens_waiting;

struct open_later {
        int listener;
        uint64_t id;
        int fd; /* O_PATH: the FIFO */
        int flags;
        enum exec_creds mode;
        struct fscreds_self self;
        struct fscreds creds;
};

static void *open_later_main(void *arg) {
        struct open_later *ol = arg;
        int r = 0;
        if (ol->mode == EXEC_CREDS_ASSUME)
                r = fscreds_assume(&ol->self, &ol->creds);
        else if (ol->mode == EXEC_CREDS_CANNOT)
                r = -EACCES;
        int fd = r < 0 ? r : reopen(ol->fd, ol->flags);
        if (r >= 0 && ol->mode == EXEC_CREDS_ASSUME)
                fscreds_restore(&ol->self, &ol->creds);
        if (fd >= 0) {
                r = notify_addfd(ol->listener, ol->id, fd, (unsigned) (ol->flags & O_CLOEXEC), true);
                safe_close(fd);
        } else
                r = fd;
        if (r < 0) {
                struct seccomp_notif_resp resp = { .id = ol->id, .error = fd < 0 ? fd : -EACCES };
                (void) notify_respond(ol->listener, &resp); /* gone meanwhile: nobody to tell */
        }
        safe_close(ol->fd);
        safe_close(ol->listener);
        free(ol);
        __atomic_sub_fetch(&opens_waiting, 1, __ATOMIC_RELAXED);
        return NULL;
}

int protect_open_later(struct exec_context *ctx, struct protect_plan *plan, int listener, uint64_t id) {
        if (__atomic_add_fetch(&opens_waiting, 1, __ATOMIC_RELAXED) > OPENS_LATER_MAX) {
                __atomic_sub_fetch(&opens_waiting, 1, __ATOMIC_RELAXED);
                return -EAGAIN;
        }
        struct open_later *ol = calloc(1, sizeof *ol);
        int r = -ENOMEM;
        if (!ol)
                goto fail;
        *ol = (struct open_later){
                .id = id,
                .flags = plan->call->flags,
                .mode = ctx->creds_mode,
                .self = ctx->self->creds,
                .creds = ctx->creds,
        };
        ol->listener = fcntl(listener, F_DUPFD_CLOEXEC, 3);
        ol->fd = TAKE_FD(plan->a.fd);
        if (ol->listener < 0) {
                r = negative_errno();
                goto fail;
        }
        pthread_attr_t attr;
        pthread_t thread;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        r = -pthread_create(&thread, &attr, open_later_main, ol);
        pthread_attr_destroy(&attr);
        if (r == 0)
                return 0;
fail:
        if (ol) {
                safe_close(ol->listener);
                safe_close(ol->fd);
                free(ol);
        }
        __atomic_sub_fetch(&opens_waiting, 1, __ATOMIC_RELAXED);
        return r;
}

/* ---- execguard check --op --------------------------------------------------------------- */

const struct policy_rule *protect_explain(struct exec_context *ctx, const struct policy *p,
                                          const struct policy_subject *subj, unsigned op, const char *path,
                                          struct protect_object *o, int *ret_error) {
        bool by_name = op & (POLICY_OP_UNLINK | POLICY_OP_RENAME | POLICY_OP_LINK | POLICY_OP_SYMLINK);
        int r = by_name ? lookup_name(ctx, -1, AT_FDCWD, path, o)
                        : lookup_object(ctx, -1, AT_FDCWD, path, true, false, o);
        if (r == -ENOENT && op == POLICY_OP_WRITE) {
                /* Writing a name that is not there yet: creating it. */
                object_close(o);
                r = lookup_name(ctx, -1, AT_FDCWD, path, o);
        }
        exec_context_as_self(ctx);
        *ret_error = r < 0 ? r : 0;
        if (r < 0)
                return NULL;
        const struct policy_rule *rule = judge_object(p, subj, op, o);
        if (!rule && op == POLICY_OP_RENAME && o->exists && S_ISDIR(o->st.st_mode))
                rule = policy_protects_beneath(p, subj, op, o->path);
        return rule;
}
