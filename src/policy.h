/* The policy: an INI file parsed with inih into an immutable object, then only looked up.
 *
 *     [execguard]
 *     mode = enforce | audit
 *     action = deny | kill
 *     match_content = yes | no       (a byte-identical copy of a blocked file is blocked)
 *     fileless = content | deny      (files with no name: memfd, deleted)
 *     log_file = /path               (JSON lines, besides journald or syslog)
 *     log_allowed = no | yes         (a record for every allowed exec too)
 *     no_new_privs = yes | no        (no: setuid programs work; daemon sessions only)
 *     capabilities = NAME, ... | none (the sessions' bounding set; default unchanged)
 *     max_sessions_per_user = N     (live daemon sessions of one user)
 *     max_pending_per_user = N      (execs of one user's sessions being verified at once)
 *     max_path = BYTES              (of the path an exec names)
 *     max_args = N, max_argv_bytes = BYTES (of an exec's arguments)
 *     [block]                                    (everybody)
 *     path = /absolute/path or fnmatch(3) glob   (repeatable)
 *     hash = sha256:HEX                          (repeatable)
 *     allow = path, glob or sha256:HEX           (an exception; repeatable)
 *     [user:NAME] and [group:NAME]               (the same keys, for one user or group)
 *
 * Precedence: the most specific scope that has a rule matching the file decides (the user's,
 * then the groups', then [block]); within a scope a block beats an allow.
 *
 * Lookups never scan the rule list: exact paths and file identities are hash lookups, and
 * globs are bucketed by their literal directory prefix, so a lookup costs one hash probe per
 * directory level of the path. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "identity.h"

enum policy_mode {
        POLICY_MODE_ENFORCE,
        POLICY_MODE_AUDIT,
};

enum policy_action {
        POLICY_ACTION_DENY,
        POLICY_ACTION_KILL,
};

enum policy_rule_kind {
        POLICY_RULE_PATH,
        POLICY_RULE_GLOB,
        POLICY_RULE_HASH,
        POLICY_RULE_FILELESS, /* fileless = deny */
};

enum policy_scope_kind {
        POLICY_SCOPE_GLOBAL,
        POLICY_SCOPE_USER,
        POLICY_SCOPE_GROUP,
};

struct policy_rule {
        enum policy_rule_kind kind;
        bool allow;        /* an exception (allow =), not a block */
        const char *scope; /* "user:NAME", "group:NAME", or NULL for [block] */
        char *text;        /* the value as written in the file */
        char *canonical;   /* what it is matched against: the path, or the glob, after resolving
                          * the symlinks in its existing literal part at load time */
        unsigned line;
        struct policy_rule *next_in_bucket; /* globs sharing a directory prefix */
};

struct policy;

/* The [execguard] settings that are not about judging a file. */
struct policy_settings {
        char *log_file; /* NULL: none */
        bool log_allowed;
        bool no_new_privs;       /* default yes */
        bool limit_capabilities; /* capabilities = was given */
        uint64_t capabilities;   /* the bounding set to keep, one bit per capability */
        /* Limits against abuse of the supervisor: beyond them an exec, or a session, is refused
         * and recorded, never half-judged. */
        unsigned max_sessions_per_user;
        unsigned max_pending_per_user;
        size_t max_path;       /* bytes, with the terminating NUL */
        size_t max_args;       /* arguments */
        size_t max_argv_bytes; /* bytes of all arguments, each with its NUL */
};

/* Defaults and bounds of the limits (execguard.ini(5)). */
#define POLICY_MAX_SESSIONS_PER_USER_DEFAULT 256
#define POLICY_MAX_PENDING_PER_USER_DEFAULT  256
#define POLICY_MAX_PENDING_PER_USER_LIMIT    1024 /* the verifier's table (verify.c) */
#define POLICY_MAX_PATH_DEFAULT              4096 /* the kernel's own PATH_MAX */
#define POLICY_MAX_ARGS_DEFAULT              131072
#define POLICY_MAX_ARGV_BYTES_DEFAULT        (2u << 20) /* ARG_MAX under the usual 8 MiB stack */

/* Where a parse failed. line is 0 when the failure is not tied to a line (open, fstat). */
struct policy_error {
        unsigned line;
        char message[256];
};

/* Parse an already opened policy stream. name is used in rule locations and messages.
 * On success stores a new policy in *ret_policy; on failure returns -EINVAL (syntax or
 * semantics; reterr says which line and why) or another -errno. A failed parse never
 * yields a policy. */
int policy_parse(FILE *stream, const char *name, struct policy **ret_policy, struct policy_error *reterr);

/* Open path safely (no symlink, a regular file owned by root or by the caller, not writable
 * by group or others) and parse it. Errors as policy_parse(). */
int policy_load(const char *path, struct policy **ret_policy, struct policy_error *reterr);

/* Say why policy_parse() or policy_load() of path failed with r: "path:line: why". */
void policy_error_format(const char *path, int r, const struct policy_error *err, char *buf, size_t size);

/* A new policy with the same source, settings and rules as old, whose files are identified
 * again (device, inode and content taken from what the paths name now): for when a blocked
 * file has been replaced. What the files were before stays blocked as well (a hard link or a
 * copy of the old program, made before, is still that program). Errors as policy_parse();
 * on error old stays as it is, and in force. */
int policy_reidentify(const struct policy *old, struct policy **ret_policy, struct policy_error *reterr);

/* The rules, in file order. */
size_t policy_n_rules(const struct policy *p);
const struct policy_rule *policy_rule_at(const struct policy *p, size_t i);

/* Free a policy. Accepts NULL. */
void policy_free(struct policy *p);
static inline void policy_freep(struct policy **p) {
        policy_free(*p);
}

enum policy_mode policy_mode(const struct policy *p);
enum policy_action policy_action(const struct policy *p);
const char *policy_source(const struct policy *p);
const struct policy_settings *policy_settings(const struct policy *p);

/* Who execs: the scopes of the policy that apply to a process. */
#define POLICY_SUBJECT_GROUPS_MAX 64
struct scope;
struct policy_subject {
        uid_t uid;
        const struct scope *user;
        const struct scope *groups[POLICY_SUBJECT_GROUPS_MAX];
        size_t n_groups;
};

/* Whether the policy has [user:] or [group:] sections: else who execs does not matter. */
bool policy_has_scopes(const struct policy *p);

/* The subject for a process with effective uid and the groups gids (effective gid and
 * supplementary groups), as they are at the moment of its exec. Returns 0, or -E2BIG if
 * more than POLICY_SUBJECT_GROUPS_MAX of its groups have a section (the exec must then be
 * refused). */
int policy_subject_init(const struct policy *p, uid_t uid, const gid_t *gids, size_t n_gids,
                        struct policy_subject *ret);

/* Whether a file of this size can only be judged by its content, for subj (NULL: the global
 * scope only): match_content and a named file of that size, or any hash rule. */
bool policy_wants_content(const struct policy *p, const struct policy_subject *subj, off_t size);

/* The rule that decides for the file with this canonical path ("" when only its content
 * counts), stat (may be NULL) and SHA-256 (NULL when not wanted), exec'd by subj (NULL: the
 * global scope only): a block, an allow (rule->allow), or NULL when no rule matches. */
const struct policy_rule *policy_decide(const struct policy *p, const struct policy_subject *subj,
                                        const char *canonical_path, const struct stat *st, const uint8_t *digest);

/* The rule that refuses every file without a name (fileless = deny), or NULL. */
const struct policy_rule *policy_fileless_rule(const struct policy *p);

/* Write a normalized dump of the policy (settings, then rules in file order). For tests
 * and for administrators who want to see what execguard understood. */
void policy_dump(const struct policy *p, FILE *out);

const char *policy_mode_to_string(enum policy_mode m);
const char *policy_action_to_string(enum policy_action a);
const char *policy_rule_kind_to_string(enum policy_rule_kind k);
