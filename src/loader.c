#include "loader.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procmem.h"
#include "util.h"

/* Where the loaders of x86_64, i386 and x32 (glibc) and musl live, merged /usr or not. */
static const char *const loader_globs[] = {
        "/lib*/ld-*.so*", "/lib/*/ld-*.so*", "/usr/lib*/ld-*.so*", "/usr/lib/*/ld-*.so*", "/usr/local/lib*/ld-*.so*",
};

static int add_loader(struct loader_set *set, const char *path) {
        char canonical[PATH_MAX];
        if (!realpath(path, canonical))
                return 0; /* a dangling link is no loader */
        struct host_loader l = {};
        struct stat st;
        int r = identity_sha256_path(canonical, l.digest, &st);
        if (r < 0)
                return r == -EINVAL ? 0 : r; /* not a regular file */
        for (unsigned i = 0; i < set->n; i++)
                if (set->loaders[i].dev == st.st_dev && set->loaders[i].ino == st.st_ino)
                        return 0;
        if (set->n >= LOADERS_MAX)
                return -E2BIG;
        snprintf(l.path, sizeof l.path, "%s", canonical);
        l.dev = st.st_dev;
        l.ino = st.st_ino;
        l.size = st.st_size;
        set->loaders[set->n++] = l;
        return 0;
}

int loader_set_scan(struct loader_set *set) {
        set->n = 0;
        for (size_t g = 0; g < ELEMENTSOF(loader_globs); g++) {
                glob_t gl;
                int r = glob(loader_globs[g], GLOB_NOSORT, NULL, &gl);
                if (r == GLOB_NOMATCH)
                        continue;
                if (r != 0)
                        return r == GLOB_NOSPACE ? -ENOMEM : -EIO;
                for (size_t i = 0; i < gl.gl_pathc && r >= 0; i++)
                        r = add_loader(set, gl.gl_pathv[i]);
                globfree(&gl);
                if (r < 0)
                        return r;
        }
        return (int) set->n;
}

int loader_set_recognises(struct loader_set *set, struct identity_cache *cache, const struct exec_file *f) {
        bool size_known = false;
        for (unsigned i = 0; i < set->n; i++) {
                struct host_loader *l = &set->loaders[i];
                if (l->dev == f->st.st_dev && l->ino == f->st.st_ino)
                        return 1;
                if (strcmp(l->path, f->path) == 0) {
                        /* Replaced where it stands (a libc upgrade): still the loader, and
                         * from now on its copies are known by the new content. */
                        int r = identity_sha256(cache, f->fd, &f->st, l->digest);
                        if (r < 0)
                                return r;
                        l->dev = f->st.st_dev;
                        l->ino = f->st.st_ino;
                        l->size = f->st.st_size;
                        return 1;
                }
                size_known |= l->size == f->st.st_size;
        }
        if (!size_known)
                return 0;

        /* A copy? Hashed only when the size is a loader's. */
        uint8_t digest[SHA256_LEN];
        int r = identity_sha256(cache, f->fd, &f->st, digest);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < set->n; i++)
                if (set->loaders[i].size == f->st.st_size && memcmp(set->loaders[i].digest, digest, SHA256_LEN) == 0)
                        return 1;
        return 0;
}

/* Long enough for every option name, and to see "--name=" at the start of a longer word. */
#define OPTION_BUF 64

static bool is_one_of(const char *word, const char *const *names, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(word, names[i]) == 0)
                        return true;
        return false;
}

/* 1 if word i exists, 0 if not, or -errno. */
static int word_exists(loader_word_fn word, void *userdata, size_t i) {
        char buf[1];
        int r = word(userdata, i, buf, sizeof buf);
        return r == -ENOENT ? 0 : r < 0 ? r : 1;
}

/* glibc 2.36, elf/rtld.c dl_main(): options while more than one word is left; an option
 * that takes a value is one only when a value follows; any other word beginning with "--"
 * (even "--" itself) ends in a usage error; anything else is the program. */
static int glibc_program_word(loader_word_fn word, void *userdata, size_t *ret_index) {
        static const char *const flags[] = { "--list", "--verify", "--inhibit-cache" };
        static const char *const with_value[] = {
                "--library-path",         "--inhibit-rpath",     "--audit", "--preload", "--argv0",
                "--glibc-hwcaps-prepend", "--glibc-hwcaps-mask",
        };
        char buf[OPTION_BUF];

        for (size_t i = 1; i <= LOADER_WORDS_MAX;) {
                int r = word(userdata, i, buf, sizeof buf);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return r;
                if (is_one_of(buf, flags, ELEMENTSOF(flags))) {
                        i++;
                        continue;
                }
                if (is_one_of(buf, with_value, ELEMENTSOF(with_value))) {
                        r = word_exists(word, userdata, i + 1);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                return 0; /* no value: "unrecognized option" */
                        i += 2;
                        continue;
                }
                if (buf[0] == '-' && buf[1] == '-')
                        return 0; /* --help, --version, --list-tunables, unknown: no program */
                *ret_index = i;
                return 1;
        }
        return -E2BIG;
}

/* musl 1.2, ldso/dynlink.c __dls3(): words beginning with "--" are options; "--" ends
 * them; --library-path, --preload and --argv0 take "=value" or the next word; an unknown
 * option, or a known one run together with other text, leaves no program. */
static int musl_program_word(loader_word_fn word, void *userdata, size_t *ret_index) {
        static const char *const with_value[] = { "library-path", "preload", "argv0" };
        char buf[OPTION_BUF];

        for (size_t i = 1; i <= LOADER_WORDS_MAX;) {
                int r = word(userdata, i, buf, sizeof buf);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return r;
                if (buf[0] != '-' || buf[1] != '-') {
                        *ret_index = i;
                        return 1;
                }
                const char *opt = buf + 2;
                if (*opt == '\0') {
                        r = word_exists(word, userdata, i + 1);
                        if (r <= 0)
                                return r;
                        *ret_index = i + 1;
                        return 1;
                }
                if (strcmp(opt, "list") == 0) {
                        i++;
                        continue;
                }
                bool known = false;
                for (size_t k = 0; k < ELEMENTSOF(with_value); k++) {
                        size_t len = strlen(with_value[k]);
                        if (strncmp(opt, with_value[k], len) != 0)
                                continue;
                        if (opt[len] == '=')
                                i++;
                        else if (opt[len] != '\0')
                                return 0;
                        else
                                i += 2; /* past the value; none left means no program */
                        known = true;
                        break;
                }
                if (!known)
                        return 0;
        }
        return -E2BIG;
}

int loader_program_word(enum loader_flavour flavour, loader_word_fn word, void *userdata, size_t *ret_index) {
        return flavour == LOADER_GLIBC ? glibc_program_word(word, userdata, ret_index)
                                       : musl_program_word(word, userdata, ret_index);
}

/* The loader's words: those the kernel put in front for "#!" (see below), then the exec's
 * own argv from its second word on. */
struct words {
        const char *prefix[2 * EG_INTERP_DEPTH_MAX + 1];
        size_t n_prefix;
        const struct exec_argv *argv;
};

static int get_word(void *userdata, size_t i, char *buf, size_t size) {
        const struct words *w = userdata;
        if (i <= w->n_prefix) {
                snprintf(buf, size, "%s", w->prefix[i - 1]);
                return 0;
        }
        const struct exec_argv *a = w->argv;
        size_t index = i - w->n_prefix;
        if (a->addr == 0)
                return -ENOENT;
        uint64_t ptr_addr = a->addr + index * a->pointer_size, ptr = 0;
        if (ptr_addr < a->addr)
                return -EFAULT;
        if (a->pointer_size == 4) {
                uint32_t p32;
                int r = procmem_read(a->pid, ptr_addr, &p32, sizeof p32);
                if (r < 0)
                        return r;
                ptr = p32;
        } else {
                int r = procmem_read(a->pid, ptr_addr, &ptr, sizeof ptr);
                if (r < 0)
                        return r;
        }
        if (ptr == 0)
                return -ENOENT;
        int r = procmem_read_string(a->pid, ptr, buf, size);
        if (r == -ENAMETOOLONG) {
                buf[size - 1] = '\0'; /* long: its start is all an option reading needs */
                return 0;
        }
        return r < 0 ? r : 0;
}

int loader_add_programs(struct exec_context *ctx, struct exec_chain *chain, const struct exec_argv *argv) {
        struct words w = { .argv = argv };

        /* Reached through "#!": each level made the interpreter's argv out of its name, the
         * line's optional argument, and the file name of the script, in front of the argv
         * it was given minus its first word. Files 0 .. image-1 are the scripts. */
        if (chain->image > 0) {
                for (unsigned j = chain->image; j-- > 0;) {
                        const struct shebang_line *line = &chain->files[j].script;
                        if (j != chain->image - 1)
                                w.prefix[w.n_prefix++] = line->interp;
                        if (line->has_arg)
                                w.prefix[w.n_prefix++] = line->arg;
                }
                w.prefix[w.n_prefix++] = argv->filename;
        }

        char names[LOADER_FLAVOURS][EG_PATH_MAX];
        for (int f = 0; f < LOADER_FLAVOURS; f++) {
                names[f][0] = '\0';
                size_t index;
                int r = loader_program_word((enum loader_flavour) f, get_word, &w, &index);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                r = get_word(&w, index, names[f], sizeof names[f]);
                if (r < 0)
                        return r;
                /* glibc looks a name with no slash up in ld.so.cache only: that file is
                 * judged when it is mapped. */
                if (f == LOADER_GLIBC && !strchr(names[f], '/'))
                        names[f][0] = '\0';
                if (names[f][0] == '\0' || (f > 0 && strcmp(names[f], names[0]) == 0))
                        continue;
                if (resolve_loaded(ctx, names[f], chain) >= 0)
                        chain->files[chain->n - 1].loaded_word = (unsigned) index;
        }
        return 0;
}
