/* What the kernel engine's BPF program (bpf/kverify.bpf.c) and the supervisor (kverify.c)
 * share: the approval the supervisor stores for an exec'ing thread, and the report the
 * program sends when it kills one. Fixed-width types only: both sides compile this. */
#pragma once

#include <linux/types.h>

/* A file as the kernel knows it: the superblock's dev_t in the kernel's own encoding
 * (major << 20 | minor), the inode number, and the stamps that any write or metadata
 * change moves. */
struct kverify_file {
        __u64 ino;
        __u64 size;
        __s64 mtime_sec;
        __s64 ctime_sec;
        __u32 mtime_nsec;
        __u32 ctime_nsec;
        __u32 dev;
        __u32 flags; /* KVERIFY_FILE_* */
};

/* Compare inode and device only (an ELF interpreter, as the ptrace check does). */
#define KVERIFY_FILE_ID_ONLY 1u

/* Stored in the thread's task storage before the answer "continue". seq is also the value
 * of the thread's entry in the map of expected execs: the two must agree. */
#define KVERIFY_TAG_MAX 24

struct kverify_approval {
        __u64 seq;
        struct kverify_file image;
        struct kverify_file interp; /* ino 0: the program has no ELF interpreter */
        char tag[KVERIFY_TAG_MAX];  /* whose exec (the session), for the report of a kill */
};

/* Why an exec was killed. */
enum kverify_reason {
        KVERIFY_NO_APPROVAL = 1, /* expected, but no approval found: fail closed */
        KVERIFY_STALE = 2,       /* an approval of another exec */
        KVERIFY_IMAGE = 3,       /* the program the kernel committed is another file */
        KVERIFY_CHANGED = 4,     /* the same file, written or changed since it was judged */
        KVERIFY_INTERP = 5,      /* another ELF interpreter, or one where none was approved */
        KVERIFY_NO_INTERP = 6,   /* no ELF interpreter where one was approved */
        KVERIFY_UNREADABLE = 7,  /* the interpreter's mapping could not be read */
        KVERIFY_CANARY = 8,      /* never sent: the canary's own expectation */
};

#define KVERIFY_NAME_MAX 256

/* Sent through the ring buffer for every exec killed. */
struct kverify_report {
        __u64 seq;
        __u32 old_tid; /* the thread that asked to exec */
        __u32 pid;     /* its PID after the exec (a non-leader takes the leader's) */
        __u32 ppid;
        __u32 uid, euid; /* real and effective, as the exec left them */
        __u32 auid;      /* audit login uid (-1: unset) */
        __u32 audit_session;
        __u32 reason;
        __s32 signal_error; /* bpf_send_signal()'s result: 0, or the supervisor must kill */
        struct kverify_file ran;
        __u64 approved_ino; /* the program approved, 0 if no approval was found */
        __u32 approved_dev;
        __u32 pad;
        char tag[KVERIFY_TAG_MAX];       /* the approval's, "" if none was found */
        char filename[KVERIFY_NAME_MAX]; /* the name the exec was given (bprm->filename) */
};
