/* procmem_read_string() and procmem_read_argv() on the test's own memory (and a child's):
 * what the kernel's execve would copy from the caller (strncpy_from_user, copy_strings), or
 * the error it would fail with; the arguments copied within their bounds. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
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

/* A string that starts at the end of one readable page and ends in the next is read
 * whole, and its limit counts across the pages. */
START_TEST(string_across_pages) {
        size_t page = (size_t) sysconf(_SC_PAGESIZE);
        char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ck_assert_ptr_ne(m, MAP_FAILED);
        char *s = m + page - 3;
        memcpy(s, "/usr/bin/df", 12); /* "/us" in the first page */
        char buf[64];
        ck_assert_int_eq(procmem_read_string(getpid(), addr_of(s), buf, sizeof buf), 11);
        ck_assert_str_eq(buf, "/usr/bin/df");
        /* Room for the string and its terminator exactly; then one byte short. */
        ck_assert_int_eq(procmem_read_string(getpid(), addr_of(s), buf, 12), 11);
        ck_assert_int_eq(procmem_read_string(getpid(), addr_of(s), buf, 11), -ENAMETOOLONG);
        /* Longer than a page, across both. */
        memset(m, 'a', 2 * page - 1);
        m[2 * page - 1] = '\0';
        char *big = malloc(2 * page);
        ck_assert_ptr_nonnull(big);
        ck_assert_int_eq(procmem_read_string(getpid(), addr_of(m + 10), big, 2 * page), (int) (2 * page - 11));
        ck_assert_int_eq(procmem_read_string(getpid(), addr_of(m + 10), big, 2 * page - 11), -ENAMETOOLONG);
        free(big);
        munmap(m, 2 * page);
}
END_TEST

START_TEST(page_end_unmapped) {
        test_page_end(GUARD_UNMAPPED);
}
END_TEST

START_TEST(page_end_prot_none) {
        test_page_end(GUARD_PROT_NONE);
}
END_TEST

/* argv as execve takes it: sizes counted, bounds enforced, faults where execve faults. */
static int measure(char *const *argv, size_t max_args, size_t max_bytes, size_t *args, size_t *bytes) {
        return procmem_measure_argv(getpid(), addr_of(argv), sizeof(char *), max_args, max_bytes, args, bytes);
}

START_TEST(measure_argv) {
        char *argv[] = { "/bin/true", "a", "", "ccc", NULL };
        size_t args = 99, bytes = 99;
        ck_assert_int_eq(measure(argv, 4, 1000, &args, &bytes), 0);
        ck_assert_uint_eq(args, 4);
        ck_assert_uint_eq(bytes, 10 + 2 + 1 + 4);
        /* Exactly at each bound is within it; one more is not. */
        ck_assert_int_eq(measure(argv, 4, 17, &args, &bytes), 0);
        ck_assert_int_eq(measure(argv, 3, 1000, &args, &bytes), -E2BIG);
        ck_assert_uint_eq(args, 4);
        ck_assert_int_eq(measure(argv, 4, 16, &args, &bytes), -E2BIG);
        ck_assert_uint_le(args, 4);
        /* No vector at all: empty, as for execve. */
        ck_assert_int_eq(procmem_measure_argv(getpid(), 0, 8, 1, 256, &args, &bytes), 0);
        ck_assert_uint_eq(args, 0);
        /* A bad pointer among them. */
        char *bad[] = { "/bin/true", (char *) 8, NULL };
        ck_assert_int_eq(measure(bad, 10, 1000, &args, &bytes), -EFAULT);
}
END_TEST

/* A 32-bit vector, and strings that run over page boundaries into a fault. */
START_TEST(measure_argv_pages) {
        size_t page;
        char *m = two_pages(GUARD_UNMAPPED, &page);
        size_t args, bytes;
        /* A string that ends on the last byte of its page, then one that never ends. */
        memset(m, 'x', page);
        m[page - 1] = '\0';
        char *argv[] = { m, NULL };
        ck_assert_int_eq(measure(argv, 10, 2 * page, &args, &bytes), 0);
        ck_assert_uint_eq(bytes, page);
        m[page - 1] = 'x';
        ck_assert_int_eq(measure(argv, 10, 2 * page, &args, &bytes), -EFAULT);
        /* ... unless the byte bound stops the read first. */
        ck_assert_int_eq(measure(argv, 10, page / 2, &args, &bytes), -E2BIG);

        /* Pointers of 4 bytes: an i386 process's vector (MAP_32BIT: addresses that fit). */
        char *low = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        ck_assert_ptr_ne(low, MAP_FAILED);
        memcpy(low + 64, "one\0three", 10);
        uint32_t v32[] = { (uint32_t) (uintptr_t) (low + 64), (uint32_t) (uintptr_t) (low + 68), 0 };
        memcpy(low, v32, sizeof v32);
        ck_assert_int_eq(procmem_measure_argv(getpid(), addr_of(low), 4, 10, 100, &args, &bytes), 0);
        ck_assert_uint_eq(args, 2);
        ck_assert_uint_eq(bytes, 10);
        munmap(low, page);
        /* A vector whose terminator would lie in the unmapped page. */
        m[page - 1] = '\0';
        char **vec = (char **) (m + page - 2 * sizeof(char *));
        vec[0] = m + page - 1;
        vec[1] = m + page - 1;
        ck_assert_int_eq(measure(vec, 10, 1000, &args, &bytes), -EFAULT);
        munmap(m, page);
}
END_TEST

/* The arguments copied, each with its NUL, end to end, and never a byte past max_bytes. */
static int copy(char *const *argv, size_t max_args, size_t max_bytes, char *buf, size_t *args, size_t *bytes) {
        return procmem_read_argv(getpid(), addr_of(argv), sizeof(char *), max_args, max_bytes, buf, args, bytes);
}

START_TEST(copy_argv) {
        char *argv[] = { "/bin/true", "a", "", "ccc", NULL };
        static const char want[] = "/bin/true\0a\0\0ccc"; /* 17 bytes with the last NUL */
        char buf[64];
        size_t args = 0, bytes = 0;
        memset(buf, 'Z', sizeof buf);
        ck_assert_int_eq(copy(argv, 4, 17, buf, &args, &bytes), 0);
        ck_assert_uint_eq(args, 4);
        ck_assert_uint_eq(bytes, 17);
        ck_assert(memcmp(buf, want, sizeof want) == 0);
        ck_assert_int_eq(buf[17], 'Z');

        /* One byte short: refused, and nothing written at or past the bound. */
        for (size_t max = 1; max < 17; max++) {
                memset(buf, 'Z', sizeof buf);
                ck_assert_int_eq(copy(argv, 4, max, buf, &args, &bytes), -E2BIG);
                for (size_t k = max; k < sizeof buf; k++)
                        ck_assert_msg(buf[k] == 'Z', "max_bytes %zu: byte %zu written", max, k);
        }
        /* Too many arguments: refused before the one too many is copied. */
        memset(buf, 'Z', sizeof buf);
        ck_assert_int_eq(copy(argv, 3, 64, buf, &args, &bytes), -E2BIG);
        ck_assert_uint_eq(args, 4);
        ck_assert(memcmp(buf, want, 13) == 0);
        ck_assert_int_eq(buf[13], 'Z');
        /* No vector: nothing copied. */
        memset(buf, 'Z', sizeof buf);
        ck_assert_int_eq(procmem_read_argv(getpid(), 0, 8, 4, 64, buf, &args, &bytes), 0);
        ck_assert_uint_eq(args, 0);
        ck_assert_uint_eq(bytes, 0);
        ck_assert_int_eq(buf[0], 'Z');
}
END_TEST

/* Strings laid end to end over several pages, as on an exec'ing process's stack, and one
 * that straddles a page boundary: copied whole, in order. */
START_TEST(copy_argv_pages) {
        size_t page = (size_t) sysconf(_SC_PAGESIZE);
        char *m = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ck_assert_ptr_ne(m, MAP_FAILED);
        enum { N = 400 };
        char *argv[N + 1];
        char *s = m + 7;
        for (int i = 0; i < N; i++) {
                argv[i] = s;
                s += sprintf(s, "argument-%03d-%.*s", i, i % 23, "xxxxxxxxxxxxxxxxxxxxxxx") + 1;
        }
        argv[N] = NULL;
        size_t total = (size_t) (s - (m + 7));
        ck_assert_uint_gt(total, 2 * page); /* three pages at least */
        char *buf = malloc(total + 16);
        ck_assert_ptr_nonnull(buf);
        memset(buf, 'Z', total + 16);
        size_t args, bytes;
        ck_assert_int_eq(copy(argv, N, total, buf, &args, &bytes), 0);
        ck_assert_uint_eq(args, N);
        ck_assert_uint_eq(bytes, total);
        ck_assert(memcmp(buf, m + 7, total) == 0);
        ck_assert_int_eq(buf[total], 'Z');
        /* A byte fewer allowed: refused, the bound kept. */
        memset(buf, 'Z', total + 16);
        ck_assert_int_eq(copy(argv, N, total - 1, buf, &args, &bytes), -E2BIG);
        ck_assert_int_eq(buf[total - 1], 'Z');
        free(buf);
        munmap(m, 4 * page);
}
END_TEST

/* Another process's arguments: what it holds now, not what we hold. */
START_TEST(copy_argv_child) {
        static char one[32] = "parent-one", two[32] = "parent-two";
        static char *argv[] = { one, two, NULL };
        int ready[2];
        ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                strcpy(one, "child-one");
                strcpy(two, "child, the second");
                (void) !write(ready[1], "x", 1);
                pause();
                _exit(0);
        }
        char c;
        ck_assert_int_eq(read(ready[0], &c, 1), 1);
        char buf[64];
        size_t args, bytes;
        int r = procmem_read_argv(pid, addr_of(argv), sizeof(char *), 8, sizeof buf, buf, &args, &bytes);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(args, 2);
        ck_assert_uint_eq(bytes, sizeof "child-one" + sizeof "child, the second");
        ck_assert_str_eq(buf, "child-one");
        ck_assert_str_eq(buf + sizeof "child-one", "child, the second");
        /* Gone: an error, not stale bytes. */
        ck_assert_int_lt(procmem_read_argv(pid, addr_of(argv), sizeof(char *), 8, sizeof buf, buf, &args, &bytes), 0);
}
END_TEST

Suite *procmem_suite(void) {
        Suite *s = suite_create("procmem");
        TCase *tc = tcase_create("read_string");
        tcase_add_test(tc, read_own_string);
        tcase_add_test(tc, too_long);
        tcase_add_test(tc, null_address);
        tcase_add_test(tc, string_across_pages);
        tcase_add_test(tc, page_end_unmapped);
        tcase_add_test(tc, page_end_prot_none);
        tcase_add_test(tc, measure_argv);
        tcase_add_test(tc, measure_argv_pages);
        tcase_add_test(tc, copy_argv);
        tcase_add_test(tc, copy_argv_pages);
        tcase_add_test(tc, copy_argv_child);
        suite_add_tcase(s, tc);
        return s;
}
