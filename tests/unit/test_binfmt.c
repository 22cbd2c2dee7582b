/* binfmt_handler() against an instance laid out as fs/binfmt_misc.c shows one: a directory
 * with "status" and one file per entry, in the kernel's own words (entry_status()). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "binfmt.h"
#include "tests.h"
#include "util.h"

static char dir[TMPDIR_MAX];

static void put(const char *name, const char *text) {
        char path[TMPDIR_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        FILE *f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        fclose(f);
}

static void setup(void) {
        tmpdir_make(dir, "binfmt");
        put("status", "enabled\n");
        put("register", "");
        put("egx", "enabled\ninterpreter /usr/bin/cat\nflags: \nextension .egx\n");
        /* qemu-user's aarch64 entry, as binfmt-support registers it. */
        put("qemu-aarch64", "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POCF\noffset 0\n"
                            "magic 7f454c460201010000000000000000000200b700\n"
                            "mask ffffffffffffff00fffffffffffffffffeffffff\n");
        put("off", "disabled\ninterpreter /usr/bin/df\nflags: \nextension .off\n");
        put("at4", "enabled\ninterpreter /usr/bin/od\nflags: \noffset 4\nmagic 4547\n");
        /* An offset no head reaches (the kernel would refuse it): no match, no read past. */
        put("far", "enabled\ninterpreter /usr/bin/df\nflags: \noffset 18446744073709551615\nmagic 45\n");
}

static void teardown(void) {
        tmpdir_remove(dir);
}

static int handler(const char *name, const void *head, size_t len, char *out) {
        return binfmt_handler(dir, name, head, len, out, EG_PATH_MAX);
}

START_TEST(by_extension) {
        char out[EG_PATH_MAX] = "";
        ck_assert_int_eq(handler("/tmp/x/file.egx", "hello", 5, out), 1);
        ck_assert_str_eq(out, "/usr/bin/cat");
        /* The extension of the name's last component, after its last dot, exactly. */
        ck_assert_int_eq(handler("/tmp/x/file.egx2", "hello", 5, out), 0);
        ck_assert_int_eq(handler("/tmp/x/fileegx", "hello", 5, out), 0);
        /* A disabled entry is not used. */
        ck_assert_int_eq(handler("/tmp/x/a.off", "hello", 5, out), 0);
}
END_TEST

START_TEST(by_magic) {
        char out[EG_PATH_MAX] = "";
        unsigned char arm64[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1, 3 /* OS ABI: masked */ };
        arm64[16] = 2;   /* ET_EXEC */
        arm64[18] = 183; /* EM_AARCH64 */
        ck_assert_int_eq(handler("/bin/prog", arm64, sizeof arm64, out), 1);
        ck_assert_str_eq(out, "/usr/libexec/qemu-binfmt/aarch64-binfmt-P");
        arm64[16] = 3; /* ET_DYN: bit 0 of byte 16 is masked off */
        ck_assert_int_eq(handler("/bin/prog", arm64, sizeof arm64, out), 1);
        arm64[18] = 62; /* EM_X86_64: not this entry */
        ck_assert_int_eq(handler("/bin/prog", arm64, sizeof arm64, out), 0);
        /* Magic at an offset, and a head too short to hold it. */
        ck_assert_int_eq(handler("/bin/prog", "xxxxEGyy", 8, out), 1);
        ck_assert_str_eq(out, "/usr/bin/od");
        ck_assert_int_eq(handler("/bin/prog", "xxxxE", 5, out), 0);
}
END_TEST

START_TEST(not_mounted_or_disabled) {
        char out[EG_PATH_MAX] = "";
        put("status", "disabled\n");
        ck_assert_int_eq(handler("/tmp/x/file.egx", "hello", 5, out), 0);
        ck_assert_int_eq(binfmt_handler("/nonexistent/binfmt_misc", "f.egx", "hello", 5, out, sizeof out), 0);
        char empty[TMPDIR_MAX + 8];
        snprintf(empty, sizeof empty, "%s/e", dir);
        ck_assert_int_eq(mkdir(empty, 0755), 0);
        ck_assert_int_eq(binfmt_handler(empty, "f.egx", "hello", 5, out, sizeof out), 0);
}
END_TEST

Suite *binfmt_suite(void) {
        Suite *s = suite_create("binfmt");
        TCase *tc = tcase_create("handler");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, by_extension);
        tcase_add_test(tc, by_magic);
        tcase_add_test(tc, not_mounted_or_disabled);
        suite_add_tcase(s, tc);
        return s;
}
