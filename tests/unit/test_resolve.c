/* resolve_exec() on real processes: the test process itself, a child holding fds of its
 * own, and a chrooted child. Where it matters, the kernel is asked too: the same file is
 * really executed and its errno or exit status compared. */
#include <linux/elf.h> /* not <elf.h>: -Isrc finds src/elf.h first */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "resolve.h"
#include "tests.h"
#include "util.h"

/* The temporary directory of the running test (check forks each test: one per process). */
static char dir[TMPDIR_MAX];

static void skip_or_fail(const char *why) {
        /* CI sets EXECGUARD_MUST_WORK: a test that cannot run there is a failure. */
        if (getenv("EXECGUARD_MUST_WORK"))
                ck_abort_msg("cannot run: %s", why);
        fprintf(stderr, "skipped: %s\n", why);
}

static void put_file(const char *name, const void *content, size_t len, mode_t mode) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ck_assert_msg(fd >= 0, "create %s: %m", path);
        ck_assert_int_eq(write(fd, content, len), (ssize_t) len);
        ck_assert_int_eq(fchmod(fd, mode), 0);
        close(fd);
}

static void put_text(const char *name, const char *text) {
        put_file(name, text, strlen(text), 0755);
}

static void put_link(const char *name, const char *target) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        ck_assert_msg(symlink(target, path) == 0, "symlink %s: %m", path);
}

static void put_dir(const char *name) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        ck_assert_msg(mkdir(path, 0755) == 0, "mkdir %s: %m", path);
}

/* A real program, so the kernel can run what we resolve: a copy of true(1). */
static void put_true(const char *name) {
        char path[PATH_MAX], cmd[2 * PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        snprintf(cmd, sizeof cmd, "cp /bin/true '%s'", path);
        ck_assert_int_eq(system(cmd), 0);
}

/* The tree most tests resolve in. */
static void setup(void) {
        char text[PATH_MAX];

        tmpdir_make(dir, "eg-resolve");
        put_true("exe");
        put_true("other");
        put_link("l1", "l2"); /* l1 → l2 → exe, the second absolute */
        snprintf(text, sizeof text, "%s/exe", dir);
        put_link("l2", text);
        put_link("rel", "exe");
        put_dir("sub");
        put_link("sub/rel2", "../exe");
        put_link("ldir", ".");
        put_link("loop1", "loop2");
        put_link("loop2", "loop1");
        put_link("dangling", "no-such-file");
        put_dir("dir");

        /* s1 → s2 → /bin/sh */
        snprintf(text, sizeof text, "#!%s/s2 -x\n", dir);
        put_text("s1", text);
        put_text("s2", "#!/bin/sh\nexit 3\n");
        put_text("rscript", "#!exe\n"); /* relative: the kernel opens it from the cwd */
        put_text("dirscript", "#!/tmp\n");
        put_text("nointerp", "#!/no-such-interpreter\n");

        /* c1 → c2 → ... → c6 → /bin/sh: from c1 one rewrite too many, from c2 just enough. */
        for (int i = 1; i <= 5; i++) {
                char name[16];
                snprintf(name, sizeof name, "c%d", i);
                snprintf(text, sizeof text, "#!%s/c%d\n", dir, i + 1);
                put_text(name, text);
        }
        put_text("c6", "#!/bin/sh\nexit 7\n");
}

static void teardown(void) {
        tmpdir_remove(dir);
}

/* Resolve for the test process itself. */
static int resolve_own(int dirfd, const char *path, int flags, struct exec_chain *chain) {
        static struct exec_self own_root;
        struct exec_context ctx = EXEC_CONTEXT_NULL;
        ck_assert_int_eq(exec_self_get(&own_root), 0);
        ck_assert_int_eq(exec_context_open(getpid(), &own_root, &ctx), 0);
        ck_assert(ctx.same_root);
        int r = resolve_exec(&ctx, dirfd, path, flags, chain);
        exec_context_close(&ctx);
        return r;
}

static struct exec_chain *new_chain(void) {
        struct exec_chain *chain = calloc(1, sizeof *chain);
        ck_assert_ptr_nonnull(chain);
        return chain;
}

static void free_chain(struct exec_chain *chain) {
        exec_chain_reset(chain);
        ck_assert_uint_eq(chain->n, 0);
        free(chain);
}

/* files[i] is the file expected (a path relative to nothing: realpath() decides). */
static void assert_file(const char *what, const struct exec_chain *chain, unsigned i, const char *expected) {
        _cleanup_free_ char *canonical = realpath(expected, NULL);
        struct stat st;
        ck_assert_msg(canonical, "%s: expected file %s: %m", what, expected);
        ck_assert_int_eq(stat(canonical, &st), 0);
        ck_assert_msg(i < chain->n, "%s: chain has %u files, expected at least %u", what, chain->n, i + 1);
        const struct exec_file *f = &chain->files[i];
        ck_assert_msg(strcmp(f->path, canonical) == 0, "%s: files[%u] is '%s', expected '%s'", what, i, f->path,
                      canonical);
        ck_assert_msg(f->st.st_ino == st.st_ino && f->st.st_dev == st.st_dev, "%s: files[%u] is another inode", what,
                      i);
        ck_assert_msg(f->fd >= 0, "%s: files[%u] has no fd", what, i);
        struct stat fst;
        ck_assert_int_eq(fstat(f->fd, &fst), 0);
        ck_assert_msg(fst.st_ino == st.st_ino, "%s: files[%u].fd is another file", what, i);
}

/* The program interpreter (PT_INTERP) of a 64-bit ELF file, read here independently of
 * src/elf.c: the oracle for the last entry of a chain. Returns false for anything else. */
static bool elf_interp_of(const char *path, char *out, size_t size) {
        Elf64_Ehdr eh;
        bool found = false;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_msg(fd >= 0, "open %s: %m", path);
        if (pread(fd, &eh, sizeof eh, 0) == (ssize_t) sizeof eh && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
            eh.e_ident[EI_CLASS] == ELFCLASS64 && (eh.e_type == ET_EXEC || eh.e_type == ET_DYN)) {
                for (unsigned i = 0; i < eh.e_phnum && !found; i++) {
                        Elf64_Phdr ph;
                        if (pread(fd, &ph, sizeof ph, (off_t) (eh.e_phoff + i * sizeof ph)) != (ssize_t) sizeof ph)
                                break;
                        if (ph.p_type != PT_INTERP || ph.p_filesz == 0 || ph.p_filesz > size)
                                continue;
                        found = pread(fd, out, ph.p_filesz, (off_t) ph.p_offset) == (ssize_t) ph.p_filesz &&
                                out[ph.p_filesz - 1] == '\0';
                }
        }
        close(fd);
        return found;
}

/* The chain is exactly: expected[0] (the program), expected[1..k-1] (its #! interpreters),
 * then the PT_INTERP of expected[k-1] when it has one, looked up under root ("" for ours). */
static void assert_chain(const char *what, const struct exec_chain *chain, const char *const *expected, unsigned k,
                         const char *root) {
        char interp[PATH_MAX], interp_path[2 * PATH_MAX];
        for (unsigned i = 0; i < k; i++) {
                assert_file(what, chain, i, expected[i]);
                enum exec_role role = i == 0 ? EXEC_ROLE_PROGRAM : EXEC_ROLE_SCRIPT_INTERP;
                ck_assert_msg(chain->files[i].role == role, "%s: files[%u] has role %d, expected %d", what, i,
                              chain->files[i].role, role);
        }
        ck_assert_msg(chain->image == k - 1, "%s: image is files[%u], expected files[%u]", what, chain->image, k - 1);
        if (!elf_interp_of(expected[k - 1], interp, sizeof interp)) {
                ck_assert_msg(chain->n == k, "%s: chain of %u files, expected %u", what, chain->n, k);
                return;
        }
        ck_assert_msg(chain->n == k + 1, "%s: chain of %u files, expected %u and the ELF interpreter %s", what,
                      chain->n, k, interp);
        snprintf(interp_path, sizeof interp_path, "%s%s", root, interp);
        assert_file(what, chain, k, interp_path);
        ck_assert_msg(chain->files[k].role == EXEC_ROLE_ELF_INTERP, "%s: files[%u] is not the ELF interpreter", what,
                      k);
}

/* Run path as the kernel would and return its exit status, or -errno if execve failed. */
static int kernel_exec(const char *path) {
        int pipefd[2];
        ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                char *const argv[] = { (char *) path, NULL };
                int devnull = open("/dev/null", O_RDWR);
                dup2(devnull, STDOUT_FILENO);
                dup2(devnull, STDERR_FILENO);
                execv(path, argv);
                int e = errno;
                (void) !write(pipefd[1], &e, sizeof e);
                _exit(127);
        }
        close(pipefd[1]);
        int e = 0;
        ssize_t n = read(pipefd[0], &e, sizeof e);
        close(pipefd[0]);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        if (n == (ssize_t) sizeof e)
                return -e;
        ck_assert(WIFEXITED(status));
        return WEXITSTATUS(status);
}

/* ---- the table -------------------------------------------------------------------------------- */

struct resolve_case {
        const char *name;
        bool in_dir;      /* chdir into the temporary directory first */
        const char *at;   /* NULL: AT_FDCWD; else execveat's dirfd opens this ("%s": the dir) */
        const char *path; /* "%s": the directory */
        int flags;
        int r;
        unsigned n;           /* files in the chain when r == 0 */
        const char *files[6]; /* "%s": the directory */
};

static const struct resolve_case cases[] = {
        { "absolute", false, NULL, "%s/exe", 0, 0, 1, { "%s/exe" } },
        { "symlink chain", false, NULL, "%s/l1", 0, 0, 1, { "%s/exe" } },
        { "relative symlink", false, NULL, "%s/rel", 0, 0, 1, { "%s/exe" } },
        { "relative symlink with ..", false, NULL, "%s/sub/rel2", 0, 0, 1, { "%s/exe" } },
        { "symlinked directory", false, NULL, "%s/ldir/ldir/exe", 0, 0, 1, { "%s/exe" } },
        { "symlink loop", false, NULL, "%s/loop1", 0, -ELOOP, 0, {} },
        { "dangling symlink", false, NULL, "%s/dangling", 0, -ENOENT, 0, {} },
        { "missing", false, NULL, "%s/no-such-file", 0, -ENOENT, 0, {} },
        { "directory", false, NULL, "%s/dir", 0, -EACCES, 0, {} },
        { "file as directory", false, NULL, "%s/exe/x", 0, -ENOTDIR, 0, {} },
        { "trailing slash", false, NULL, "%s/exe/", 0, -ENOTDIR, 0, {} },
        { "empty path", false, NULL, "", 0, -ENOENT, 0, {} },
        { "..", false, NULL, "%s/dir/../exe", 0, 0, 1, { "%s/exe" } },
        { "//", false, NULL, "/%s//exe", 0, 0, 1, { "%s/exe" } },
        { ".", false, NULL, "%s/./././exe", 0, 0, 1, { "%s/exe" } },
        { "all of them", false, NULL, "/.//%s/./dir/..//sub/../exe", 0, 0, 1, { "%s/exe" } },
        { "/.. is /", false, NULL, "/../../..%s/exe", 0, 0, 1, { "%s/exe" } },
        { "#! chain", false, NULL, "%s/s1", 0, 0, 3, { "%s/s1", "%s/s2", "/bin/sh" } },
        { "#! via symlink", false, NULL, "/bin/sh", 0, 0, 1, { "/bin/sh" } },
        { "#! chain 5 + /bin/sh",
          false,
          NULL,
          "%s/c2",
          0,
          0,
          6,
          { "%s/c2", "%s/c3", "%s/c4", "%s/c5", "%s/c6", "/bin/sh" } },
        { "#! chain 6 + /bin/sh", false, NULL, "%s/c1", 0, -ELOOP, 0, {} },
        { "#! interpreter missing", false, NULL, "%s/nointerp", 0, -ENOENT, 0, {} },
        { "#! interpreter a directory", false, NULL, "%s/dirscript", 0, -EACCES, 0, {} },
        { "#! relative interpreter", true, NULL, "rscript", 0, 0, 2, { "%s/rscript", "%s/exe" } },
        { "AT_SYMLINK_NOFOLLOW, symlink", false, NULL, "%s/l1", AT_SYMLINK_NOFOLLOW, -ELOOP, 0, {} },
        { "AT_SYMLINK_NOFOLLOW, file", false, NULL, "%s/exe", AT_SYMLINK_NOFOLLOW, 0, 1, { "%s/exe" } },
        { "AT_SYMLINK_NOFOLLOW, symlinked dir", false, NULL, "%s/ldir/exe", AT_SYMLINK_NOFOLLOW, 0, 1, { "%s/exe" } },
        { "relative", true, NULL, "exe", 0, 0, 1, { "%s/exe" } },
        { "relative ./", true, NULL, "./rel", 0, 0, 1, { "%s/exe" } },
        { "relative ..", true, NULL, "dir/../exe", 0, 0, 1, { "%s/exe" } },
        { "relative symlink in subdir", true, NULL, "sub/rel2", 0, 0, 1, { "%s/exe" } },
        { "relative loop", true, NULL, "loop2", 0, -ELOOP, 0, {} },
        { "relative missing", true, NULL, "nope", 0, -ENOENT, 0, {} },
        { "execveat dirfd", false, "%s", "exe", 0, 0, 1, { "%s/exe" } },
        { "execveat dirfd, symlinks", false, "%s", "l1", 0, 0, 1, { "%s/exe" } },
        { "execveat subdir", false, "%s/sub", "rel2", 0, 0, 1, { "%s/exe" } },
        { "execveat subdir ..", false, "%s/sub", "../other", 0, 0, 1, { "%s/other" } },
        { "execveat dirfd, absolute path", false, "%s/sub", "/bin/sh", 0, 0, 1, { "/bin/sh" } },
        { "execveat dirfd, cwd elsewhere", true, "%s/sub", "rel2", 0, 0, 1, { "%s/exe" } },
        { "execveat dirfd, NOFOLLOW", false, "%s", "rel", AT_SYMLINK_NOFOLLOW, -ELOOP, 0, {} },
};

START_TEST(table) {
        const struct resolve_case *c = &cases[_i];
        char path[PATH_MAX];
        int dirfd = AT_FDCWD;

        snprintf(path, sizeof path, c->path, dir);
        if (c->in_dir)
                ck_assert_int_eq(chdir(dir), 0);
        if (c->at) {
                char at[PATH_MAX];
                snprintf(at, sizeof at, c->at, dir);
                dirfd = open(at, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ck_assert_int_ge(dirfd, 0);
        }
        struct exec_chain *chain = new_chain();
        int r = resolve_own(dirfd, path, c->flags, chain);
        ck_assert_msg(r == c->r, "%s: '%s': r=%d (%s), expected %d (%s)", c->name, path, r, strerror(-r), c->r,
                      strerror(-c->r));
        if (r == 0) {
                char expected[6][PATH_MAX];
                const char *names[6];
                for (unsigned i = 0; i < c->n; i++) {
                        snprintf(expected[i], sizeof expected[i], c->files[i], dir);
                        names[i] = expected[i];
                }
                assert_chain(c->name, chain, names, c->n, "");
        }
        free_chain(chain);
        if (dirfd >= 0)
                close(dirfd);
}
END_TEST

/* A file none of the kernel's own loaders takes (neither #! nor a native ELF program) is
 * binfmt_misc's to run: the chain says so, so that what runs is judged after the exec. A
 * native program, static or dynamic, and a script are foreseen. */
START_TEST(unpredictable_image) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/data.egx", dir);
        put_text("data.egx", "not a program of the kernel's own\n");
        ck_assert_int_eq(chmod(path, 0755), 0);
        struct exec_chain *chain = new_chain();
        ck_assert_int_eq(resolve_own(AT_FDCWD, path, 0, chain), 0);
        ck_assert(chain->unpredictable);
        /* An ELF header of another machine (aarch64): qemu-user's, through binfmt_misc. */
        static const unsigned char arm64[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1, [16] = 2, [18] = 183 };
        int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, arm64, sizeof arm64), (ssize_t) sizeof arm64);
        close(fd);
        ck_assert_int_eq(resolve_own(AT_FDCWD, path, 0, chain), 0);
        ck_assert(chain->unpredictable);
        ck_assert_int_eq(resolve_own(AT_FDCWD, "/bin/sh", 0, chain), 0);
        ck_assert(!chain->unpredictable);
        snprintf(path, sizeof path, "%s/c6", dir);
        ck_assert_int_eq(resolve_own(AT_FDCWD, path, 0, chain), 0);
        ck_assert(!chain->unpredictable);
        free_chain(chain);
}
END_TEST

/* The kernel agrees with the table where the #! depth is concerned. */
START_TEST(kernel_depth) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/c2", dir);
        ck_assert_int_eq(kernel_exec(path), 7);
        snprintf(path, sizeof path, "%s/c1", dir);
        ck_assert_int_eq(kernel_exec(path), -ELOOP);
        snprintf(path, sizeof path, "%s/s1", dir);
        ck_assert_int_eq(kernel_exec(path), 3);
}
END_TEST

/* A #! line that fills the kernel's buffer exactly: the interpreter name ends at byte 254
 * and the file ends there (the zero fill terminates it), or byte 255 is a space. The kernel
 * runs the interpreter, so the chain must name it: a blocked interpreter must not hide
 * behind a 255-byte #! line. */
START_TEST(shebang_at_buffer_end) {
        char name[256], line[PATH_MAX];
        size_t prefix = strlen(dir) + 1;
        size_t filler = EG_SHEBANG_BUF - 3 - prefix; /* "#!" + 253 name bytes = 255 */

        ck_assert_uint_lt(filler, 256);
        memset(name, 'i', filler);
        name[filler] = '\0';
        put_link(name, "exe");
        snprintf(line, sizeof line, "#!%s/%s", dir, name);
        ck_assert_uint_eq(strlen(line), EG_SHEBANG_BUF - 1);
        put_text("s255", line);
        line[EG_SHEBANG_BUF - 1] = ' ';
        line[EG_SHEBANG_BUF] = '\0';
        put_text("s256", line);

        const char *scripts[] = { "s255", "s256" };
        for (size_t i = 0; i < ELEMENTSOF(scripts); i++) {
                char path[PATH_MAX], what[64];
                snprintf(path, sizeof path, "%s/%s", dir, scripts[i]);
                snprintf(what, sizeof what, "%s", scripts[i]);
                /* The kernel runs exe (true) through the 253-byte interpreter name. */
                ck_assert_int_eq(kernel_exec(path), 0);

                struct exec_chain *chain = new_chain();
                ck_assert_int_eq(resolve_own(AT_FDCWD, path, 0, chain), 0);
                char expected[PATH_MAX];
                snprintf(expected, sizeof expected, "%s/exe", dir);
                const char *names[] = { path, expected };
                assert_chain(what, chain, names, 2, "");
                free_chain(chain);
        }
}
END_TEST

START_TEST(path_too_long) {
        size_t len = PATH_MAX + 100;
        char *path = malloc(len + 1);
        ck_assert_ptr_nonnull(path);
        for (size_t i = 0; i < len; i += 2)
                memcpy(path + i, "/.", 2);
        path[len] = '\0';
        struct exec_chain *chain = new_chain();
        ck_assert_int_eq(resolve_own(AT_FDCWD, path, 0, chain), -ENAMETOOLONG);

        /* A single component longer than NAME_MAX. */
        char name[PATH_MAX];
        snprintf(name, sizeof name, "%s/", dir);
        memset(name + strlen(name), 'n', NAME_MAX + 1);
        name[strlen(dir) + 1 + NAME_MAX + 1] = '\0';
        ck_assert_int_eq(resolve_own(AT_FDCWD, name, 0, chain), -ENAMETOOLONG);
        free_chain(chain);
        free(path);
}
END_TEST

/* ---- fds: fexecve, /proc/self/fd, /dev/fd ------------------------------------------------------ */

START_TEST(empty_path) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/l1", dir);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        snprintf(path, sizeof path, "%s/other", dir);
        int opath = open(path, O_PATH | O_CLOEXEC);
        ck_assert_int_ge(opath, 0);
        snprintf(path, sizeof path, "%s/dir", dir);
        int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(dfd, 0);
        snprintf(path, sizeof path, "%s/s1", dir);
        int sfd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(sfd, 0);

        struct exec_chain *chain = new_chain();
        char expected[PATH_MAX];

        /* fexecve(fd): the file the fd refers to, not a name. */
        ck_assert_int_eq(resolve_own(fd, "", AT_EMPTY_PATH, chain), 0);
        snprintf(expected, sizeof expected, "%s/exe", dir);
        assert_chain("fexecve", chain, (const char *[]){ expected }, 1, "");

        ck_assert_int_eq(resolve_own(opath, "", AT_EMPTY_PATH, chain), 0);
        snprintf(expected, sizeof expected, "%s/other", dir);
        assert_chain("fexecve O_PATH", chain, (const char *[]){ expected }, 1, "");

        /* A script by fd: its interpreters follow. */
        ck_assert_int_eq(resolve_own(sfd, "", AT_EMPTY_PATH, chain), 0);
        char s1[PATH_MAX], s2[PATH_MAX];
        snprintf(s1, sizeof s1, "%s/s1", dir);
        snprintf(s2, sizeof s2, "%s/s2", dir);
        assert_chain("fexecve script", chain, (const char *[]){ s1, s2, "/bin/sh" }, 3, "");

        ck_assert_int_eq(resolve_own(dfd, "", AT_EMPTY_PATH, chain), -EACCES);
        ck_assert_int_eq(resolve_own(fd, "", 0, chain), -ENOENT);

        /* An fd the process does not have. */
        int bad = fcntl(fd, F_DUPFD_CLOEXEC, 900);
        ck_assert_int_ge(bad, 0);
        close(bad);
        ck_assert_int_eq(resolve_own(bad, "", AT_EMPTY_PATH, chain), -EBADF);
        ck_assert_int_eq(resolve_own(bad, "exe", 0, chain), -EBADF);

        /* AT_FDCWD with an empty path is the cwd: a directory. */
        ck_assert_int_eq(chdir(dir), 0);
        ck_assert_int_eq(resolve_own(AT_FDCWD, "", AT_EMPTY_PATH, chain), -EACCES);

        free_chain(chain);
        close(fd);
        close(opath);
        close(dfd);
        close(sfd);
}
END_TEST

static void assert_resolves_to(pid_t pid, const char *path, const char *expected) {
        static struct exec_self own_root;
        struct exec_context ctx = EXEC_CONTEXT_NULL;
        ck_assert_int_eq(exec_self_get(&own_root), 0);
        ck_assert_int_eq(exec_context_open(pid, &own_root, &ctx), 0);
        struct exec_chain *chain = new_chain();
        int r = resolve_exec(&ctx, AT_FDCWD, path, 0, chain);
        ck_assert_msg(r == 0, "%s: r=%d (%s)", path, r, strerror(-r));
        assert_chain(path, chain, (const char *[]){ expected }, 1, "");
        free_chain(chain);
        exec_context_close(&ctx);
}

START_TEST(proc_self_fd) {
        char path[PATH_MAX], expected[PATH_MAX];
        snprintf(path, sizeof path, "%s/rel", dir);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        snprintf(expected, sizeof expected, "%s/exe", dir);

        const char *forms[] = { "/proc/self/fd/%d",
                                "/dev/fd/%d",
                                "/proc/thread-self/fd/%d",
                                "/proc/%2$d/fd/%1$d",
                                "/proc/self/../self/./fd//%d",
                                "/dev/../proc/self/fd/%d" };
        for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                snprintf(path, sizeof path, forms[i], fd, (int) getpid());
                assert_resolves_to(getpid(), path, expected);
        }

        /* A slash after a magic link, or "." after it, wants a directory: the kernel fails
         * the lookup with ENOTDIR, and so must we (found by tests/fuzz/fuzz_resolve). */
        const char *not_dirs[] = { "/proc/self/fd/%d/", "/proc/self/fd/%d/.", "/dev/fd/%d//" };
        struct exec_chain *chain = new_chain();
        for (size_t i = 0; i < ELEMENTSOF(not_dirs); i++) {
                snprintf(path, sizeof path, not_dirs[i], fd);
                int r = resolve_own(AT_FDCWD, path, 0, chain);
                ck_assert_msg(r == -ENOTDIR, "'%s': r=%d (%s), expected -ENOTDIR", path, r, strerror(-r));
        }
        free_chain(chain);
        close(fd);
}
END_TEST

/* "self" is the process that execs, never the supervisor: a child holds fd N on one file
 * while we hold fd N on another. */
START_TEST(proc_self_is_the_process) {
        enum { N = 100 };
        char path[PATH_MAX], expected[PATH_MAX];
        int ready[2], done[2];
        ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
        ck_assert_int_eq(pipe2(done, O_CLOEXEC), 0);

        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                close(done[1]); /* or the read below never sees EOF */
                snprintf(path, sizeof path, "%s/other", dir);
                int fd = open(path, O_RDONLY);
                if (fd < 0 || dup2(fd, N) != N)
                        _exit(1);
                char c = 'r';
                if (write(ready[1], &c, 1) != 1)
                        _exit(1);
                (void) !read(done[0], &c, 1); /* until the parent is done */
                _exit(0);
        }
        close(ready[1]);
        close(done[0]);
        char c;
        ck_assert_int_eq(read(ready[0], &c, 1), 1);

        snprintf(path, sizeof path, "%s/exe", dir);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(dup3(fd, N, O_CLOEXEC), N);

        const char *forms[] = { "/proc/self/fd/%d", "/dev/fd/%d", "/proc/thread-self/fd/%d" };
        for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                snprintf(path, sizeof path, forms[i], N);
                snprintf(expected, sizeof expected, "%s/other", dir);
                assert_resolves_to(pid, path, expected);
                snprintf(expected, sizeof expected, "%s/exe", dir);
                assert_resolves_to(getpid(), path, expected);
        }

        close(done[1]);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* ---- another root ------------------------------------------------------------------------------- */

struct chroot_case {
        const char *path;
        int r;
        unsigned n;
        const char *files[2]; /* inside the temporary directory */
};

static const struct chroot_case chroot_cases[] = {
        { "/bin/x", 0, 1, { "bin/x" } },
        { "/bin/sh", 0, 1, { "bin/sh" } },       /* not the host's shell */
        { "/abs", 0, 1, { "bin/sh" } },          /* absolute symlink: from the chroot */
        { "/bin/up", 0, 1, { "bin/sh" } },       /* ../../../.. stops at the chroot */
        { "/../../bin/sh", 0, 1, { "bin/sh" } }, /* .. of the root is the root */
        { "/bin/../../../bin/x", 0, 1, { "bin/x" } },
        { "bin/sh", 0, 1, { "bin/sh" } }, /* relative: its cwd is its / */
        { "../../bin/x", 0, 1, { "bin/x" } },
        { "absrel", 0, 1, { "bin/sh" } },            /* relative path, absolute symlink */
        { "/script", 0, 2, { "script", "bin/sh" } }, /* interpreter from the chroot */
        { "/usr/bin/dash", -ENOENT, 0, {} },         /* exists on the host only */
        { "/proc", -ENOENT, 0, {} },
        { "/no-such-file", -ENOENT, 0, {} },
        /* A trailing slash wants a directory, after a symlink too (found by fuzz_resolve). */
        { "/bin/x/", -ENOTDIR, 0, {} },
        { "/abs/", -ENOTDIR, 0, {} },
        { "absrel//", -ENOTDIR, 0, {} },
        { "bin/x/.", -ENOTDIR, 0, {} },
};

START_TEST(chrooted_process) {
        if (geteuid() != 0) {
                skip_or_fail("chroot needs root");
                return;
        }
        char interp[PATH_MAX], cmd[5 * PATH_MAX];
        ck_assert(elf_interp_of("/bin/true", interp, sizeof interp));
        put_dir("bin");
        put_true("bin/x");
        put_true("bin/sh");
        /* The chroot's own program interpreter, at the path true(1) names: a stand-in file,
         * so that finding the host's instead shows; executable, or the kernel (and so the
         * resolver) refuses it (EACCES). */
        snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s%s')\" && echo loader > '%s%s' && chmod 755 '%s%s'", dir,
                 interp, dir, interp, dir, interp);
        ck_assert_int_eq(system(cmd), 0);
        put_link("abs", "/bin/sh");
        put_link("absrel", "/bin/sh");
        put_link("bin/up", "../../../../bin/sh");
        put_text("script", "#!/bin/sh\n");

        /* A file as execveat()'s dirfd: the child holds it as we do. */
        char file[PATH_MAX];
        snprintf(file, sizeof file, "%s/bin/x", dir);
        int file_fd = open(file, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(file_fd, 0);

        int ready[2], done[2];
        ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
        ck_assert_int_eq(pipe2(done, O_CLOEXEC), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                char c = 'r';
                close(done[1]); /* or the read below never sees EOF */
                if (chroot(dir) < 0 || chdir("/") < 0)
                        _exit(1);
                if (write(ready[1], &c, 1) != 1)
                        _exit(1);
                (void) !read(done[0], &c, 1);
                _exit(0);
        }
        close(ready[1]);
        close(done[0]);
        char c;
        ck_assert_int_eq(read(ready[0], &c, 1), 1);

        static struct exec_self own_root;
        struct exec_context ctx = EXEC_CONTEXT_NULL;
        ck_assert_int_eq(exec_self_get(&own_root), 0);
        ck_assert_int_eq(exec_context_open(pid, &own_root, &ctx), 0);
        ck_assert_msg(!ctx.same_root, "a chrooted process has our root");

        struct exec_chain *chain = new_chain();
        for (size_t i = 0; i < ELEMENTSOF(chroot_cases); i++) {
                const struct chroot_case *cc = &chroot_cases[i];
                int r = resolve_exec(&ctx, AT_FDCWD, cc->path, 0, chain);
                ck_assert_msg(r == cc->r, "chroot '%s': r=%d (%s), expected %d", cc->path, r, strerror(-r), cc->r);
                if (r != 0)
                        continue;
                char expected[2][PATH_MAX];
                const char *names[2];
                for (unsigned j = 0; j < cc->n; j++) {
                        snprintf(expected[j], sizeof expected[j], "%s/%s", dir, cc->files[j]);
                        names[j] = expected[j];
                }
                /* The ELF interpreter too comes from the chroot. */
                assert_chain(cc->path, chain, names, cc->n, dir);
        }

        /* Without its program interpreter a dynamic program does not run: the kernel fails the
         * exec with ENOENT, though the host has that interpreter. */
        char loader[2 * PATH_MAX];
        snprintf(loader, sizeof loader, "%s%s", dir, interp);
        ck_assert_int_eq(unlink(loader), 0);
        int r = resolve_exec(&ctx, AT_FDCWD, "/bin/x", 0, chain);
        ck_assert_msg(r == -ENOENT, "chroot without loader: r=%d (%s), expected -ENOENT", r, strerror(-r));
        ck_assert_int_eq(system(cmd), 0); /* back */

        /* The kernel's limit on a path (PATH_MAX with its terminator) holds on the slow walk
         * too: "bin////...////x" of 4095 bytes is fine, of 4096 bytes too long. */
        char longpath[PATH_MAX + 1];
        for (size_t len = PATH_MAX - 1; len <= PATH_MAX; len++) {
                memset(longpath, '/', len);
                memcpy(longpath, "bin", 3);
                longpath[len - 1] = 'x';
                longpath[len] = '\0';
                r = resolve_exec(&ctx, AT_FDCWD, longpath, 0, chain);
                int expected_r = len < PATH_MAX ? 0 : -ENAMETOOLONG;
                ck_assert_msg(r == expected_r, "chroot: relative %zu-byte path: r=%d (%s), expected %d", len, r,
                              strerror(-r), expected_r);
        }

        /* "." is looked up in a directory, never in a file given as the dirfd. */
        r = resolve_exec(&ctx, file_fd, ".", 0, chain);
        ck_assert_msg(r == -ENOTDIR, "chroot: '.' in a file dirfd: r=%d (%s), expected -ENOTDIR", r, strerror(-r));
        close(file_fd);

        free_chain(chain);
        exec_context_close(&ctx);
        close(done[1]);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* Whether fd is open for reading, not O_PATH: its head was read (not remembered). */
static bool head_was_read(int fd) {
        int fl = fcntl(fd, F_GETFL);
        ck_assert_int_ge(fl, 0);
        return !(fl & O_PATH);
}

/* A supervisor's chain remembers heads by file stamp: a settled file is read once, and the
 * second resolution gives the same chain without reading it; a file changed since, even
 * with its size and mtime put back, is read again; a file changed in the last two seconds
 * is never remembered. */
START_TEST(remembered_heads) {
        struct exec_chain *chain = new_chain();
        ck_assert_int_eq(exec_chain_init(chain), 0);
        char script[PATH_MAX], fresh[PATH_MAX];
        snprintf(script, sizeof script, "%s/settled", dir);
        snprintf(fresh, sizeof fresh, "%s/fresh", dir);
        put_text("settled", "#!/usr/bin/id\n");

        /* Settled: older than two seconds by its ctime, which only time makes. */
        struct timespec wait = { .tv_sec = 2, .tv_nsec = 200 * 1000 * 1000 };
        while (nanosleep(&wait, &wait) < 0)
                ;
        put_text("fresh", "#!/usr/bin/id\n");
        const char *id_chain[] = { script, "/usr/bin/id" };
        for (int round = 0; round < 2; round++) {
                ck_assert_int_eq(resolve_own(AT_FDCWD, script, 0, chain), 0);
                assert_chain("settled script", chain, id_chain, 2, "");
                ck_assert_msg(head_was_read(chain->files[0].fd) == (round == 0), "round %d: head %s", round,
                              round == 0 ? "not read" : "read again");
                ck_assert_str_eq(chain->files[0].script.interp, "/usr/bin/id");
                exec_chain_reset(chain);

                const char *fresh_chain[] = { fresh, "/usr/bin/id" };
                ck_assert_int_eq(resolve_own(AT_FDCWD, fresh, 0, chain), 0);
                assert_chain("fresh script", chain, fresh_chain, 2, "");
                ck_assert_msg(head_was_read(chain->files[0].fd), "round %d: a fresh file's head remembered", round);
                exec_chain_reset(chain);
        }

        /* The same size, the old mtime put back: the ctime still tells. */
        struct stat before;
        ck_assert_int_eq(stat(script, &before), 0);
        int fd = open(script, O_WRONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pwrite(fd, "#!/usr/bin/df\n", 14, 0), 14);
        struct timespec times[2] = { before.st_atim, before.st_mtim };
        ck_assert_int_eq(futimens(fd, times), 0);
        close(fd);
        const char *df_chain[] = { script, "/usr/bin/df" };
        ck_assert_int_eq(resolve_own(AT_FDCWD, script, 0, chain), 0);
        assert_chain("rewritten script", chain, df_chain, 2, "");
        ck_assert(head_was_read(chain->files[0].fd));

        /* A settled ELF program, its interpreter remembered too (the system's own). */
        const char *true_chain[] = { "/usr/bin/true" };
        for (int round = 0; round < 2; round++) {
                exec_chain_reset(chain);
                ck_assert_int_eq(resolve_own(AT_FDCWD, "/usr/bin/true", 0, chain), 0);
                assert_chain("/usr/bin/true", chain, true_chain, 1, "");
                if (round == 1)
                        ck_assert(!head_was_read(chain->files[0].fd));
        }
        exec_chain_fini(chain);
        free(chain);
}
END_TEST

/* The context of the test process itself shares our root; closing it twice is harmless. */
START_TEST(context) {
        static struct exec_self own_root, other;
        struct root_id again;
        struct exec_context ctx = EXEC_CONTEXT_NULL;
        ck_assert_int_eq(exec_self_get(&own_root), 0);
        ck_assert_int_eq(root_id_get_own(&again), 0);
        ck_assert(own_root.root.dev == again.dev && own_root.root.ino == again.ino &&
                  own_root.root.mnt_id == again.mnt_id);
        ck_assert_int_eq(exec_context_open(getpid(), &own_root, &ctx), 0);
        ck_assert(ctx.same_root);
        ck_assert_int_eq(ctx.creds_mode, EXEC_CREDS_OWN); /* ourselves: nothing to take on */
        ck_assert_int_eq(ctx.tid, getpid());
        exec_context_close(&ctx);
        ck_assert_int_eq(ctx.proc_fd, -1);
        ck_assert_int_eq(ctx.root_fd, -1);
        exec_context_close(&ctx);

        /* A root that is not ours. */
        other = own_root;
        other.root.mnt_id++;
        ck_assert_int_eq(exec_context_open(getpid(), &other, &ctx), 0);
        ck_assert(!ctx.same_root);
        exec_context_close(&ctx);

        /* No such task. */
        ck_assert_int_eq(exec_context_open(0x3fffffff, &own_root, &ctx), -ENOENT);
}
END_TEST

/* The thread's fsuid and CapEff now, from the kernel. */
static void own_creds(unsigned long *ret_fsuid, char ret_caps[32]) {
        char line[256];
        FILE *f = fopen("/proc/thread-self/status", "re");
        ck_assert_ptr_nonnull(f);
        while (fgets(line, sizeof line, f)) {
                if (strncmp(line, "Uid:", 4) == 0)
                        ck_assert_int_eq(sscanf(line, "Uid: %*u %*u %*u %lu", ret_fsuid), 1);
                if (strncmp(line, "CapEff:", 7) == 0)
                        ck_assert_int_eq(sscanf(line, "CapEff: %31s", ret_caps), 1);
        }
        fclose(f);
}

/* For a process of another user, every lookup is made as that user would make it: in a
 * directory it cannot search, an existing file, a missing one and one below a file all
 * give EACCES (no oracle for which exist); an execute-only program is still read; and the
 * thread is itself again afterwards. */
static const struct {
        const char *path;
        int r;
} nobody_cases[] = {
        { "secret/prog", -EACCES },   { "secret/missing", -EACCES }, { "secret/prog/x", -EACCES },
        { "open/xonly", 0 },          { "open/noexec", -EACCES },    { "open/missing", -ENOENT },
        { "open/xonly/x", -ENOTDIR }, { "/proc/kmsg", -EACCES },
};

START_TEST(as_another_user) {
        if (geteuid() != 0) {
                skip_or_fail("taking on another user's credentials needs root");
                return;
        }
        ck_assert_int_eq(chmod(dir, 0755), 0);
        put_dir("secret");
        ck_assert_int_eq(chmod(strcat(strcpy((char[PATH_MAX]){ 0 }, dir), "/secret"), 0700), 0);
        put_true("secret/prog");
        put_dir("open");
        put_true("open/xonly");
        put_true("open/noexec");
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/open/xonly", dir);
        ck_assert_int_eq(chmod(path, 0711), 0);
        snprintf(path, sizeof path, "%s/open/noexec", dir);
        ck_assert_int_eq(chmod(path, 0644), 0);

        int ready[2], done[2];
        ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
        ck_assert_int_eq(pipe2(done, O_CLOEXEC), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                char c = 'r';
                close(done[1]);
                gid_t none[1];
                if (setgroups(0, none) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                        _exit(1);
                if (write(ready[1], &c, 1) != 1)
                        _exit(1);
                (void) !read(done[0], &c, 1);
                _exit(0);
        }
        close(ready[1]);
        close(done[0]);
        char c;
        ck_assert_int_eq(read(ready[0], &c, 1), 1);

        unsigned long fsuid_before, fsuid_after;
        char caps_before[32], caps_after[32];
        own_creds(&fsuid_before, caps_before);

        static struct exec_self self;
        ck_assert_int_eq(exec_self_get(&self), 0);
        struct exec_chain *chain = new_chain();
        for (size_t i = 0; i < ELEMENTSOF(nobody_cases); i++) {
                struct exec_context ctx = EXEC_CONTEXT_NULL;
                ck_assert_int_eq(exec_context_open(pid, &self, &ctx), 0);
                ck_assert_int_eq(ctx.creds_mode, EXEC_CREDS_ASSUME);
                ck_assert_int_eq(ctx.creds.fsuid, 65534);
                const char *name = nobody_cases[i].path;
                if (name[0] != '/')
                        snprintf(path, sizeof path, "%s/%s", dir, name);
                else
                        snprintf(path, sizeof path, "%s", name);
                int r = resolve_exec(&ctx, AT_FDCWD, path, 0, chain);
                ck_assert_msg(r == nobody_cases[i].r, "%s: r=%d (%s), want %d", name, r, strerror(-r),
                              nobody_cases[i].r);
                ck_assert(!ctx.assumed);
                exec_context_close(&ctx);
                own_creds(&fsuid_after, caps_after);
                ck_assert_uint_eq(fsuid_after, fsuid_before);
                ck_assert_str_eq(caps_after, caps_before);
        }
        free_chain(chain);
        close(done[1]);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(ready[0]);
}
END_TEST

Suite *resolve_suite(void) {
        Suite *s = suite_create("resolve");

        TCase *tc = tcase_create("paths");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, table, 0, (int) ELEMENTSOF(cases));
        tcase_add_test(tc, kernel_depth);
        tcase_add_test(tc, unpredictable_image);
        tcase_add_test(tc, shebang_at_buffer_end);
        tcase_add_test(tc, path_too_long);
        tcase_add_test(tc, context);
        tcase_add_test(tc, remembered_heads);
        suite_add_tcase(s, tc);

        tc = tcase_create("fds");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, empty_path);
        tcase_add_test(tc, proc_self_fd);
        tcase_add_test(tc, proc_self_is_the_process);
        suite_add_tcase(s, tc);

        tc = tcase_create("root");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, chrooted_process);
        tcase_add_test(tc, as_another_user);
        suite_add_tcase(s, tc);

        return s;
}
