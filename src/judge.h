/* Judging what an exec would run against the policy: every file of the chain, by name,
 * identity, content, and whether it has a name at all. */
#pragma once

#include "identity.h"
#include "policy.h"
#include "resolve.h"

struct verdict {
        const struct policy_rule *rule; /* the rule that blocks, or NULL: allowed */
        const struct exec_file *file;   /* the file it blocks */
};

/* Judge each file of chain in order, for subj (policy_subject_init(); NULL: the global
 * scope only); the first blocked file decides. Returns 0 with *ret filled, or -errno when a
 * file could not be judged (its content could not be read or changed while read): the
 * caller must then refuse the exec. */
int judge_chain(const struct policy *p, const struct policy_subject *subj, struct identity_cache *cache,
                const struct exec_chain *chain, struct verdict *ret);
