#include "creds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* The second number on a "Key:\tr\te\ts\tfs" line: the effective id. */
static int effective_id(const char *status, const char *key, unsigned long *ret) {
        const char *line = strstr(status, key);
        if (!line)
                return -EIO;
        char *end;
        strtoul(line + strlen(key), &end, 10);
        *ret = strtoul(end, &end, 10);
        return 0;
}

int creds_subject_of_process(const struct policy *p, int proc_fd, struct policy_subject *ret) {
        /* Room for "Groups:" with CREDS_GROUPS_MAX ids of up to 10 digits, and the rest. */
        char status[CREDS_GROUPS_MAX * 11 + 4096];
        gid_t gids[CREDS_GROUPS_MAX + 1];
        size_t n = 0;

        _cleanup_close_ int fd = openat(proc_fd, "status", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        ssize_t len = pread_full(fd, status, sizeof status - 1, 0);
        if (len < 0)
                return (int) len;
        status[len] = '\0';

        unsigned long uid, gid;
        if (effective_id(status, "\nUid:", &uid) < 0 || effective_id(status, "\nGid:", &gid) < 0)
                return -EIO;
        gids[n++] = (gid_t) gid;
        const char *groups = strstr(status, "\nGroups:");
        if (!groups)
                return -EIO;
        const char *s = groups + 8;
        const char *eol = strchr(s, '\n');
        if (!eol)
                return -E2BIG; /* cut off: more groups than we read */
        for (;;) {
                s += strspn(s, " \t");
                if (s >= eol)
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
