#include "judge.h"

#include <stdio.h>
#include <string.h>

#include "trusted.h"

/* The words a #! chain puts in front of the exec's own arguments for file i, an
 * interpreter: each level makes its interpreter's argv out of its name, the line's
 * optional argument and the file name of the script, before the argv it was given minus
 * its first word (binfmt_script.c). */
static void script_prefix(const struct exec_chain *chain, unsigned i, const char *filename, struct policy_args *a) {
        for (unsigned j = i; j-- > 0;) {
                const struct shebang_line *line = &chain->files[j].script;
                if (j != i - 1 && a->n_pre < POLICY_ARGS_PRE_MAX)
                        a->pre[a->n_pre++] = line->interp;
                if (line->has_arg && a->n_pre < POLICY_ARGS_PRE_MAX)
                        a->pre[a->n_pre++] = line->arg;
        }
        if (a->n_pre < POLICY_ARGS_PRE_MAX)
                a->pre[a->n_pre++] = filename ? filename : "";
}

void judge_args_of(const struct exec_chain *chain, unsigned i, const struct exec_args *args, struct policy_args *ret) {
        *ret = (struct policy_args){};
        /* argv[1] on. */
        if (args->argc > 1) {
                ret->tail = args->bytes + strlen(args->bytes) + 1;
                ret->n_tail = args->argc - 1;
        }
        const struct exec_file *f = &chain->files[i];
        switch (f->role) {
        case EXEC_ROLE_PROGRAM:
                return;
        case EXEC_ROLE_SCRIPT_INTERP:
                script_prefix(chain, i, args->filename, ret);
                return;
        case EXEC_ROLE_ELF_INTERP:
                /* The ELF interpreter runs with its program's arguments. */
                if (chain->image > 0)
                        script_prefix(chain, chain->image, args->filename, ret);
                return;
        case EXEC_ROLE_LOADED:
                /* What follows the word of the loader's arguments that named it. */
                if (chain->image > 0)
                        script_prefix(chain, chain->image, args->filename, ret);
                for (size_t skip = f->loaded_word; skip > 0; skip--) {
                        if (ret->n_pre > 0) {
                                memmove(ret->pre, ret->pre + 1, (ret->n_pre - 1) * sizeof *ret->pre);
                                ret->n_pre--;
                        } else if (ret->n_tail > 0) {
                                ret->tail += strlen(ret->tail) + 1;
                                ret->n_tail--;
                        }
                }
                return;
        }
}

static int judge_file(const struct policy *p, const struct policy_subject *subj, struct identity_cache *cache,
                      const struct exec_chain *chain, unsigned i, const struct exec_args *args, struct verdict *v) {
        const struct exec_file *f = &chain->files[i];
        /* No name (memfd, deleted file): nothing but content can tell what it is. */
        if (f->st.st_nlink == 0 && policy_fileless_rule(p)) {
                v->rule = policy_fileless_rule(p);
                return 0;
        }
        /* Content is hashed only for a size some rule of the subject's scopes has. */
        const uint8_t *content = NULL;
        if (policy_wants_content(p, subj, f->st.st_size)) {
                int r = identity_sha256(cache, f->fd, &f->st, v->digests[i]);
                if (r < 0)
                        return r;
                content = v->digests[i];
                v->hashed |= 1u << i;
        }
        struct policy_args file_args;
        if (args && policy_has_commands(p))
                judge_args_of(chain, i, args, &file_args);
        const struct policy_rule *rule =
                policy_decide(p, subj, f->path, &f->st, content, args && policy_has_commands(p) ? &file_args : NULL);
        if (rule && !rule->allow) {
                v->rule = rule;
                return 0;
        }
        if (!rule && policy_default_rule(p)) {
                v->rule = policy_default_rule(p);
                snprintf(v->why, sizeof v->why, "no allow rule matches %s", f->path);
                return 0;
        }
        /* What allowed the file the exec names, for check to explain: an allow that
         * matched only its ELF interpreter (or a #! interpreter) says nothing of it. */
        if (rule && i == 0)
                v->allow = rule;
        if (policy_trusted_path_rule(p) && !policy_trusted_path_exempt(p, subj, f->path, &f->st)) {
                int r = trusted_path_check(f, v->why, sizeof v->why);
                if (r < 0)
                        return r;
                if (r == 0)
                        v->rule = policy_trusted_path_rule(p);
        }
        return 0;
}

int judge_chain(const struct policy *p, const struct policy_subject *subj, struct identity_cache *cache,
                const struct exec_chain *chain, const struct exec_args *args, struct verdict *ret) {
        *ret = (struct verdict){};
        for (unsigned i = 0; i < chain->n; i++) {
                int r = judge_file(p, subj, cache, chain, i, args, ret);
                if (r < 0)
                        return r;
                if (ret->rule) {
                        ret->file = &chain->files[i];
                        return 0;
                }
        }
        ret->why[0] = '\0';
        return 0;
}

const struct exec_file *judge_unpinned(const struct exec_chain *chain, const struct verdict *v) {
        for (unsigned i = 0; i < chain->n; i++) {
                const struct exec_file *f = &chain->files[i];
                if (!(v->hashed & (1u << i)) || (f->role != EXEC_ROLE_ELF_INTERP && f->role != EXEC_ROLE_LOADED))
                        continue;
                if (!identity_only_root_writes(&f->st))
                        return f;
        }
        return NULL;
}
