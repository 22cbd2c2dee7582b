/* The kernel engine's check after exec (verify.h says why a check after the fact is
 * needed at all). It runs at the point of ptrace's PTRACE_EVENT_EXEC: the new image is
 * committed and has not run one instruction. For an exec the supervisor approved (its
 * thread's ID is in `expected`), the program and the ELF interpreter the kernel committed
 * must be the files of the approval the supervisor stored in the thread's task storage;
 * anything else, including an approval that cannot be found, is killed there and then.
 *
 * Two maps, so that a lookup that fails is never a pass: task storage has refused lookups
 * from tracing programs while its per-CPU lock was busy (before Linux 6.2), while `expected`
 * (a preallocated hash) is read without a lock. An exec found in `expected` without its
 * approval is killed.
 *
 * An expectation lives until the exec is checked or the thread exits; one left by an exec
 * that failed is withdrawn by the supervisor before the thread's next "continue" that the
 * program does not check, and replaced by the next approval.
 *
 * The types below are the few kernel fields read, relocated by CO-RE against the running
 * kernel's BTF: a kernel without them fails the load, and the ptrace check is used. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "../kverify_abi.h"

#define SIGKILL    9
#define AT_NULL    0
#define AT_BASE    7
#define AUXV_PAIRS 28 /* the kernel keeps AT_VECTOR_SIZE = 56 words on x86_64 */

struct super_block {
        __u32 s_dev;
} __attribute__((preserve_access_index));

struct inode {
        struct super_block *i_sb;
        unsigned long i_ino;
        long long i_size;
        long long i_mtime_sec;
        long long i_ctime_sec;
        __u32 i_mtime_nsec;
        __u32 i_ctime_nsec;
} __attribute__((preserve_access_index));

struct file {
        struct inode *f_inode;
} __attribute__((preserve_access_index));

struct linux_binprm {
        struct file *file;
        const char *filename;
} __attribute__((preserve_access_index));

struct mm_struct {
        unsigned long saved_auxv[2 * AUXV_PAIRS];
} __attribute__((preserve_access_index));

struct cred {
        struct {
                __u32 val;
        } uid, euid;
} __attribute__((preserve_access_index));

struct task_struct {
        int pid;
        int tgid;
        struct mm_struct *mm;
        struct task_struct *real_parent;
        const struct cred *cred;
        struct {
                __u32 val;
        } loginuid;
        unsigned int sessionid;
} __attribute__((preserve_access_index));

struct vm_area_struct {
        unsigned long vm_start;
        struct file *vm_file;
} __attribute__((preserve_access_index));

char LICENSE[] SEC("license") = "GPL";

struct {
        __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, int);
        __type(value, struct kverify_approval);
} approvals SEC(".maps");

/* Thread ID → the seq of its approval. Written by the supervisor with the approval;
 * removed here when the exec is checked, and when the thread exits (its ID may be reused
 * by a thread that is not ours). */
struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 16384);
        __type(key, __u32);
        __type(value, __u64);
} expected SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_RINGBUF);
        __uint(max_entries, 256 * 1024);
} reports SEC(".maps");

/* Kills whose report found the ring full: the supervisor says how many were not recorded. */
struct {
        __uint(type, BPF_MAP_TYPE_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, __u64);
} lost SEC(".maps");

static void read_file(struct file *f, struct kverify_file *out) {
        struct inode *inode = f->f_inode;
        out->ino = inode->i_ino;
        out->dev = inode->i_sb->s_dev;
        out->size = inode->i_size;
        out->mtime_sec = inode->i_mtime_sec;
        out->mtime_nsec = inode->i_mtime_nsec;
        out->ctime_sec = inode->i_ctime_sec;
        /* Multigrain timestamps (Linux 6.13) keep a flag in the top bit: not time. */
        out->ctime_nsec = inode->i_ctime_nsec & ~(1u << 31);
        out->flags = 0;
}

static int same_file(const struct kverify_file *want, const struct kverify_file *got) {
        if (want->ino != got->ino || want->dev != got->dev)
                return 0;
        if (want->flags & KVERIFY_FILE_ID_ONLY)
                return 1;
        return want->size == got->size && want->mtime_sec == got->mtime_sec && want->mtime_nsec == got->mtime_nsec &&
               want->ctime_sec == got->ctime_sec && want->ctime_nsec == got->ctime_nsec;
}

/* The ELF interpreter's load address, from the auxiliary vector the exec just built:
 * 0 when there is none. */
static unsigned long interp_base(struct task_struct *task) {
        struct mm_struct *mm = task->mm;
        unsigned long pair[2];
        for (int i = 0; i < AUXV_PAIRS; i++) {
                if (bpf_probe_read_kernel(pair, sizeof pair, &mm->saved_auxv[2 * i]) < 0)
                        return (unsigned long) -1;
                if (pair[0] == AT_NULL)
                        return 0;
                if (pair[0] == AT_BASE)
                        return pair[1];
        }
        return 0;
}

struct vma_found {
        struct kverify_file file;
        int mapped;
};

static long on_vma(struct task_struct *task, struct vm_area_struct *vma, void *data) {
        struct vma_found *found = data;
        struct file *f = vma->vm_file;
        if (f) {
                read_file(f, &found->file);
                found->mapped = 1;
        }
        return 0;
}

static __u32 check_interp(struct task_struct *task, const struct kverify_approval *a, struct kverify_file *ran) {
        unsigned long base = interp_base(task);
        if (base == (unsigned long) -1)
                return KVERIFY_UNREADABLE;
        if (base == 0)
                return a->interp.ino ? KVERIFY_NO_INTERP : 0;
        if (!a->interp.ino)
                return KVERIFY_INTERP;
        struct vma_found found = {};
        /* Fails when the new mm's lock is taken (a reader of /proc/PID/maps): closed. */
        if (bpf_find_vma(task, base, on_vma, &found, 0) < 0 || !found.mapped)
                return KVERIFY_UNREADABLE;
        *ran = found.file;
        return same_file(&a->interp, &found.file) ? 0 : KVERIFY_INTERP;
}

static void report(__u64 seq, __u32 old_tid, struct task_struct *task, struct linux_binprm *bprm, __u32 reason,
                   long signal_error, const struct kverify_file *ran, const struct kverify_approval *a) {
        struct kverify_report *r = bpf_ringbuf_reserve(&reports, sizeof *r, 0);
        if (!r) {
                __u32 zero = 0;
                __u64 *n = bpf_map_lookup_elem(&lost, &zero);
                if (n)
                        __sync_fetch_and_add(n, 1);
                return;
        }
        r->seq = seq;
        r->old_tid = old_tid;
        r->pid = task->tgid;
        r->ppid = task->real_parent->tgid;
        r->uid = task->cred->uid.val;
        r->euid = task->cred->euid.val;
        r->auid = task->loginuid.val;
        r->audit_session = task->sessionid;
        r->reason = reason;
        r->signal_error = (__s32) signal_error;
        r->ran = *ran;
        if (a) {
                __builtin_memcpy(r->tag, a->tag, sizeof r->tag);
                r->approved_ino = a->image.ino;
                r->approved_dev = a->image.dev;
        } else {
                r->tag[0] = '\0';
                r->approved_ino = 0;
                r->approved_dev = 0;
        }
        r->pad = 0;
        bpf_probe_read_kernel_str(r->filename, sizeof r->filename, bprm->filename);
        bpf_ringbuf_submit(r, 0);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(kverify_exec, struct task_struct *task, int old_pid, struct linux_binprm *bprm) {
        __u32 tid = (__u32) old_pid;
        __u64 *want = bpf_map_lookup_elem(&expected, &tid);
        if (!want)
                return 0; /* not an exec this supervisor approved */
        __u64 seq = *want;
        bpf_map_delete_elem(&expected, &tid);

        struct kverify_file ran = {};
        read_file(bprm->file, &ran);
        __u32 reason = 0;
        struct kverify_approval *a = bpf_task_storage_get(&approvals, task, 0, 0);
        if (!a)
                reason = KVERIFY_NO_APPROVAL;
        else if (a->seq != seq)
                reason = KVERIFY_STALE;
        else if (a->image.ino != ran.ino || a->image.dev != ran.dev)
                reason = KVERIFY_IMAGE;
        else if (!same_file(&a->image, &ran))
                reason = KVERIFY_CHANGED;
        else
                reason = check_interp(task, a, &ran);
        if (reason) {
                /* Current is the task: the signal is pending before it returns to user space. */
                long err = bpf_send_signal(SIGKILL);
                report(seq, tid, task, bprm, reason, err, &ran, a);
        }
        if (a)
                bpf_task_storage_delete(&approvals, task);
        return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(kverify_exit, struct task_struct *task) {
        __u32 tid = (__u32) task->pid;
        if (bpf_map_lookup_elem(&expected, &tid))
                bpf_map_delete_elem(&expected, &tid);
        return 0;
}
