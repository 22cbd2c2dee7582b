/* procmem_read_string() on the test's own memory through /proc/self/mem: what the kernel's
 * execve would copy from the caller (strncpy_from_user), or the error it would fail with. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "procmem.h"
#include "tests.h"
#include "util.h"

static int open_mem(void) {
        int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
        ck_assert_msg(fd >= 0, "open /proc/self/mem: %m");
        return fd;
}

static uint64_t addr_of(const void *p) {
        return (uint64_t) (uintptr_t) p;
}

START_TEST(read_own_string) {
        static const char path[] = "/usr/bin/df";
        char stack_copy[] = "/tmp/a b\tc";
        char buf[64];
        int fd = open_mem();

        memset(buf, 'Z', sizeof buf);
        ck_assert_int_eq(procmem_read_string(getpid(), addr_of(path), buf, sizeof buf), (int) strlen(path));
        ck_assert_str_eq(buf, path);

        ck_assert_int_eq(procmem_read_string(getpid(), addr_of(stack_copy), buf, sizeof buf), (int) strlen(stack_copy));
        ck_assert_str_eq(buf, stack_copy);

        /* The empty string. */
        ck_assert_int_eq(procmem_read_string(getpid(), addr_of(path + strlen(path)), buf, sizeof buf), 0);
        ck_assert_str_eq(buf, "");

        /* Exactly fills the buffer, terminator included. */
        ck_assert_int_eq(procmem_read_string(getpid(), addr_of(path), buf, sizeof path), (int) strlen(path));
        ck_assert_str_eq(buf, path);
        close(fd);
}
END_TEST

START_TEST(too_long) {
        char s[100];
        char buf[16];
        int fd = open_mem();
        memset(s, 'a', sizeof s - 1);
        s[sizeof s - 1] = '\0';
        ck_assert_int_eq(procmem_read_string(getpid(), addr_of(s), buf, sizeof buf), -ENAMETOOLONG);
        /* One byte short of room for the terminator. */
        ck_assert_int_eq(procmem_read_string(getpid(), addr_of(s + sizeof s - 1 - sizeof buf), buf, sizeof buf),
                         -ENAMETOOLONG);
        ck_assert_int_eq(procmem_read_string(getpid(), addr_of(s + sizeof s - sizeof buf), buf, sizeof buf),
                         (int) sizeof buf - 1);
        close(fd);
}
END_TEST

START_TEST(null_address) {
        char buf[16];
        int fd = open_mem();
        ck_assert_int_eq(procmem_read_string(getpid(), 0, buf, sizeof buf), -EFAULT);
        ck_assert_int_eq(procmem_read_string(getpid(), UINT64_MAX, buf, sizeof buf), -EFAULT);
        ck_assert_int_eq(procmem_read_string(getpid(), (uint64_t) INT64_MAX + 1, buf, sizeof buf), -EFAULT);
        close(fd);
}
END_TEST

/* Two pages: the string sits at the very end of the first; the second is made unreadable
 * by how (PROT_NONE, or unmapped). */
enum { GUARD_PROT_NONE, GUARD_UNMAPPED };

static char *two_pages(int guard, size_t *ret_page) {
        size_t page = (size_t) sysconf(_SC_PAGESIZE);
        char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ck_assert_ptr_ne(m, MAP_FAILED);
        /* What lies beyond is a terminator, should anything read it anyway. */
        memset(m + page, '\0', page);
        if (guard == GUARD_PROT_NONE)
                ck_assert_int_eq(mprotect(m + page, page, PROT_NONE), 0);
        else
                ck_assert_int_eq(munmap(m + page, page), 0);
        *ret_page = page;
        return m;
}

static void test_page_end(int guard) {
        size_t page;
        char *m = two_pages(guard, &page);
        char buf[256];
        int fd = open_mem();

        /* Terminated on the last byte of the page: readable. */
        char *s = m + page - 6;
        memcpy(s, "/x/df", 6);
        ck_assert_int_eq(procmem_read_string(getpid(), addr_of(s), buf, sizeof buf), 5);
        ck_assert_str_eq(buf, "/x/df");

        /* Unterminated: the kernel's execve would fault in the next page, so must we, and
         * never take bytes from memory the process cannot read. */
        memcpy(s, "/x/dfX", 6);
        int r = procmem_read_string(getpid(), addr_of(s), buf, sizeof buf);
        ck_assert_msg(r == -EFAULT, "%s guard page: r=%d (%s), expected -EFAULT",
                      guard == GUARD_PROT_NONE ? "PROT_NONE" : "unmapped", r, r >= 0 ? buf : strerror(-r));

        /* A string starting in the unreadable page. */
        ck_assert_int_eq(procmem_read_string(getpid(), addr_of(m + page), buf, sizeof buf), -EFAULT);
        close(fd);
}

START_TEST(page_end_unmapped) {
        test_page_end(GUARD_UNMAPPED);
}
END_TEST

START_TEST(page_end_prot_none) {
        test_page_end(GUARD_PROT_NONE);
}
END_TEST

Suite *procmem_suite(void) {
        Suite *s = suite_create("procmem");
        TCase *tc = tcase_create("read_string");
        tcase_add_test(tc, read_own_string);
        tcase_add_test(tc, too_long);
        tcase_add_test(tc, null_address);
        tcase_add_test(tc, page_end_unmapped);
        tcase_add_test(tc, page_end_prot_none);
        suite_add_tcase(s, tc);
        return s;
}
