#include "verify.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "identity.h"
#include "procmem.h"
#include "util.h"

#define PENDING_MAX 1024 /* execs in flight at once; more are refused */

struct pending {
        pid_t tid;               /* 0: free slot */
        struct file_stamp image; /* the program approved, as judged */
        char path[EG_PATH_MAX];
        ino_t interp_ino; /* 0: no ELF interpreter */
        dev_t interp_dev;
        char interp_path[EG_PATH_MAX];
        bool watch_loader; /* follow a loader after its exec, to the mapping of its program */
        bool watching;     /* doing so: the exec is done and verified */
        bool judge_ran;    /* another program than the one approved is judged, not killed */
        pid_t tracer;      /* the thread that attached: the only one that may act on it */
        char tag[VERIFY_TAG_MAX];
        uid_t owner;
        /* The program's content, when it was judged by it. */
        bool check_content;
        uint8_t content_digest[SHA256_LEN];
        /* The arguments judged (command rules): the new program's, after its argv[0]. */
        bool check_args;
        size_t args_count;
        uint8_t args_digest[SHA256_LEN];
};

/* The table is shared by the threads that verify (the daemon's workers): each slot is its
 * tracer thread's, which alone reads and writes it; taking a slot, giving it back and the
 * lookups by tid are made under the lock. */
struct verifier {
        pthread_mutex_t lock;
        size_t n; /* slots in use */
        /* The tid of each slot again, packed: a lookup reads 4 KiB, not a stride of 8 KiB
         * slots through 8 MiB (a TLB miss each) when many execs are in flight. */
        pid_t tids[PENDING_MAX];
        struct pending slots[PENDING_MAX];
};

struct verifier *verifier_new(void) {
        struct verifier *v = calloc(1, sizeof(struct verifier));
        if (v)
                pthread_mutex_init(&v->lock, NULL);
        return v;
}

void verifier_free(struct verifier *v) {
        if (v)
                pthread_mutex_destroy(&v->lock);
        free(v);
}

struct verify_scratch *verify_scratch_new(struct identity_cache *identities) {
        struct verify_scratch *vs = calloc(1, sizeof *vs);
        if (vs && !(vs->digest = digest_stream_new())) {
                free(vs);
                return NULL;
        }
        if (vs)
                vs->identities = identities;
        return vs;
}

void verify_scratch_free(struct verify_scratch *vs) {
        if (vs)
                digest_stream_free(vs->digest);
        free(vs);
}

/* Under the lock. */
static struct pending *find(struct verifier *v, pid_t tid) {
        for (size_t i = 0; i < PENDING_MAX; i++)
                if (v->tids[i] == tid)
                        return &v->slots[i];
        return NULL;
}

/* p is now tid's (0: free). A slot left for the same tid (the leader of a process whose
 * other thread execed: it took the leader's PID) is another exec's, over: dropped, so that
 * a lookup by tid finds p. */
static void set_tid(struct verifier *v, struct pending *p, pid_t tid) {
        for (size_t i = 0; tid != 0 && i < PENDING_MAX; i++)
                if (v->tids[i] == tid && &v->slots[i] != p) {
                        v->tids[i] = v->slots[i].tid = 0;
                        v->n--;
                }
        p->tid = v->tids[p - v->slots] = tid;
}

static void done(struct verifier *v, struct pending *p) {
        pthread_mutex_lock(&v->lock);
        set_tid(v, p, 0);
        v->n--;
        pthread_mutex_unlock(&v->lock);
}

/* The slot of tid's verification, if the calling thread holds one (it is the tracer). */
static struct pending *find_mine(struct verifier *v, pid_t tid) {
        pthread_mutex_lock(&v->lock);
        struct pending *p = find(v, tid);
        if (p && p->tracer != gettid())
                p = NULL;
        pthread_mutex_unlock(&v->lock);
        return p;
}

static void set_tid_locked(struct verifier *v, struct pending *p, pid_t tid) {
        pthread_mutex_lock(&v->lock);
        set_tid(v, p, tid);
        pthread_mutex_unlock(&v->lock);
}

size_t verifier_count(struct verifier *v) {
        pthread_mutex_lock(&v->lock);
        size_t n = v->n;
        pthread_mutex_unlock(&v->lock);
        return n;
}

size_t verifier_count_of(struct verifier *v, uid_t owner) {
        size_t n = 0;
        pthread_mutex_lock(&v->lock);
        for (size_t i = 0; i < PENDING_MAX; i++)
                n += v->tids[i] > 0 && v->slots[i].owner == owner;
        pthread_mutex_unlock(&v->lock);
        return n;
}

/* Is tid traced by a thread of ours (its TracerPid one of our tasks), or by nobody any more?
 * Then the EPERM of an attach is a verification of ours still letting go of it. */
static bool traced_by_us(pid_t tid) {
        char path[64], buf[2048];
        snprintf(path, sizeof path, "/proc/%d/status", (int) tid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        const char *s = strstr(buf, "\nTracerPid:");
        if (!s)
                return false;
        long tracer = strtol(s + strlen("\nTracerPid:"), NULL, 10);
        if (tracer == 0)
                return true;
        snprintf(path, sizeof path, "/proc/self/task/%ld", tracer);
        return access(path, F_OK) == 0;
}

int verifier_attach(struct verifier *v, pid_t tid, const struct stat *image, const char *image_path,
                    const struct stat *interp, const char *interp_path, bool watch_loader, const char *tag,
                    uid_t owner) {
        pthread_mutex_lock(&v->lock);
        struct pending *p = find(v, 0);
        if (p)
                v->tids[p - v->slots] = -1; /* taken: no other thread's find(v, 0) has it */
        pthread_mutex_unlock(&v->lock);
        if (!p)
                return -ENOSPC;
        if (ptrace(PTRACE_SEIZE, tid, NULL, (void *) (PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) < 0) {
                /* EPERM: traced already, by a debugger, or not ours to trace; or ours still:
                 * its last exec failed, and it execs again before the stop that ends that
                 * verification has reached us (the stop comes at its return to user space,
                 * which a fast failure such as ENOEXEC, then glibc's execvp() retry, can
                 * outrun). It cannot have execed meanwhile: that stops it at
                 * PTRACE_EVENT_EXEC until we let it go. So the attachment carries over to
                 * this exec, when this thread is its tracer. Another thread's tracee is
                 * not ours to act on: -EAGAIN (its tracer's PTRACE_INTERRUPT takes it out
                 * of this notification, which it makes again once let go). A loader being
                 * followed is stopped at every system call and cannot get here unseen; its
                 * exec is refused. (Looked up only here: a scan of the table is not for
                 * every exec.) */
                int r = errno == EPERM ? -EBUSY : negative_errno();
                pthread_mutex_lock(&v->lock);
                v->tids[p - v->slots] = 0;
                struct pending *held = r == -EBUSY ? find(v, tid) : NULL;
                if (held && !held->watching && held->tracer != gettid())
                        r = -EAGAIN;
                else if (!held && r == -EBUSY && traced_by_us(tid))
                        /* Another thread of ours let its verification go and has not
                         * detached yet: gone in a moment, as above. */
                        r = -EAGAIN;
                else if (held && !held->watching) {
                        p = held;
                        v->n--; /* counted again below */
                        r = 0;
                }
                pthread_mutex_unlock(&v->lock);
                if (r < 0)
                        return r;
        }
        pthread_mutex_lock(&v->lock);
        *p = (struct pending){
                .tid = tid,
                .image = file_stamp_of(image),
                .watch_loader = watch_loader,
                .tracer = gettid(),
                .owner = owner,
        };
        set_tid(v, p, tid);
        v->n++;
        pthread_mutex_unlock(&v->lock);
        snprintf(p->path, sizeof p->path, "%s", image_path);
        snprintf(p->tag, sizeof p->tag, "%s", tag ? tag : "");
        if (interp_path) {
                p->interp_ino = interp->st_ino;
                p->interp_dev = interp->st_dev;
                snprintf(p->interp_path, sizeof p->interp_path, "%s", interp_path);
        }
        return 0;
}

int verifier_expect_args(struct verifier *v, pid_t tid, size_t count, const uint8_t digest[SHA256_LEN]) {
        struct pending *p = find_mine(v, tid);
        if (!p)
                return -ENOENT;
        p->check_args = true;
        p->args_count = count;
        memcpy(p->args_digest, digest, SHA256_LEN);
        return 0;
}

int verifier_judge_ran(struct verifier *v, pid_t tid) {
        struct pending *p = find_mine(v, tid);
        if (!p)
                return -ENOENT;
        p->judge_ran = true;
        return 0;
}

int verifier_expect_content(struct verifier *v, pid_t tid, const uint8_t digest[SHA256_LEN]) {
        struct pending *p = find_mine(v, tid);
        if (!p)
                return -ENOENT;
        p->check_content = true;
        memcpy(p->content_digest, digest, SHA256_LEN);
        return 0;
}

/* Has pid, which we hold in a ptrace stop (its exec's), been killed since it stopped? The
 * kernel says so: it refuses every ptrace request, ESRCH, for a tracee that is no longer in
 * its stop or has a fatal signal pending (ptrace_check_attach(), ptrace_freeze_traced()).
 * Only that answer counts, never something the process could arrange; an attacker's
 * options, one by one:
 * - The stop ends only by our resuming it, our own death, or SIGKILL (TASK_WAKEKILL); a
 *   task with SIGKILL pending never returns to user space, and nothing clears it.
 * - A traced task's other signals, fatal by default or not, wait for the tracer
 *   (signal-delivery-stop): none of them makes this true. SIGKILL cannot be blocked,
 *   caught or ignored.
 * - At PTRACE_EVENT_EXEC the exec has been through de_thread(): the task is alone in its
 *   thread group (a non-leader that execed has taken the leader's PID, and the leader is
 *   gone), so no thread's exit or exec can change the answer; and the PID stays this task's
 *   until we reap it, for we are its tracer and reap one status at a time.
 * And the caller kills the task whatever the answer: it decides the record, never whether
 * the new program runs. */
static bool killed_in_stop(pid_t pid) {
        unsigned long msg;
        return ptrace(PTRACE_GETEVENTMSG, pid, NULL, &msg) < 0 && errno == ESRCH;
}

static void hex(const uint8_t digest[SHA256_LEN], char out[2 * SHA256_LEN + 1]) {
        for (size_t i = 0; i < SHA256_LEN; i++)
                snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* Has pid's new program, stopped at its exec, the content judged? The file that is mapped
 * (/proc/PID/exe, the very file, whatever its name now), hashed afresh: the kernel refuses
 * writes to it from the exec's open on, so the content hashed now is the content that
 * runs. Returns 1; 0 for other content, or a file that is not the one stat'ed; -errno for
 * a file that cannot be hashed (not approved either). Unless 1, says what was approved and
 * what was found in why. */
static int content_approved(struct verify_scratch *vs, const struct pending *p, pid_t pid, char *why, size_t size) {
        char exe[64];
        snprintf(exe, sizeof exe, "/proc/%d/exe", (int) pid);
        uint8_t digest[SHA256_LEN];
        struct stat st;
        _cleanup_close_ int fd = open(exe, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        int r = fd < 0 ? negative_errno() : fstat(fd, &st) < 0 ? negative_errno() : 0;
        if (r >= 0 && !file_stamp_matches(&p->image, &st))
                r = -ESTALE;
        if (r >= 0)
                r = identity_sha256_fresh(vs->identities, fd, &st, digest);
        char approved[2 * SHA256_LEN + 1], found[2 * SHA256_LEN + 1];
        hex(p->content_digest, approved);
        if (r < 0) {
                snprintf(why, size, "approved as sha256:%s; cannot hash what runs: %s", approved, strerror(-r));
                return r == -ESTALE ? 0 : r;
        }
        if (memcmp(digest, p->content_digest, SHA256_LEN) == 0)
                return 1;
        hex(digest, found);
        snprintf(why, size, "approved as sha256:%s, ran sha256:%s", approved, found);
        return 0;
}

/* Are the arguments of pid's new program, after its argv[0], the ones judged? Read from
 * /proc/PID/cmdline while it is stopped at its exec: nothing of it has run, and its memory
 * is its own (the exec left every other thread and any shared memory behind). Returns 1,
 * 0 (others), or -errno (unreadable: a task killed meanwhile has no memory to read; its
 * cmdline ends early, so a mismatch is only one if it still lives, see killed_in_stop()). */
static int args_approved(struct verify_scratch *vs, const struct pending *p, pid_t pid) {
        char name[64];
        snprintf(name, sizeof name, "/proc/%d/cmdline", (int) pid);
        _cleanup_close_ int fd = open(name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        int r = digest_stream_begin(vs->digest);
        if (r < 0)
                return r;
        bool in_argv0 = true;
        size_t count = 0;
        off_t off = 0;
        for (;;) {
                ssize_t n = pread(fd, vs->maps, sizeof vs->maps, off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        break;
                off += n;
                const char *s = vs->maps, *end = vs->maps + n;
                if (in_argv0) {
                        const char *nul = memchr(s, '\0', (size_t) (end - s));
                        if (!nul)
                                continue;
                        in_argv0 = false;
                        s = nul + 1;
                }
                for (const char *c = s; (c = memchr(c, '\0', (size_t) (end - c))); c++)
                        count++;
                r = digest_stream_add(vs->digest, s, (size_t) (end - s));
                if (r < 0)
                        return r;
        }
        if (in_argv0)
                return -ENODATA; /* not even an argv[0]: no memory left to read */
        uint8_t digest[SHA256_LEN];
        r = digest_stream_end(vs->digest, digest);
        if (r < 0)
                return r;
        if (count == p->args_count && memcmp(digest, p->args_digest, SHA256_LEN) == 0)
                return 1;
        return killed_in_stop(pid) ? -ESRCH : 0;
}

void verifier_armed(struct verifier *v _unused_, pid_t tid) {
        /* If the exec fails, the thread goes back to its old program: this makes it stop
         * there, so we can detach. A successful exec stops at PTRACE_EVENT_EXEC first, and
         * detaching clears the pending interrupt. */
        (void) ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
}

void verifier_cancel(struct verifier *v, pid_t tid) {
        struct pending *p = find_mine(v, tid);
        if (!p)
                return;
        done(v, p);
        /* It never got its answer: it is still blocked in the notification, or gone. A
         * detach needs a stopped tracee, so stop it first; an error means it is gone. */
        if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0)
                return;
        int status;
        if (waitpid(tid, &status, __WALL) == tid && WIFSTOPPED(status))
                (void) ptrace(PTRACE_DETACH, tid, NULL, NULL);
}

/* Skip a field of maps_line_parse()'s line: characters of accept, then one space. */
static const char *maps_field(const char *s, const char *accept) {
        size_t n = strspn(s, accept);
        return n > 0 && s[n] == ' ' ? s + n + 1 : NULL;
}

/* One line of /proc/PID/maps, "start-end perms offset major:minor inode path", as
 * show_map_vma() writes it: the inode and the path (after the padding; "" if none). A
 * hand-made parser: sscanf() was the costliest part of the verification in user space. */
static bool maps_line_parse(const char *line, unsigned long *ret_ino, const char **ret_path) {
        const char *s = maps_field(line, "0123456789abcdef-");
        if (s)
                s = maps_field(s, "rwxsp-");
        if (s)
                s = maps_field(s, "0123456789abcdef");
        if (s)
                s = maps_field(s, "0123456789abcdef:");
        if (!s || *s < '0' || *s > '9')
                return false;
        char *end;
        errno = 0;
        unsigned long ino = strtoul(s, &end, 10);
        if (errno != 0 || (*end != ' ' && *end != '\0'))
                return false;
        *ret_ino = ino;
        *ret_path = end + strspn(end, " ");
        return true;
}

/* PROCMAP_QUERY (Linux 6.11, include/uapi/linux/fs.h): one mapping of a /proc/PID/maps
 * fd at a time, as numbers, without the text of the whole file. Defined here for older
 * headers; the size is part of the ioctl's number. */
struct maps_query {
        uint64_t size, query_flags, query_addr;
        uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
        uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
        uint64_t vma_name_addr, build_id_addr;
};
#define MAPS_QUERY             _IOWR('f', 17, struct maps_query)
#define MAPS_QUERY_FILE_BACKED 0x20

/* Is the file mapping q of the file (ino, dev, path)? Device and inode where the
 * superblock's device is the one stat() reported; else the inode and the path, which is
 * then asked for. Returns 1, 0 (the path stored in mapped) or -errno. */
static int mapping_is(int fd, const struct maps_query *q, ino_t ino, dev_t dev, const char *path, char *mapped,
                      size_t size) {
        if (q->inode == ino && makedev(q->dev_major, q->dev_minor) == dev)
                return 1;
        /* btrfs subvolumes, overlayfs: the device differs; the path must say. */
        struct maps_query named = {
                .size = sizeof named,
                .query_flags = MAPS_QUERY_FILE_BACKED,
                .query_addr = q->vma_start,
                .vma_name_addr = (uintptr_t) mapped,
                .vma_name_size = (uint32_t) size,
        };
        if (ioctl(fd, MAPS_QUERY, &named) < 0)
                return negative_errno();
        if (named.inode != q->inode)
                return -EAGAIN; /* changed under us: cannot be, the tracee is stopped */
        return q->inode == ino && strcmp(mapped, path) == 0;
}

/* The check of mappings_approved_text(), in one PROCMAP_QUERY: an exec maps the program
 * and the ELF interpreter it names, nothing else, and enters the interpreter if there is
 * one, else the program. /proc/PID/exe has vouched for the program; the file mapping that
 * holds the entry point, where the first instruction is, says which interpreter the kernel
 * loaded. (A crafted interpreter may put its entry anywhere, even into the program's
 * mapping: so an approved interpreter must hold the entry itself, not merely be mapped.)
 * Returns 1, 0 (the path stored in mapped), -ENOTTY where the kernel has no
 * PROCMAP_QUERY, or another -errno. */
static int entry_approved(const struct pending *p, pid_t pid, int fd, char *mapped, size_t size) {
        struct user_regs_struct regs;
        if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) < 0)
                return negative_errno();
        struct maps_query q = { .size = sizeof q, .query_flags = MAPS_QUERY_FILE_BACKED, .query_addr = regs.rip };
        if (ioctl(fd, MAPS_QUERY, &q) < 0) {
                if (errno != ENOENT)
                        return negative_errno();
                snprintf(mapped, size, "%s (its entry point is in no file)", p->path);
                return 0;
        }
        if (p->interp_ino != 0)
                return mapping_is(fd, &q, p->interp_ino, p->interp_dev, p->interp_path, mapped, size);
        return mapping_is(fd, &q, p->image.ino, p->image.dev, p->path, mapped, size);
}

/* Every file mapped into the new image is the approved program or its approved ELF
 * interpreter. Inode and path, as /proc/PID/maps shows them: its device numbers are the
 * superblock's, which stat() does not report on every file system (btrfs subvolumes).
 * Returns 1, 0 (the offending path, if any, stored in mapped), or -errno (unreadable). */
static int mappings_approved_text(struct verify_scratch *vs, const struct pending *p, int fd, char *mapped, size_t size) {
        ssize_t n = pread_full(fd, vs->maps, sizeof vs->maps - 1, 0);
        if (n < 0)
                return (int) n;
        if (n == 0)
                return -ENODATA; /* no memory map: the task is gone */
        if ((size_t) n == sizeof vs->maps - 1)
                return 0; /* more than a fresh image has: refuse */
        vs->maps[n] = '\0';

        for (char *line = vs->maps; *line;) {
                char *end = strchrnul(line, '\n');
                char *next = *end ? end + 1 : end;
                *end = '\0';
                unsigned long ino = 0;
                const char *path = NULL;
                if (!maps_line_parse(line, &ino, &path))
                        return 0;
                if (ino != 0) {
                        bool ok = (ino == p->image.ino && strcmp(path, p->path) == 0) ||
                                  (p->interp_ino != 0 && ino == p->interp_ino && strcmp(path, p->interp_path) == 0);
                        if (!ok) {
                                snprintf(mapped, size, "%s", path);
                                return 0;
                        }
                }
                line = next;
        }
        return 1;
}

/* The check of the new image's mappings: PROCMAP_QUERY where the kernel has it, else the
 * text of /proc/PID/maps. Returns 1, 0 (the offending path stored in mapped), or -errno
 * (cannot be read: mapped is ""). */
static int mappings_approved(struct verify_scratch *vs, const struct pending *p, pid_t pid, char *mapped, size_t size) {
        char name[64];
        mapped[0] = '\0';
        snprintf(name, sizeof name, "/proc/%d/maps", (int) pid);
        _cleanup_close_ int fd = open(name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        int r = entry_approved(p, pid, fd, mapped, size);
        if (r == -ENOTTY)
                return mappings_approved_text(vs, p, fd, mapped, size);
        if (r < 0)
                mapped[0] = '\0';
        return r;
}

/* Old-style i386 mmap(): its arguments are a block in memory. */
struct old_mmap_args {
        uint32_t addr, len, prot, flags, fd, offset;
};

/* At a system call stop of a watched loader: the fd it is mapping executable, or -1. */
static int exec_mapping_fd(pid_t pid) {
        struct __ptrace_syscall_info info;
        if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *) sizeof info, &info) <= 0)
                return -1;
        if (info.op != PTRACE_SYSCALL_INFO_ENTRY)
                return -1;
        uint64_t nr = info.entry.nr, prot, flags, fd;
        bool i386 = info.arch == AUDIT_ARCH_I386;
        if (i386 && nr == 90) {
                struct old_mmap_args a;
                if (procmem_read(pid, info.entry.args[0] & UINT32_MAX, &a, sizeof a) < 0)
                        return -1; /* the kernel fails it with EFAULT */
                prot = a.prot, flags = a.flags, fd = a.fd;
        } else if ((i386 && nr == 192) || (info.arch == AUDIT_ARCH_X86_64 && (nr == 9 || nr == (0x40000000 | 9)))) {
                prot = info.entry.args[2], flags = info.entry.args[3], fd = info.entry.args[4];
        } else
                return -1;
        if (!(prot & PROT_EXEC) || (flags & MAP_ANONYMOUS))
                return -1;
        return (int) (uint32_t) fd;
}

/* A stop of a loader being watched. */
static enum verify_outcome watch(struct verifier *v, struct pending *p, pid_t pid, int status,
                                 struct verify_report *ret) {
        if (!WIFSTOPPED(status)) {
                done(v, p); /* gone */
                return VERIFY_PENDING;
        }
        int sig = WSTOPSIG(status);
        int resume_sig = 0;
        if (sig == (SIGTRAP | 0x80)) {
                int fd = exec_mapping_fd(pid);
                if (fd >= 0) {
                        ret->fd = fd;
                        snprintf(ret->approved, sizeof ret->approved, "%s", p->path);
                        return VERIFY_LOADED;
                }
        } else if (status >> 16 == PTRACE_EVENT_STOP) {
                if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
                        /* A job-control stop: it stays stopped until SIGCONT, which
                         * re-traps it (PTRACE_EVENT_STOP, SIGTRAP): following resumes there. */
                        (void) ptrace(PTRACE_LISTEN, pid, NULL, NULL);
                        return VERIFY_PENDING;
                }
        } else if (status >> 16 == 0)
                resume_sig = sig; /* a signal on its way: deliver it */
        (void) ptrace(PTRACE_SYSCALL, pid, NULL, (void *) (long) resume_sig);
        return VERIFY_PENDING;
}

void verifier_release(struct verifier *v, pid_t pid) {
        struct pending *p = find_mine(v, pid);
        if (p)
                done(v, p);
        (void) ptrace(PTRACE_DETACH, pid, NULL, NULL);
}

int verifier_confirm_ran(struct verifier *v, struct verify_scratch *vs, pid_t pid, const struct stat *image, const char *image_path,
                         const struct stat *interp, const char *interp_path, char *mapped, size_t size) {
        struct pending *p = find_mine(v, pid);
        if (!p) {
                kill(pid, SIGKILL); /* held and no longer known: never let go unchecked */
                return -ENOENT;
        }
        p->image = file_stamp_of(image);
        snprintf(p->path, sizeof p->path, "%s", image_path);
        p->interp_ino = interp ? interp->st_ino : 0;
        p->interp_dev = interp ? interp->st_dev : 0;
        snprintf(p->interp_path, sizeof p->interp_path, "%s", interp ? interp_path : "");
        char exe[64];
        struct stat st;
        snprintf(exe, sizeof exe, "/proc/%d/exe", (int) pid);
        int r = stat(exe, &st) < 0 ? negative_errno() : file_stamp_matches(&p->image, &st);
        if (r > 0)
                r = mappings_approved(vs, p, pid, mapped, size);
        done(v, p);
        if (r > 0)
                (void) ptrace(PTRACE_DETACH, pid, NULL, NULL);
        else
                kill(pid, SIGKILL);
        return r;
}

void verifier_kill(struct verifier *v, pid_t pid) {
        struct pending *p = find_mine(v, pid);
        if (p)
                done(v, p);
        kill(pid, SIGKILL);
}

enum verify_outcome verifier_handle(struct verifier *v, struct verify_scratch *vs, pid_t pid, int status,
                                    struct verify_report *ret) {
        if (WIFSTOPPED(status) && status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
                /* A non-leader thread that execs takes the leader's PID: the event comes for
                 * the new PID, the message says which thread we attached to. */
                unsigned long former = 0;
                if (ptrace(PTRACE_GETEVENTMSG, pid, NULL, &former) < 0)
                        former = (unsigned long) pid;
                struct pending *p = find_mine(v, (pid_t) former);
                if (!p)
                        p = find_mine(v, pid);
                if (!p) {
                        (void) ptrace(PTRACE_DETACH, pid, NULL, NULL);
                        return VERIFY_NOT_OURS;
                }

                char exe[64];
                struct stat st;
                snprintf(exe, sizeof exe, "/proc/%d/exe", (int) pid);
                /* Each check: 1 (as approved), 0 (found to be otherwise), or -errno (what it
                 * reads could not be read). The image is mapped; the program has not run one
                 * instruction. Same file, unchanged since it was judged? A file being executed
                 * cannot be written (ETXTBSY), so what is verified now is what runs. */
                int same = stat(exe, &st) < 0 ? negative_errno() : file_stamp_matches(&p->image, &st);
                /* The stamp does not prove the content (identity.h): when the content
                 * decided, it is hashed again. */
                int content = same > 0 && p->check_content ? content_approved(vs, p, pid, ret->why, sizeof ret->why) : 1;
                /* Another program than the one approved, where the kernel's choice could
                 * not be foreseen (binfmt_misc): held at its stop for the supervisor to judge
                 * (verifier_confirm_ran()), never let go unjudged. */
                if (same == 0 && p->judge_ran && !p->check_content && !p->check_args && !p->watch_loader) {
                        ssize_t n = readlink(exe, ret->ran, sizeof ret->ran - 1);
                        ret->ran[n > 0 ? n : 0] = '\0';
                        snprintf(ret->tag, sizeof ret->tag, "%s", p->tag);
                        snprintf(ret->approved, sizeof ret->approved, "%s", p->path);
                        set_tid_locked(v, p, pid);
                        return VERIFY_UNPREDICTED;
                }
                int r = same > 0 ? content : same;
                if (r > 0 && p->check_args) {
                        r = args_approved(vs, p, pid);
                        if (r <= 0)
                                snprintf(ret->mapped, sizeof ret->mapped, "%s, with other arguments than those judged",
                                         p->path);
                }
                if (r > 0)
                        r = mappings_approved(vs, p, pid, ret->mapped, sizeof ret->mapped);
                if (r > 0) {
                        if (p->watch_loader &&
                            ptrace(PTRACE_SETOPTIONS, pid, NULL,
                                   (void *) (PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD)) == 0 &&
                            ptrace(PTRACE_SYSCALL, pid, NULL, NULL) == 0) {
                                /* From now on known by its PID, which may be new. */
                                set_tid_locked(v, p, pid);
                                p->watching = true;
                                return VERIFY_PENDING;
                        }
                        if (!p->watch_loader) {
                                done(v, p);
                                (void) ptrace(PTRACE_DETACH, pid, NULL, NULL);
                                return VERIFY_CONFIRMED;
                        }
                        r = negative_errno();
                        snprintf(ret->mapped, sizeof ret->mapped, "%s (cannot follow the loader)", p->path);
                }
                /* Not verified: it is killed, whatever the reason. When what was to be read
                 * could not be, and the kernel says the task had been killed already (its
                 * parent's SIGKILL in the middle of its exec: its memory, registers and
                 * /proc/PID/exe go as it exits), nothing was found to differ and nothing runs:
                 * not a mismatch. Alive and unverifiable, it is one. */
                if (r < 0 && killed_in_stop(pid)) {
                        kill(pid, SIGKILL);
                        snprintf(ret->tag, sizeof ret->tag, "%s", p->tag);
                        snprintf(ret->approved, sizeof ret->approved, "%s", p->path);
                        snprintf(ret->why, sizeof ret->why, "%s", strerror(-r));
                        done(v, p);
                        return VERIFY_KILLED;
                }
                /* What the kernel loaded, for the record: read before the kill, while the
                 * stopped tracee still holds it. */
                ssize_t n = readlink(exe, ret->ran, sizeof ret->ran - 1);
                ret->ran[n > 0 ? n : 0] = '\0';
                kill(pid, SIGKILL);
                snprintf(ret->tag, sizeof ret->tag, "%s", p->tag);
                snprintf(ret->approved, sizeof ret->approved, "%s", p->path);
                if (same <= 0)
                        snprintf(ret->mapped, sizeof ret->mapped, "%s", ret->ran);
                done(v, p);
                return same > 0 && content <= 0 ? VERIFY_CHANGED : VERIFY_MISMATCH;
        }

        struct pending *p = find_mine(v, pid);
        if (!p)
                return VERIFY_NOT_OURS;
        if (p->watching) {
                snprintf(ret->tag, sizeof ret->tag, "%s", p->tag);
                return watch(v, p, pid, status, ret);
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
                done(v, p);
                return VERIFY_PENDING;
        }
        if (WIFSTOPPED(status)) {
                /* Stopped in the old program: the exec failed (our interrupt, or a signal
                 * that arrived first). Let go, handing back a signal it was about to get;
                 * a job-control stop stays in force after the detach. */
                int sig = WSTOPSIG(status);
                bool event_stop = status >> 16 == PTRACE_EVENT_STOP;
                done(v, p);
                (void) ptrace(PTRACE_DETACH, pid, NULL, (void *) (long) (event_stop ? 0 : sig));
        }
        return VERIFY_PENDING;
}
