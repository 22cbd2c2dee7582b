#include "kverify.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "elf.h"
#include "kverify.skel.h"
#include "kverify_abi.h"
#include "log.h"
#include "valgrind.h"

#define BPF_FS          "/sys/fs/bpf"
#define PIN_ROOT        BPF_FS "/execguard"
#define BPF_FS_MAGIC_   0xcafe4a11u
#define RECENT_MAX      256  /* approvals remembered for the report of a kill */
#define RECENT_PATH_MAX 1024 /* of the path approved: longer ones are cut, said with "..." */
#define FS_MAX          16   /* devices whose file system was looked at */

/* What an approval was for, to say in the record of a kill. */
struct recent {
        uint64_t seq;
        char path[RECENT_PATH_MAX];
};

struct kverifier {
        /* Guards seq, recent and fs: approvals are made by deciders of several threads. */
        pthread_mutex_t lock;
        struct kverify_bpf *skel;
        struct ring_buffer *reports;
        int approvals_fd, expected_fd, lost_fd;
        char pin_dir[128]; /* where the engine is pinned, "" if it is not */
        uint64_t lost;     /* reports the program could not send, as last read */
        uint64_t seq;
        struct {
                dev_t dev;
                bool covered;
        } fs[FS_MAX];
        unsigned n_fs;
        /* The drain's callback, while it runs. */
        void (*on_kill)(const struct kverify_kill *kill, void *data);
        void *on_kill_data;
        int killed;
        struct recent recent[RECENT_MAX];
};

/* File systems whose stat(2) device is their superblock's s_dev, the device the program
 * reads (btrfs reports a subvolume's anonymous device, overlayfs a layer's). */
static bool fs_reports_its_dev(long type) {
        switch ((unsigned long) type) {
        case 0xEF53:     /* ext2, ext3, ext4 */
        case 0x58465342: /* xfs */
        case 0x01021994: /* tmpfs */
        case 0x858458f6: /* ramfs */
        case 0x73717368: /* squashfs */
        case 0xE0F5E1E2: /* erofs */
        case 0xF2F52010: /* f2fs */
                return true;
        default:
                return false;
        }
}

/* dev_t as the kernel encodes it inside (MKDEV: major << 20 | minor), not as stat(2) does. */
static uint32_t kernel_dev(dev_t dev) {
        return (uint32_t) (major(dev) << 20 | minor(dev));
}

static struct kverify_file file_of(const struct stat *st, uint32_t flags) {
        return (struct kverify_file){
                .ino = st->st_ino,
                .size = (uint64_t) st->st_size,
                .mtime_sec = st->st_mtim.tv_sec,
                .mtime_nsec = (uint32_t) st->st_mtim.tv_nsec,
                .ctime_sec = st->st_ctim.tv_sec,
                .ctime_nsec = (uint32_t) st->st_ctim.tv_nsec,
                .dev = kernel_dev(st->st_dev),
                .flags = flags,
        };
}

static int known_fs(struct kverifier *k, dev_t dev) {
        int known = -1;
        pthread_mutex_lock(&k->lock);
        for (unsigned i = 0; i < k->n_fs && known < 0; i++)
                if (k->fs[i].dev == dev)
                        known = k->fs[i].covered;
        pthread_mutex_unlock(&k->lock);
        return known;
}

bool kverifier_covers(struct kverifier *k, const struct stat *st, int fd) {
        int known = known_fs(k, st->st_dev);
        if (known >= 0)
                return known;
        struct statfs sfs;
        if (fstatfs(fd, &sfs) < 0)
                return false;
        bool covered = fs_reports_its_dev(sfs.f_type);
        /* Remembered for block devices only: anonymous device numbers (major 0: tmpfs,
         * overlayfs layers, btrfs subvolumes) are handed out again as file systems come and
         * go, to a file system of another kind. */
        pthread_mutex_lock(&k->lock);
        if (major(st->st_dev) != 0 && k->n_fs < FS_MAX) {
                k->fs[k->n_fs].dev = st->st_dev;
                k->fs[k->n_fs++].covered = covered;
        }
        pthread_mutex_unlock(&k->lock);
        return covered;
}

static int store(struct kverifier *k, int pidfd, pid_t tid, const struct kverify_approval *a) {
        /* The approval first: the program kills an expected exec whose approval it cannot
         * find, never the other way round. */
        if (bpf_map_update_elem(k->approvals_fd, &pidfd, a, BPF_ANY) < 0)
                return negative_errno();
        uint32_t key = (uint32_t) tid;
        if (bpf_map_update_elem(k->expected_fd, &key, &a->seq, BPF_ANY) < 0)
                return negative_errno();
        return 0;
}

int kverifier_approve(struct kverifier *k, int pidfd, pid_t tid, const struct stat *image, const char *image_path,
                      const struct stat *interp, const char *tag) {
        pthread_mutex_lock(&k->lock);
        struct kverify_approval a = {
                .seq = ++k->seq,
                .image = file_of(image, 0),
        };
        pthread_mutex_unlock(&k->lock);
        snprintf(a.tag, sizeof a.tag, "%s", tag ? tag : "");
        if (interp)
                a.interp = file_of(interp, KVERIFY_FILE_ID_ONLY);
        int r = store(k, pidfd, tid, &a);
        if (r < 0) {
                kverifier_withdraw(k, tid);
                return r;
        }
        pthread_mutex_lock(&k->lock);
        struct recent *rec = &k->recent[a.seq % RECENT_MAX];
        rec->seq = a.seq;
        if (snprintf(rec->path, sizeof rec->path, "%s", image_path) >= (int) sizeof rec->path)
                memcpy(rec->path + sizeof rec->path - 4, "...", 4);
        pthread_mutex_unlock(&k->lock);
        return 0;
}

void kverifier_withdraw(struct kverifier *k, pid_t tid) {
        uint32_t key = (uint32_t) tid;
        if (bpf_map_delete_elem(k->expected_fd, &key) < 0 && errno != ENOENT)
                log_warning_errno(negative_errno(), "Cannot withdraw the approval of %d's exec: %m", (int) tid);
}

static const char *reason_text(uint32_t reason) {
        switch (reason) {
        case KVERIFY_NO_APPROVAL:
                return "its approval could not be found";
        case KVERIFY_STALE:
                return "the approval found was another exec's";
        case KVERIFY_IMAGE:
                return "the kernel ran another file than the one approved";
        case KVERIFY_CHANGED:
                return "the file approved was changed after it was judged";
        case KVERIFY_INTERP:
                return "the kernel mapped another ELF interpreter than the one approved";
        case KVERIFY_NO_INTERP:
                return "the program ran without the ELF interpreter approved";
        case KVERIFY_UNREADABLE:
                return "the ELF interpreter mapped could not be read";
        default:
                return "unknown";
        }
}

static int on_report(void *ctx, void *data, size_t size) {
        struct kverifier *k = ctx;
        if (size < sizeof(struct kverify_report))
                return 0;
        const struct kverify_report *rep = data;
        struct kverify_kill kill = {
                .pid = (pid_t) rep->pid,
                .ppid = (pid_t) rep->ppid,
                .uid = rep->uid,
                .euid = rep->euid,
                .auid = rep->auid,
                .audit_session = rep->audit_session,
                .why = reason_text(rep->reason),
                .signal_failed = rep->signal_error != 0,
        };
        if (kill.signal_failed) {
                /* Never seen: SIGKILL to oneself does not fail. Late, but never let run. */
                int pidfd = (int) syscall_fd4(SYS_pidfd_open, kill.pid, 0, 0, 0);
                if (pidfd >= 0) {
                        (void) syscall_fd4(SYS_pidfd_send_signal, pidfd, SIGKILL, 0, 0);
                        safe_close(pidfd);
                }
        }
        snprintf(kill.tag, sizeof kill.tag, "%.*s", (int) sizeof rep->tag, rep->tag);
        pthread_mutex_lock(&k->lock);
        const struct recent *rec = &k->recent[rep->seq % RECENT_MAX];
        bool known = rec->seq == rep->seq;
        if (known)
                snprintf(kill.approved, sizeof kill.approved, "%s", rec->path);
        pthread_mutex_unlock(&k->lock);
        if (!known)
                snprintf(kill.approved, sizeof kill.approved, "(device %u:%u, inode %llu)", rep->approved_dev >> 20,
                         rep->approved_dev & ((1u << 20) - 1), (unsigned long long) rep->approved_ino);
        snprintf(kill.ran_name, sizeof kill.ran_name, "%.*s", (int) sizeof rep->filename, rep->filename);
        snprintf(kill.ran, sizeof kill.ran, "%s (device %u:%u, inode %llu)", kill.ran_name, rep->ran.dev >> 20,
                 rep->ran.dev & ((1u << 20) - 1), (unsigned long long) rep->ran.ino);
        k->killed++;
        log_debug("Kernel engine: killed %d, %s: ran %s, approved '%s'", (int) kill.pid, kill.why, kill.ran,
                  kill.approved);
        if (k->on_kill)
                k->on_kill(&kill, k->on_kill_data);
        return 0;
}

int kverifier_drain(struct kverifier *k, void (*fn)(const struct kverify_kill *kill, void *data), void *data) {
        k->on_kill = fn;
        k->on_kill_data = data;
        k->killed = 0;
        int r = ring_buffer__consume(k->reports);
        k->on_kill = NULL;
        if (r < 0)
                return r;
        /* A flood of mismatches can fill the ring: those execs were killed all the same, and
         * their number is said, as a kill of its own, with what is known: nothing. */
        uint32_t zero = 0;
        uint64_t lost = 0;
        if (bpf_map_lookup_elem(k->lost_fd, &zero, &lost) == 0 && lost > k->lost) {
                struct kverify_kill kill = {
                        .pid = 0,
                        .auid = (uid_t) -1,
                        .audit_session = UINT32_MAX,
                        .why = "its report was lost (the ring was full)",
                };
                snprintf(kill.ran, sizeof kill.ran, "%llu execs not reported", (unsigned long long) (lost - k->lost));
                k->lost = lost;
                k->killed++;
                if (fn)
                        fn(&kill, data);
        }
        return k->killed;
}

int kverifier_fd(const struct kverifier *k) {
        return ring_buffer__epoll_fd(k->reports);
}

/* ---- Pinned: the engine outlives its supervisor -------------------------------------------
 * A program and its maps live as long as something holds them. Held only by the
 * supervisor's fds, they would go with it, and an exec it had approved and that is still
 * on its way (a lookup held up by a file system that stalls) would meet no check at all:
 * the ptrace check has PTRACE_O_EXITKILL for that, the kernel engine has its pins. Each
 * supervisor's engine is pinned in PIN_ROOT/PID-START; a supervisor that ends removes its
 * own once no approved exec is left to check, and each that starts removes those of
 * supervisors that are gone and have none left. */

/* A process's start time (field 22 of /proc/PID/stat), which with its PID names it. */
static int process_start(pid_t pid, unsigned long long *ret) {
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return -ESRCH;
        buf[n] = '\0';
        const char *s = strrchr(buf, ')'); /* the command name may hold anything */
        for (int field = 2; s && field < 22; field++)
                s = strchr(s + 1, ' ');
        if (!s || sscanf(s + 1, "%llu", ret) != 1)
                return -EIO;
        return 0;
}

static bool expected_empty(int fd) {
        uint32_t key;
        return bpf_map_get_next_key(fd, NULL, &key) < 0 && errno == ENOENT;
}

static void remove_pins(const char *dir) {
        DIR *d = opendir(dir);
        if (d) {
                for (struct dirent *e; (e = readdir(d));)
                        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                                (void) unlinkat(dirfd(d), e->d_name, 0);
                closedir(d);
        }
        if (rmdir(dir) < 0 && errno != ENOENT)
                log_warning_errno(negative_errno(), "Cannot remove %s: %m", dir);
}

/* Remove the engines of supervisors that are gone and have no exec left to check. */
static void sweep(const char *own) {
        DIR *d = opendir(PIN_ROOT);
        if (!d)
                return;
        for (struct dirent *e; (e = readdir(d));) {
                int pid;
                unsigned long long start, now;
                char dir[sizeof PIN_ROOT + 300], path[sizeof dir + 16];
                if (sscanf(e->d_name, "%d-%llu", &pid, &start) != 2)
                        continue;
                snprintf(dir, sizeof dir, "%s/%s", PIN_ROOT, e->d_name);
                if (strcmp(dir, own) == 0 || (process_start(pid, &now) == 0 && now == start))
                        continue;
                snprintf(path, sizeof path, "%s/expected", dir);
                _cleanup_close_ int fd = bpf_obj_get(path);
                if (fd >= 0 && !expected_empty(fd)) {
                        log_info("The kernel engine of a supervisor that is gone (%s) still has execs to check: kept",
                                 dir);
                        continue;
                }
                log_debug("Removing the kernel engine of a supervisor that is gone: %s", dir);
                remove_pins(dir);
        }
        closedir(d);
}

static int pin(struct kverifier *k, char *why, size_t why_size) {
        struct statfs sfs;
        /* Where systemd has not mounted it, as bpftool does. */
        if ((statfs(BPF_FS, &sfs) < 0 || (unsigned long) sfs.f_type != BPF_FS_MAGIC_) &&
            mount("bpf", BPF_FS, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0) {
                snprintf(why, why_size, "no BPF file system at %s to keep it in beyond the supervisor: %s", BPF_FS,
                         strerror(errno));
                return -ENOTSUP;
        }
        unsigned long long start;
        int r = process_start(getpid(), &start);
        if (r < 0) {
                snprintf(why, why_size, "cannot read our own start time: %s", strerror(-r));
                return r;
        }
        if (mkdir(PIN_ROOT, 0700) < 0 && errno != EEXIST) {
                snprintf(why, why_size, "cannot create %s: %s", PIN_ROOT, strerror(errno));
                return negative_errno();
        }
        snprintf(k->pin_dir, sizeof k->pin_dir, "%s/%d-%llu", PIN_ROOT, (int) getpid(), start);
        if (mkdir(k->pin_dir, 0700) < 0) {
                r = negative_errno();
                snprintf(why, why_size, "cannot create %s: %s", k->pin_dir, strerror(-r));
                k->pin_dir[0] = '\0';
                return r;
        }
        const struct {
                struct bpf_link *link;
                const char *name;
        } links[] = {
                { k->skel->links.kverify_exec, "exec" },
                { k->skel->links.kverify_exit, "exit" },
        };
        char path[sizeof k->pin_dir + 32];
        for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                if (!links[i].link)
                        continue;
                snprintf(path, sizeof path, "%s/%s", k->pin_dir, links[i].name);
                r = bpf_link__pin(links[i].link, path);
                if (r < 0) {
                        snprintf(why, why_size, "cannot pin it in %s: %s", path, strerror(-r));
                        return r;
                }
        }
        snprintf(path, sizeof path, "%s/expected", k->pin_dir);
        r = bpf_map__pin(k->skel->maps.expected, path);
        if (r < 0) {
                snprintf(why, why_size, "cannot pin it in %s: %s", path, strerror(-r));
                return r;
        }
        return 0;
}

/* The initial PID namespace has a fixed inode number (PROC_PID_INIT_INO). */
static bool in_initial_pid_namespace(void) {
        struct stat st;
        return stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == 0xEFFFFFFCu;
}

/* libbpf's own messages: ours at debug level, so that -v shows why a load failed. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap) {
        if (level == LIBBPF_DEBUG)
                return 0;
        char msg[512];
        vsnprintf(msg, sizeof msg, fmt, ap);
        msg[strcspn(msg, "\n")] = '\0';
        log_debug("libbpf: %s", msg);
        return 0;
}

/* One canary: a child of ours execs our own program (`--version`), approved as
 * what it is (truthful) or as another file. Returns its wait status, or -errno. */
static int canary(struct kverifier *k, bool truthful) {
        _cleanup_close_ int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        struct stat image, interp;
        char interp_path[EG_PATH_MAX];
        if (exe < 0 || fstat(exe, &image) < 0)
                return negative_errno();
        int r = elf_interpreter(exe, interp_path, sizeof interp_path);
        if (r < 0)
                return r;
        bool has_interp = r > 0;
        if (has_interp && stat(interp_path, &interp) < 0)
                return negative_errno();
        int gate[2];
        if (pipe2(gate, O_CLOEXEC) < 0)
                return negative_errno();
        pid_t pid = fork();
        if (pid < 0) {
                r = negative_errno();
                safe_close(gate[0]);
                safe_close(gate[1]);
                return r;
        }
        if (pid == 0) {
                char go;
                safe_close(gate[1]);
                if (read(gate[0], &go, 1) != 1)
                        _exit(126);
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null < 0 || dup2(null, STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0)
                        _exit(126);
                char *argv[] = { (char *) "execguard", (char *) "--version", NULL };
                char *envp[] = { NULL };
                fexecve(exe, argv, envp);
                _exit(127);
        }
        safe_close(gate[0]);
        int pidfd = (int) syscall_fd4(SYS_pidfd_open, pid, 0, 0, 0);
        r = pidfd < 0 ? negative_errno() : 0;
        if (r >= 0) {
                if (!truthful)
                        image.st_ino ^= 1; /* another file */
                r = kverifier_approve(k, pidfd, pid, &image, "canary", has_interp ? &interp : NULL, "canary");
                safe_close(pidfd);
        }
        /* Without an approval the child must not exec at all: it exits when the gate
         * closes unopened. */
        if (r >= 0 && write(gate[1], "x", 1) != 1)
                r = negative_errno();
        safe_close(gate[1]);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        kverifier_withdraw(k, pid);
        return r < 0 ? r : status;
}

static void ignore_kill(const struct kverify_kill *kill, void *data) {
        (void) kill, (void) data;
}

/* The engine is trusted only once it has refused a mismatch and let the truth run. */
static int prove(struct kverifier *k, char *why, size_t why_size) {
        /* The canaries exec our own program: on a file system the engine does not cover
         * (kverifier_covers()), it would tell nothing. */
        struct stat st;
        _cleanup_close_ int exe = open("/proc/self/exe", O_PATH | O_CLOEXEC);
        if (exe < 0 || fstat(exe, &st) < 0 || !kverifier_covers(k, &st, exe)) {
                snprintf(why, why_size,
                         "our own program, its canary, lies on a file system whose stat(2) device is not the "
                         "kernel's (btrfs, overlayfs)");
                return -EOPNOTSUPP;
        }
        int status = canary(k, false);
        if (status < 0) {
                snprintf(why, why_size, "its canary could not run: %s", strerror(-status));
                return status;
        }
        int killed = kverifier_drain(k, ignore_kill, NULL);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL || killed != 1) {
                snprintf(why, why_size, "it let a canary approved as another file run (status %#x, %d reports)",
                         (unsigned) status, killed);
                return -EPERM;
        }
        status = canary(k, true);
        if (status < 0) {
                snprintf(why, why_size, "its canary could not run: %s", strerror(-status));
                return status;
        }
        killed = kverifier_drain(k, ignore_kill, NULL);
        /* Whatever our program makes of --version (the benchmark's floor links this too):
         * it ran, and was not killed. */
        if (!WIFEXITED(status) || killed != 0) {
                snprintf(why, why_size, "it killed a canary approved as itself (status %#x)", (unsigned) status);
                return -EPERM;
        }
        return 0;
}

int kverifier_open(struct kverifier **ret, char *why, size_t why_size) {
        if (getuid() != 0 || geteuid() != 0) {
                snprintf(why, why_size, "only a supervisor running as root loads it");
                return -EPERM;
        }
        /* Exec'ing threads are named to the program by their ID in the initial PID
         * namespace, as notifications name them to a supervisor there. */
        if (!in_initial_pid_namespace()) {
                snprintf(why, why_size, "the supervisor is not in the initial PID namespace");
                return -EOPNOTSUPP;
        }
        if (under_valgrind()) {
                snprintf(why, why_size, "not under valgrind, which does not run BPF");
                return -ENOSYS;
        }
        libbpf_set_print(libbpf_print);
        _cleanup_(kverifier_freep) struct kverifier *k = calloc(1, sizeof *k);
        if (!k)
                return -ENOMEM;
        pthread_mutex_init(&k->lock, NULL);
        /* Every page of the ring of recent approvals now, so that the supervisor's memory
         * does not grow as it is first filled. */
        for (size_t i = 0; i < RECENT_MAX; i++)
                ((volatile struct recent *) &k->recent[i])->seq = 0;
        k->skel = kverify_bpf__open_and_load();
        if (!k->skel) {
                int r = negative_errno();
                snprintf(why, why_size,
                         "the BPF program did not load: %s (needs BTF, task storage, bpf_find_vma, split inode "
                         "times: Linux >= 6.11)",
                         strerror(-r));
                return r;
        }
        int r = kverify_bpf__attach(k->skel);
        if (r < 0) {
                snprintf(why, why_size, "the BPF program did not attach: %s", strerror(-r));
                return r;
        }
        k->approvals_fd = bpf_map__fd(k->skel->maps.approvals);
        k->expected_fd = bpf_map__fd(k->skel->maps.expected);
        k->lost_fd = bpf_map__fd(k->skel->maps.lost);
        k->reports = ring_buffer__new(bpf_map__fd(k->skel->maps.reports), on_report, k, NULL);
        if (!k->reports) {
                r = negative_errno();
                snprintf(why, why_size, "its reports cannot be read: %s", strerror(-r));
                return r;
        }
        /* A thread pidfd (PIDFD_THREAD, Linux 6.9) names a thread that is not a leader. */
        int pidfd = (int) syscall_fd4(SYS_pidfd_open, getpid(), O_EXCL, 0, 0);
        if (pidfd < 0) {
                r = negative_errno();
                snprintf(why, why_size, "pidfd_open(PIDFD_THREAD) failed: %s (Linux >= 6.9)", strerror(-r));
                return r;
        }
        safe_close(pidfd);
        r = pin(k, why, why_size);
        if (r < 0)
                return r;
        r = prove(k, why, why_size);
        if (r < 0)
                return r;
        sweep(k->pin_dir);
        *ret = TAKE_PTR(k);
        return 0;
}

void kverifier_free(struct kverifier *k) {
        if (!k)
                return;
        if (k->pin_dir[0]) {
                if (k->skel && !expected_empty(k->expected_fd))
                        log_info("Execs approved and not yet checked remain: the kernel engine stays pinned in %s "
                                 "for them",
                                 k->pin_dir);
                else
                        remove_pins(k->pin_dir);
        }
        ring_buffer__free(k->reports);
        kverify_bpf__destroy(k->skel);
        pthread_mutex_destroy(&k->lock);
        free(k);
}
