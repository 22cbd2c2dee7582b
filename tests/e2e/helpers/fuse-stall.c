/* fuse-stall MOUNTPOINT [--exe FILE --hold-pid PID]: a file system that does not answer.
 * Mounts a FUSE file system of its own at MOUNTPOINT (root only; the kernel's protocol
 * spoken directly, no libfuse) whose root holds one name, "prog": a lookup of it is held,
 * never answered, until SIGUSR1 releases every held request (and all later ones) with an
 * error. SIGTERM unmounts and exits.
 *
 * With --exe, the root also holds "exe", a file with FILE's content and mode, which answers
 * everybody until it has been opened by a thread of process PID (the supervisor, judging
 * it) and then by another task (the exec it approved); from then on every request about it
 * from a thread of PID is held: the supervisor's check of what runs, at the exec stop,
 * stalls.
 *
 * Prints "ready" once mounted, and "held N" each time a request is held (N: how many are),
 * one line each, flushed, so that a test knows the stall is in place. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define HELD_MAX 256
#define EXE_NODE 2

static volatile sig_atomic_t released, stopping;

static void on_signal(int sig) {
        if (sig == SIGUSR1)
                released = 1;
        else
                stopping = 1;
}

static int fuse_fd;
static int exe_fd = -1;
static struct stat exe_st;
static pid_t hold_pid;
static bool exe_opened_by_pid;   /* by a thread of PID: the supervisor judges it */
static bool exe_opened_by_other; /* then by another task: an exec of it, approved */

static void reply(uint64_t unique, int error, const void *data, size_t size) {
        struct fuse_out_header out = { .len = (uint32_t) (sizeof out + size), .error = error, .unique = unique };
        char buf[sizeof out + 512];
        memcpy(buf, &out, sizeof out);
        if (size)
                memcpy(buf + sizeof out, data, size);
        /* ENOENT: the request was interrupted meanwhile; nothing to do. */
        (void) !write(fuse_fd, buf, sizeof out + size);
}

static void reply_data(uint64_t unique, const void *data, size_t size) {
        struct fuse_out_header out = { .len = (uint32_t) (sizeof out + size), .error = 0, .unique = unique };
        struct iovec iov[2] = { { &out, sizeof out }, { (void *) data, size } };
        (void) !writev(fuse_fd, iov, 2);
}

static void exe_attr(struct fuse_attr *a) {
        memset(a, 0, sizeof *a);
        a->ino = EXE_NODE;
        a->mode = S_IFREG | 0755;
        a->nlink = 1;
        a->size = (uint64_t) exe_st.st_size;
        a->blocks = (uint64_t) exe_st.st_blocks;
        a->mtime = (uint64_t) exe_st.st_mtim.tv_sec;
        a->mtimensec = (uint32_t) exe_st.st_mtim.tv_nsec;
        a->ctime = (uint64_t) exe_st.st_ctim.tv_sec;
        a->ctimensec = (uint32_t) exe_st.st_ctim.tv_nsec;
        a->blksize = 4096;
}

/* Is thread tid one of process pid's? */
static bool thread_of(pid_t tid, pid_t pid) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/task/%d", (int) pid, (int) tid);
        return access(path, F_OK) == 0;
}

static void root_attr(struct fuse_attr *a) {
        memset(a, 0, sizeof *a);
        a->ino = FUSE_ROOT_ID;
        a->mode = S_IFDIR | 0755;
        a->nlink = 2;
        a->blksize = 4096;
}

int main(int argc, char **argv) {
        if (argc != 2 && !(argc == 6 && strcmp(argv[2], "--exe") == 0 && strcmp(argv[4], "--hold-pid") == 0)) {
                fprintf(stderr, "usage: fuse-stall MOUNTPOINT [--exe FILE --hold-pid PID]\n");
                return 2;
        }
        if (argc == 6) {
                exe_fd = open(argv[3], O_RDONLY | O_CLOEXEC);
                if (exe_fd < 0 || fstat(exe_fd, &exe_st) < 0) {
                        perror("fuse-stall: --exe");
                        return 2;
                }
                hold_pid = (pid_t) atoi(argv[5]);
        }
        struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: a read is cut short */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGUSR1, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
        if (fuse_fd < 0) {
                perror("fuse-stall: /dev/fuse");
                return 2;
        }
        char opts[128];
        snprintf(opts, sizeof opts, "fd=%d,rootmode=40755,user_id=0,group_id=0,allow_other", fuse_fd);
        if (mount("fuse-stall", argv[1], "fuse.stall", MS_NOSUID | MS_NODEV, opts) < 0) {
                perror("fuse-stall: mount");
                return 2;
        }
        printf("ready\n");
        fflush(stdout);

        static char buf[FUSE_MIN_READ_BUFFER + 65536];
        uint64_t held[HELD_MAX];
        size_t n_held = 0;
        while (!stopping) {
                if (released && n_held) {
                        for (size_t i = 0; i < n_held; i++)
                                reply(held[i], -EIO, NULL, 0);
                        n_held = 0;
                }
                ssize_t n = read(fuse_fd, buf, sizeof buf);
                if (n < 0) {
                        if (errno == EINTR || errno == ENOENT)
                                continue;
                        break; /* ENODEV: unmounted */
                }
                if ((size_t) n < sizeof(struct fuse_in_header))
                        continue;
                const struct fuse_in_header *in = (const void *) buf;
                const char *arg = buf + sizeof *in;
                /* exe, once an exec opened it: the supervisor's requests wait. */
                if (exe_opened_by_other && in->nodeid == EXE_NODE && !released && n_held < HELD_MAX &&
                    in->opcode != FUSE_FORGET && in->opcode != FUSE_BATCH_FORGET && in->opcode != FUSE_INTERRUPT &&
                    thread_of((pid_t) in->pid, hold_pid)) {
                        held[n_held++] = in->unique;
                        printf("held %zu\n", n_held);
                        fflush(stdout);
                        continue;
                }
                switch (in->opcode) {
                case FUSE_INIT: {
                        const struct fuse_init_in *init = (const void *) arg;
                        struct fuse_init_out out = {
                                .major = FUSE_KERNEL_VERSION,
                                .minor = init->minor < FUSE_KERNEL_MINOR_VERSION ? init->minor
                                                                                 : FUSE_KERNEL_MINOR_VERSION,
                                .max_readahead = init->max_readahead,
                                .max_write = 4096,
                                .max_background = 16,
                                .congestion_threshold = 12,
                        };
                        reply(in->unique, 0, &out, sizeof out);
                        break;
                }
                case FUSE_LOOKUP:
                        if (in->nodeid == FUSE_ROOT_ID && exe_fd >= 0 && strcmp(arg, "exe") == 0) {
                                struct fuse_entry_out out = { .nodeid = EXE_NODE, .generation = 1 };
                                exe_attr(&out.attr);
                                reply(in->unique, 0, &out, sizeof out);
                        } else if (in->nodeid == FUSE_ROOT_ID && strcmp(arg, "prog") == 0 && !released &&
                                   n_held < HELD_MAX) {
                                held[n_held++] = in->unique;
                                printf("held %zu\n", n_held);
                                fflush(stdout);
                        } else
                                reply(in->unique, -ENOENT, NULL, 0);
                        break;
                case FUSE_GETATTR: {
                        struct fuse_attr_out out = {};
                        if (in->nodeid == EXE_NODE && exe_fd >= 0) {
                                exe_attr(&out.attr);
                                reply(in->unique, 0, &out, sizeof out);
                                break;
                        }
                        root_attr(&out.attr);
                        if (in->nodeid == FUSE_ROOT_ID)
                                reply(in->unique, 0, &out, sizeof out);
                        else
                                reply(in->unique, -ENOENT, NULL, 0);
                        break;
                }
                case FUSE_STATFS: {
                        struct fuse_statfs_out out = { .st = { .bsize = 4096, .namelen = 255, .frsize = 4096 } };
                        reply(in->unique, 0, &out, sizeof out);
                        break;
                }
                case FUSE_ACCESS:
                        reply(in->unique, 0, NULL, 0);
                        break;
                case FUSE_OPEN: {
                        if (in->nodeid != EXE_NODE || exe_fd < 0) {
                                reply(in->unique, -ENOENT, NULL, 0);
                                break;
                        }
                        if (thread_of((pid_t) in->pid, hold_pid))
                                exe_opened_by_pid = true;
                        else if (exe_opened_by_pid)
                                exe_opened_by_other = true;
                        struct fuse_open_out out = { .fh = 1 };
                        reply(in->unique, 0, &out, sizeof out);
                        break;
                }
                case FUSE_READ: {
                        const struct fuse_read_in *rd = (const void *) arg;
                        static char data[1 << 20];
                        size_t want = rd->size < sizeof data ? rd->size : sizeof data;
                        ssize_t got = in->nodeid == EXE_NODE ? pread(exe_fd, data, want, (off_t) rd->offset) : -1;
                        if (got < 0)
                                reply(in->unique, -EIO, NULL, 0);
                        else
                                reply_data(in->unique, data, (size_t) got);
                        break;
                }
                case FUSE_FLUSH:
                case FUSE_RELEASE:
                        reply(in->unique, 0, NULL, 0);
                        break;
                case FUSE_FORGET:
                case FUSE_BATCH_FORGET:
                case FUSE_INTERRUPT: /* a held lookup stays held: the waiter must be killed */
                        break;
                case FUSE_DESTROY:
                        stopping = 1;
                        break;
                default:
                        reply(in->unique, -ENOSYS, NULL, 0);
                }
        }
        umount2(argv[1], MNT_DETACH);
        return 0;
}
