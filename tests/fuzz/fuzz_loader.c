/* The loader-argv parser: loader_add_programs() reading a dynamic loader's command line
 * from process memory (ours, through process_vm_readv as for any process), with the words
 * the kernel puts in front for a "#!" chain, and loader_program_word() for both flavours
 * over the same words held in memory.
 *
 * Input: byte 0: bits 0-2 the number of "#!" levels in front (0-5), bit 3 4-byte pointers
 * (i386, x32), bit 4 an argv array without its NULL that runs into an unmapped page, bit 5
 * no argv at all, bit 6 the chrooted view (fuzz.h); byte 1: which levels have the optional
 * argument; then NUL-separated words: per level its interpreter and argument, the script's
 * file name, then the exec's argv (argv[0] first). Missing words are empty. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "loader.h"
#include "resolve.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct exec_chain *chain;
static long page;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc;
        (void) argv;
        fuzz_scratch_init();
        page = sysconf(_SC_PAGESIZE);
        chain = calloc(1, sizeof *chain);
        if (!chain)
                abort();
        for (int v = 0; v < FUZZ_VIEWS; v++) {
                struct exec_context *ctx = fuzz_view_context((enum fuzz_view) v);
                if (ctx) { /* opens and keeps the view's cwd and root: not a leak later */
                        (void) resolve_loaded(ctx, "exe", chain);
                        exec_chain_reset(chain);
                        (void) resolve_loaded(ctx, "/proc/self/exe", chain);
                }
                exec_chain_reset(chain);
        }
        return 0;
}

/* The words of the input, split at NULs. */
struct input_words {
        const char *w[64];
        size_t len[64];
        size_t n, next;
};

static void split(struct input_words *in, const uint8_t *data, size_t size) {
        in->n = in->next = 0;
        size_t start = 0;
        for (size_t i = 0; i <= size && in->n < ELEMENTSOF(in->w); i++)
                if (i == size || data[i] == '\0') {
                        in->w[in->n] = (const char *) data + start;
                        in->len[in->n++] = i - start;
                        start = i + 1;
                }
}

static void take(struct input_words *in, char *buf, size_t size) {
        size_t len = 0;
        const char *w = "";
        if (in->next < in->n) {
                w = in->w[in->next];
                len = in->len[in->next];
                in->next++;
        }
        if (len >= size)
                len = size - 1;
        memcpy(buf, w, len);
        buf[len] = '\0';
}

/* loader_program_word() over words in our memory: words[i - 1] is word i. */
struct mem_words {
        char **words;
        size_t n;
};

static int mem_word(void *userdata, size_t i, char *buf, size_t size) {
        const struct mem_words *m = userdata;
        if (i == 0)
                fuzz_fail("word 0 asked for: it is the loader's own name");
        if (i > m->n)
                return -ENOENT;
        size_t len = strlen(m->words[i - 1]);
        if (len >= size)
                len = size - 1;
        memcpy(buf, m->words[i - 1], len);
        buf[len] = '\0';
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 2)
                return 0;
        unsigned levels = (data[0] & 7) % (EG_INTERP_DEPTH_MAX + 1);
        unsigned ptr_size = data[0] & 8 ? 4 : 8;
        bool unterminated = data[0] & 16, no_argv = data[0] & 32;
        struct exec_context *ctx = fuzz_view_context(data[0] & 64 ? FUZZ_VIEW_CHROOT : FUZZ_VIEW_OWN);
        if (!ctx)
                return 0;

        struct input_words in;
        split(&in, data + 2, size - 2);

        /* The chain so far: the scripts, then the loader as the image. */
        exec_chain_reset(chain);
        for (unsigned j = 0; j < levels; j++) {
                struct exec_file *f = &chain->files[j];
                *f = (struct exec_file){ .fd = -1, .role = j ? EXEC_ROLE_SCRIPT_INTERP : EXEC_ROLE_PROGRAM };
                take(&in, f->script.interp, sizeof f->script.interp);
                f->script.has_arg = data[1] & (1u << j);
                if (f->script.has_arg)
                        take(&in, f->script.arg, sizeof f->script.arg);
        }
        chain->files[levels] =
                (struct exec_file){ .fd = -1, .role = levels ? EXEC_ROLE_SCRIPT_INTERP : EXEC_ROLE_PROGRAM };
        chain->n = levels + 1;
        chain->image = levels;
        char filename[EG_PATH_MAX];
        take(&in, filename, sizeof filename);

        /* The argv array and its strings in a mapping of their own: the strings first, the
         * array at the very end, so that an array without its NULL runs into the unmapped
         * page that follows. 4-byte pointers need addresses below 4 GiB. */
        size_t n_argv = in.n - in.next, strings = 0;
        for (size_t i = in.next; i < in.n; i++)
                strings += in.len[i] + 1;
        size_t array = (n_argv + (unterminated ? 0 : 1)) * ptr_size;
        size_t mapped = (strings + array + (size_t) page - 1) / (size_t) page * (size_t) page;
        if (mapped == 0)
                mapped = (size_t) page;
        int flags = MAP_PRIVATE | MAP_ANONYMOUS | (ptr_size == 4 ? MAP_32BIT : 0);
        char *mem = mmap(NULL, mapped + (size_t) page, PROT_READ | PROT_WRITE, flags, -1, 0);
        if (mem == MAP_FAILED)
                fuzz_fail("mmap: %m");
        if (mprotect(mem + mapped, (size_t) page, PROT_NONE) < 0)
                fuzz_fail("mprotect: %m");
        if (ptr_size == 4 && (uintptr_t) mem + mapped > UINT32_MAX)
                fuzz_fail("MAP_32BIT gave %p", (void *) mem);
        char *s = mem;
        char *arr = mem + mapped - array;
        char *argv_words[64];
        for (size_t k = 0; k < n_argv; k++) {
                size_t i = in.next + k;
                memcpy(s, in.w[i], in.len[i]);
                s[in.len[i]] = '\0';
                argv_words[k] = s;
                uint64_t addr = (uintptr_t) s;
                if (ptr_size == 4) {
                        uint32_t a32 = (uint32_t) addr;
                        memcpy(arr + k * 4, &a32, 4);
                } else
                        memcpy(arr + k * 8, &addr, 8);
                s += in.len[i] + 1;
        }
        if (!unterminated)
                memset(arr + n_argv * ptr_size, 0, ptr_size);

        struct exec_argv argv = {
                .pid = getpid(),
                .addr = no_argv ? 0 : (uintptr_t) arr,
                .pointer_size = ptr_size,
                .filename = filename,
        };
        int fd_before = fuzz_lowest_free_fd();
        int r = loader_add_programs(ctx, chain, &argv);
        if (r > 0)
                fuzz_fail("loader_add_programs returned %d", r);
        if (chain->n > levels + 1 + EXEC_LOADED_MAX)
                fuzz_fail("%u files after a loader with %u scripts", chain->n, levels);
        for (unsigned i = levels + 1; i < chain->n; i++) {
                struct stat st;
                if (chain->files[i].role != EXEC_ROLE_LOADED || chain->files[i].fd < 0 ||
                    fstat(chain->files[i].fd, &st) < 0 || st.st_ino != chain->files[i].st.st_ino)
                        fuzz_fail("loaded file %u is not well-formed", i);
        }
        exec_chain_reset(chain);
        if (fuzz_lowest_free_fd() != fd_before)
                fuzz_fail("loader_add_programs leaked an fd");

        /* The bare word reader over the exec's words (argv[1] on, a NULL-terminated argv). */
        if (!unterminated && !no_argv && n_argv > 0) {
                struct mem_words m = { .words = argv_words + 1, .n = n_argv - 1 };
                for (int fl = 0; fl < LOADER_FLAVOURS; fl++) {
                        size_t index = 0;
                        r = loader_program_word((enum loader_flavour) fl, mem_word, &m, &index);
                        if (r < 0 && r != -E2BIG)
                                fuzz_fail("loader_program_word: %d", r);
                        if (r == 1 && (index < 1 || index > m.n))
                                fuzz_fail("program word %zu of %zu", index, m.n);
                }
        }
        munmap(mem, mapped + (size_t) page);
        return 0;
}
