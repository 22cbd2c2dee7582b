/* Verification after exec: closing the race between the supervisor's check and the
 * kernel's own reading of the path (seccomp_unotify(2), "Caveats").
 *
 * After the supervisor answers "continue", the kernel reads the path from the process's
 * memory again and walks the file system again. Another thread, or another process sharing
 * that memory, can swap the string in between; anybody who can write the directory can
 * swap a symlink or rename a file. No check made before the answer can survive that. So
 * the answer is checked after the fact, before the new program runs one instruction:
 *
 *   1. before answering, the supervisor attaches to the exec'ing thread with PTRACE_SEIZE
 *      and PTRACE_O_TRACEEXEC (the thread is blocked in the notification, nothing runs);
 *   2. it answers "continue", then PTRACE_INTERRUPTs the thread, so that an exec that fails
 *      also ends in a stop (back in the old program) and never leaves it traced;
 *   3. at PTRACE_EVENT_EXEC the new image is mapped but has not run: /proc/PID/exe must be
 *      the very file that was approved (device, inode, size, mtime, ctime), and every file
 *      mapped (/proc/PID/maps) must be the program or the ELF interpreter that was approved
 *      (inode and path): the kernel opens PT_INTERP by path too, and that path can be
 *      swapped just the same. Anything else is killed there and then, and so is what
 *      cannot be read; only a task the kernel shows killed already (a parent's SIGKILL in
 *      the middle of the exec) is not called a mismatch. Then it detaches.
 *
 * A dynamic loader run as a command (loader.h) opens and maps its program itself, by path,
 * after the exec: that path can be swapped just as well. So for such an exec the tracee is
 * not let go at PTRACE_EVENT_EXEC; its system calls are followed until the loader maps a
 * file executable, which is its program (glibc and musl map the program before anything
 * else). That file, taken from the loader's own fd, is judged before the mapping is made;
 * then the tracee is let go, or killed.
 *
 * A tracee is its tracer thread's alone: the thread that attaches is the one that verifies
 * (the supervisor's main thread, or the daemon's worker that approved the exec, which
 * follows it to its end), and the table lets no other thread act on it.
 *
 * PTRACE_O_EXITKILL: should the supervisor die mid-verification, the tracee is killed.
 * The supervisor is an ancestor of every supervised process, which ptrace restrictions
 * (Yama scope 1) allow. A process already traced by somebody else (a debugger) cannot be
 * verified: its exec is refused. */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "identity.h"
#include "util.h"

struct verifier;

/* A table of pending verifications, of fixed size, shared by the threads that verify.
 * NULL on ENOMEM. */
struct verifier *verifier_new(void);
void verifier_free(struct verifier *v);
static inline void verifier_freep(struct verifier **v) {
        verifier_free(*v);
}

/* What one thread's verifications read into. */
struct verify_scratch {
        struct identity_cache *identities; /* hashes programs: the caller's, outlives this */
        struct digest_stream *digest;
        char maps[16384]; /* /proc/PID/maps of a freshly exec'd image (a few lines), or a cmdline */
};
struct verify_scratch *verify_scratch_new(struct identity_cache *identities);
void verify_scratch_free(struct verify_scratch *vs);

/* Before answering "continue": attach to thread tid and remember that its exec must map
 * the file whose fstat is image (canonical path image_path) and, if interp_path is not
 * NULL, no other file than its ELF interpreter (interp). With watch_loader (the image is a
 * dynamic loader run as a command), follow it after the exec until it maps its program.
 * tag and owner say whose exec it is (the session's id and uid). The calling thread is the
 * tracer: every later call for tid is made on it.
 * Returns 0, -EBUSY if the thread is traced by somebody else, -EAGAIN if by another thread
 * of ours (its last exec failed, and that thread has not let it go yet), -ENOSPC if too
 * many execs are in flight, or another -errno (the thread is gone, no permission). On
 * failure the exec must be refused. */
int verifier_attach(struct verifier *v, pid_t tid, const struct stat *image, const char *image_path,
                    const struct stat *interp, const char *interp_path, bool watch_loader, const char *tag,
                    uid_t owner);

/* After verifier_attach() for an exec judged with its arguments (command rules): the new
 * program must receive, after its argv[0], count arguments whose bytes (each with its NUL,
 * end to end) have this SHA-256; else it is killed before it runs. Returns 0 or -ENOENT. */
int verifier_expect_args(struct verifier *v, pid_t tid, size_t count, const uint8_t digest[SHA256_LEN]);

/* After verifier_attach() for an exec whose program the kernel may replace by another that
 * nobody could foresee (a binfmt_misc handler): another program at the exec stop is not
 * killed but held there, VERIFY_UNPREDICTED, to be judged. Returns 0 or -ENOENT. */
int verifier_judge_ran(struct verifier *v, pid_t tid);

/* After verifier_attach() for an exec whose program was judged by its content (the policy
 * hashed it): the program the kernel maps must have this SHA-256 still, read afresh from
 * the file mapped, never from a cache; else it is killed before it runs. Between the
 * supervisor's hash and the kernel's open, whoever can write the file can change it; once
 * the exec has opened it, the kernel refuses writes to it (ETXTBSY), so what is hashed at
 * the exec stop is what runs. Returns 0 or -ENOENT. */
int verifier_expect_content(struct verifier *v, pid_t tid, const uint8_t digest[SHA256_LEN]);

/* A label given to verifier_attach() (the session id), handed back with the outcome. */
#define VERIFY_TAG_MAX 24

/* Execs attached and not yet verified, or loaders being followed: all of them (cheap), or
 * those attached for owner (the uid given to verifier_attach(); a scan of the table). */
size_t verifier_count(struct verifier *v);
size_t verifier_count_of(struct verifier *v, uid_t owner);

/* Right after answering "continue" for tid. */
void verifier_armed(struct verifier *v, pid_t tid);

/* Forget tid without verifying: the answer was not "continue" after all (say, the task went
 * away before it could be sent). Detaches if still attached. */
void verifier_cancel(struct verifier *v, pid_t tid);

enum verify_outcome {
        VERIFY_NOT_OURS,    /* pid is not a tracee of the verifier */
        VERIFY_PENDING,     /* an event of a tracee that is still pending, or that ended it without an exec */
        VERIFY_CONFIRMED,   /* the exec mapped the approved file; detached */
        VERIFY_MISMATCH,    /* the exec mapped another file: killed */
        VERIFY_CHANGED,     /* the exec mapped the approved file with other content: killed */
        VERIFY_KILLED,      /* killed by another (SIGKILL) in its exec, before it could be verified:
                           * nothing ran, and nothing was found to differ */
        VERIFY_LOADED,      /* a loader is about to map its program executable: judge it */
        VERIFY_UNPREDICTED, /* the exec runs another program than was approved, and it was to be
                             * judged (verifier_judge_ran()): stopped at its exec */
};

/* What verifier_handle() reports of a tracee. */
struct verify_report {
        char tag[VERIFY_TAG_MAX];      /* VERIFY_MISMATCH, VERIFY_CHANGED, VERIFY_KILLED,
                                        * VERIFY_LOADED: the tag */
        char approved[EG_PATH_MAX];    /* the program approved (a loader: the loader) */
        char mapped[EG_PATH_MAX + 64]; /* VERIFY_MISMATCH: the file mapped instead, or what
                                     * else was not as approved */
        char ran[EG_PATH_MAX];         /* VERIFY_MISMATCH, VERIFY_CHANGED: the program the
                                     * exec loaded (/proc/PID/exe), "" if unknown */
        char why[192];                 /* VERIFY_CHANGED: the digest approved and the one found;
                                        * VERIFY_KILLED: what could not be read */
        int fd;                        /* VERIFY_LOADED: the loader's fd being mapped */
};

/* Handle one wait status (from waitpid(-1, ..., __WALL | __WNOTHREAD): the calling thread's
 * tracees), filling the parts of *ret that the outcome says; vs is the thread's. For
 * VERIFY_LOADED, the tracee waits, stopped, for verifier_release() or verifier_kill(). */
enum verify_outcome verifier_handle(struct verifier *v, struct verify_scratch *vs, pid_t pid, int status,
                                    struct verify_report *ret);

/* After VERIFY_LOADED: let the loader go on (and run its program), untraced. */
void verifier_release(struct verifier *v, pid_t pid);

/* After VERIFY_LOADED or VERIFY_UNPREDICTED: kill it before its program runs. */
void verifier_kill(struct verifier *v, pid_t pid);

/* After VERIFY_UNPREDICTED, what runs judged allowed: its program (image, canonical path
 * image_path) and ELF interpreter (interp, or NULL) are checked as an approval would be;
 * then it is let go (1), or killed (0: the offending file in mapped; -errno: unreadable). */
int verifier_confirm_ran(struct verifier *v, struct verify_scratch *vs, pid_t pid, const struct stat *image, const char *image_path,
                         const struct stat *interp, const char *interp_path, char *mapped, size_t size);
