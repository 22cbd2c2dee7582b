#include "creds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procstatus.h"
#include "util.h"

int creds_subject_of_process(const struct policy *p, int proc_fd, struct policy_subject *ret) {
        /* Without user or group sections everybody is judged alike: nothing to read. */
        if (!policy_has_scopes(p))
                return policy_subject_init(p, (uid_t) -1, NULL, 0, ret);

        char status[PROCSTATUS_BUF];
        gid_t gids[CREDS_GROUPS_MAX + 1];
        size_t n = 0;
        ssize_t len = procstatus_read(proc_fd, status, sizeof status);
        if (len < 0)
                return (int) len;

        unsigned long uid, gid;
        if (procstatus_number(status, "Uid", 1, &uid) < 0 || procstatus_number(status, "Gid", 1, &gid) < 0)
                return -EIO; /* the effective ids: the second of real, effective, saved, fs */
        gids[n++] = (gid_t) gid;
        const char *s = procstatus_field(status, "Groups");
        if (!s)
                return -EIO;
        for (;;) {
                s += strspn(s, " \t");
                if (*s == '\n' || *s == '\0')
                        break;
                if (n == ELEMENTSOF(gids))
                        return -E2BIG;
                char *end;
                gids[n++] = (gid_t) strtoul(s, &end, 10);
                if (end == s)
                        return -EIO;
                s = end;
        }
        return policy_subject_init(p, (uid_t) uid, gids, n, ret);
}

int creds_subject_of_self(const struct policy *p, struct policy_subject *ret) {
        gid_t gids[CREDS_GROUPS_MAX + 1];
        gids[0] = getegid();
        int n = getgroups(CREDS_GROUPS_MAX, gids + 1);
        if (n < 0)
                return errno == EINVAL ? -E2BIG : negative_errno();
        return policy_subject_init(p, geteuid(), gids, (size_t) n + 1, ret);
}
