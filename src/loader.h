/* The dynamic loader run as a command: `/lib64/ld-linux-x86-64.so.2 [OPTIONS] PROG` maps
 * and runs PROG with no exec of PROG at all, so the exec that matters is the loader's, and
 * what it will run has to be read from its arguments.
 *
 * Two parts: recognising a loader (every loader installed on the host, under any name: by
 * path, by device and inode, by content), and reading its arguments the way glibc's and
 * musl's loaders do, to find the word that names the program. The reading is checked
 * before the exec; verify.h then checks what the loader really maps (it opens PROG by
 * path itself, after our check). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity.h"
#include "resolve.h"

#define LOADERS_MAX 16

struct host_loader {
        char path[EG_PATH_MAX]; /* canonical */
        dev_t dev;
        ino_t ino;
        off_t size;
        uint8_t digest[SHA256_LEN];
};

/* The loaders installed on the host. */
struct loader_set {
        unsigned n;
        struct host_loader loaders[LOADERS_MAX];
};

/* Find the host's loaders (ld-*.so* in the library directories of every ABI). Returns the
 * number found, or -errno. */
int loader_set_scan(struct loader_set *set);

/* Is f (a file of an exec chain) one of the host's loaders: the same path, the same file,
 * or the same bytes? A loader replaced at its path (an upgrade) is re-identified on the way.
 * Returns 1, 0, or -errno if its content could not be read. */
int loader_set_recognises(struct loader_set *set, struct identity_cache *cache, const struct exec_file *f);

/* Word i (1: the first after the loader's own name) of the loader's argv: stores at most
 * size-1 bytes of it, NUL-terminated, and returns 0; -ENOENT past the last word; or -errno. */
typedef int (*loader_word_fn)(void *userdata, size_t i, char *buf, size_t size);

enum loader_flavour {
        LOADER_GLIBC, /* elf/rtld.c: exact option names, an unknown "--" option is an error */
        LOADER_MUSL,  /* ldso/dynlink.c: "--opt=value" too, "--" ends the options */
};
#define LOADER_FLAVOURS 2

/* Options read before giving up (and denying): the kernel allows far more words than any
 * honest command line carries. */
#define LOADER_WORDS_MAX 4096

/* Which word names the program a loader of the given flavour runs. Returns 1 with
 * *ret_index, 0 when it runs none (--help, a usage error, ...), -E2BIG past
 * LOADER_WORDS_MAX words, or the word function's -errno. */
int loader_program_word(enum loader_flavour flavour, loader_word_fn word, void *userdata, size_t *ret_index);

/* An exec's arguments, as the process passed them. */
struct exec_argv {
        pid_t pid;
        uint64_t addr;         /* its argv array in the process's memory (0: none) */
        unsigned pointer_size; /* 8, or 4 for i386 and x32 */
        const char *filename;  /* the name the kernel gives a script's interpreter (bprm->filename) */
};

/* chain's image is a loader run as a command: add to chain the programs it would load,
 * reading its arguments as each flavour of loader does, the kernel's "#!" rewriting of them
 * included. A name that does not resolve now is left out: the loader opens it later, by
 * path, and verify.h judges what it maps. Returns 0 or -errno (the exec must be refused):
 * the arguments could not be read, or there are too many options. */
int loader_add_programs(struct exec_context *ctx, struct exec_chain *chain, const struct exec_argv *argv);
