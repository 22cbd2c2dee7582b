/* Reading a loader's arguments as glibc's elf/rtld.c and musl's ldso/dynlink.c do, and
 * recognising the host's loaders by path, identity and content. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "tests.h"
#include "util.h"

/* The loader's words after its own name; NULL-terminated. */
struct words_case {
        const char *name;
        const char *words[8];
        int glibc; /* index of the program's word (from 1), 0: none */
        int musl;
};

static const struct words_case cases[] = {
        { "just the program", { "/bin/true", NULL }, 1, 1 },
        { "program and its arguments", { "/bin/echo", "--list", "x", NULL }, 1, 1 },
        { "no words: usage", { NULL }, 0, 0 },
        { "--list", { "--list", "/bin/true", NULL }, 2, 2 },
        { "--verify and --inhibit-cache (glibc)", { "--verify", "--inhibit-cache", "/bin/true", NULL }, 3, 0 },
        { "--library-path takes a value", { "--library-path", "/usr/bin/df", "/bin/true", NULL }, 3, 3 },
        { "--preload, --argv0", { "--preload", "a.so", "--argv0", "name", "/bin/true", NULL }, 5, 5 },
        { "glibc-only options with a value",
          { "--audit", "x", "--inhibit-rpath", "y", "--glibc-hwcaps-prepend", "z", "/bin/true", NULL },
          7,
          0 },
        { "--glibc-hwcaps-mask", { "--glibc-hwcaps-mask", "v2", "/bin/true", NULL }, 3, 0 },
        { "an option without its value", { "--library-path", NULL }, 0, 0 },
        { "option value as the last word", { "--argv0", "/usr/bin/df", NULL }, 0, 0 },
        { "--help", { "--help", "/bin/true", NULL }, 0, 0 },
        { "--version", { "--version", NULL }, 0, 0 },
        { "--list-tunables", { "--list-tunables", "/bin/true", NULL }, 0, 0 },
        { "unknown option", { "--frobnicate", "/bin/true", NULL }, 0, 0 },
        { "-- ends musl's options, is an error to glibc", { "--", "/bin/true", NULL }, 0, 2 },
        { "-- as the last word", { "--", NULL }, 0, 0 },
        { "--opt=value (musl)", { "--library-path=/x", "--preload=y", "--argv0=z", "/bin/true", NULL }, 0, 4 },
        { "--optfoo (musl: no program)", { "--preloadfoo", "/bin/true", NULL }, 0, 0 },
        { "one dash is a file name", { "-x", "/bin/true", NULL }, 1, 1 },
        { "empty word is a file name", { "", "/bin/true", NULL }, 1, 1 },
};

static int get(void *userdata, size_t i, char *buf, size_t size) {
        const char *const *words = userdata;
        for (size_t k = 1; k < i; k++)
                if (!words[k - 1])
                        return -ENOENT;
        if (!words[i - 1])
                return -ENOENT;
        snprintf(buf, size, "%s", words[i - 1]);
        return 0;
}

START_TEST(program_word) {
        const struct words_case *c = &cases[_i];
        const int expected[LOADER_FLAVOURS] = { [LOADER_GLIBC] = c->glibc, [LOADER_MUSL] = c->musl };
        for (int f = 0; f < LOADER_FLAVOURS; f++) {
                size_t index = 0;
                int r = loader_program_word((enum loader_flavour) f, get, (void *) c->words, &index);
                ck_assert_msg(r >= 0, "%s: %s", c->name, strerror(-r));
                int got = r == 1 ? (int) index : 0;
                ck_assert_msg(got == expected[f], "%s (%s): program word %d, expected %d", c->name,
                              f == LOADER_GLIBC ? "glibc" : "musl", got, expected[f]);
        }
}
END_TEST

/* Endless options: reading stops at LOADER_WORDS_MAX, and the exec is refused. */
static int get_endless(void *userdata, size_t i, char *buf, size_t size) {
        (void) userdata;
        (void) i;
        snprintf(buf, size, "--list");
        return 0;
}

START_TEST(too_many_options) {
        size_t index;
        for (int f = 0; f < LOADER_FLAVOURS; f++)
                ck_assert_int_eq(loader_program_word((enum loader_flavour) f, get_endless, NULL, &index), -E2BIG);
}
END_TEST

static int get_failing(void *userdata, size_t i, char *buf, size_t size) {
        (void) userdata;
        (void) i;
        (void) buf;
        (void) size;
        return -EFAULT;
}

START_TEST(unreadable_words) {
        size_t index;
        for (int f = 0; f < LOADER_FLAVOURS; f++)
                ck_assert_int_eq(loader_program_word((enum loader_flavour) f, get_failing, NULL, &index), -EFAULT);
}
END_TEST

/* An exec_file for path, as resolve.c fills one. */
static void open_file(const char *path, struct exec_file *f) {
        memset(f, 0, sizeof *f);
        f->fd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(f->fd, 0);
        ck_assert_int_eq(fstat(f->fd, &f->st), 0);
        ck_assert_ptr_nonnull(realpath(path, f->path));
}

START_TEST(recognises_host_loader_and_copies) {
        struct loader_set *set = calloc(1, sizeof *set);
        _cleanup_(identity_cache_freep) struct identity_cache *cache = identity_cache_new();
        ck_assert_ptr_nonnull(set);
        ck_assert_int_ge(loader_set_scan(set), 1);

        struct exec_file f;
        open_file("/lib64/ld-linux-x86-64.so.2", &f);
        ck_assert_int_eq(loader_set_recognises(set, cache, &f), 1);
        close(f.fd);

        /* A copy elsewhere: recognised by content. */
        char copy[] = "/tmp/eg-loader-copy.XXXXXX";
        int out = mkstemp(copy);
        ck_assert_int_ge(out, 0);
        int in = open("/lib64/ld-linux-x86-64.so.2", O_RDONLY | O_CLOEXEC);
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof buf)) > 0)
                ck_assert_int_eq(write(out, buf, (size_t) n), n);
        close(in);
        close(out);
        open_file(copy, &f);
        ck_assert_int_eq(loader_set_recognises(set, cache, &f), 1);
        close(f.fd);

        /* The same bytes and one more: not a loader any more. */
        out = open(copy, O_WRONLY | O_APPEND | O_CLOEXEC);
        ck_assert_int_eq(write(out, "", 1), 1);
        close(out);
        open_file(copy, &f);
        ck_assert_int_eq(loader_set_recognises(set, cache, &f), 0);
        close(f.fd);
        unlink(copy);

        /* An ordinary program. */
        open_file("/bin/true", &f);
        ck_assert_int_eq(loader_set_recognises(set, cache, &f), 0);
        close(f.fd);
        free(set);
}
END_TEST

Suite *loader_suite(void) {
        Suite *s = suite_create("loader");
        TCase *tc = tcase_create("arguments");
        tcase_add_loop_test(tc, program_word, 0, (int) ELEMENTSOF(cases));
        tcase_add_test(tc, too_many_options);
        tcase_add_test(tc, unreadable_words);
        suite_add_tcase(s, tc);
        tc = tcase_create("recognition");
        tcase_add_test(tc, recognises_host_loader_and_copies);
        suite_add_tcase(s, tc);
        return s;
}
