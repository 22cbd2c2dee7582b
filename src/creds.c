#include "creds.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "wallclock.h"

/* The program of the process (its /proc/PID/exe), as the supervisor sees it: stat and
 * path, without the " (deleted)" the kernel adds to a file that has no name any more. */
static int program_of(int proc_fd, char *path, size_t size, struct stat *st) {
        if (fstatat(proc_fd, "exe", st, 0) < 0)
                return negative_errno();
        ssize_t n = readlinkat(proc_fd, "exe", path, size);
        if (n < 0)
                return negative_errno();
        if ((size_t) n >= size)
                return -ENAMETOOLONG;
        path[n] = '\0';
        static const char deleted[] = " (deleted)";
        if ((size_t) n > sizeof deleted - 1 && strcmp(path + n - (sizeof deleted - 1), deleted) == 0)
                path[n - (sizeof deleted - 1)] = '\0';
        return 0;
}

/* The context the policy's conditions need, for the process at proc_fd (-1: ourselves). */
static int context_of(const struct policy *p, int proc_fd, struct policy_context *ctx, char *parent, size_t size,
                      struct stat *st) {
        *ctx = (struct policy_context){};
        if (policy_has_windows(p)) {
                int r = wallclock_now(ctx);
                if (r < 0)
                        return r;
        }
        if (policy_has_parents(p)) {
                int r;
                if (proc_fd >= 0)
                        r = program_of(proc_fd, parent, size, st);
                else {
                        _cleanup_close_ int self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        r = self < 0 ? negative_errno() : program_of(self, parent, size, st);
                }
                if (r < 0)
                        return r;
                ctx->parent = parent;
                ctx->parent_st = st;
        }
        return 0;
}

int creds_subject_of_process(const struct policy *p, int proc_fd, uid_t euid, gid_t egid, const gid_t *groups,
                             size_t n_groups, struct policy_subject *ret) {
        char parent[EG_PATH_MAX];
        struct stat parent_st;
        struct policy_context ctx;
        int r = context_of(p, proc_fd, &ctx, parent, sizeof parent, &parent_st);
        if (r < 0)
                return r;
        /* Without user or group sections everybody is judged alike. */
        if (!policy_has_scopes(p))
                return policy_subject_init(p, (uid_t) -1, NULL, 0, &ctx, ret);
        gid_t gids[CREDS_GROUPS_MAX + 1];
        if (n_groups > CREDS_GROUPS_MAX)
                return -E2BIG;
        gids[0] = egid;
        memcpy(gids + 1, groups, n_groups * sizeof *groups);
        return policy_subject_init(p, euid, gids, n_groups + 1, &ctx, ret);
}

int creds_subject_of_self(const struct policy *p, const char *user, const struct policy_context *given,
                          struct policy_subject *ret) {
        char parent[EG_PATH_MAX];
        struct stat parent_st;
        struct policy_context ctx;
        if (given)
                ctx = *given;
        else {
                int r = context_of(p, -1, &ctx, parent, sizeof parent, &parent_st);
                if (r < 0)
                        return r;
        }
        gid_t gids[CREDS_GROUPS_MAX + 1];
        if (!user) {
                gids[0] = getegid();
                int n = getgroups(CREDS_GROUPS_MAX, gids + 1);
                if (n < 0)
                        return errno == EINVAL ? -E2BIG : negative_errno();
                return policy_subject_init(p, geteuid(), gids, (size_t) n + 1, &ctx, ret);
        }
        errno = 0;
        struct passwd *pw = getpwnam(user);
        if (!pw && user[0] && strspn(user, "0123456789") == strlen(user))
                pw = getpwuid((uid_t) strtoul(user, NULL, 10));
        if (!pw)
                return errno ? negative_errno() : -ESRCH;
        int n = CREDS_GROUPS_MAX;
        if (getgrouplist(pw->pw_name, pw->pw_gid, gids, &n) < 0)
                return -E2BIG;
        return policy_subject_init(p, pw->pw_uid, gids, (size_t) n, &ctx, ret);
}
