/* What the kernel will really execute for an execve/execveat made by a given process:
 * the file named (seen from the process's root, cwd or dirfd, symlinks followed, /proc/self
 * meaning the process itself) and every interpreter a "#!" chain pulls in.
 *
 * Identity comes from the file we opened (fstat of our fd), never from text. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fscreds.h"
#include "util.h"

/* Which directory is "/" for somebody: device, inode and mount id, so that a chroot or a
 * mount namespace with the same directory on top compares unequal. */
struct root_id {
        uint64_t dev, ino, mnt_id;
};

/* The identity of the supervisor's own root directory. */
int root_id_get_own(struct root_id *ret);

/* Who resolves: our root, our credentials, our user namespace. */
struct exec_self {
        struct root_id root;
        struct fscreds_self creds;
        dev_t userns_dev;
        ino_t userns_ino;
};

/* Ours, for the calling thread. Returns 0 or -errno. */
int exec_self_get(struct exec_self *ret);

/* Whose credentials a lookup for a process is made with. */
enum exec_creds {
        EXEC_CREDS_OWN,    /* the process's are ours: nothing to change */
        EXEC_CREDS_ASSUME, /* ours differ: the thread takes the process's for its lookups */
        EXEC_CREDS_CANNOT, /* they differ and we cannot take them on: every lookup is refused */
};

/* The process an exec is resolved for. Every fd here is the supervisor's (O_CLOEXEC). */
struct exec_context {
        pid_t tid;      /* the thread that execs (its /proc/self means this one) */
        int proc_fd;    /* /proc/TID: bound to that task, never to a recycled PID */
        int root_fd;    /* the process's root directory, opened on first use (-1 until then) */
        int cwd_fd;     /* its working directory, opened on first use (-1 until then) */
        bool same_root; /* its root is ours: a lookup from our side sees what it sees */
        struct root_id root;
        const struct exec_self *self;
        enum exec_creds creds_mode;
        bool assumed;         /* the thread has the process's credentials now */
        struct fscreds creds; /* the process's, as it is frozen in its exec */
        /* Its effective ids, from the same read: who it is for the policy's user and group
         * sections (creds.h), with creds.groups. */
        uid_t euid;
        gid_t egid;
        /* Lookups made for what the supervisor then does itself (protect.h): no /proc/N but
         * the process's own is entered (EACCES), since the right to another task's files is
         * checked against the task looking (us: the supervisor itself, an ancestor). */
        bool own_proc_only;
};

/* Open /proc/TID, identify the process's root and compare it with ours, and read its
 * credentials (fsuid, fsgid, groups, and its effective capabilities when it is in our user
 * namespace, else none; its effective uid and gid), in one read of its status. The caller must confirm the task is still the one it means
 * (SECCOMP_IOCTL_NOTIF_ID_VALID) after this returns and before trusting anything read
 * through the context.
 *
 * The resolve_*() functions then reach the process's own /proc/TID, root, cwd and fds with
 * our credentials (the process reaches them with no check at all), and everything looked
 * up from there (the path it named, symlinks, interpreters, the program a loader loads)
 * with the process's: the kernel checks each step as it would for the process, and the
 * answers (EACCES, ENOENT, ENOTDIR) are those it would give the process. They return with
 * the thread's own credentials again. */
int exec_context_open(pid_t tid, const struct exec_self *self, struct exec_context *ret);

/* Close the context's fds. Accepts a half-opened context; initialise with EXEC_CONTEXT_NULL. */
void exec_context_close(struct exec_context *ctx);
#define EXEC_CONTEXT_NULL \
        { .tid = 0, .proc_fd = -1, .root_fd = -1, .cwd_fd = -1 }

enum exec_role {
        EXEC_ROLE_PROGRAM,       /* the file the exec names */
        EXEC_ROLE_SCRIPT_INTERP, /* an interpreter of a #! line */
        EXEC_ROLE_ELF_INTERP,    /* the PT_INTERP of the program the kernel loads */
        EXEC_ROLE_LOADED,        /* the program a dynamic loader run as a command loads */
};

/* What a "#!" line says, as the kernel passes it on: the interpreter's name as written and
 * the optional argument. */
struct shebang_line {
        char interp[EG_SHEBANG_BUF];
        char arg[EG_SHEBANG_BUF];
        bool has_arg;
};

struct head_memory;

/* One file the exec will run. */
struct exec_file {
        char path[EG_PATH_MAX]; /* canonical path as the supervisor sees it */
        struct stat st;
        enum exec_role role;
        int fd;                     /* O_PATH, or open for reading once its head was read;
                                     * owned by the chain */
        struct shebang_line script; /* a script's #! line (it names the next file) */
        unsigned loaded_word;       /* EXEC_ROLE_LOADED: the word of the loader's arguments
                                     * that named it (0: not known) */
        bool elf32;                 /* an ELF program of 32-bit class (i386, x32): the
                                     * kernel's compat loader, 32-bit auxiliary vector */
};

/* The programs a dynamic loader run as a command may load: one per loader flavour whose
 * reading of the arguments names a program (loader.h). */
#define EXEC_LOADED_MAX 2

/* The most files of a chain: the program named, its #! interpreters, an ELF interpreter, the
 * programs a loader may load. */
#define EXEC_CHAIN_FILES_MAX (1 + EG_INTERP_DEPTH_MAX + 1 + EXEC_LOADED_MAX)

/* The program named, the #! interpreters, then the ELF interpreter if any, then the
 * programs a loader run as a command would load. */
struct exec_chain {
        unsigned n;
        unsigned image;     /* index of the file the kernel maps as the new program: what
                         * /proc/PID/exe will name once the exec has succeeded */
        bool unpredictable; /* the image is no format of the kernel's own (not ELF, not #!):
                             * what runs is binfmt_misc's to say */
        struct exec_file files[EXEC_CHAIN_FILES_MAX];
        bool have_self_fds; /* self_fds is our /proc/self/fd (exec_chain_init()) */
        int self_fds;
        struct head_memory *heads; /* heads read before (exec_chain_init()), or NULL */
};

/* Close the chain's fds and empty it. */
void exec_chain_reset(struct exec_chain *chain);

/* Optional, for a chain used again and again (a supervisor's): open our /proc/self/fd
 * once, for the canonical path and the reopening of each file the chain takes, instead of
 * walking "/proc/self/fd/N" from the top for each; and remember what the heads of the files
 * said, by file stamp (identity.h), so that an unchanged file is not opened for reading and
 * read again: its fd in the chain then stays O_PATH. Only for the process that opened it: a
 * forked child must not use the chain. A chain without it (zeroed) works all the same.
 * exec_chain_fini() empties the chain and closes it. Returns 0 or -errno. */
int exec_chain_init(struct exec_chain *chain);
void exec_chain_fini(struct exec_chain *chain);

/* Resolve execveat(dirfd, path, flags) as made by ctx's process (execve is
 * dirfd = AT_FDCWD, flags = 0). Fills chain with the named file, its #! interpreters and
 * the ELF interpreter (PT_INTERP) of the program finally loaded. Each file passes the
 * kernel's checks before its head is read: a regular file, the process may execute it
 * (faccessat2 X_OK as the process: permission, and the mount's noexec, procfs and sysfs
 * included). Nothing else is ever opened for reading.
 * Returns 0 when the kernel would go on to load the last file of the chain, or the
 * -errno the kernel would fail the exec with (the caller answers with it rather than let
 * the kernel look again). */
int resolve_exec(struct exec_context *ctx, int dirfd, const char *path, int flags, struct exec_chain *chain);

/* Add to chain (role EXEC_ROLE_LOADED) the file a dynamic loader running in ctx's process
 * opens for name: relative to its cwd unless absolute, as open(2) does. Returns 0 or the
 * -errno of the lookup (nothing added). */
int resolve_loaded(struct exec_context *ctx, const char *name, struct exec_chain *chain);

/* Add to chain (role EXEC_ROLE_LOADED) the file ctx's process holds open as fd fd_number. */
int resolve_loaded_fd(struct exec_context *ctx, int fd_number, struct exec_chain *chain);

/* The chain of what ctx's process runs now, stopped at its exec: its program
 * (/proc/PID/exe, the very file), then the ELF interpreter that program names, looked up
 * from the process's root. Returns 0 or -errno. */
int resolve_ran(struct exec_context *ctx, struct exec_chain *chain);

/* For what the supervisor does on a process's behalf besides exec (protect.h): take on the
 * process's credentials for the calls that follow on this thread, and give them up. */
int exec_context_as_process(struct exec_context *ctx);
void exec_context_as_self(struct exec_context *ctx);

/* The directory a relative path of ctx's process starts from: its cwd (dirfd AT_FDCWD) or
 * its fd dirfd, as an fd of ours (O_PATH). Returns it or -errno (-EBADF: no such fd). */
int resolve_base(struct exec_context *ctx, int dirfd);

/* An O_PATH fd of the file the process holds open as fd_number, or -errno. */
int resolve_process_fd(struct exec_context *ctx, int fd_number);

/* What ctx's process reaches by path (relative to base, an fd from resolve_base(), unless
 * absolute), its last symlink followed when follow_last, as O_PATH fd of ours: through its
 * root, "self" in a procfs meaning it, its magic links jumped as the kernel does. The thread
 * must hold the process's credentials (exec_context_as_process()). Returns the fd or the
 * -errno the kernel would give the process. */
int resolve_lookup(struct exec_context *ctx, int base, const char *path, bool follow_last);
