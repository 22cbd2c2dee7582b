#include "rulewatch.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "log.h"
#include "table.h"
#include "util.h"

#define WATCH_EVENTS (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB | IN_ONLYDIR)

struct rule_watch {
        int fd;
        struct table names; /* base names of the rules' files: only those matter */
        char **owned_names;
        size_t n_names;
};

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

        for (size_t i = 0; i < policy_n_rules(p); i++) {
                const struct policy_rule *rule = policy_rule_at(p, i);
                /* Files named by a path: path rules, and the programs of command rules. */
                bool named = rule->kind == POLICY_RULE_PATH ||
                             (rule->kind == POLICY_RULE_COMMAND && !strpbrk(rule->canonical, "*?[\\"));
                if (!named)
                        continue;
                const char *slash = strrchr(rule->canonical, '/');
                if (!slash || slash[1] == '\0')
                        continue;
                char dir[EG_PATH_MAX];
                snprintf(dir, sizeof dir, "%.*s", (int) (slash == rule->canonical ? 1 : slash - rule->canonical),
                         rule->canonical);
                /* The same directory twice is one watch. */
                if (inotify_add_watch(w->fd, dir, WATCH_EVENTS) < 0) {
                        log_warning_errno(negative_errno(),
                                          "Cannot watch %s (%m): a replacement of %s will be blocked by path only", dir,
                                          rule->canonical);
                        continue;
                }
                char *name = strdup(slash + 1);
                if (!name)
                        return -ENOMEM;
                w->owned_names[w->n_names++] = name;
                int r = table_put(&w->names, name, strlen(name), name, NULL);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        *ret = TAKE_PTR(w);
        return 0;
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
                        /* Lost events: anything may have changed. */
                        if (ev->mask & IN_Q_OVERFLOW)
                                relevant = true;
                        else if (ev->len > 0 && table_get(&w->names, ev->name, strlen(ev->name)))
                                relevant = true;
                }
        }
}
