#include "judge.h"

static int judge_file(const struct policy *p, struct identity_cache *cache, const struct exec_file *f,
                      const struct policy_rule **ret_rule) {
        /* No name (memfd, deleted file): nothing but content can tell what it is. */
        if (f->st.st_nlink == 0 && policy_fileless_rule(p)) {
                *ret_rule = policy_fileless_rule(p);
                return 0;
        }
        *ret_rule = policy_match(p, f->path, &f->st);
        if (*ret_rule || !policy_wants_content(p, f->st.st_size))
                return 0;
        uint8_t digest[SHA256_LEN];
        int r = identity_sha256(cache, f->fd, &f->st, digest);
        if (r < 0)
                return r;
        *ret_rule = policy_match_content(p, digest);
        return 0;
}

int judge_chain(const struct policy *p, struct identity_cache *cache, const struct exec_chain *chain,
                struct verdict *ret) {
        for (unsigned i = 0; i < chain->n; i++) {
                const struct policy_rule *rule = NULL;
                int r = judge_file(p, cache, &chain->files[i], &rule);
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
