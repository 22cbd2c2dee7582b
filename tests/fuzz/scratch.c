/* The fuzzers' containment, scratch tree and subject processes: see fuzz.h. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"
#include "util.h"

void fuzz_fail(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "fuzz: ");
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        abort();
}

static bool contained;

void fuzz_contain(void) {
        if (contained || geteuid() != 0)
                return;
        /* Private propagation first: nothing mounted below may reach the host's namespace. */
        if (unshare(CLONE_NEWNS) < 0)
                fuzz_fail("unshare(CLONE_NEWNS): %m (a root fuzzer must run contained)");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                fuzz_fail("making / private: %m");
        /* subset=pid (Linux 5.8): /proc/PID and self only; no kmsg, sys, sysrq-trigger. */
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "subset=pid") < 0)
                fuzz_fail("mounting a pid-only /proc: %m");
        if (mount("tmpfs", "/sys", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555") < 0)
                fuzz_fail("hiding /sys: %m");
        contained = true;
}

/* ---- the scratch tree ------------------------------------------------------------------ */

static char scratch[PATH_MAX];
static int scratch_fd = -1;

struct view {
        pid_t pid;
        int sock; /* requests to the view's process */
        bool started;
        struct exec_context ctx;
};
static struct view views[FUZZ_VIEWS];

/* The fds every view holds (opened before the views are forked, so the numbers agree). */
enum {
        HELD_SCRATCH,
        HELD_DIR,
        HELD_EXE,
        HELD_SCRIPT,
        HELD_SYMLINK,
        HELD_MEMFD,
        HELD_DELETED,
        HELD_N,
};
static int held[HELD_N];

static void put_file(const char *name, const void *content, size_t len, mode_t mode) {
        _cleanup_close_ int fd = openat(scratch_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 || write(fd, content, len) != (ssize_t) len || fchmod(fd, mode) < 0)
                fuzz_fail("creating %s/%s: %m", scratch, name);
}

static void put_text(const char *name, const char *text) {
        put_file(name, text, strlen(text), 0755);
}

static void put_link(const char *name, const char *target) {
        if (symlinkat(target, scratch_fd, name) < 0)
                fuzz_fail("symlink %s/%s: %m", scratch, name);
}

static void put_dir(const char *name) {
        if (mkdirat(scratch_fd, name, 0755) < 0)
                fuzz_fail("mkdir %s/%s: %m", scratch, name);
}

/* The smallest ELF file whose headers the kernel (and elf.c) read: one PT_INTERP entry
 * naming interp (NULL: no entry, a static program), NUL-terminated unless cut. */
static size_t make_elf(unsigned char *buf, size_t size, bool is64, const char *interp, bool cut) {
        size_t ilen = interp ? strlen(interp) + (cut ? 0 : 1) : 0;
        size_t ehsize = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
        size_t phsize = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
        size_t total = ehsize + phsize + ilen;
        if (total > size)
                fuzz_fail("ELF buffer too small");
        memset(buf, 0, total);
        memcpy(buf, ELFMAG, SELFMAG);
        buf[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
        buf[EI_DATA] = ELFDATA2LSB;
        buf[EI_VERSION] = EV_CURRENT;
        uint32_t type = interp ? PT_INTERP : PT_LOAD;
        if (is64) {
                Elf64_Ehdr eh = { .e_type = ET_DYN, .e_machine = EM_X86_64, .e_version = EV_CURRENT };
                memcpy(eh.e_ident, buf, EI_NIDENT);
                eh.e_phoff = ehsize;
                eh.e_ehsize = (uint16_t) ehsize;
                eh.e_phentsize = (uint16_t) phsize;
                eh.e_phnum = 1;
                Elf64_Phdr ph = { .p_type = type, .p_offset = ehsize + phsize, .p_filesz = ilen };
                memcpy(buf, &eh, sizeof eh);
                memcpy(buf + ehsize, &ph, sizeof ph);
        } else {
                Elf32_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT };
                memcpy(eh.e_ident, buf, EI_NIDENT);
                eh.e_phoff = (uint32_t) ehsize;
                eh.e_ehsize = (uint16_t) ehsize;
                eh.e_phentsize = (uint16_t) phsize;
                eh.e_phnum = 1;
                Elf32_Phdr ph = { .p_type = type,
                                  .p_offset = (uint32_t) (ehsize + phsize),
                                  .p_filesz = (uint32_t) ilen };
                memcpy(buf, &eh, sizeof eh);
                memcpy(buf + ehsize, &ph, sizeof ph);
        }
        if (interp)
                memcpy(buf + ehsize + phsize, interp, ilen);
        return total;
}

static void put_elf(const char *name, bool is64, const char *interp, bool cut) {
        unsigned char buf[512];
        put_file(name, buf, make_elf(buf, sizeof buf, is64, interp, cut), 0755);
}

static int open_held(const char *name, int flags) {
        int fd = openat(scratch_fd, name, flags | O_CLOEXEC);
        if (fd < 0)
                fuzz_fail("open %s/%s: %m", scratch, name);
        return fd;
}

static void build_tree(void) {
        char text[PATH_MAX + 64];

        /* Programs: ELF files with a program interpreter that is relative (opened from the
         * cwd), absolute, missing, cut off, a script, or none at all. */
        put_elf("exe", true, "ld.so", false);
        put_elf("ld.so", true, NULL, false);
        put_elf("static", true, NULL, false);
        put_elf("abs-interp", true, "/lib64/ld-linux-x86-64.so.2", false);
        put_elf("missing-interp", true, "no-such-ld.so", false);
        put_elf("cut-interp", true, "ld.so", true);
        put_elf("script-interp", true, "s2", false);
        put_elf("i386", false, "ld.so", false);
        put_file("empty", "", 0, 0755);
        put_file("noexec", "data\n", 5, 0644);
        put_file("unreadable", "#!s2\n", 5, 0);

        /* "#!" scripts: chains, arguments, relative and absolute interpreters, loops. */
        put_text("s1", "#!s2 -x\n");
        put_text("s2", "#!exe\n");
        put_text("s-abs", "#!/bin/sh -e\n");
        put_text("s-dir", "#!dir\n");
        put_text("s-none", "#!no-such-interpreter\n");
        put_text("s-self", "#!s-self\n");
        put_text("s-blank", "#!  \t \n");
        put_text("s-args", "#!\t static  two  words \n");
        put_text("s-link", "#!l1\n");
        put_text("s-loaded", "#!ld.so --preload x exe\n");
        for (int i = 1; i <= 6; i++) {
                char name[16];
                snprintf(name, sizeof name, "c%d", i);
                snprintf(text, sizeof text, i < 6 ? "#!c%d\n" : "#!exe\n", i + 1);
                put_text(name, text);
        }

        /* Directories, for "..", trailing slashes, and the chroot of the outside view. */
        put_dir("dir");
        put_dir("sub");
        put_dir("sub/deeper");
        put_dir("lib64");
        put_elf("lib64/ld-linux-x86-64.so.2", true, NULL, false);
        put_dir("bin");
        put_elf("bin/sh", true, "/lib64/ld-linux-x86-64.so.2", false);
        put_elf("sub/exe", true, "../ld.so", false);
        put_text("sub/deeper/s", "#!../exe\n");
        put_dir("dev");
        put_dir("proc");
        if (mkfifoat(scratch_fd, "fifo", 0600) < 0)
                fuzz_fail("mkfifo: %m");

        /* Symlinks: chains, absolute ones (inside a chroot they mean its root), loops,
         * dangling, directories, up and out. */
        put_link("l1", "l2");
        put_link("l2", "/exe");
        snprintf(text, sizeof text, "%s/exe", scratch);
        put_link("l-host", text);
        put_link("rel", "exe");
        put_link("sub/up", "../exe");
        put_link("sub/root", "/");
        put_link("ldir", ".");
        put_link("dirslash", "dir/");
        put_link("loop1", "loop2");
        put_link("loop2", "loop1");
        put_link("dangling", "no-such-file");
        put_link("updots", "../../../../..");
        put_link("dev/fd", "/proc/self/fd");
        for (int i = 0; i < EG_SYMLINK_MAX + 2; i++) {
                char name[16];
                snprintf(name, sizeof name, "n%d", i);
                snprintf(text, sizeof text, i < EG_SYMLINK_MAX + 1 ? "n%d" : "exe", i + 1);
                put_link(name, text);
        }
        /* A target nearly as long as a path may be: splicing it must be bounded. */
        memset(text, 0, sizeof text);
        for (size_t i = 0; i + 2 < EG_PATH_MAX - 8; i += 2)
                memcpy(text + i, "./", 2);
        strcat(text, "exe");
        put_link("long", text);

        /* The held fds, then the magic links that name them. */
        held[HELD_SCRATCH] = open_held(".", O_PATH | O_DIRECTORY);
        held[HELD_DIR] = open_held("sub", O_RDONLY | O_DIRECTORY);
        held[HELD_EXE] = open_held("exe", O_RDONLY);
        held[HELD_SCRIPT] = open_held("s1", O_RDONLY);
        held[HELD_SYMLINK] = open_held("l1", O_PATH | O_NOFOLLOW);
        put_text("deleted", "#!exe\n");
        held[HELD_DELETED] = open_held("deleted", O_RDONLY);
        if (unlinkat(scratch_fd, "deleted", 0) < 0)
                fuzz_fail("unlink: %m");
        held[HELD_MEMFD] = memfd_create("fuzz-memfd", MFD_CLOEXEC);
        unsigned char elf[512];
        size_t len = make_elf(elf, sizeof elf, true, "ld.so", false);
        if (held[HELD_MEMFD] < 0 || write(held[HELD_MEMFD], elf, len) != (ssize_t) len)
                fuzz_fail("memfd: %m");

        snprintf(text, sizeof text, "/proc/self/fd/%d", held[HELD_EXE]);
        put_link("pfd", text);
        snprintf(text, sizeof text, "/proc/thread-self/fd/%d/exe", held[HELD_SCRATCH]);
        put_link("pthread", text);
        snprintf(text, sizeof text, "/dev/fd/%d", held[HELD_MEMFD]);
        put_link("devfd", text);
        put_link("pcwd", "/proc/self/cwd/exe");
        put_link("proot", "/proc/self/root/exe");
        put_link("pexe", "/proc/self/exe");
        snprintf(text, sizeof text, "#!/proc/self/fd/%d\n", held[HELD_SCRIPT]);
        put_text("s-fd", text);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void scratch_cleanup(void) {
        for (int v = 0; v < FUZZ_VIEWS; v++)
                if (views[v].started) {
                        exec_context_close(&views[v].ctx);
                        kill(views[v].pid, SIGKILL);
                        waitpid(views[v].pid, NULL, 0);
                }
        if (contained) {
                /* Everything lives in a tmpfs of our private namespace. */
                umount2(scratch, MNT_DETACH);
                rmdir(scratch);
        } else
                nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the views ---------------------------------------------------------------------------- */

struct request {
        int dirfd;
        int flags;
        char path[EG_PATH_MAX + 1];
};

struct reply {
        int r;
        struct stat st;
};

/* A view's process: settle into its root and cwd, then answer lookups until told to go. */
static void __attribute__((noreturn)) view_main(enum fuzz_view view, int sock) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
                _exit(1);
        char sub[PATH_MAX + 8];
        snprintf(sub, sizeof sub, "%s/sub", scratch);
        int r = 0;
        switch (view) {
        case FUZZ_VIEW_OWN:
                r = chdir(scratch);
                break;
        case FUZZ_VIEW_CHROOT:
                r = chroot(scratch) < 0 ? -1 : chdir("/");
                break;
        case FUZZ_VIEW_OUTSIDE:
                r = chdir(scratch) < 0 ? -1 : chroot(sub);
                break;
        case FUZZ_VIEWS:
                r = -1;
                break;
        }
        char ready = r < 0 ? 'E' : 'R';
        if (write(sock, &ready, 1) != 1 || r < 0)
                _exit(1);

        static struct request req;
        for (;;) {
                ssize_t n = recv(sock, &req, sizeof req, 0);
                if (n <= 0)
                        _exit(0);
                req.path[EG_PATH_MAX] = '\0';
                struct reply rep = {};
                /* execveat()'s lookup: follow unless AT_SYMLINK_NOFOLLOW; "" only with
                 * AT_EMPTY_PATH. */
                /* ELOOP is asked again: under load a chain of 24 links (n18) once came back
                 * ELOOP, and never again (regressions/resolve/kernel-eloop-n18). Most likely
                 * the kernel counting the links of an RCU walk cut short into its retry in
                 * ref-walk mode (set_nameidata() sets total_link_count once per lookup).
                 * Safe for execguard either way: an exec the kernel refuses does not run. */
                for (int tries = 0; tries < 3; tries++) {
                        rep.r = 0;
                        if (fstatat(req.dirfd, req.path, &rep.st, req.flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) <
                            0)
                                rep.r = -errno;
                        if (rep.r != -ELOOP)
                                break;
                }
                if (send(sock, &rep, sizeof rep, MSG_NOSIGNAL) != sizeof rep)
                        _exit(0);
        }
}

static void start_view(enum fuzz_view view, const struct exec_self *own_root) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                fuzz_fail("socketpair: %m");
        pid_t pid = fork();
        if (pid < 0)
                fuzz_fail("fork: %m");
        if (pid == 0) {
                close(sv[0]);
                view_main(view, sv[1]);
        }
        close(sv[1]);
        char ready = 0;
        if (read(sv[0], &ready, 1) != 1 || ready != 'R')
                fuzz_fail("view %d did not start", (int) view);
        struct view *v = &views[view];
        v->pid = pid;
        v->sock = sv[0];
        v->started = true;
        v->ctx = (struct exec_context) EXEC_CONTEXT_NULL;
        int r = exec_context_open(pid, own_root, &v->ctx);
        if (r < 0)
                fuzz_fail("exec_context_open(view %d): %s", (int) view, strerror(-r));
        if (v->ctx.same_root != (view == FUZZ_VIEW_OWN))
                fuzz_fail("view %d: same_root is %d", (int) view, v->ctx.same_root);
}

void fuzz_scratch_init(void) {
        if (scratch_fd >= 0)
                return;
        fuzz_contain();
        const char *tmp = getenv("TMPDIR");
        snprintf(scratch, sizeof scratch, "%s/eg-fuzz-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
        if (!mkdtemp(scratch))
                fuzz_fail("mkdtemp %s: %m", scratch);
        if (contained) {
                if (mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0700") < 0)
                        fuzz_fail("tmpfs on %s: %m", scratch);
        }
        scratch_fd = open(scratch, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (scratch_fd < 0)
                fuzz_fail("open %s: %m", scratch);
        atexit(scratch_cleanup);
        build_tree();
        /* The chrooted views get a procfs of their own to find /proc/self in. */
        if (contained) {
                char proc[PATH_MAX + 8];
                snprintf(proc, sizeof proc, "%s/proc", scratch);
                if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "subset=pid") < 0)
                        fuzz_fail("proc on %s: %m", proc);
        }

        /* Static: every view's context points at it. */
        static struct exec_self own_root;
        int r = exec_self_get(&own_root);
        if (r < 0)
                fuzz_fail("exec_self_get: %s", strerror(-r));
        start_view(FUZZ_VIEW_OWN, &own_root);
        if (contained) {
                start_view(FUZZ_VIEW_CHROOT, &own_root);
                start_view(FUZZ_VIEW_OUTSIDE, &own_root);
        }
}

struct exec_context *fuzz_view_context(enum fuzz_view view) {
        if (view >= FUZZ_VIEWS || !views[view].started)
                return NULL;
        return &views[view].ctx;
}

int fuzz_view_stat(enum fuzz_view view, int dirfd, const char *path, int flags, struct stat *ret_st) {
        static struct request req;
        struct reply rep;
        if (!fuzz_view_context(view))
                return -ENODEV;
        req.dirfd = dirfd;
        req.flags = flags;
        snprintf(req.path, sizeof req.path, "%s", path);
        /* libFuzzer's -timeout is a SIGALRM every few seconds, without SA_RESTART. */
        ssize_t n;
        do
                n = send(views[view].sock, &req, sizeof req, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n == sizeof req)
                do
                        n = recv(views[view].sock, &rep, sizeof rep, 0);
                while (n < 0 && errno == EINTR);
        if (n != sizeof rep)
                fuzz_fail("view %d is gone: %m", (int) view);
        if (rep.r == 0)
                *ret_st = rep.st;
        return rep.r;
}

int fuzz_dirfd(uint8_t selector) {
        if (selector < HELD_N)
                return held[selector];
        if (selector == 0xff)
                return 1000; /* held by nobody */
        return AT_FDCWD;
}

int fuzz_lowest_free_fd(void) {
        int fd = fcntl(scratch_fd >= 0 ? scratch_fd : 0, F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
                fuzz_fail("F_DUPFD: %m");
        close(fd);
        return fd;
}
