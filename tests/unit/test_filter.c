/* filter_classify(): its hard-coded syscall numbers agree with libseccomp's tables, and
 * nothing but execve and execveat is classified as an exec. */
#include <linux/audit.h>
#include <seccomp.h>
#include <string.h>

#include "filter.h"
#include "tests.h"
#include "util.h"

/* X32_SYSCALL_BIT: x32 syscalls arrive with it set in the number. */
#define X32_BIT 0x40000000

struct abi_case {
        const char *name;
        uint32_t scmp_arch;  /* libseccomp's name for the ABI */
        uint32_t audit_arch; /* what seccomp notifications report */
        unsigned pointer_size;
};

static const struct abi_case abis[] = {
        { "x86_64", SCMP_ARCH_X86_64, AUDIT_ARCH_X86_64, 8 },
        { "i386", SCMP_ARCH_X86, AUDIT_ARCH_I386, 4 },
        /* x32 notifications carry AUDIT_ARCH_X86_64; the number has the x32 bit. */
        { "x32", SCMP_ARCH_X32, AUDIT_ARCH_X86_64, 4 },
};

START_TEST(numbers_match_libseccomp) {
        const struct abi_case *a = &abis[_i];
        int execve = seccomp_syscall_resolve_name_arch(a->scmp_arch, "execve");
        int execveat = seccomp_syscall_resolve_name_arch(a->scmp_arch, "execveat");
        ck_assert_msg(execve >= 0 && execveat >= 0, "%s: libseccomp does not know the exec syscalls", a->name);
        if (a->scmp_arch == SCMP_ARCH_X32) {
                ck_assert_msg(execve & X32_BIT, "x32 execve %#x lacks the x32 bit", execve);
                ck_assert_msg(execveat & X32_BIT, "x32 execveat %#x lacks the x32 bit", execveat);
        }

        unsigned ptr = 0;
        ck_assert_msg(filter_classify(a->audit_arch, execve, &ptr) == EXEC_SYSCALL_EXECVE, "%s: execve %d", a->name,
                      execve);
        ck_assert_uint_eq(ptr, a->pointer_size);
        ptr = 0;
        ck_assert_msg(filter_classify(a->audit_arch, execveat, &ptr) == EXEC_SYSCALL_EXECVEAT, "%s: execveat %d",
                      a->name, execveat);
        ck_assert_uint_eq(ptr, a->pointer_size);
}
END_TEST

/* Syscalls that are not exec, for each ABI, by libseccomp's numbers. */
START_TEST(others) {
        static const char *const names[] = { "read",   "write",  "open",
                                             "openat", "fork",   "vfork",
                                             "clone",  "clone3", "execve_nonexistent",
                                             "exit",   "ptrace", "mmap" };
        const struct abi_case *a = &abis[_i];
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                int nr = seccomp_syscall_resolve_name_arch(a->scmp_arch, names[i]);
                if (nr < 0)
                        continue; /* not on this ABI (or libseccomp's pseudo-syscall) */
                unsigned ptr = 12345;
                ck_assert_msg(filter_classify(a->audit_arch, nr, &ptr) == EXEC_SYSCALL_OTHER, "%s: %s (%d) is an exec?",
                              a->name, names[i], nr);
        }
}
END_TEST

struct other_case {
        uint32_t arch;
        int nr;
};

static const struct other_case other_cases[] = {
        { AUDIT_ARCH_X86_64, 11 },  /* munmap; execve on i386 */
        { AUDIT_ARCH_X86_64, 358 }, /* execveat on i386 only */
        { AUDIT_ARCH_X86_64, 520 }, /* x32's execve without the x32 bit */
        { AUDIT_ARCH_X86_64, 545 },
        { AUDIT_ARCH_X86_64, X32_BIT | 59 }, /* x86_64 numbers are not x32's */
        { AUDIT_ARCH_X86_64, X32_BIT | 322 },
        { AUDIT_ARCH_I386, 59 }, /* x86_64's execve on i386 is olduname */
        { AUDIT_ARCH_I386, 322 },
        { AUDIT_ARCH_I386, X32_BIT | 520 },
        { AUDIT_ARCH_AARCH64, 221 }, /* an arch the filter does not know */
        { AUDIT_ARCH_AARCH64, 59 },
        { 0, 59 },
        { AUDIT_ARCH_X86_64, -1 },
};

START_TEST(not_exec) {
        const struct other_case *c = &other_cases[_i];
        unsigned ptr = 0;
        ck_assert_msg(filter_classify(c->arch, c->nr, &ptr) == EXEC_SYSCALL_OTHER, "arch %#x nr %#x is an exec?",
                      c->arch, (unsigned) c->nr);
}
END_TEST

Suite *filter_suite(void) {
        Suite *s = suite_create("filter");
        TCase *tc = tcase_create("classify");
        tcase_add_loop_test(tc, numbers_match_libseccomp, 0, (int) ELEMENTSOF(abis));
        tcase_add_loop_test(tc, others, 0, (int) ELEMENTSOF(abis));
        tcase_add_loop_test(tc, not_exec, 0, (int) ELEMENTSOF(other_cases));
        suite_add_tcase(s, tc);
        return s;
}
