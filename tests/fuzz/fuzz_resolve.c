/* resolve_exec() fed with arbitrary paths, from processes sitting in a scratch tree (see
 * fuzz.h): one with our root, one chrooted into the tree, one chrooted with its cwd left
 * outside its root.
 *
 * Input: byte 0 picks the view and the execveat() flags, byte 1 the dirfd (fuzz_dirfd()),
 * the rest is the path (up to its first NUL; longer than a path may be is fine).
 *
 * Besides the sanitizers, every call must leave the fd table as it found it and return a
 * well-formed chain; and the program file of a chain must be the file the kernel finds for
 * the same lookup in that process (fstatat() there): a resolver that names another file
 * than the kernel would execute is the hole execguard exists to close. The other way round,
 * a regular file the kernel finds must be found too. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>

#include "fuzz.h"
#include "resolve.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct exec_chain *chain;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc;
        (void) argv;
        fuzz_scratch_init();
        chain = calloc(1, sizeof *chain); /* about 40 KiB: not on the stack */
        if (!chain)
                abort();
        /* A context opens its process's cwd and root on first use and keeps them: open
         * them now, so that the fd count of the first input is not taken for a leak (a
         * magic link takes the exact walk, which starts at the root). */
        for (int v = 0; v < FUZZ_VIEWS; v++) {
                struct exec_context *ctx = fuzz_view_context((enum fuzz_view) v);
                if (ctx) {
                        (void) resolve_exec(ctx, AT_FDCWD, "exe", 0, chain);
                        exec_chain_reset(chain);
                        (void) resolve_exec(ctx, AT_FDCWD, "/proc/self/exe", 0, chain);
                        exec_chain_reset(chain);
                }
        }
        return 0;
}

static void check_chain(int r, const char *path) {
        if (r > 0)
                fuzz_fail("resolve_exec('%s') returned %d", path, r);
        if (chain->n > ELEMENTSOF(chain->files))
                fuzz_fail("chain of %u files", chain->n);
        if (r == 0 && (chain->n == 0 || chain->image >= chain->n))
                fuzz_fail("'%s': success with %u files, image %u", path, chain->n, chain->image);
        for (unsigned i = 0; i < chain->n; i++) {
                const struct exec_file *f = &chain->files[i];
                struct stat st;
                if (f->fd < 0 || fstat(f->fd, &st) < 0)
                        fuzz_fail("'%s': files[%u] has no fd", path, i);
                if (st.st_dev != f->st.st_dev || st.st_ino != f->st.st_ino || !S_ISREG(st.st_mode))
                        fuzz_fail("'%s': files[%u].fd is not the file stat'ed", path, i);
                if (f->path[0] != '/' || strnlen(f->path, sizeof f->path) >= sizeof f->path)
                        fuzz_fail("'%s': files[%u] has path '%.64s'", path, i, f->path);
                if ((fcntl(f->fd, F_GETFL) & O_ACCMODE) != O_RDONLY || !(fcntl(f->fd, F_GETFD) & FD_CLOEXEC))
                        fuzz_fail("'%s': files[%u].fd is not O_RDONLY|O_CLOEXEC", path, i);
                if (r < 0)
                        continue; /* a chain cut short has no image */
                if (i == 0 && f->role != EXEC_ROLE_PROGRAM)
                        fuzz_fail("'%s': files[0] has role %d", path, f->role);
                if (i > 0 && i <= chain->image && f->role != EXEC_ROLE_SCRIPT_INTERP)
                        fuzz_fail("'%s': files[%u] has role %d", path, i, f->role);
                if (i > chain->image && f->role != EXEC_ROLE_ELF_INTERP)
                        fuzz_fail("'%s': files[%u] has role %d", path, i, f->role);
                if (i < chain->image && f->script.interp[0] == '\0')
                        fuzz_fail("'%s': script files[%u] has no interpreter", path, i);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 2)
                return 0;
        enum fuzz_view view = (enum fuzz_view)((data[0] & 3) % FUZZ_VIEWS);
        struct exec_context *ctx = fuzz_view_context(view);
        if (!ctx)
                return 0;
        int flags = (data[0] & 4 ? AT_EMPTY_PATH : 0) | (data[0] & 8 ? AT_SYMLINK_NOFOLLOW : 0);
        int dirfd = fuzz_dirfd(data[1]);

        /* The path as the supervisor reads it from the process: a C string; one longer
         * than EG_PATH_MAX is the resolver's to refuse. */
        size_t len = size - 2;
        char *path = malloc(len + 1);
        if (!path)
                abort();
        memcpy(path, data + 2, len);
        path[len] = '\0';

        int fd_before = fuzz_lowest_free_fd();
        int r = resolve_exec(ctx, dirfd, path, flags, chain);
        check_chain(r, path);

        if (chain->n > 0) {
                /* The kernel's lookup in the same process must find the same file.
                 *
                 * Known and left: on our own root, the one-syscall lookup takes "/proc/self"
                 * as the supervisor ("/proc/self/status" is ours). What it can reach that
                 * way are proc files, which nobody can execute (no x bit: EACCES), so no
                 * decision depends on which process's file it is. */
                const struct exec_file *f = &chain->files[0];
                struct statfs sfs;
                bool proc_noexec =
                        fstatfs(f->fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC && !(f->st.st_mode & 0111);
                struct stat st;
                int k = fuzz_view_stat(view, dirfd, path, flags, &st);
                if (k < 0 && !proc_noexec)
                        fuzz_fail("view %d: resolved '%s' to %s, the kernel's lookup fails: %s", (int) view, path,
                                  f->path, strerror(-k));
                if (k == 0 && !proc_noexec && (st.st_dev != f->st.st_dev || st.st_ino != f->st.st_ino))
                        fuzz_fail("view %d: resolved '%s' to %s, the kernel finds another file", (int) view, path,
                                  f->path);
        } else {
                /* And where the kernel finds a regular file, so must we, or an exec that
                 * would run is refused. Our bounds (path splicing, symlink count) may
                 * refuse earlier than the kernel: that side is safe. A file with no x bit
                 * is refused as the kernel's exec refuses it (EACCES; the views are root,
                 * and the scratch tree is not noexec). */
                struct stat st;
                int k = fuzz_view_stat(view, dirfd, path, flags, &st);
                if (k == 0 && S_ISREG(st.st_mode) && r != -ENAMETOOLONG && r != -ELOOP &&
                    !(r == -EACCES && !(st.st_mode & 0111)))
                        fuzz_fail("view %d: '%s': %s, the kernel finds a file", (int) view, path, strerror(-r));
        }

        exec_chain_reset(chain);
        int fd_after = fuzz_lowest_free_fd();
        if (fd_after != fd_before)
                fuzz_fail("resolve_exec('%s') leaked an fd (lowest free %d, was %d)", path, fd_after, fd_before);
        free(path);
        return 0;
}
