#include "fileop.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <pthread.h>
#include <seccomp.h>
#include <sys/stat.h>

#include "policy.h"
#include "util.h"

/* Where a call keeps each argument: R(the register's index), or 0: none. */
struct layout {
        int dirfd, path, dirfd2, path2, fd, flags, mode, dev, uid, gid, len_lo, len_hi;
};

/* Stored one up, so that a field left out (0) is "none". */
#define R(n) ((n) + 1)

struct call_entry {
        const char *name;
        enum fileop_kind kind;
        struct layout at;
        int fixed_flags; /* flags the call implies (creat, lchown, rmdir) */
        bool directory;  /* rmdir, mkdir, mkdirat */
        bool uid16_i386; /* i386's chown, lchown, fchown take 16-bit ids */
};

static const struct call_entry calls[] = {
        { "unlink", FILEOP_UNLINK, { .path = R(0) }, 0, false, false },
        { "rmdir", FILEOP_UNLINK, { .path = R(0) }, AT_REMOVEDIR, true, false },
        { "unlinkat", FILEOP_UNLINK, { .dirfd = R(0), .path = R(1), .flags = R(2) }, 0, false, false },
        { "rename", FILEOP_RENAME, { .path = R(0), .path2 = R(1) }, 0, false, false },
        { "renameat", FILEOP_RENAME, { .dirfd = R(0), .path = R(1), .dirfd2 = R(2), .path2 = R(3) }, 0, false, false },
        { "renameat2",
          FILEOP_RENAME,
          { .dirfd = R(0), .path = R(1), .dirfd2 = R(2), .path2 = R(3), .flags = R(4) },
          0,
          false,
          false },
        { "truncate", FILEOP_TRUNCATE, { .path = R(0), .len_lo = R(1) }, 0, false, false },
        { "truncate64", FILEOP_TRUNCATE, { .path = R(0), .len_lo = R(1), .len_hi = R(2) }, 0, false, false },
        { "ftruncate", FILEOP_FTRUNCATE, { .fd = R(0), .len_lo = R(1) }, 0, false, false },
        { "ftruncate64", FILEOP_FTRUNCATE, { .fd = R(0), .len_lo = R(1), .len_hi = R(2) }, 0, false, false },
        { "open", FILEOP_OPEN, { .path = R(0), .flags = R(1), .mode = R(2) }, 0, false, false },
        { "openat", FILEOP_OPEN, { .dirfd = R(0), .path = R(1), .flags = R(2), .mode = R(3) }, 0, false, false },
        { "creat", FILEOP_OPEN, { .path = R(0), .mode = R(1) }, O_CREAT | O_WRONLY | O_TRUNC, false, false },
        { "mkdir", FILEOP_MKNOD, { .path = R(0), .mode = R(1) }, 0, true, false },
        { "mkdirat", FILEOP_MKNOD, { .dirfd = R(0), .path = R(1), .mode = R(2) }, 0, true, false },
        { "mknod", FILEOP_MKNOD, { .path = R(0), .mode = R(1), .dev = R(2) }, 0, false, false },
        { "mknodat", FILEOP_MKNOD, { .dirfd = R(0), .path = R(1), .mode = R(2), .dev = R(3) }, 0, false, false },
        { "chmod", FILEOP_CHMOD, { .path = R(0), .mode = R(1) }, 0, false, false },
        { "fchmodat", FILEOP_CHMOD, { .dirfd = R(0), .path = R(1), .mode = R(2) }, 0, false, false },
        { "fchmodat2", FILEOP_CHMOD, { .dirfd = R(0), .path = R(1), .mode = R(2), .flags = R(3) }, 0, false, false },
        { "fchmod", FILEOP_FCHMOD, { .fd = R(0), .mode = R(1) }, 0, false, false },
        { "chown", FILEOP_CHOWN, { .path = R(0), .uid = R(1), .gid = R(2) }, 0, false, true },
        { "lchown", FILEOP_CHOWN, { .path = R(0), .uid = R(1), .gid = R(2) }, AT_SYMLINK_NOFOLLOW, false, true },
        { "fchown", FILEOP_FCHOWN, { .fd = R(0), .uid = R(1), .gid = R(2) }, 0, false, true },
        { "chown32", FILEOP_CHOWN, { .path = R(0), .uid = R(1), .gid = R(2) }, 0, false, false },
        { "lchown32", FILEOP_CHOWN, { .path = R(0), .uid = R(1), .gid = R(2) }, AT_SYMLINK_NOFOLLOW, false, false },
        { "fchown32", FILEOP_FCHOWN, { .fd = R(0), .uid = R(1), .gid = R(2) }, 0, false, false },
        { "fchownat",
          FILEOP_CHOWN,
          { .dirfd = R(0), .path = R(1), .uid = R(2), .gid = R(3), .flags = R(4) },
          0,
          false,
          false },
        { "link", FILEOP_LINK, { .path = R(0), .path2 = R(1) }, 0, false, false },
        { "linkat",
          FILEOP_LINK,
          { .dirfd = R(0), .path = R(1), .dirfd2 = R(2), .path2 = R(3), .flags = R(4) },
          0,
          false,
          false },
        /* symlink(target, newpath): the target is text, never looked up; the new name is. */
        { "symlink", FILEOP_SYMLINK, { .path = R(0), .path2 = R(1) }, 0, false, false },
        { "symlinkat", FILEOP_SYMLINK, { .path = R(0), .dirfd2 = R(1), .path2 = R(2) }, 0, false, false },
};

/* The ABIs, as notifications name them: x32 is x86_64's audit arch with bit 30 in the
 * number, which libseccomp's x32 numbers carry too. */
enum { ABI_X86_64, ABI_I386, ABI_X32, ABI_COUNT };
static const uint32_t abi_arch[ABI_COUNT] = { SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32 };
#define X32_SYSCALL_BIT 0x40000000

static int call_nr[ELEMENTSOF(calls)][ABI_COUNT];
static pthread_once_t numbers_once = PTHREAD_ONCE_INIT;

static void numbers_init(void) {
        for (size_t i = 0; i < ELEMENTSOF(calls); i++)
                for (int a = 0; a < ABI_COUNT; a++) {
                        int nr = seccomp_syscall_resolve_name_arch(abi_arch[a], calls[i].name);
                        call_nr[i][a] = nr < 0 ? -1 : nr; /* none on that ABI */
                }
}

static unsigned kind_ops(enum fileop_kind kind) {
        switch (kind) {
        case FILEOP_UNLINK:
                return POLICY_OP_UNLINK;
        case FILEOP_RENAME:
                return POLICY_OP_RENAME;
        case FILEOP_TRUNCATE:
        case FILEOP_FTRUNCATE:
                return POLICY_OP_TRUNCATE;
        case FILEOP_OPEN:
                return POLICY_OP_WRITE | POLICY_OP_TRUNCATE;
        case FILEOP_MKNOD:
                return POLICY_OP_WRITE;
        case FILEOP_CHMOD:
        case FILEOP_FCHMOD:
                return POLICY_OP_CHMOD;
        case FILEOP_CHOWN:
        case FILEOP_FCHOWN:
                return POLICY_OP_CHOWN;
        case FILEOP_LINK:
                return POLICY_OP_LINK;
        case FILEOP_SYMLINK:
                return POLICY_OP_SYMLINK;
        }
        return 0;
}

unsigned fileop_ops(const struct fileop_call *call) {
        if (call->kind != FILEOP_OPEN)
                return kind_ops(call->kind);
        unsigned ops = 0;
        if ((call->flags & O_ACCMODE) != O_RDONLY || (call->flags & O_CREAT))
                ops |= POLICY_OP_WRITE;
        if (call->flags & O_TRUNC)
                ops |= POLICY_OP_TRUNCATE;
        return ops;
}

/* Notify an open or openat whose flags (register flags_arg) have one of these bits. */
static int add_open_rules(scmp_filter_ctx ctx, int nr, unsigned flags_arg, unsigned ops) {
        static const struct {
                unsigned op;
                uint64_t bit;
        } bits[] = {
                { POLICY_OP_WRITE, O_WRONLY },
                { POLICY_OP_WRITE, O_RDWR },
                { POLICY_OP_WRITE, O_CREAT },
                { POLICY_OP_TRUNCATE, O_TRUNC },
        };
        for (size_t i = 0; i < ELEMENTSOF(bits); i++) {
                if (!(ops & bits[i].op))
                        continue;
                int r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 1,
                                         SCMP_CMP(flags_arg, SCMP_CMP_MASKED_EQ, bits[i].bit, bits[i].bit));
                if (r < 0)
                        return r;
        }
        return 0;
}

int fileop_filter_add(void *filter, unsigned ops) {
        scmp_filter_ctx ctx = filter;
        int r;
        if (!ops)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(calls); i++) {
                const struct call_entry *c = &calls[i];
                if (!(kind_ops(c->kind) & ops))
                        continue;
                /* Negative for a call the native ABI lacks (truncate64): libseccomp puts it
                 * in the filter of each ABI that has it. */
                int nr = seccomp_syscall_resolve_name(c->name);
                if (nr == __NR_SCMP_ERROR)
                        return -ENOSYS;
                if (c->kind == FILEOP_OPEN && !c->fixed_flags)
                        r = add_open_rules(ctx, nr, (unsigned) c->at.flags - 1, ops);
                else
                        r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
                if (r < 0)
                        return r;
        }
        /* What the filter cannot judge is refused in it: openat2's flags are in memory, and
         * io_uring's operations never pass through it. */
        if (ops & (POLICY_OP_WRITE | POLICY_OP_TRUNCATE)) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0);
                if (r < 0)
                        return r;
                /* open_by_handle_at reaches a file by no name (CAP_DAC_READ_SEARCH): for
                 * writing, refused. */
                static const uint64_t write_bits[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC };
                for (size_t i = 0; i < ELEMENTSOF(write_bits); i++) {
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(open_by_handle_at), 1,
                                             SCMP_CMP(2, SCMP_CMP_MASKED_EQ, write_bits[i], write_bits[i]));
                        if (r < 0)
                                return r;
                }
        }
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(io_uring_setup), 0);
        return r < 0 ? r : 0;
}

static int int_arg(uint64_t v) {
        return (int) (uint32_t) v; /* the kernel takes an int from the register's low half */
}

bool fileop_classify(const struct seccomp_data *data, struct fileop_call *ret, unsigned *ret_pointer_size) {
        int abi;
        int nr = data->nr;
        if (data->arch == AUDIT_ARCH_X86_64)
                abi = (nr & X32_SYSCALL_BIT) ? ABI_X32 : ABI_X86_64;
        else if (data->arch == AUDIT_ARCH_I386)
                abi = ABI_I386;
        else
                return false;
        pthread_once(&numbers_once, numbers_init);
        size_t i = 0;
        while (i < ELEMENTSOF(calls) && call_nr[i][abi] != nr)
                i++;
        if (i == ELEMENTSOF(calls))
                return false;

        const struct call_entry *c = &calls[i];
        const struct layout *at = &c->at;
        const __u64 *a = data->args;
        bool compat = abi == ABI_I386;
        unsigned pointer_size = abi == ABI_X86_64 ? 8 : 4;
        uint64_t mask = pointer_size == 4 ? UINT32_MAX : UINT64_MAX;
        struct fileop_call call = {
                .kind = c->kind,
                .syscall = c->name,
                .dirfd = at->dirfd ? int_arg(a[at->dirfd - 1]) : AT_FDCWD,
                .dirfd2 = at->dirfd2 ? int_arg(a[at->dirfd2 - 1]) : AT_FDCWD,
                .fd = at->fd ? int_arg(a[at->fd - 1]) : -1,
                .flags = (at->flags ? int_arg(a[at->flags - 1]) : 0) | c->fixed_flags,
                .directory = c->directory,
                .mode = at->mode ? (unsigned) a[at->mode - 1] & 07777 : 0,
                .uid = (uid_t) -1,
                .gid = (gid_t) -1,
                .path_addr = at->path ? a[at->path - 1] & mask : 0,
                .path2_addr = at->path2 ? a[at->path2 - 1] & mask : 0,
        };
        if (c->kind == FILEOP_MKNOD) {
                call.mode = (unsigned) a[at->mode - 1] & (S_IFMT | 07777);
                if (at->dev)
                        call.dev = compat ? (dev_t) (uint32_t) a[at->dev - 1] : (dev_t) a[at->dev - 1];
        }
        if (c->kind == FILEOP_UNLINK && (call.flags & AT_REMOVEDIR))
                call.directory = true;
        if (at->uid) {
                uint32_t uid = (uint32_t) a[at->uid - 1], gid = (uint32_t) a[at->gid - 1];
                if (compat && c->uid16_i386) {
                        /* Old 16-bit ids: 0xffff is -1, "keep it". */
                        uid = (uint16_t) uid == 0xffff ? UINT32_MAX : (uint16_t) uid;
                        gid = (uint16_t) gid == 0xffff ? UINT32_MAX : (uint16_t) gid;
                }
                call.uid = (uid_t) uid;
                call.gid = (gid_t) gid;
        }
        if (at->len_hi)
                call.length =
                        (int64_t) (((uint64_t) (uint32_t) a[at->len_hi - 1] << 32) | (uint32_t) a[at->len_lo - 1]);
        else if (at->len_lo)
                /* A long: 32 bits, sign-extended, on the 32-bit ABIs but x32's own. */
                call.length = compat ? (int64_t) (int32_t) a[at->len_lo - 1] : (int64_t) a[at->len_lo - 1];
        *ret = call;
        *ret_pointer_size = pointer_size;
        return true;
}
