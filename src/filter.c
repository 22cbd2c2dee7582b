#include "filter.h"

#include <errno.h>
#include <linux/audit.h>
#include <seccomp.h>

#include "fileop.h"
#include "util.h"

/* The ABIs a process can enter the kernel with on this host. */
static const uint32_t filter_arches[] = {
#if defined(__x86_64__)
        /* i386 is reachable from any 64-bit process through int 0x80; x32 where the kernel
         * enables it (filtering it where it is not costs nothing). */
        SCMP_ARCH_X86_64,
        SCMP_ARCH_X86,
        SCMP_ARCH_X32,
#else
#error "execguard supports x86_64 hosts only: add this architecture's ABIs and exec syscall numbers"
#endif
};

/* The exec syscalls as notifications report them: the kernel's AUDIT_ARCH_* and syscall
 * number. x32 reports AUDIT_ARCH_X86_64 with the x32 bit (0x40000000) in the number.
 * These numbers are ABI and never change; a unit test checks them against libseccomp. */
struct exec_abi {
        uint32_t audit_arch;
        int nr_execve, nr_execveat;
        unsigned pointer_size;
};

static const struct exec_abi exec_abis[] = {
#if defined(__x86_64__)
        { AUDIT_ARCH_X86_64, 59, 322, 8 },
        { AUDIT_ARCH_I386, 11, 358, 4 },
        { AUDIT_ARCH_X86_64, 0x40000000 | 520, 0x40000000 | 545, 4 },
#endif
};

static void ctx_releasep(scmp_filter_ctx *ctx) {
        if (*ctx)
                seccomp_release(*ctx);
}

int filter_install(bool no_new_privs, unsigned protected_ops, int *ret_listener) {
        _cleanup_(ctx_releasep) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        int r;

        if (!ctx)
                return -ENOMEM;
        if (seccomp_api_get() < 5)
                return -EOPNOTSUPP; /* no SCMP_ACT_NOTIFY: kernel < 5.0 or old libseccomp */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r < 0)
                return r;
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, no_new_privs ? 1 : 0);
        if (r < 0)
                return r;
        /* The kernel's own errno from seccomp_load() (EBUSY: a listener is there already),
         * not libseccomp's ECANCELED for every system failure: the caller says why. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(filter_arches); i++) {
                r = seccomp_arch_add(ctx, filter_arches[i]);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execve), 0);
        if (r < 0)
                return r;
        r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execveat), 0);
        if (r < 0)
                return r;
        r = fileop_filter_add(ctx, protected_ops);
        if (r < 0)
                return r;
        r = seccomp_load(ctx);
        if (r < 0)
                return r;
        r = seccomp_notify_fd(ctx);
        if (r < 0)
                return r;
        *ret_listener = r;
        return 0;
}

enum exec_syscall filter_classify(uint32_t arch, int nr, unsigned *ret_pointer_size) {
        for (size_t i = 0; i < ELEMENTSOF(exec_abis); i++) {
                const struct exec_abi *a = &exec_abis[i];
                if (arch != a->audit_arch || (nr != a->nr_execve && nr != a->nr_execveat))
                        continue;
                *ret_pointer_size = a->pointer_size;
                return nr == a->nr_execve ? EXEC_SYSCALL_EXECVE : EXEC_SYSCALL_EXECVEAT;
        }
        return EXEC_SYSCALL_OTHER;
}
