#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "creds.h"
#include "judge.h"
#include "resolve.h"
#include "util.h"

int check_paths(const struct policy *policy, char *const *paths, int n, FILE *out) {
        struct root_id own_root;
        bool blocked = false, unresolved = false;
        _cleanup_free_ struct exec_chain *chain = calloc(1, sizeof *chain);
        _cleanup_(identity_cache_freep) struct identity_cache *identities = identity_cache_new();
        if (!chain || !identities)
                return 2;
        int r = root_id_get_own(&own_root);
        if (r < 0) {
                fprintf(stderr, "execguard: cannot identify the root directory: %s\n", strerror(-r));
                return 2;
        }

        for (int i = 0; i < n; i++) {
                char shown[EG_PATH_MAX];
                audit_escape(paths[i], shown, sizeof shown);

                _cleanup_(exec_context_close) struct exec_context ctx = EXEC_CONTEXT_NULL;
                r = exec_context_open(getpid(), &own_root, &ctx);
                if (r >= 0)
                        r = resolve_exec(&ctx, AT_FDCWD, paths[i], 0, chain);
                if (r < 0) {
                        fprintf(out, "%s: cannot be executed: %s\n", shown, strerror(-r));
                        unresolved = true;
                        exec_chain_reset(chain);
                        continue;
                }

                struct policy_subject subj;
                struct verdict v;
                r = creds_subject_of_self(policy, &subj);
                if (r >= 0)
                        r = judge_chain(policy, &subj, identities, chain, &v);
                if (r < 0) {
                        fprintf(out, "%s: cannot be judged: %s\n", shown, strerror(-r));
                        unresolved = true;
                        exec_chain_reset(chain);
                        continue;
                }
                const struct policy_rule *rule = v.rule;
                const struct exec_file *hit = v.file;
                if (!rule)
                        fprintf(out, "%s: allowed\n", shown);
                else {
                        char file[EG_PATH_MAX], text[EG_PATH_MAX];
                        audit_escape(hit->path, file, sizeof file);
                        audit_escape(rule->text, text, sizeof text);
                        fprintf(out, "%s: blocked by %s:%u (%s = %s)", shown, policy_source(policy), rule->line,
                                rule->kind == POLICY_RULE_HASH ? "hash" : "path", text);
                        if (rule->scope)
                                fprintf(out, " in [%s]", rule->scope);
                        switch (hit->role) {
                        case EXEC_ROLE_PROGRAM:
                                if (strcmp(file, shown) != 0)
                                        fprintf(out, " as %s", file);
                                break;
                        case EXEC_ROLE_SCRIPT_INTERP:
                                fprintf(out, " as #! interpreter %s", file);
                                break;
                        case EXEC_ROLE_ELF_INTERP:
                                fprintf(out, " as ELF interpreter %s", file);
                                break;
                        case EXEC_ROLE_LOADED:
                                fprintf(out, " as the program of the dynamic loader, %s", file);
                                break;
                        }
                        if (policy_mode(policy) == POLICY_MODE_AUDIT)
                                fprintf(out, " [mode = audit: logged, not blocked]");
                        fputc('\n', out);
                        blocked = true;
                }
                exec_chain_reset(chain);
        }
        return blocked ? 1 : unresolved ? 2 : 0;
}
