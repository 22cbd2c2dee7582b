#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <elf.h>
#include "binfmt.h"
#include "elf.h"
#include "identity.h"
#include "procstatus.h"
#include "shebang.h"
#include "valgrind.h"

#define PROC_ROOT_INO 1

static int openat2_path(int dirfd, const char *path, int flags, uint64_t resolve) {
        struct open_how how = { .flags = (uint64_t) (flags | O_PATH | O_CLOEXEC), .resolve = resolve };
        /* What the kernel reads, checked as valgrind's own syscall wrappers would (valgrind.h). */
        VALGRIND_CHECK_MEM_IS_DEFINED(path, strlen(path) + 1);
        VALGRIND_CHECK_MEM_IS_DEFINED(&how, sizeof how);
        int fd = (int) syscall_fd4(SYS_openat2, dirfd, (long) path, (long) &how, (long) sizeof how);
        return fd < 0 ? negative_errno() : fd;
}

static int root_id_of(int fd, const char *path, struct root_id *ret) {
        struct statx stx;
        if (statx(fd, path, AT_EMPTY_PATH | AT_NO_AUTOMOUNT, STATX_INO | STATX_MNT_ID, &stx) < 0)
                return negative_errno();
        if (!(stx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP; /* kernel < 5.8 */
        *ret = (struct root_id){
                .dev = makedev(stx.stx_dev_major, stx.stx_dev_minor),
                .ino = stx.stx_ino,
                .mnt_id = stx.stx_mnt_id,
        };
        return 0;
}

static bool root_id_equal(const struct root_id *a, const struct root_id *b) {
        return a->dev == b->dev && a->ino == b->ino && a->mnt_id == b->mnt_id;
}

int root_id_get_own(struct root_id *ret) {
        return root_id_of(AT_FDCWD, "/", ret);
}

int exec_self_get(struct exec_self *ret) {
        int r = root_id_get_own(&ret->root);
        if (r < 0)
                return r;
        r = fscreds_self_get(&ret->creds);
        if (r < 0)
                return r;
        struct stat st;
        if (stat("/proc/self/ns/user", &st) < 0)
                return negative_errno();
        ret->userns_dev = st.st_dev;
        ret->userns_ino = st.st_ino;
        return 0;
}

/* Is ctx's process in our user namespace? */
static bool in_our_userns(const struct exec_context *ctx) {
        struct stat st;
        return fstatat(ctx->proc_fd, "ns/user", &st, 0) == 0 && st.st_dev == ctx->self->userns_dev &&
               st.st_ino == ctx->self->userns_ino;
}

/* The process's credentials, and whether we act with ours, take on its, or cannot. */
static int context_creds(struct exec_context *ctx) {
        char status[PROCSTATUS_BUF];
        ssize_t n = procstatus_read(ctx->proc_fd, status, sizeof status);
        if (n < 0)
                return (int) n;
        int r = fscreds_parse(status, &ctx->creds);
        if (r < 0)
                return r;
        unsigned long euid, egid;
        if (procstatus_number(status, "Uid", 1, &euid) < 0 || procstatus_number(status, "Gid", 1, &egid) < 0)
                return -EIO; /* the second of real, effective, saved, fs */
        ctx->euid = (uid_t) euid;
        ctx->egid = (gid_t) egid;
        /* Only the capabilities we hold can be taken on; the process's others we do not
         * need in order to look as it does: a root session under a daemon whose bounding set
         * is narrower than root's is then "as we are", with nothing to change. */
        ctx->creds.effective &= ctx->self->creds.permitted;
        if (ctx->creds.effective != 0) {
                /* Capabilities count in the process's own user namespace only: in ours, a
                 * process of another has none (refusing at most what it could do). */
                if (!in_our_userns(ctx))
                        ctx->creds.effective = 0;
        }
        const struct fscreds_self *own = &ctx->self->creds;
        if (fscreds_equal(&ctx->creds, &own->creds))
                ctx->creds_mode = EXEC_CREDS_OWN; /* a root session under a root supervisor */
        else if (fscreds_can_assume(own, &ctx->creds))
                ctx->creds_mode = EXEC_CREDS_ASSUME;
        else
                ctx->creds_mode = EXEC_CREDS_CANNOT;
        return 0;
}

/* Make the lookups that follow with the process's credentials. */
static int as_process(struct exec_context *ctx) {
        if (ctx->assumed || ctx->creds_mode == EXEC_CREDS_OWN)
                return 0;
        if (ctx->creds_mode != EXEC_CREDS_ASSUME)
                return -EACCES; /* fail closed: we cannot look as the process would */
        int r = fscreds_assume(&ctx->self->creds, &ctx->creds);
        if (r < 0)
                return r;
        ctx->assumed = true;
        return 0;
}

/* Make them with ours again. */
static void as_self(struct exec_context *ctx) {
        if (!ctx->assumed)
                return;
        fscreds_restore(&ctx->self->creds, &ctx->creds);
        ctx->assumed = false;
}

/* openat() with our own credentials, whatever the thread has now: for what the process
 * reaches without any check (its own /proc/TID, root, cwd, fds). */
static int openat_as_self(struct exec_context *ctx, int dirfd, const char *name, int flags) {
        bool assumed = ctx->assumed;
        as_self(ctx);
        int fd = openat(dirfd, name, flags);
        int r = fd < 0 ? negative_errno() : fd;
        if (assumed) {
                int q = as_process(ctx);
                if (q < 0) {
                        safe_close(fd);
                        return q;
                }
        }
        return r;
}

int exec_context_open(pid_t tid, const struct exec_self *self, struct exec_context *ret) {
        struct exec_context ctx = EXEC_CONTEXT_NULL;
        char path[32];
        int r;

        ctx.tid = tid;
        ctx.self = self;
        snprintf(path, sizeof path, "/proc/%d", (int) tid);
        ctx.proc_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ctx.proc_fd < 0)
                return negative_errno();
        /* The root's identity through its magic link; the directory itself is opened only
         * when a lookup needs it (context_root()): with our own root, none does. */
        r = root_id_of(ctx.proc_fd, "root", &ctx.root);
        if (r < 0)
                goto fail;
        ctx.same_root = root_id_equal(&ctx.root, &self->root);
        r = context_creds(&ctx);
        if (r < 0)
                goto fail;
        *ret = ctx;
        return 0;
fail:
        exec_context_close(&ctx);
        return r;
}

void exec_context_close(struct exec_context *ctx) {
        as_self(ctx);
        ctx->proc_fd = safe_close(ctx->proc_fd);
        ctx->root_fd = safe_close(ctx->root_fd);
        ctx->cwd_fd = safe_close(ctx->cwd_fd);
}

/* The directory a magic link of /proc/TID names ("root", "cwd"), opened into *fd on first
 * use. */
static int context_dir(struct exec_context *ctx, int *fd, const char *name) {
        if (*fd < 0) {
                int r = openat_as_self(ctx, ctx->proc_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (r < 0)
                        return r;
                *fd = r;
        }
        return *fd;
}

static int context_root(struct exec_context *ctx) {
        return context_dir(ctx, &ctx->root_fd, "root");
}

static int context_cwd(struct exec_context *ctx) {
        return context_dir(ctx, &ctx->cwd_fd, "cwd");
}

/* An fd of the process, opened through its /proc/TID/fd magic link: the very file it refers
 * to, whatever name (or none) it has. */
static int open_process_fd(struct exec_context *ctx, int fd_number, int flags) {
        char name[32];
        if (fd_number < 0)
                return -EBADF;
        snprintf(name, sizeof name, "fd/%d", fd_number);
        int fd = openat_as_self(ctx, ctx->proc_fd, name, flags | O_PATH | O_CLOEXEC);
        return fd == -ENOENT ? -EBADF : fd;
}

/* How many numbers the line key of status has. */
static unsigned status_count(const char *status, const char *key) {
        unsigned n = 0;
        unsigned long v;
        while (procstatus_number(status, key, n, &v) == 0)
                n++;
        return n;
}

/* The numbers the process has (its tgid, and the tid of the thread that execs) in the PID
 * namespace of the procfs whose root directory is proc_root: what "self" and "thread-self"
 * there mean for it, and which /proc/N there is itself. Its NStgid has its number in each
 * namespace from ours down to its own; which of them that procfs uses is not said anywhere
 * we may always read (its PID 1 may be out of our reach), so each is tried: /proc/N there
 * is the process when it is a task of the process's own namespace (ns/pid) whose NStgid,
 * as that procfs tells it, has as many numbers as the process has from that level down, the
 * first being the process's number at that level (a number is unique in its namespace).
 * -ENOENT when the process is not in that namespace: "self" then names nothing, as for the
 * process itself. Made with our credentials: these are the process's own facts. */
static int proc_numbers_as_self(struct exec_context *ctx, int proc_root, unsigned long *ret_tgid,
                                unsigned long *ret_tid) {
        char status[PROCSTATUS_BUF], theirs[PROCSTATUS_BUF];
        struct stat ns;
        if (fstatat(ctx->proc_fd, "ns/pid", &ns, 0) < 0)
                return negative_errno();
        ssize_t n = procstatus_read(ctx->proc_fd, status, sizeof status);
        if (n < 0)
                return (int) n;
        unsigned levels = status_count(status, "NStgid");
        if (levels == 0 || levels != status_count(status, "NSpid"))
                return -EIO;
        /* Its own namespace's procfs first: the one a process in a new namespace mounts. */
        for (unsigned i = levels; i-- > 0;) {
                unsigned long candidate, tid;
                char name[32];
                struct stat st;
                if (procstatus_number(status, "NStgid", i, &candidate) < 0)
                        return -EIO;
                snprintf(name, sizeof name, "%lu", candidate);
                _cleanup_close_ int dir = openat(proc_root, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (dir < 0 || fstatat(dir, "ns/pid", &st, 0) < 0 || st.st_dev != ns.st_dev || st.st_ino != ns.st_ino)
                        continue; /* none, or not a task of its namespace (or out of our reach: not it) */
                if (procstatus_read(dir, theirs, sizeof theirs) < 0)
                        continue;
                unsigned count = status_count(theirs, "NStgid");
                if (count == 0 || count > levels)
                        continue;
                unsigned level = levels - count; /* of that procfs's namespace, in the process's list */
                unsigned long mine;
                if (procstatus_number(status, "NStgid", level, &mine) < 0 || mine != candidate ||
                    procstatus_number(status, "NSpid", level, &tid) < 0 || tid == 0)
                        continue;
                *ret_tgid = candidate;
                *ret_tid = tid;
                return 0;
        }
        return -ENOENT;
}

static int proc_numbers(struct exec_context *ctx, int proc_root, unsigned long *ret_tgid, unsigned long *ret_tid) {
        bool assumed = ctx->assumed;
        as_self(ctx);
        int r = proc_numbers_as_self(ctx, proc_root, ret_tgid, ret_tid);
        if (assumed) {
                int q = as_process(ctx);
                if (q < 0)
                        return q;
        }
        return r;
}

/* "self" and "thread-self" in a procfs root mean the reader: for us they must mean the
 * process we resolve for, as that procfs numbers it. */
static int proc_self_target(struct exec_context *ctx, int proc_root, bool thread, char *buf, size_t size) {
        unsigned long tgid, tid;
        int r = proc_numbers(ctx, proc_root, &tgid, &tid);
        if (r < 0)
                return r;
        int len = thread ? snprintf(buf, size, "%lu/task/%lu", tgid, tid) : snprintf(buf, size, "%lu", tgid);
        return len < 0 || (size_t) len >= size ? -ENAMETOOLONG : 0;
}

static int is_process_root(struct exec_context *ctx, int fd) {
        struct root_id id;
        int r = root_id_of(fd, "", &id);
        if (r < 0)
                return r;
        return root_id_equal(&id, &ctx->root);
}

/* openat() in a walk: with our credentials inside the process's own /proc/N (own), else
 * with what the thread has (the process's). */
static int walk_openat(struct exec_context *ctx, bool own, int dirfd, const char *name, int flags) {
        if (own)
                return openat_as_self(ctx, dirfd, name, flags);
        int fd = openat(dirfd, name, flags);
        return fd < 0 ? negative_errno() : fd;
}

/* Is dir the root of a procfs, and is name the process's own directory in it (its tgid or
 * the tid that execs, as that procfs numbers them)? */
static int proc_own_entry(struct exec_context *ctx, int dir, const char *name) {
        if (name[strspn(name, "0123456789")] != '\0')
                return 0;
        struct statfs sfs;
        struct stat st;
        if (fstatfs(dir, &sfs) < 0 || fstat(dir, &st) < 0)
                return negative_errno();
        if (sfs.f_type != PROC_SUPER_MAGIC || st.st_ino != PROC_ROOT_INO)
                return 0;
        unsigned long tgid, tid;
        int r = proc_numbers(ctx, dir, &tgid, &tid);
        if (r == -ENOENT)
                return 0; /* not in that procfs's namespace: nothing there is its own */
        if (r < 0)
                return r;
        unsigned long n = strtoul(name, NULL, 10);
        return n == tgid || n == tid;
}

/* The slow, exact walk: one component at a time, as the kernel's path walk does it for the
 * process. Used when the process has another root than ours (".." and absolute symlinks
 * must stay inside it), when the path goes through procfs, where "self" and magic links
 * have to be taken from the process's point of view, and for the exact answer when the
 * fast lookup failed.
 *
 * Each step is made with the thread's credentials (the process's), except inside the
 * process's own /proc/N: the kernel lets a process into its own fd/, and through its own
 * magic links, without the ptrace checks that would refuse others (a setuid or
 * non-dumpable process), so those steps are made with ours. */
static int walk(struct exec_context *ctx, int start_fd, const char *path, bool follow_last) {
        char remaining[EG_PATH_MAX + 1];
        unsigned links = 0;
        int own = -1; /* how deep in the process's own /proc/N we are; -1: not in it */

        if (strlen(path) >= sizeof remaining)
                return -ENAMETOOLONG;
        strcpy(remaining, path);

        int start = path[0] == '/' ? context_root(ctx) : start_fd;
        if (start < 0)
                return start;
        _cleanup_close_ int cur = fcntl(start, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return negative_errno();

        char *p = remaining;
        for (;;) {
                while (*p == '/')
                        p++;
                if (*p == '\0')
                        break;

                char *end = strchrnul(p, '/');
                size_t len = end - p;
                char name[256];
                if (len >= sizeof name)
                        return -ENAMETOOLONG;
                memcpy(name, p, len);
                name[len] = '\0';
                char *rest = end;
                while (*rest == '/')
                        rest++;
                /* "dir/name/" must be a directory, so its symlink is followed like any other. */
                bool last = *rest == '\0';
                bool want_dir = *end == '/';
                bool follow = !last || follow_last || want_dir;
                p = rest;

                if (strcmp(name, ".") == 0) {
                        /* Like any name, "." is looked up in a directory: not in a file
                         * that a dirfd or a magic link stands for. */
                        struct stat dot_st;
                        if (fstat(cur, &dot_st) < 0)
                                return negative_errno();
                        if (!S_ISDIR(dot_st.st_mode))
                                return -ENOTDIR;
                        continue;
                }
                if (strcmp(name, "..") == 0) {
                        int r = is_process_root(ctx, cur);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                continue; /* ".." of the root is the root */
                        int fd = walk_openat(ctx, own > 0, cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (fd < 0)
                                return fd;
                        safe_close(cur);
                        cur = fd;
                        if (own >= 0)
                                own--;
                        continue;
                }

                int entering = own < 0 ? proc_own_entry(ctx, cur, name) : 0;
                if (entering < 0)
                        return entering;
                if (ctx->own_proc_only && own < 0 && !entering && name[strspn(name, "0123456789")] == '\0') {
                        /* Another task's /proc/N: the kernel would check the process's right
                         * to it, and the walk can only check ours. */
                        struct statfs pfs;
                        struct stat pst;
                        if (fstatfs(cur, &pfs) < 0 || fstat(cur, &pst) < 0)
                                return negative_errno();
                        if (pfs.f_type == PROC_SUPER_MAGIC && pst.st_ino == PROC_ROOT_INO)
                                return -EACCES;
                }
                _cleanup_close_ int fd =
                        walk_openat(ctx, own >= 0 || entering, cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return fd;
                struct stat st;
                if (fstat(fd, &st) < 0)
                        return negative_errno();
                if (!S_ISLNK(st.st_mode) || !follow) {
                        if (want_dir && !S_ISDIR(st.st_mode))
                                return -ENOTDIR;
                        safe_close(cur);
                        cur = TAKE_FD(fd);
                        own = entering ? 0 : own >= 0 ? own + 1 : -1;
                        continue;
                }

                if (++links > EG_SYMLINK_MAX)
                        return -ELOOP;

                char target[EG_PATH_MAX];
                struct statfs sfs;
                if (fstatfs(cur, &sfs) < 0)
                        return negative_errno();
                struct stat dir_st;
                if (fstat(cur, &dir_st) < 0)
                        return negative_errno();
                bool in_proc = sfs.f_type == PROC_SUPER_MAGIC;
                bool in_proc_root = in_proc && dir_st.st_ino == PROC_ROOT_INO;

                if (in_proc_root && (strcmp(name, "self") == 0 || strcmp(name, "thread-self") == 0)) {
                        int r = proc_self_target(ctx, cur, name[0] == 't', target, sizeof target);
                        if (r < 0)
                                return r;
                } else if (in_proc && !in_proc_root) {
                        /* A magic link (fd/N, exe, cwd, root, ...): its text is no path; the
                         * kernel jumps straight to the object, and so do we, through the
                         * explicit /proc/PID it sits in: with the ptrace check the kernel
                         * makes for the process when it is another's, none when its own. */
                        int jumped = walk_openat(ctx, own >= 0, cur, name, O_PATH | O_CLOEXEC);
                        if (jumped < 0)
                                return jumped;
                        safe_close(cur);
                        cur = jumped;
                        own = -1;
                        /* Inside the path the next lookup fails on a non-directory; at
                         * the end only a slash says it must be one. */
                        if (want_dir && last && (fstat(cur, &st) < 0 || !S_ISDIR(st.st_mode)))
                                return -ENOTDIR;
                        continue;
                } else {
                        ssize_t n = readlinkat(fd, "", target, sizeof target);
                        if (n < 0)
                                return negative_errno();
                        if ((size_t) n >= sizeof target)
                                return -ENAMETOOLONG;
                        target[n] = '\0';
                }

                /* Splice: target, then what was left of the path. A slash after the link
                 * stays, since what the link names must then be a directory too. */
                size_t tlen = strlen(target), rlen = strlen(p);
                if (tlen + 1 + rlen >= sizeof remaining)
                        return -ENAMETOOLONG;
                memmove(remaining + tlen + 1, p, rlen + 1);
                memcpy(remaining, target, tlen);
                remaining[tlen] = rlen || want_dir ? '/' : '\0';
                p = remaining;
                if (target[0] == '/') {
                        own = -1;
                        int root = context_root(ctx);
                        if (root < 0)
                                return root;
                        root = fcntl(root, F_DUPFD_CLOEXEC, 3);
                        if (root < 0)
                                return negative_errno();
                        safe_close(cur);
                        cur = root;
                }
        }
        return TAKE_FD(cur);
}

/* The fast lookup of what the process would open for path (relative to base_fd when the
 * path is relative): one openat2(), or an error when only the exact walk can tell. Its
 * successes are exact but for one thing: a "self" in a procfs means us to it. Whatever
 * passes through a magic link fails (ELOOP) and takes the walk; what does not is a file
 * of procfs, which no exec accepts: the caller takes the walk for any refusal too. */
static int lookup_fast(struct exec_context *ctx, int base_fd, const char *path, bool follow_last) {
        int nofollow = follow_last ? 0 : O_NOFOLLOW;

        if (ctx->same_root)
                /* One syscall for the common case. */
                return openat2_path(path[0] == '/' ? AT_FDCWD : base_fd, path, nofollow, RESOLVE_NO_MAGICLINKS);
        if (path[0] != '/')
                return -ELOOP;
        int root = context_root(ctx);
        if (root < 0)
                return root;
        return openat2_path(root, path, nofollow, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

#define SELF_FD_LINK_MAX 32

/* The magic link of our fd: the directory fd to look it up from, and its name in link. */
static int self_fd_link(const struct exec_chain *chain, int fd, char link[static SELF_FD_LINK_MAX]) {
        snprintf(link, SELF_FD_LINK_MAX, chain->have_self_fds ? "%d" : "/proc/self/fd/%d", fd);
        return chain->have_self_fds ? chain->self_fds : AT_FDCWD;
}

/* What the process needs of a file of its exec (see add_file_into()). */
static int access_for(enum exec_role role) {
        switch (role) {
        case EXEC_ROLE_PROGRAM:
        case EXEC_ROLE_SCRIPT_INTERP:
        case EXEC_ROLE_ELF_INTERP:
                return X_OK;
        case EXEC_ROLE_LOADED:
                return R_OK; /* a loader opens its program for reading, and maps it */
        }
        return X_OK;
}

/* Take an O_PATH fd into the chain: its stat and canonical path. It stays O_PATH until
 * its head must be read (open_for_reading()). Refused (-EACCES) unless it is a regular
 * file that the thread's credentials (the process's) may execute (access X_OK: the
 * kernel's faccessat() also refuses it on a noexec mount, and procfs and sysfs are noexec
 * whatever their mount says) or read (R_OK), or with access 0 (a file the process holds
 * open already) whatever its permissions: the checks the kernel's exec makes before it
 * reads a byte of the file. */
static int add_file_into(struct exec_chain *chain, int fd, enum exec_role role, int access) {
        if (chain->n >= ELEMENTSOF(chain->files)) {
                safe_close(fd);
                return -E2BIG;
        }
        struct exec_file *f = &chain->files[chain->n++];
        char link[SELF_FD_LINK_MAX];

        f->fd = fd;
        f->role = role;
        f->script = (struct shebang_line){};
        f->loaded_word = 0;
        f->elf32 = false;
        if (fstat(fd, &f->st) < 0)
                return negative_errno();
        /* Our fd's magic link: the file's canonical path. */
        int links = self_fd_link(chain, fd, link);
        ssize_t n = readlinkat(links, link, f->path, sizeof f->path);
        if (n < 0)
                return negative_errno();
        if ((size_t) n >= sizeof f->path)
                return -ENAMETOOLONG;
        f->path[n] = '\0';

        if (S_ISLNK(f->st.st_mode))
                return -ELOOP; /* AT_SYMLINK_NOFOLLOW on a symlink */
        if (!S_ISREG(f->st.st_mode))
                return -EACCES; /* the kernel executes regular files only */
        if (access && syscall(SYS_faccessat2, fd, "", access, AT_EMPTY_PATH | AT_EACCESS) < 0)
                return negative_errno();
        return 0;
}

/* Put an fd open for reading in the place of f's O_PATH fd, through its magic link. The
 * file passed the process's checks (add_file_into()); it is read with the process's
 * credentials when they allow it, else with ours, as the kernel reads a program that may
 * be executed but not read. */
static int open_for_reading(struct exec_context *ctx, struct exec_chain *chain, struct exec_file *f) {
        char link[SELF_FD_LINK_MAX];
        int dir = self_fd_link(chain, f->fd, link);
        int rfd = openat(dir, link, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (rfd < 0 && errno == EACCES && ctx->assumed)
                rfd = openat_as_self(ctx, dir, link, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        else if (rfd < 0)
                rfd = negative_errno();
        if (rfd < 0)
                /* We cannot see what the kernel would see: fail closed. */
                return rfd == -EACCES || rfd == -EPERM ? -EACCES : rfd;
        safe_close(f->fd);
        f->fd = rfd;
        return 0;
}

/* The same, taking fd in any case; on failure the chain is as it was. */
static int add_file(struct exec_chain *chain, int fd, enum exec_role role, int access) {
        unsigned n = chain->n;
        int r = add_file_into(chain, fd, role, access);
        if (r < 0 && chain->n > n) {
                chain->n = n;
                chain->files[n].fd = safe_close(chain->files[n].fd);
        }
        return r;
}

/* What is read of a file at once: the kernel's bprm->buf (EG_SHEBANG_BUF bytes), and
 * behind it room for the ELF headers and PT_INTERP of most programs, which are then not
 * read again. */
#define HEAD_BYTES 1024

/* The first bytes of the file in one read, as the kernel reads bprm->buf; its first
 * EG_SHEBANG_BUF bytes zero-filled past the end of the file, as bprm->buf is. Returns the
 * number of bytes read, or -errno. */
static ssize_t read_head(int fd, char buf[HEAD_BYTES]) {
        memset(buf, 0, EG_SHEBANG_BUF);
        ssize_t n;
        do
                n = pread(fd, buf, HEAD_BYTES, 0);
        while (n < 0 && errno == EINTR);
        return n < 0 ? negative_errno() : n;
}

/* How the kernel goes on from a file, by what its first bytes say. */
enum head_kind {
        HEAD_DIRECT,     /* the file is the program, with no interpreter */
        HEAD_OTHER,      /* neither a script nor an ELF program of ours: binfmt_misc's, if any */
        HEAD_ELF_INTERP, /* an ELF program naming its interpreter (PT_INTERP) */
        HEAD_SCRIPT,     /* a #! script */
};

/* Heads read before, by file stamp: a program exec'ed again is not opened and read again.
 * What a head said is a function of the file's bytes, which the stamp vouches for; the
 * verification after the exec (verify.h) checks what the kernel loaded in any case. */
#define HEAD_SLOTS 256 /* a power of two */

struct head_entry {
        bool used;
        struct file_stamp stamp;
        enum head_kind kind;
        bool elf32;               /* an ELF program of 32-bit class */
        struct shebang_line line; /* HEAD_SCRIPT: the #! line; HEAD_ELF_INTERP: line.interp */
};

struct head_memory {
        struct head_entry slots[HEAD_SLOTS];
};

static void remember_head(struct head_entry *e, const struct exec_file *f, enum head_kind kind, const char *interp) {
        if (!e || !file_stamp_settled(&f->st))
                return;
        size_t len = kind == HEAD_ELF_INTERP ? strlen(interp) : 0;
        if (len >= sizeof e->line.interp)
                return; /* a PT_INTERP longer than any we know of: read each time */
        *e = (struct head_entry){ .used = true, .stamp = file_stamp_of(&f->st), .kind = kind, .elf32 = f->elf32 };
        if (kind == HEAD_SCRIPT)
                e->line = f->script;
        else if (kind == HEAD_ELF_INTERP)
                memcpy(e->line.interp, interp, len + 1);
}

/* What f's head says (a head_kind; f->script or interp filled to match), or -errno when the
 * kernel would refuse the file. Remembered when f is unchanged since its head was read, else
 * f is opened for reading and its head read. */
/* f opened for reading (open_for_reading()), and its head read (read_head()). */
static ssize_t reopen_and_read_head(struct exec_context *ctx, struct exec_chain *chain, struct exec_file *f,
                                    char header[HEAD_BYTES]) {
        int r = open_for_reading(ctx, chain, f);
        return r < 0 ? r : read_head(f->fd, header);
}

static int head_of(struct exec_context *ctx, struct exec_chain *chain, struct exec_file *f, char *interp, size_t size) {
        struct head_entry *e = chain->heads ? &chain->heads->slots[file_stamp_slot(&f->st, HEAD_SLOTS)] : NULL;
        if (e && e->used && file_stamp_matches(&e->stamp, &f->st)) {
                f->elf32 = e->elf32;
                if (e->kind == HEAD_SCRIPT)
                        f->script = e->line;
                else if (e->kind == HEAD_ELF_INTERP)
                        snprintf(interp, size, "%s", e->line.interp);
                return e->kind;
        }

        char header[HEAD_BYTES];
        ssize_t head_len = reopen_and_read_head(ctx, chain, f, header);
        if (head_len < 0)
                return (int) head_len;
        enum head_kind kind;
        int r;
        r = shebang_parse(header, f->script.interp, sizeof f->script.interp, f->script.arg);
        if (r >= 0) {
                f->script.has_arg = r > 0;
                kind = HEAD_SCRIPT;
        } else if (r != -ENOEXEC)
                return r;
        else {
                /* Not a script: the file is what the kernel maps, and it also opens and
                 * runs the program interpreter the file names. */
                r = elf_interpreter_head(f->fd, header, (size_t) head_len, interp, size);
                if (r < 0)
                        return r;
                kind = r > 0 ? HEAD_ELF_INTERP : elf_native_head(header, (size_t) head_len) ? HEAD_DIRECT : HEAD_OTHER;
                f->elf32 = kind != HEAD_OTHER && head_len > EI_CLASS && header[EI_CLASS] == ELFCLASS32;
        }
        remember_head(e, f, kind, interp);
        return kind;
}

/* Look path up for the process (relative to base_fd when relative) and take the file
 * into chain with role: the fast lookup, and the exact walk when it fails or its file is
 * refused, for the answer the process itself would get. */
static int lookup_into(struct exec_context *ctx, int base_fd, const char *path, bool follow_last, enum exec_role role,
                       struct exec_chain *chain) {
        int fd = lookup_fast(ctx, base_fd, path, follow_last);
        if (fd >= 0) {
                int r = add_file(chain, fd, role, access_for(role));
                if (r >= 0 || r == -E2BIG || r == -ENOMEM || r == -EMFILE || r == -ENFILE)
                        return r;
        }
        fd = walk(ctx, base_fd, path, follow_last);
        if (fd < 0)
                return fd;
        return add_file(chain, fd, role, access_for(role));
}

/* The same for a path the kernel opens on the process's behalf (an interpreter): relative
 * to its cwd, or from its root. */
static int lookup_from(struct exec_context *ctx, const char *path, enum exec_role role, struct exec_chain *chain) {
        int base = -1;
        if (path[0] != '/') {
                base = context_cwd(ctx);
                if (base < 0)
                        return base;
        }
        return lookup_into(ctx, base, path, true, role, chain);
}

void exec_chain_reset(struct exec_chain *chain) {
        for (unsigned i = 0; i < chain->n; i++)
                chain->files[i].fd = safe_close(chain->files[i].fd);
        chain->n = 0;
        chain->image = 0;
        chain->unpredictable = false;
}

int exec_chain_init(struct exec_chain *chain) {
        chain->heads = calloc(1, sizeof *chain->heads);
        if (!chain->heads)
                return -ENOMEM;
        int fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                int r = negative_errno();
                free(chain->heads);
                chain->heads = NULL;
                return r;
        }
        chain->self_fds = fd;
        chain->have_self_fds = true;
        return 0;
}

void exec_chain_fini(struct exec_chain *chain) {
        exec_chain_reset(chain);
        if (chain->have_self_fds)
                safe_close(chain->self_fds);
        chain->have_self_fds = false;
        free(chain->heads);
        chain->heads = NULL;
}

/* The host's binfmt_misc handler for f, a file none of the kernel's own loaders takes, which
 * the exec names name: 1 with its interpreter's path, 0 if none is known, or -errno. Only
 * for a process of our user namespace: another may have an instance of its own, which we
 * cannot read (what runs is judged at the exec stop in any case). */
static int binfmt_of(struct exec_context *ctx, struct exec_chain *chain, struct exec_file *f, const char *name,
                     char *ret_interp, size_t size) {
        if (!in_our_userns(ctx))
                return 0;
        char header[HEAD_BYTES];
        ssize_t head_len = reopen_and_read_head(ctx, chain, f, header);
        if (head_len < 0)
                return (int) head_len;
        /* The kernel's buffer: its first bytes, zero past the file's end (read_head()). */
        return binfmt_handler(BINFMT_MISC_DIR, name, header, EG_SHEBANG_BUF, ret_interp, size);
}

static int resolve_exec_as_process(struct exec_context *ctx, int dirfd, const char *path, int flags,
                                   struct exec_chain *chain) {
        int r;

        if (path[0] == '\0') {
                if (!(flags & AT_EMPTY_PATH))
                        return -ENOENT;
                /* fexecve: the file is whatever the process's fd refers to. */
                int fd = dirfd == AT_FDCWD ? context_cwd(ctx) : open_process_fd(ctx, dirfd, 0);
                if (fd >= 0 && dirfd == AT_FDCWD)
                        fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return fd;
                r = as_process(ctx);
                if (r < 0) {
                        safe_close(fd);
                        return r;
                }
                r = add_file(chain, fd, EXEC_ROLE_PROGRAM, X_OK);
        } else {
                int base = -1;
                _cleanup_close_ int dir = -1;
                if (path[0] != '/') {
                        if (dirfd == AT_FDCWD)
                                base = context_cwd(ctx);
                        else
                                base = dir = open_process_fd(ctx, dirfd, 0);
                        if (base < 0)
                                return base;
                }
                r = as_process(ctx);
                if (r < 0)
                        return r;
                r = lookup_into(ctx, base, path, !(flags & AT_SYMLINK_NOFOLLOW), EXEC_ROLE_PROGRAM, chain);
        }

        /* The name the kernel goes by (bprm->interp): binfmt_misc matches its extension. */
        const char *name = path;
        char handler[EG_PATH_MAX];
        for (;;) {
                if (r < 0)
                        return r;
                char interp[EG_PATH_MAX];
                struct exec_file *f = &chain->files[chain->n - 1];
                r = head_of(ctx, chain, f, interp, sizeof interp);
                if (r < 0)
                        return r;
                if (r == HEAD_SCRIPT) {
                        if (chain->n > EG_INTERP_DEPTH_MAX)
                                return -ELOOP; /* exec_binprm(): too many rewrites */
                        name = f->script.interp;
                        r = lookup_from(ctx, name, EXEC_ROLE_SCRIPT_INTERP, chain);
                        continue;
                }
                if (r == HEAD_OTHER) {
                        /* The kernel's own loaders refuse it: a binfmt_misc handler of the
                         * host's, or of the process's own user namespace, may run another
                         * program in its place. The host's is judged now, as an interpreter;
                         * what really runs, at the exec stop (verify.h). */
                        chain->unpredictable = true;
                        int h = chain->n > EG_INTERP_DEPTH_MAX
                                        ? 0
                                        : binfmt_of(ctx, chain, f, name, handler, sizeof handler);
                        if (h < 0)
                                return h;
                        if (h > 0) {
                                name = handler;
                                r = lookup_from(ctx, name, EXEC_ROLE_SCRIPT_INTERP, chain);
                                continue;
                        }
                }
                chain->image = chain->n - 1;
                if (r == HEAD_DIRECT || r == HEAD_OTHER)
                        return 0;
                return lookup_from(ctx, interp, EXEC_ROLE_ELF_INTERP, chain);
        }
}

int exec_context_as_process(struct exec_context *ctx) {
        return as_process(ctx);
}

void exec_context_as_self(struct exec_context *ctx) {
        as_self(ctx);
}

int resolve_base(struct exec_context *ctx, int dirfd) {
        int fd = dirfd == AT_FDCWD ? context_cwd(ctx) : open_process_fd(ctx, dirfd, 0);
        if (fd < 0)
                return fd;
        if (dirfd != AT_FDCWD)
                return fd;
        fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        return fd < 0 ? negative_errno() : fd;
}

int resolve_process_fd(struct exec_context *ctx, int fd_number) {
        return open_process_fd(ctx, fd_number, 0);
}

int resolve_lookup(struct exec_context *ctx, int base, const char *path, bool follow_last) {
        if (strnlen(path, EG_PATH_MAX) >= EG_PATH_MAX)
                return -ENAMETOOLONG;
        if (path[0] == '\0')
                return -ENOENT;
        /* The fast lookup's "self" in a procfs is ours, which is harmless for an exec (no
         * file of procfs runs) but not for a write: what lands in a procfs takes the walk. */
        int fd = lookup_fast(ctx, base, path, follow_last);
        if (fd >= 0) {
                struct statfs sfs;
                if (fstatfs(fd, &sfs) == 0 && sfs.f_type != PROC_SUPER_MAGIC)
                        return fd;
                safe_close(fd);
        }
        return walk(ctx, base, path, follow_last);
}

int resolve_exec(struct exec_context *ctx, int dirfd, const char *path, int flags, struct exec_chain *chain) {
        exec_chain_reset(chain);
        if (strnlen(path, EG_PATH_MAX) >= EG_PATH_MAX)
                return -ENAMETOOLONG; /* the kernel's limit, terminator included */
        int r = resolve_exec_as_process(ctx, dirfd, path, flags, chain);
        as_self(ctx);
        return r;
}

int resolve_loaded(struct exec_context *ctx, const char *name, struct exec_chain *chain) {
        int r = as_process(ctx);
        if (r >= 0)
                r = lookup_from(ctx, name, EXEC_ROLE_LOADED, chain);
        as_self(ctx);
        return r;
}

int resolve_ran(struct exec_context *ctx, struct exec_chain *chain) {
        exec_chain_reset(chain);
        int fd = openat(ctx->proc_fd, "exe", O_PATH | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        int r = add_file(chain, fd, EXEC_ROLE_PROGRAM, 0);
        if (r < 0)
                return r;
        char interp[EG_PATH_MAX];
        r = head_of(ctx, chain, &chain->files[0], interp, sizeof interp);
        if (r < 0)
                return r;
        if (r != HEAD_DIRECT && r != HEAD_ELF_INTERP)
                return -ENOEXEC; /* a program the kernel mapped is an ELF program of ours */
        if (r == HEAD_DIRECT)
                return 0;
        r = as_process(ctx);
        if (r >= 0)
                r = lookup_from(ctx, interp, EXEC_ROLE_ELF_INTERP, chain);
        as_self(ctx);
        return r;
}

int resolve_loaded_fd(struct exec_context *ctx, int fd_number, struct exec_chain *chain) {
        /* Mapped by the loader already: whatever the file's permissions. */
        int fd = open_process_fd(ctx, fd_number, 0);
        if (fd < 0)
                return fd;
        return add_file(chain, fd, EXEC_ROLE_LOADED, 0);
}
