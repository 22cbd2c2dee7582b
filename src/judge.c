#include "judge.h"

static int judge_file(const struct policy *p, const struct policy_subject *subj, struct identity_cache *cache,
                      const struct exec_file *f, const struct policy_rule **ret_rule) {
        /* No name (memfd, deleted file): nothing but content can tell what it is. */
        if (f->st.st_nlink == 0 && policy_fileless_rule(p)) {
                *ret_rule = policy_fileless_rule(p);
                return 0;
        }
        /* Content is hashed only for a size some rule of the subject's scopes has. */
        uint8_t digest[SHA256_LEN];
        const uint8_t *content = NULL;
        if (policy_wants_content(p, subj, f->st.st_size)) {
                int r = identity_sha256(cache, f->fd, &f->st, digest);
                if (r < 0)
                        return r;
                content = digest;
        }
        const struct policy_rule *rule = policy_decide(p, subj, f->path, &f->st, content);
        *ret_rule = rule && !rule->allow ? rule : NULL;
        return 0;
}

int judge_chain(const struct policy *p, const struct policy_subject *subj, struct identity_cache *cache,
                const struct exec_chain *chain, struct verdict *ret) {
        for (unsigned i = 0; i < chain->n; i++) {
                const struct policy_rule *rule = NULL;
                int r = judge_file(p, subj, cache, &chain->files[i], &rule);
                if (r < 0)
                        return r;
                if (rule) {
                        *ret = (struct verdict){ .rule = rule, .file = &chain->files[i] };
                        return 0;
                }
        }
        *ret = (struct verdict){};
        return 0;
}
