#include "rulewatch.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "table.h"
#include "util.h"

/* A rule's directory: names created, moved in or out, deleted. Nothing about its children's
 * contents: a directory watched for those has the kernel mark every cached dentry under it,
 * which takes milliseconds in a /usr/bin with many cached names (7 ms here, 46 ms for /tmp). */
#define DIR_EVENTS (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR)
/* A rule's file itself, the inode it is now: written, or its mode, owner, times or links
 * changed. */
#define FILE_EVENTS (IN_CLOSE_WRITE | IN_ATTRIB)

struct rule_watch {
        int fd;
        struct table names; /* base names of the rules' files: only those matter */
        char **owned_names;
        size_t n_names;
};

/* The file a rule names by path (path rules, and the programs of command rules): a pointer
 * to the '/' before its name, or NULL. */
static const char *file_name_of(const struct policy_rule *rule) {
        bool named = rule->kind == POLICY_RULE_PATH ||
                     (rule->kind == POLICY_RULE_COMMAND && !strpbrk(rule->canonical, "*?[\\"));
        if (!named)
                return NULL;
        const char *slash = strrchr(rule->canonical, '/');
        return slash && slash[1] != '\0' ? slash : NULL;
}

static void watch_file(struct rule_watch *w, const char *path) {
        struct stat st;
        /* A file that is not there has nothing to watch yet: its creation is an event of its
         * directory. Nor a directory (a path rule may name one): that watch would be one for
         * its children. */
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
                return;
        /* The same inode twice is one watch. */
        if (inotify_add_watch(w->fd, path, FILE_EVENTS) < 0 && errno != ENOENT)
                log_warning_errno(negative_errno(),
                                  "Cannot watch %s (%m): a change of it in place is seen only when it is replaced",
                                  path);
}

int rule_watch_new(const struct policy *p, struct rule_watch **ret) {
        _cleanup_(rule_watch_freep) struct rule_watch *w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->fd < 0)
                return negative_errno();
        w->owned_names = calloc(policy_n_rules(p) + 1, sizeof *w->owned_names);
        if (!w->owned_names)
                return -ENOMEM;

        /* Directories that cannot be watched: the first said in full, the others counted,
         * so that 200,000 rules naming missing directories make one line, not 200,000. */
        size_t n_failed = 0;
        for (size_t i = 0; i < policy_n_rules(p); i++) {
                const struct policy_rule *rule = policy_rule_at(p, i);
                const char *slash = file_name_of(rule);
                if (!slash)
                        continue;
                char dir[EG_PATH_MAX];
                snprintf(dir, sizeof dir, "%.*s", (int) (slash == rule->canonical ? 1 : slash - rule->canonical),
                         rule->canonical);
                /* The same directory twice is one watch. */
                if (inotify_add_watch(w->fd, dir, DIR_EVENTS) < 0) {
                        if (n_failed++ == 0)
                                log_warning_errno(negative_errno(),
                                                  "Cannot watch %s (%m): a replacement of %s will be blocked by path "
                                                  "only",
                                                  dir, rule->canonical);
                        continue;
                }
                char *name = strdup(slash + 1);
                if (!name)
                        return -ENOMEM;
                w->owned_names[w->n_names++] = name;
                int r = table_put(&w->names, name, strlen(name), name, NULL);
                if (r < 0 && r != -EEXIST)
                        return r;
                watch_file(w, rule->canonical);
        }
        if (n_failed > 1)
                log_warning("Cannot watch the directories of %zu more rules (missing, or too many watches): "
                            "replacements of their files will be blocked by path only",
                            n_failed - 1);
        *ret = TAKE_PTR(w);
        return 0;
}

void rule_watch_files(struct rule_watch *w, const struct policy *p) {
        for (size_t i = 0; i < policy_n_rules(p); i++) {
                const struct policy_rule *rule = policy_rule_at(p, i);
                if (file_name_of(rule))
                        watch_file(w, rule->canonical);
        }
}

void rule_watch_free(struct rule_watch *w) {
        if (!w)
                return;
        safe_close(w->fd);
        for (size_t i = 0; i < w->n_names; i++)
                free(w->owned_names[i]);
        free(w->owned_names);
        table_free(&w->names);
        free(w);
}

int rule_watch_fd(const struct rule_watch *w) {
        return w->fd;
}

int rule_watch_drain(struct rule_watch *w) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool relevant = false;
        for (;;) {
                ssize_t n = read(w->fd, buf, sizeof buf);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return relevant;
                        return negative_errno();
                }
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *) p;
                        p += sizeof *ev + ev->len;
                        /* Lost events: anything may have changed. An event without a name
                         * is one of a rule's file itself, or of a watched directory that is
                         * gone (IN_IGNORED, IN_UNMOUNT). */
                        if ((ev->mask & IN_Q_OVERFLOW) || ev->len == 0)
                                relevant = true;
                        else if (table_get(&w->names, ev->name, strlen(ev->name)))
                                relevant = true;
                }
        }
}
