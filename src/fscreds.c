#include "fscreds.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procstatus.h"
#include "util.h"

#define CAP_BIT(c) (UINT64_C(1) << (c))
/* What the kernel takes out of the effective set when the fsuid leaves 0, and puts back
 * (from the permitted set) when it returns to 0: CAP_FS_MASK. */
#define FS_CAPS                                                                                                \
        (CAP_BIT(CAP_CHOWN) | CAP_BIT(CAP_DAC_OVERRIDE) | CAP_BIT(CAP_DAC_READ_SEARCH) | CAP_BIT(CAP_FOWNER) | \
         CAP_BIT(CAP_FSETID) | CAP_BIT(CAP_LINUX_IMMUTABLE) | CAP_BIT(CAP_MKNOD) | CAP_BIT(CAP_MAC_OVERRIDE))

int fscreds_parse(const char *status, struct fscreds *ret) {
        unsigned long uid, gid;
        /* Real, effective, saved, fs: the fourth is what the kernel checks files with. */
        if (procstatus_number(status, "Uid", 3, &uid) < 0 || procstatus_number(status, "Gid", 3, &gid) < 0)
                return -EIO;
        const char *caps = procstatus_field(status, "CapEff");
        if (!caps)
                return -EIO;
        char *end;
        uint64_t effective = strtoull(caps, &end, 16);
        if (end == caps)
                return -EIO;
        const char *s = procstatus_field(status, "Groups");
        if (!s)
                return -EIO;
        size_t n = 0;
        for (;;) {
                s += strspn(s, " \t");
                if (*s == '\n' || *s == '\0')
                        break;
                if (n == ELEMENTSOF(ret->groups))
                        return -E2BIG;
                unsigned long g = strtoul(s, &end, 10);
                if (end == s)
                        return -EIO;
                ret->groups[n++] = (gid_t) g;
                s = end;
        }
        ret->fsuid = (uid_t) uid;
        ret->fsgid = (gid_t) gid;
        ret->effective = effective;
        ret->n_groups = n;
        return 0;
}

static int hex_field(const char *status, const char *key, uint64_t *ret) {
        const char *s = procstatus_field(status, key);
        char *end;
        if (!s)
                return -EIO;
        *ret = strtoull(s, &end, 16);
        return end == s ? -EIO : 0;
}

int fscreds_self_get(struct fscreds_self *ret) {
        char status[PROCSTATUS_BUF];
        _cleanup_close_ int self = open("/proc/thread-self", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (self < 0)
                return negative_errno();
        ssize_t n = procstatus_read(self, status, sizeof status);
        if (n < 0)
                return (int) n;
        int r = fscreds_parse(status, &ret->creds);
        if (r < 0)
                return r;
        if (hex_field(status, "CapPrm", &ret->permitted) < 0 || hex_field(status, "CapInh", &ret->inheritable) < 0)
                return -EIO;
        uint64_t ids = CAP_BIT(CAP_SETUID) | CAP_BIT(CAP_SETGID);
        ret->can_set_ids = (ret->permitted & ids) == ids;
        return 0;
}

static bool same_ids(const struct fscreds *a, const struct fscreds *b) {
        return a->fsuid == b->fsuid && a->fsgid == b->fsgid && a->n_groups == b->n_groups &&
               memcmp(a->groups, b->groups, a->n_groups * sizeof a->groups[0]) == 0;
}

bool fscreds_equal(const struct fscreds *a, const struct fscreds *b) {
        return same_ids(a, b) && a->effective == b->effective;
}

bool fscreds_can_assume(const struct fscreds_self *self, const struct fscreds *target) {
        return self->can_set_ids || same_ids(&self->creds, target);
}

static int set_caps(const struct fscreds_self *self, uint64_t effective) {
        struct __user_cap_header_struct head = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[2] = {
                { .effective = (uint32_t) effective,
                  .permitted = (uint32_t) self->permitted,
                  .inheritable = (uint32_t) self->inheritable },
                { .effective = (uint32_t) (effective >> 32),
                  .permitted = (uint32_t) (self->permitted >> 32),
                  .inheritable = (uint32_t) (self->inheritable >> 32) },
        };
        /* capset(2) with pid 0 changes the calling thread only. */
        return syscall(SYS_capset, &head, data) < 0 ? negative_errno() : 0;
}

/* setfsuid/setfsgid report no error: they return the old id. Asking again with an id that
 * cannot be set (-1) tells what is in force. */
static int set_fsuid(uid_t uid) {
        syscall(SYS_setfsuid, uid);
        return (uid_t) syscall(SYS_setfsuid, (uid_t) -1) == uid ? 0 : -EPERM;
}

static int set_fsgid(gid_t gid) {
        syscall(SYS_setfsgid, gid);
        return (gid_t) syscall(SYS_setfsgid, (gid_t) -1) == gid ? 0 : -EPERM;
}

static int set_groups(const struct fscreds *c) {
        /* The raw syscall: glibc's setgroups() signals every thread to do the same. */
        return syscall(SYS_setgroups, c->n_groups, c->groups) < 0 ? negative_errno() : 0;
}

int fscreds_assume(const struct fscreds_self *self, const struct fscreds *target) {
        const struct fscreds *own = &self->creds;
        int r = 0;
        /* Ids first, while our capabilities (CAP_SETGID, CAP_SETUID) are in force; setfsuid
         * away from 0 drops the file-system capabilities from the effective set itself.
         * The capabilities last: only those the process has and we may hold. A process in
         * another user namespace was given none by the caller: its capabilities count in
         * its namespace only, and none here refuses at most what it could do. */
        if (own->n_groups != target->n_groups ||
            memcmp(own->groups, target->groups, own->n_groups * sizeof own->groups[0]) != 0)
                r = set_groups(target);
        if (r >= 0 && own->fsgid != target->fsgid)
                r = set_fsgid(target->fsgid);
        if (r >= 0 && own->fsuid != target->fsuid)
                r = set_fsuid(target->fsuid);
        if (r >= 0)
                r = set_caps(self, target->effective & self->permitted);
        if (r < 0)
                fscreds_restore(self, target);
        return r;
}

void fscreds_restore(const struct fscreds_self *self, const struct fscreds *target) {
        const struct fscreds *own = &self->creds;
        /* Capabilities first: raising our effective set within our permitted one always
         * works, and the ids need CAP_SETUID and CAP_SETGID back. Then setfsuid to 0 may
         * raise the file-system capabilities again, which the last capset() undoes when
         * we did not have them in force. A thread that cannot be itself again must not
         * serve another exec: abort (every later exec of the tree then fails, ENOSYS). */
        if (set_caps(self, own->effective) < 0)
                abort();
        if (own->fsuid != target->fsuid && set_fsuid(own->fsuid) < 0)
                abort();
        if (own->fsgid != target->fsgid && set_fsgid(own->fsgid) < 0)
                abort();
        if ((own->n_groups != target->n_groups ||
             memcmp(own->groups, target->groups, own->n_groups * sizeof own->groups[0]) != 0) &&
            set_groups(own) < 0)
                abort();
        if (own->fsuid != target->fsuid && own->fsuid == 0 && (self->permitted & FS_CAPS & ~own->effective) &&
            set_caps(self, own->effective) < 0)
                abort();
}
