#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "creds.h"
#include "judge.h"
#include "loader.h"
#include "protect.h"
#include "log.h"
#include "resolve.h"
#include "util.h"
#include "wallclock.h"

/* Split text into words as sh would (blanks separate; '...' and "..." quote; a backslash
 * keeps the next character), NUL-terminated end to end in buf. Returns the number of words,
 * or -EINVAL (an unclosed quote) or -E2BIG. */
static int split_words(const char *text, char *buf, size_t size) {
        size_t n = 0, words = 0;
        const char *s = text;
        for (;;) {
                s += strspn(s, " \t\n");
                if (*s == '\0')
                        return (int) words;
                char quote = 0;
                while (*s && (quote || !strchr(" \t\n", *s))) {
                        char c = *s++;
                        if (quote && c == quote) {
                                quote = 0;
                                continue;
                        }
                        if (!quote && (c == '\'' || c == '"')) {
                                quote = c;
                                continue;
                        }
                        if (c == '\\' && quote != '\'' && *s)
                                c = *s++;
                        if (n + 2 > size)
                                return -E2BIG;
                        buf[n++] = c;
                }
                if (quote)
                        return -EINVAL;
                buf[n++] = '\0';
                words++;
        }
}

static const char *role_text(enum exec_role role) {
        switch (role) {
        case EXEC_ROLE_PROGRAM:
                return "";
        case EXEC_ROLE_SCRIPT_INTERP:
                return "#! interpreter ";
        case EXEC_ROLE_ELF_INTERP:
                return "ELF interpreter ";
        case EXEC_ROLE_LOADED:
                return "the program of the dynamic loader, ";
        }
        return "";
}

/* "FILE:LINE (key = text) in [scope]" */
static void print_rule(const struct policy *policy, const struct policy_rule *rule, FILE *out) {
        char text[EG_PATH_MAX];
        log_escape(rule->text, text, sizeof text);
        fprintf(out, "%s:%u (", policy_source(policy), rule->line);
        if (rule->key)
                fprintf(out, "%s = ", rule->key);
        fprintf(out, "%s)", text);
        if (rule->scope)
                fprintf(out, " in [%s]", rule->scope);
}

/* The subject and context of the checks, from the options. */
static int subject_of(const struct policy *policy, const struct check_options *o, struct policy_subject *subj,
                      char *parent, size_t size, struct stat *parent_st) {
        struct policy_context ctx = {};
        int r = o->time ? wallclock_parse(o->time, &ctx) : wallclock_now(&ctx);
        if (r < 0) {
                fprintf(stderr, "execguard: check: %s: %s\n", o->time ? o->time : "the time",
                        o->time ? "invalid time (expected \"YYYY-MM-DD HH:MM\")" : strerror(-r));
                return r;
        }
        ctx.parent = ""; /* matches no parent = */
        if (o->parent) {
                char *canonical = realpath(o->parent, NULL);
                if (!canonical || stat(canonical, parent_st) < 0) {
                        r = negative_errno();
                        fprintf(stderr, "execguard: check: --parent %s: %s\n", o->parent, strerror(-r));
                        free(canonical);
                        return r;
                }
                snprintf(parent, size, "%s", canonical);
                free(canonical);
                ctx.parent = parent;
                ctx.parent_st = parent_st;
        }
        r = creds_subject_of_self(policy, o->user, &ctx, subj);
        if (r < 0)
                fprintf(stderr, "execguard: check: %s%s: %s\n", o->user ? "user " : "the caller",
                        o->user ? o->user : "", r == -ESRCH ? "no such user" : strerror(-r));
        return r;
}

/* check --op OP: each path as the operation OP of the caller would meet it. */
static int check_operation(const struct policy *policy, const struct check_options *o, const struct exec_self *self,
                           char *const *paths, int n, FILE *out) {
        int op = policy_op_from_string(o->op, strlen(o->op));
        if (op < 0) {
                fprintf(stderr,
                        "execguard: check: --op %s: no such operation (unlink, rename, truncate, write, chmod, "
                        "chown, link, symlink)\n",
                        o->op);
                return 2;
        }
        if (o->argv) {
                fprintf(stderr, "execguard: check: --argv is for execs, not with --op\n");
                return 2;
        }
        char parent[EG_PATH_MAX];
        struct stat parent_st;
        struct policy_subject subj;
        if (subject_of(policy, o, &subj, parent, sizeof parent, &parent_st) < 0)
                return 2;
        bool blocked = false, unresolved = false;
        for (int i = 0; i < n; i++) {
                char shown[EG_PATH_MAX];
                log_escape(paths[i], shown, sizeof shown);
                _cleanup_(exec_context_close) struct exec_context ctx = EXEC_CONTEXT_NULL;
                struct protect_object obj = { .dir = -1, .fd = -1, .file = -1 };
                int error;
                int r = exec_context_open(getpid(), self, &ctx);
                const struct policy_rule *rule =
                        r < 0 ? NULL : protect_explain(&ctx, policy, &subj, (unsigned) op, paths[i], &obj, &error);
                safe_close(obj.dir);
                safe_close(obj.fd);
                if (r >= 0)
                        r = error;
                if (r < 0) {
                        fprintf(out, "%s: cannot be looked up for %s: %s\n", shown, o->op, strerror(-r));
                        unresolved = true;
                        continue;
                }
                if (rule) {
                        fprintf(out, "%s: %s blocked by ", shown, o->op);
                        print_rule(policy, rule, out);
                        char file[EG_PATH_MAX];
                        log_escape(obj.path, file, sizeof file);
                        if (strcmp(file, shown) != 0)
                                fprintf(out, " as %s", file);
                        if (policy_mode(policy) == POLICY_MODE_AUDIT)
                                fprintf(out, " [mode = audit: logged, not blocked]");
                        blocked = true;
                } else
                        fprintf(out, "%s: %s allowed (no protect rule matches)", shown, o->op);
                if (o->user)
                        fprintf(out, " [user %s]", o->user);
                fputc('\n', out);
        }
        return blocked ? 1 : unresolved ? 2 : 0;
}

int check_paths(const struct policy *policy, const struct check_options *o, char *const *paths, int n, FILE *out) {
        _cleanup_free_ struct exec_self *self = calloc(1, sizeof *self);
        bool blocked = false, unresolved = false;
        _cleanup_free_ struct exec_chain *chain = calloc(1, sizeof *chain);
        _cleanup_(identity_cache_freep) struct identity_cache *identities = identity_cache_new();
        _cleanup_free_ char *words = NULL;
        size_t argc = 0;
        if (!chain || !identities || !self)
                return 2;
        int r = exec_self_get(self);
        if (r < 0) {
                fprintf(stderr, "execguard: cannot identify the root directory and credentials: %s\n", strerror(-r));
                return 2;
        }
        if (o->op)
                return check_operation(policy, o, self, paths, n, out);
        if (o->argv) {
                size_t size = strlen(o->argv) + 1;
                words = malloc(size);
                r = words ? split_words(o->argv, words, size) : -ENOMEM;
                if (r <= 0) {
                        fprintf(stderr, "execguard: check: --argv: %s\n",
                                r == 0 ? "no words (argv[0] comes first)" : "unclosed quote");
                        return 2;
                }
                argc = (size_t) r;
        }
        /* The argv as a process would pass it to execve(), in our own memory: a loader run
         * as a command is read from it (loader_add_programs() reads /proc/PID/mem, here
         * ours) exactly as the supervisor reads the exec'ing process's. */
        _cleanup_free_ char **argv = calloc(argc + 1, sizeof *argv);
        _cleanup_free_ struct loader_set *loaders = calloc(1, sizeof *loaders);
        if (!argv || !loaders)
                return 2;
        for (size_t i = 0, off = 0; i < argc; i++) {
                argv[i] = words + off;
                off += strlen(words + off) + 1;
        }
        r = loader_set_scan(loaders);
        if (r < 0) {
                fprintf(stderr, "execguard: cannot find the host's dynamic loaders: %s\n", strerror(-r));
                return 2;
        }
        char parent[EG_PATH_MAX];
        struct stat parent_st;
        struct policy_subject subj;
        if (subject_of(policy, o, &subj, parent, sizeof parent, &parent_st) < 0)
                return 2;

        for (int i = 0; i < n; i++) {
                /* Names a user chose reach the administrator's terminal: escaped as every
                 * diagnostic is, C1 controls and stray bytes too (a bare 0x9b is a CSI). */
                char shown[EG_PATH_MAX];
                log_escape(paths[i], shown, sizeof shown);

                _cleanup_(exec_context_close) struct exec_context ctx = EXEC_CONTEXT_NULL;
                r = exec_context_open(getpid(), self, &ctx);
                if (r >= 0)
                        r = resolve_exec(&ctx, AT_FDCWD, paths[i], 0, chain);
                if (r >= 0 && words) {
                        /* A dynamic loader run as a command: the program it loads is judged too. */
                        r = loader_set_recognises(loaders, identities, &chain->files[chain->image]);
                        if (r > 0)
                                r = loader_add_programs(&ctx, chain,
                                                        &(struct exec_argv){ .pid = getpid(),
                                                                             .addr = (uintptr_t) argv,
                                                                             .pointer_size = sizeof(char *),
                                                                             .filename = paths[i] });
                }
                if (r < 0) {
                        fprintf(out, "%s: cannot be executed: %s\n", shown, strerror(-r));
                        unresolved = true;
                        exec_chain_reset(chain);
                        continue;
                }

                /* The path alone is argv = { PATH }. */
                struct exec_args args = {
                        .bytes = words ? words : paths[i],
                        .argc = words ? argc : 1,
                        .filename = paths[i],
                };
                struct verdict v;
                r = judge_chain(policy, &subj, identities, chain, &args, &v);
                if (r < 0) {
                        fprintf(out, "%s: cannot be judged: %s\n", shown, strerror(-r));
                        unresolved = true;
                        exec_chain_reset(chain);
                        continue;
                }
                const struct policy_rule *rule = v.rule;
                if (!rule) {
                        fprintf(out, "%s: allowed", shown);
                        if (v.allow) {
                                fputs(" by ", out);
                                print_rule(policy, v.allow, out);
                        } else
                                fputs(" (no rule matches; default = allow)", out);
                } else {
                        char file[EG_PATH_MAX];
                        const struct exec_file *hit = v.file;
                        log_escape(hit->path, file, sizeof file);
                        fputs(shown, out);
                        fputs(": blocked by ", out);
                        print_rule(policy, rule, out);
                        if (hit->role != EXEC_ROLE_PROGRAM || strcmp(file, shown) != 0)
                                fprintf(out, " as %s%s", role_text(hit->role), file);
                        if (v.why[0]) {
                                char why[sizeof v.why];
                                log_escape(v.why, why, sizeof why);
                                fprintf(out, ": %s", why);
                        }
                        if (policy_mode(policy) == POLICY_MODE_AUDIT)
                                fprintf(out, " [mode = audit: logged, not blocked]");
                        blocked = true;
                }
                if (o->user)
                        fprintf(out, " [user %s]", o->user);
                fputc('\n', out);
                exec_chain_reset(chain);
        }
        return blocked ? 1 : unresolved ? 2 : 0;
}
