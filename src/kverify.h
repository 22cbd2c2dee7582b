/* The kernel engine of the check after exec (verify.h says why the check exists; this is
 * the same check, made by the kernel instead of a ptrace stop).
 *
 * A BPF program on the raw tracepoint sched_process_exec (bpf/kverify.bpf.c) runs where
 * ptrace's PTRACE_EVENT_EXEC stop would be: the new image is committed, nothing of it has
 * run. Before answering "continue", the supervisor stores its approval (the program and
 * the ELF interpreter it judged, as the kernel identifies files) in the exec'ing thread's
 * task storage, through a pidfd of that very thread, and the thread's ID in a second map;
 * the program compares and sends SIGKILL on any difference, or when it finds the ID and
 * not the approval. No second hand-off per exec, and the ptrace slot stays free for the
 * session's own debuggers.
 *
 * Only a root supervisor loads it (a holder of the map fds could store any approval for
 * any task; they never leave the supervisor: O_CLOEXEC, not dumpable), and only after a
 * canary proves it: an exec approved as another file must be killed, an exec approved as
 * itself must run. Files are compared by the superblock's dev_t, which is what stat(2)
 * says only on some file systems: execs of files elsewhere (btrfs subvolumes, overlayfs)
 * are left to the ptrace check (kverifier_covers()). It is pinned in the BPF file system,
 * so that an exec approved and still on its way when its supervisor dies is checked all
 * the same (kverify.c, "Pinned"). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "util.h"

struct kverifier;

/* Load and attach the program, then run the canaries. Returns 0, or -errno with a sentence
 * in why saying what is missing (the caller falls back to the ptrace check). */
int kverifier_open(struct kverifier **ret, char *why, size_t why_size);

void kverifier_free(struct kverifier *k);
static inline void kverifier_freep(struct kverifier **k) {
        kverifier_free(*k);
}

/* An fd that polls readable when the program has killed an exec: kverifier_drain(). */
int kverifier_fd(const struct kverifier *k);

/* Can the kernel engine recognise this file (fstat st of fd, which may be O_PATH)? Yes on
 * the file systems whose stat(2) device is the superblock's. */
bool kverifier_covers(struct kverifier *k, const struct stat *st, int fd);

/* Store the approval of the exec of thread tid (pidfd: a pidfd of that thread, which pins
 * it): its program image and ELF interpreter interp (NULL: none). tag (the session) and
 * image_path are kept for the report of a kill. Returns 0, or -errno with nothing
 * expected of tid. The caller confirms afterwards that the thread still waits in its
 * notification, and withdraws otherwise. */
int kverifier_approve(struct kverifier *k, int pidfd, pid_t tid, const struct stat *image, const char *image_path,
                      const struct stat *interp, const char *tag);

/* Expect nothing of tid's next exec: before a "continue" the kernel engine does not check
 * (a stale expectation, left by an exec that failed, would kill it), and when an answer
 * could not be sent. */
void kverifier_withdraw(struct kverifier *k, pid_t tid);

/* An exec the program killed. */
struct kverify_kill {
        pid_t pid; /* its PID after the exec */
        pid_t ppid;
        uid_t uid, euid;
        uid_t auid;             /* audit login uid, -1: unset */
        uint32_t audit_session; /* UINT32_MAX: unset */
        char tag[24];           /* the session ("" if the approval is no longer known) */
        char approved[EG_PATH_MAX];
        char ran_name[256];         /* the name the exec was given (the kernel's bprm->filename) */
        char ran[EG_PATH_MAX + 96]; /* the same, and the file's dev:ino */
        const char *why;            /* what differed */
        bool signal_failed;         /* the program could not send SIGKILL: killed by pidfd instead */
};

/* Read what the program reported, calling fn once per exec killed. Returns the count, or
 * -errno. */
int kverifier_drain(struct kverifier *k, void (*fn)(const struct kverify_kill *kill, void *data), void *data);
