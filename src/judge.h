/* Judging what an exec would run against the policy: every file of the chain, by name,
 * identity, content, whether it has a name at all, the arguments it receives, and, under
 * trusted_path, where it lies. */
#pragma once

#include "identity.h"
#include "policy.h"
#include "resolve.h"

struct verdict {
        const struct policy_rule *rule;  /* the rule that blocks, or NULL: allowed */
        const struct exec_file *file;    /* the file it blocks */
        const struct policy_rule *allow; /* the allow rule that matched the file the exec names */
        char why[256];                   /* for trusted_path and default = deny: what failed */
        /* The files of the chain whose content was hashed for the decision (bit i: file i),
         * with what it was: the exec must run that content (verify.h). */
        unsigned hashed;
        uint8_t digests[EXEC_CHAIN_FILES_MAX][SHA256_LEN];
};

/* An exec's arguments as read from the process: argc NUL-terminated strings laid end to
 * end, argv[0] first, and the name the kernel hands a script's interpreter
 * (bprm->filename). */
struct exec_args {
        const char *bytes;
        size_t argc;
        const char *filename;
};

/* The arguments file i of chain receives after its own name. */
void judge_args_of(const struct exec_chain *chain, unsigned i, const struct exec_args *args, struct policy_args *ret);

/* Judge each file of chain in order, for subj (policy_subject_init(); NULL: the global
 * scope only), the exec passing args (NULL: not known); the first blocked file decides.
 * Returns 0 with *ret filled, or -errno when a file could not be judged (its content could
 * not be read or changed while read, its path could not be walked): the caller must then
 * refuse the exec. */
int judge_chain(const struct policy *p, const struct policy_subject *subj, struct identity_cache *cache,
                const struct exec_chain *chain, const struct exec_args *args, struct verdict *ret);

/* After judge_chain(): a file of chain judged by its content (v->hashed) that the kernel
 * does not hold against writes while it runs, and that somebody other than root can write
 * (identity_only_root_writes()), or NULL. The kernel refuses writes to the program an exec
 * loads (ETXTBSY) from its open on, so that one is hashed again at the exec stop (verify.h);
 * but it lets go of an ELF interpreter once it has mapped it, and a program a dynamic loader
 * maps is an ordinary file: their content can change after any check, so such an exec is
 * refused. */
const struct exec_file *judge_unpinned(const struct exec_chain *chain, const struct verdict *v);
