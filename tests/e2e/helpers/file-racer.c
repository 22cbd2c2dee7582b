/* file-racer MODE OP ALLOWED PROTECTED ATTEMPTS SECONDS [LINK]: try to make the kernel
 * perform OP on PROTECTED while the supervisor approves it on ALLOWED. Each attempt forks a
 * child that performs OP once while a second thread of it keeps swapping what OP names:
 *   string   the path string itself, in memory the operating thread shares, flipped
 *            between ALLOWED and PROTECTED;
 *   symlink  a symlink LINK, renamed over between one to ALLOWED and one to PROTECTED, and
 *            OP names LINK; for unlink and rename, which act on a name and not on what it
 *            points to, LINK is a directory symlink switched between ALLOWED's directory and
 *            PROTECTED's, and OP names LINK/NAME (ALLOWED and PROTECTED must then share
 *            their last component NAME);
 *   cwd      the working directory, which a second thread chdir()s between ALLOWED's
 *            directory and PROTECTED's, and OP names NAME, relative;
 *   dirfd    the directory fd of the *at() call OP makes with NAME: dup2()ed over between
 *            ALLOWED's directory and PROTECTED's (opened O_PATH).
 *            (cwd and dirfd need the same NAME too.)
 * OP: unlink; rename (to a fresh name in ALLOWED's directory); truncate (open O_WRONLY|
 * O_TRUNC); write (open O_WRONLY, write a byte at the end); chmod (0777).
 * PROTECTED is only ever looked at: its content, size, mode, owner and inode are recorded at
 * the start and compared after every attempt; any difference, or its absence, is harm, and
 * the race stops there. OP waits for the second thread's first full swap, then for a random
 * part of two swaps' time. ALLOWED is put back (content "allowed\n", mode 0644) after every
 * attempt; that OP really happened to it is counted ("allowed done": proof that the race is
 * live, and that what the supervisor allowed was done). An attempt whose OP said success but
 * changed neither file is counted as "phantom".
 * Prints the tally, e.g. "string unlink: 2000 attempts, 0 protected harmed, 1430 allowed
 * done, 560 refused, 0 phantom, 10 other"; exits 1 if PROTECTED was harmed, 0 if not, 2 on
 * a usage or setup error. Stops after ATTEMPTS attempts or SECONDS seconds. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONTENT   65536
#define ALLOWED_BYTES "allowed\n"

enum op { OP_UNLINK, OP_RENAME, OP_TRUNCATE, OP_WRITE, OP_CHMOD };

static const char *allowed, *protected_path, *link_path;
static enum op op;
static bool dir_link; /* symlink mode, unlink and rename: LINK is a directory symlink */
static char allowed_dir[4096], protected_dir[4096], base_name[4096];
static char path_buf[4096]; /* string mode: what the operating thread passes */
static char link_target_allowed[4096], link_target_protected[4096];

/* The second thread's full swaps so far, and how long its first took: the operation waits
 * for one, then for a random part of two, so that it lands anywhere in the swapping however
 * slow a swap is (under supervision the symlink swap's own calls are trapped). */
static atomic_long cycles;
static atomic_llong cycle_ns;

static long long now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void hold(long long ns) {
        long long end = now_ns() + ns;
        while (now_ns() < end)
                ;
}

static void cycle_done(long long started) {
        if (atomic_load(&cycles) == 0)
                atomic_store(&cycle_ns, now_ns() - started);
        atomic_fetch_add(&cycles, 1);
}

static void *swap_string(void *arg) {
        (void) arg;
        size_t la = strlen(allowed) + 1, lp = strlen(protected_path) + 1;
        for (;;) {
                long long t0 = now_ns();
                memcpy(path_buf, protected_path, lp);
                for (volatile int i = 0; i < 50; i++)
                        ;
                memcpy(path_buf, allowed, la);
                /* Longer on the allowed side: most attempts should do the allowed thing, so
                 * that the tally shows the race is live and the allowed side works. */
                for (volatile int i = 0; i < 150; i++)
                        ;
                cycle_done(t0);
        }
        return NULL;
}

static void *swap_symlink(void *arg) {
        (void) arg;
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.%d", link_path, (int) getpid());
        for (;;) {
                long long t0 = now_ns();
                unlink(tmp);
                if (symlink(link_target_protected, tmp) == 0)
                        rename(tmp, link_path);
                long long t1 = now_ns();
                unlink(tmp);
                if (symlink(link_target_allowed, tmp) == 0)
                        rename(tmp, link_path);
                /* The allowed side held about twice as long as the protected one. */
                hold(now_ns() - t1);
                cycle_done(t0);
        }
        return NULL;
}

static void *swap_cwd(void *arg) {
        (void) arg;
        for (;;) {
                long long t0 = now_ns();
                if (chdir(protected_dir) < 0)
                        _exit(98);
                long long t1 = now_ns();
                for (volatile int i = 0; i < 50; i++)
                        ;
                if (chdir(allowed_dir) < 0)
                        _exit(98);
                /* The allowed side held about three times as long as the protected one. */
                hold(3 * (now_ns() - t1));
                cycle_done(t0);
        }
        return NULL;
}

#define RACE_FD 100
static int fd_allowed_dir = -1, fd_protected_dir = -1;

static void *swap_dirfd(void *arg) {
        (void) arg;
        for (;;) {
                long long t0 = now_ns();
                dup2(fd_protected_dir, RACE_FD);
                long long t1 = now_ns();
                for (volatile int i = 0; i < 50; i++)
                        ;
                dup2(fd_allowed_dir, RACE_FD);
                hold(3 * (now_ns() - t1));
                cycle_done(t0);
        }
        return NULL;
}

static void moved_name(char *buf, size_t size, pid_t pid) {
        snprintf(buf, size, "%s/.file-racer-moved.%d", allowed_dir, (int) pid);
}

/* The child: OP once on what the second thread keeps swapping. Exits 0 on success, 100 +
 * errno on failure. */
static _Noreturn void attempt(const char *mode) {
        pthread_t t;
        char named[8300], moved[4200];
        const char *path;
        int at = AT_FDCWD; /* the dirfd of the *at() call, or AT_FDCWD: the plain call */

        if (strcmp(mode, "string") == 0) {
                memcpy(path_buf, allowed, strlen(allowed) + 1);
                if (pthread_create(&t, NULL, swap_string, NULL) != 0)
                        _exit(99);
                path = path_buf;
        } else if (strcmp(mode, "cwd") == 0) {
                if (chdir(allowed_dir) < 0 || pthread_create(&t, NULL, swap_cwd, NULL) != 0)
                        _exit(99);
                path = base_name;
        } else if (strcmp(mode, "dirfd") == 0) {
                fd_allowed_dir = open(allowed_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                fd_protected_dir = open(protected_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd_allowed_dir < 0 || fd_protected_dir < 0 || dup2(fd_allowed_dir, RACE_FD) < 0 ||
                    pthread_create(&t, NULL, swap_dirfd, NULL) != 0)
                        _exit(99);
                at = RACE_FD;
                path = base_name;
        } else {
                if (pthread_create(&t, NULL, swap_symlink, NULL) != 0)
                        _exit(99);
                if (dir_link) {
                        snprintf(named, sizeof named, "%s/%s", link_path, base_name);
                        path = named;
                } else {
                        path = link_path;
                }
        }
        while (atomic_load(&cycles) < 1)
                ;
        unsigned seed = (unsigned) getpid() ^ (unsigned) now_ns();
        hold(rand_r(&seed) % (2 * atomic_load(&cycle_ns) + 1));

        int r, fd;
        switch (op) {
        case OP_UNLINK:
                r = at == AT_FDCWD ? unlink(path) : unlinkat(at, path, 0);
                break;
        case OP_RENAME:
                moved_name(moved, sizeof moved, getpid());
                r = at == AT_FDCWD ? rename(path, moved) : renameat(at, path, AT_FDCWD, moved);
                break;
        case OP_TRUNCATE:
                fd = openat(at, path, O_WRONLY | O_TRUNC | O_CLOEXEC);
                r = fd < 0 ? -1 : 0;
                break;
        case OP_WRITE:
                fd = openat(at, path, O_WRONLY | O_CLOEXEC);
                r = fd < 0 ? -1 : 0;
                if (r == 0 && (lseek(fd, 0, SEEK_END) < 0 || write(fd, "!", 1) != 1))
                        r = -1;
                break;
        case OP_CHMOD:
                r = at == AT_FDCWD ? chmod(path, 0777) : fchmodat(at, path, 0777, 0);
                break;
        default:
                _exit(99);
        }
        _exit(r == 0 ? 0 : 100 + errno);
}

struct snapshot {
        struct stat st;
        size_t size;
        char content[MAX_CONTENT];
};

/* 0 and the file's state, or -errno. */
static int take_snapshot(const char *path, struct snapshot *s) {
        if (lstat(path, &s->st) < 0)
                return -errno;
        if (!S_ISREG(s->st.st_mode) || s->st.st_size > MAX_CONTENT)
                return -EINVAL;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        ssize_t n = read(fd, s->content, sizeof s->content);
        int e = errno;
        close(fd);
        if (n < 0)
                return -e;
        s->size = (size_t) n;
        return 0;
}

static struct snapshot original, now_snap;

static bool protected_harmed(void) {
        if (take_snapshot(protected_path, &now_snap) < 0)
                return true;
        return now_snap.st.st_dev != original.st.st_dev || now_snap.st.st_ino != original.st.st_ino ||
               now_snap.st.st_mode != original.st.st_mode || now_snap.st.st_uid != original.st.st_uid ||
               now_snap.st.st_gid != original.st.st_gid || now_snap.st.st_size != original.st.st_size ||
               now_snap.size != original.size || memcmp(now_snap.content, original.content, original.size) != 0;
}

/* Whether OP was done to ALLOWED (before it is put back). */
static bool allowed_done(pid_t pid) {
        struct stat st;
        char moved[4200];

        switch (op) {
        case OP_UNLINK:
                return lstat(allowed, &st) < 0 && errno == ENOENT;
        case OP_RENAME:
                moved_name(moved, sizeof moved, pid);
                return lstat(allowed, &st) < 0 && errno == ENOENT && lstat(moved, &st) == 0 && S_ISREG(st.st_mode);
        case OP_TRUNCATE:
                return lstat(allowed, &st) == 0 && st.st_size == 0;
        case OP_WRITE:
                return lstat(allowed, &st) == 0 && st.st_size == (off_t) strlen(ALLOWED_BYTES) + 1;
        case OP_CHMOD:
                return lstat(allowed, &st) == 0 && (st.st_mode & 07777) == 0777;
        default:
                return false;
        }
}

static int restore_allowed(pid_t pid) {
        char moved[4200];
        moved_name(moved, sizeof moved, pid);
        unlink(moved);
        int fd = open(allowed, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        int r = 0;
        if (write(fd, ALLOWED_BYTES, strlen(ALLOWED_BYTES)) != (ssize_t) strlen(ALLOWED_BYTES) || fchmod(fd, 0644) < 0)
                r = -EIO;
        close(fd);
        return r;
}

static void split(const char *path, char *dir, char *base) {
        const char *slash = strrchr(path, '/');
        if (!slash) {
                strcpy(dir, ".");
                strcpy(base, path);
        } else {
                size_t n = slash == path ? 1 : (size_t) (slash - path);
                memcpy(dir, path, n);
                dir[n] = '\0';
                strcpy(base, slash + 1);
        }
}

static int parse_op(const char *s) {
        static const char *const names[] = { "unlink", "rename", "truncate", "write", "chmod" };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (strcmp(s, names[i]) == 0)
                        return (int) i;
        return -1;
}

int main(int argc, char **argv) {
        if (argc < 7) {
                fprintf(stderr, "usage: file-racer string|symlink|cwd|dirfd unlink|rename|truncate|write|chmod ALLOWED "
                                "PROTECTED ATTEMPTS SECONDS [LINK]\n");
                return 2;
        }
        const char *mode = argv[1];
        int o = parse_op(argv[2]);
        allowed = argv[3];
        protected_path = argv[4];
        long attempts = atol(argv[5]);
        double seconds = atof(argv[6]);
        link_path = argc > 7 ? argv[7] : NULL;
        bool symlink_mode = strcmp(mode, "symlink") == 0;
        bool dir_mode = strcmp(mode, "cwd") == 0 || strcmp(mode, "dirfd") == 0;
        if (o < 0 || (!symlink_mode && !dir_mode && strcmp(mode, "string") != 0) || (symlink_mode && !link_path) ||
            strlen(allowed) >= 4000 || strlen(protected_path) >= 4000 || (link_path && strlen(link_path) >= 4000)) {
                fprintf(stderr, "file-racer: bad arguments\n");
                return 2;
        }
        op = (enum op) o;

        char protected_base[4096];
        split(allowed, allowed_dir, base_name);
        split(protected_path, protected_dir, protected_base);
        dir_link = symlink_mode && (op == OP_UNLINK || op == OP_RENAME);
        if ((dir_link || dir_mode) && strcmp(base_name, protected_base) != 0) {
                fprintf(stderr, "file-racer: %s %s needs ALLOWED and PROTECTED of the same name\n", mode, argv[2]);
                return 2;
        }
        strcpy(link_target_allowed, dir_link ? allowed_dir : allowed);
        strcpy(link_target_protected, dir_link ? protected_dir : protected_path);

        int r = take_snapshot(protected_path, &original);
        if (r < 0) {
                fprintf(stderr, "file-racer: cannot read %s: %s\n", protected_path, strerror(-r));
                return 2;
        }
        if ((op == OP_CHMOD && (original.st.st_mode & 07777) == 0777) || (op == OP_TRUNCATE && original.size == 0)) {
                fprintf(stderr, "file-racer: %s would not show the harm of %s\n", protected_path, argv[2]);
                return 2;
        }
        r = restore_allowed(0);
        if (r < 0) {
                fprintf(stderr, "file-racer: cannot write %s: %s\n", allowed, strerror(-r));
                return 2;
        }
        if (symlink_mode) {
                /* LINK starts out naming the allowed side. */
                if ((unlink(link_path) < 0 && errno != ENOENT) || symlink(link_target_allowed, link_path) < 0) {
                        fprintf(stderr, "file-racer: cannot make %s: %m\n", link_path);
                        return 2;
                }
        }

        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        long n = 0, harmed = 0, done = 0, refused = 0, phantom = 0, other = 0;
        for (; n < attempts; n++) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                if ((double) (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 > seconds)
                        break;
                pid_t pid = fork();
                if (pid == 0)
                        attempt(mode);
                int status;
                if (pid < 0 || waitpid(pid, &status, 0) != pid)
                        return 2;
                if (symlink_mode) {
                        char tmp[4200];
                        snprintf(tmp, sizeof tmp, "%s.%d", link_path, (int) pid);
                        unlink(tmp);
                }
                bool harm = protected_harmed(), did = allowed_done(pid);
                if (harm)
                        harmed++;
                if (did)
                        done++;
                if (WIFEXITED(status) && WEXITSTATUS(status) == 100 + EACCES)
                        refused++;
                else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !harm && !did)
                        phantom++;
                else if (!harm && !did)
                        other++;
                if (harm) {
                        n++;
                        break;
                }
                r = restore_allowed(pid);
                if (r < 0) {
                        fprintf(stderr, "file-racer: cannot put back %s: %s\n", allowed, strerror(-r));
                        return 2;
                }
        }
        printf("%s %s: %ld attempts, %ld protected harmed, %ld allowed done, %ld refused, %ld phantom, %ld other\n",
               mode, argv[2], n, harmed, done, refused, phantom, other);
        return harmed > 0 ? 1 : 0;
}
