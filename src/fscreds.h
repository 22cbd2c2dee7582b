/* The file-system credentials a thread acts with: fsuid, fsgid, supplementary groups and
 * effective capabilities. The supervisor takes on a process's, on its own thread only, for
 * the lookups it makes on the process's behalf (resolve.h), so the kernel checks them as it
 * would check the process, and gives the answers it would give the process. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "creds.h"

struct fscreds {
        uid_t fsuid;
        gid_t fsgid;
        uint64_t effective; /* CapEff */
        size_t n_groups;
        gid_t groups[CREDS_GROUPS_MAX];
};

/* The calling thread's own credentials, and what it may assume. */
struct fscreds_self {
        struct fscreds creds;
        uint64_t permitted, inheritable; /* CapPrm, CapInh */
        bool can_set_ids;                /* CAP_SETUID and CAP_SETGID permitted */
};

/* Parse a /proc/PID/status (procstatus.h) into ret: the fs ids (as the reader's user
 * namespace sees them), the groups and CapEff. Returns 0, -E2BIG (too many groups) or -EIO. */
int fscreds_parse(const char *status, struct fscreds *ret);

/* The calling thread's own. Returns 0 or -errno. */
int fscreds_self_get(struct fscreds_self *ret);

bool fscreds_equal(const struct fscreds *a, const struct fscreds *b);

/* Whether self can take on target (fscreds_assume()): with the same ids, lowering the
 * capabilities always works; other ids need CAP_SETUID and CAP_SETGID. */
bool fscreds_can_assume(const struct fscreds_self *self, const struct fscreds *target);

/* Take on target's fs ids, groups and effective capabilities (only those of ours that are
 * permitted) on the calling thread alone: raw syscalls, not glibc's setgroups(), which would
 * change every thread. Returns 0 or -errno; on failure the thread is self again (or the
 * process aborts: a thread stuck with another's credentials must not go on). */
int fscreds_assume(const struct fscreds_self *self, const struct fscreds *target);

/* Become self again after fscreds_assume(target). A failure aborts the process (see above). */
void fscreds_restore(const struct fscreds_self *self, const struct fscreds *target);
