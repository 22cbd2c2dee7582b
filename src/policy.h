/* The policy: an INI file parsed (ini.h) into an immutable object, then only looked up.
 *
 *     [execguard]
 *     mode = enforce | audit
 *     action = deny | kill
 *     default = allow | deny         (deny: an allowlist, every file must match an allow)
 *     trusted_path = no | yes        (yes: only files under root-owned, unwritable directories)
 *     match_content = yes | no       (a byte-identical copy of a blocked file is blocked)
 *     fileless = content | deny      (files with no name: memfd, deleted)
 *     log_file = /path               (JSON lines, besides journald or syslog)
 *     log_allowed = no | yes         (a record for every allowed exec too)
 *     no_new_privs = yes | no        (no: setuid programs work; daemon sessions only)
 *     on_daemon_unavailable = standalone | refuse (run/login when no daemon answers)
 *     verifier = auto | kernel | ptrace (the check after exec: kverify.h, verify.h)
 *     capabilities = NAME, ... | none (the sessions' bounding set; default unchanged)
 *     max_sessions_per_user = N     (live daemon sessions of one user)
 *     max_pending_per_user = N      (execs of one user's sessions being verified at once)
 *     max_path = BYTES              (of the path an exec names)
 *     max_args = N, max_argv_bytes = BYTES (of an exec's arguments)
 *     workers = N                   (the daemon's deciding threads; default one per CPU)
 *     resolve_timeout = SECONDS     (the daemon denies an exec not decided by then)
 *     [block] and [allow]                        (everybody)
 *     path = /absolute/path or fnmatch(3) glob   (repeatable, as all rules)
 *     dir = /directory                           (every file under it)
 *     hash = sha256:HEX
 *     command = PROGRAM ARG-GLOB... [*]          (the program with these arguments)
 *     allow = path, glob or sha256:HEX           (in [block]: an exception)
 *     allow_dir = DIR, allow_command = PATTERN   (in [block]: exceptions)
 *     trusted_path_exempt = path, glob or DIR/   (not held to trusted_path)
 *     parent = PROGRAM                           (the section applies to execs made by it)
 *     hours = HH:MM-HH:MM, days = mon-fri        (the section applies then only)
 *     [user:NAME] and [group:NAME]               (the keys of [block], for one user or group)
 *
 * Every section header starts a section of its own, with its own conditions; a section
 * whose conditions do not hold for an exec has no rules for it.
 *
 * Precedence: for each file an exec would run, the most specific scope that has a rule
 * matching it decides (the user's sections, then the groups', then [block] and [allow]),
 * a block beating an allow within a scope; a file no rule matches is allowed, or refused
 * under default = deny; and under trusted_path = yes a file not on a trusted path is
 * refused unless an applicable trusted_path_exempt names it.
 *
 * Lookups never scan the rule list: exact paths and file identities are hash lookups, and
 * globs and directories are bucketed by their literal directory prefix, so a lookup costs
 * one hash probe per directory level of the path. Command rules are tried in order, for
 * the files that have some (a table of their programs tells which). */
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
        POLICY_RULE_DIR,          /* dir =: a directory tree */
        POLICY_RULE_COMMAND,      /* command =: a program and its arguments */
        POLICY_RULE_FILELESS,     /* fileless = deny */
        POLICY_RULE_DEFAULT,      /* default = deny: no allow matched */
        POLICY_RULE_TRUSTED_PATH, /* trusted_path = yes: not on a trusted path */
};

enum policy_scope_kind {
        POLICY_SCOPE_GLOBAL,
        POLICY_SCOPE_USER,
        POLICY_SCOPE_GROUP,
};

struct policy_rule {
        enum policy_rule_kind kind;
        bool allow;        /* an allow (allow =, [allow]), not a block */
        bool exempt;       /* trusted_path_exempt = */
        const char *scope; /* "user:NAME", "group:NAME", "allow", or NULL for [block] */
        const char *key;   /* the key as written ("path", "allow_dir", ...); NULL: text is all */
        char *text;        /* the value as written in the file */
        char *canonical;   /* what it is matched against: the path, glob or directory after
                            * resolving the symlinks in its existing literal part at load time;
                            * for a command, its program */
        unsigned line;
        struct policy_rule *next_in_bucket; /* globs sharing a directory prefix */
        /* command =: the patterns of the arguments after the program, and whether a last
         * lone '*' lets any further arguments follow */
        char **arg_patterns;
        size_t n_arg_patterns;
        bool any_more_args;
};

struct policy;

/* Which check after exec a supervisor uses: the kernel engine where it loads and passes its
 * canary, else ptrace (auto); the kernel engine or refuse to start; ptrace always. */
enum policy_verifier {
        POLICY_VERIFIER_AUTO,
        POLICY_VERIFIER_KERNEL,
        POLICY_VERIFIER_PTRACE,
};

const char *policy_verifier_to_string(enum policy_verifier v);

/* The [execguard] settings that are not about judging a file. */
struct policy_settings {
        char *log_file; /* NULL: none */
        bool log_allowed;
        bool no_new_privs; /* default yes */
        /* on_daemon_unavailable = refuse: run and login that reach no daemon do not run the
         * command; standalone (the default): they supervise it themselves (run.h). */
        bool daemon_required;
        enum policy_verifier verifier;
        bool limit_capabilities; /* capabilities = was given */
        uint64_t capabilities;   /* the bounding set to keep, one bit per capability */
        /* Limits against abuse of the supervisor: beyond them an exec, or a session, is refused
         * and recorded, never half-judged. */
        unsigned max_sessions_per_user;
        unsigned max_pending_per_user;
        size_t max_path;       /* bytes, with the terminating NUL */
        size_t max_args;       /* arguments */
        size_t max_argv_bytes; /* bytes of all arguments, each with its NUL */
        /* The daemon's: threads that decide (0: one per CPU), and how long a decision may
         * take before the exec is denied (a file system that does not answer). */
        unsigned workers;
        unsigned resolve_timeout; /* seconds */
};

/* Defaults and bounds of the limits (execguard.ini(5)). */
#define POLICY_MAX_SESSIONS_PER_USER_DEFAULT 256
#define POLICY_MAX_PENDING_PER_USER_DEFAULT  256
#define POLICY_MAX_PENDING_PER_USER_LIMIT    1024 /* the verifier's table (verify.c) */
#define POLICY_MAX_PATH_DEFAULT              4096 /* the kernel's own PATH_MAX */
#define POLICY_MAX_ARGS_DEFAULT              131072
#define POLICY_MAX_ARGV_BYTES_DEFAULT        (2u << 20) /* ARG_MAX under the usual 8 MiB stack */
#define POLICY_WORKERS_MAX                   256
#define POLICY_RESOLVE_TIMEOUT_DEFAULT       5

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

/* What a policy that loaded says to its administrator, not errors: rules naming files or
 * directories that do not exist (yet), [user:]/[group:] sections of names this host does not
 * have (their rules apply to nobody here), an enforcing policy that blocks nothing. The first
 * 10 are kept, and one more says how many were left out. */
struct policy_warning {
        unsigned line; /* 0: the policy as a whole */
        char message[256];
};

size_t policy_n_warnings(const struct policy *p);

/* Warning i (< policy_n_warnings()) as "source:line: warning: message". */
void policy_warning_format(const struct policy *p, size_t i, char *buf, size_t size);

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

/* When, and by which program, an exec is made: what a section's hours, days and parent
 * conditions are held against. */
struct policy_context {
        bool time_known;
        int weekday;                  /* 0: Sunday, as struct tm has it */
        int minute;                   /* of the day, local time: 0 to 1439 */
        const char *parent;           /* the canonical path of the exec'ing process's program (its
                                * /proc/PID/exe), or NULL when unknown */
        const struct stat *parent_st; /* that program's stat, or NULL */
};

/* Who execs: the sections of the policy that apply to a process, by level. */
#define POLICY_SUBJECT_SCOPES_MAX 256
struct scope;
struct policy_subject {
        uid_t uid;
        const struct scope *scopes[POLICY_SUBJECT_SCOPES_MAX]; /* the user's, the groups', everybody's */
        size_t level_end[3];                                   /* where each level ends in scopes */
};

/* Whether the policy has [user:] or [group:] sections: else who execs does not matter. */
bool policy_has_scopes(const struct policy *p);

/* Whether some section has hours or days, or a parent: then policy_subject_init() needs
 * the time, or the parent, in its context. */
bool policy_has_windows(const struct policy *p);
bool policy_has_parents(const struct policy *p);

/* Whether some rule is a command rule: then the arguments of every exec are judged. */
bool policy_has_commands(const struct policy *p);

/* The subject for a process with effective uid and the groups gids (effective gid and
 * supplementary groups), as they are at the moment of its exec, made at the moment and by
 * the program ctx says (NULL: neither known; a section with conditions then does not apply).
 * Returns 0, -E2BIG if more than POLICY_SUBJECT_SCOPES_MAX sections apply (the exec must
 * then be refused), or -ENODATA if the policy needs what ctx does not know. */
int policy_subject_init(const struct policy *p, uid_t uid, const gid_t *gids, size_t n_gids,
                        const struct policy_context *ctx, struct policy_subject *ret);

/* The subject of the global scope's unconditional sections only. */
void policy_subject_global(const struct policy *p, struct policy_subject *ret);

/* The arguments a file of an exec receives after its own name: first the words pre (what
 * #! lines put in front), then n_tail NUL-terminated strings laid end to end at tail. */
#define POLICY_ARGS_PRE_MAX (2 * 5 + 1)
struct policy_args {
        const char *pre[POLICY_ARGS_PRE_MAX];
        size_t n_pre;
        const char *tail;
        size_t n_tail;
};

/* Whether a file of this size can only be judged by its content, for subj (NULL: the global
 * scope only): match_content and a named file of that size, or any hash rule. */
bool policy_wants_content(const struct policy *p, const struct policy_subject *subj, off_t size);

/* The rule that decides for the file with this canonical path ("" when only its content
 * counts), stat (may be NULL) and SHA-256 (NULL when not wanted), exec'd by subj (NULL: the
 * global scope only) with args (NULL: not known; then a command rule naming the file blocks
 * whatever the arguments, and none allows): a block, an allow (rule->allow), or NULL when
 * no rule matches. default = deny is the caller's to apply (policy_default_rule()). */
const struct policy_rule *policy_decide(const struct policy *p, const struct policy_subject *subj,
                                        const char *canonical_path, const struct stat *st, const uint8_t *digest,
                                        const struct policy_args *args);

/* What a [protect] section may refuse, one bit each (deny = in execguard.ini(5)). */
enum policy_op {
        POLICY_OP_UNLINK = 1u << 0,   /* unlink, unlinkat, rmdir */
        POLICY_OP_RENAME = 1u << 1,   /* rename, renameat, renameat2: either side */
        POLICY_OP_TRUNCATE = 1u << 2, /* truncate, ftruncate, open with O_TRUNC */
        POLICY_OP_WRITE = 1u << 3,    /* open for writing; a new name (O_CREAT, mkdir, mknod) */
        POLICY_OP_CHMOD = 1u << 4,
        POLICY_OP_CHOWN = 1u << 5,
        POLICY_OP_LINK = 1u << 6,    /* a hard link's new name */
        POLICY_OP_SYMLINK = 1u << 7, /* a symlink's new name */
};
#define POLICY_OPS_ALL 0xffu

/* An operation's name in deny = ("unlink"); "?" for anything but one bit. */
const char *policy_op_to_string(unsigned op);
/* The bit of the operation named by the len bytes at s, or -EINVAL. */
int policy_op_from_string(const char *s, size_t len);

/* The operations some [protect] section of the policy refuses: 0 when it has none, and then
 * sessions trap nothing but exec. */
unsigned policy_protected_ops(const struct policy *p);

/* The rule of one of subj's [protect] sections (NULL: the global ones that hold always) that
 * refuses op on the file or directory with this canonical path and stat (NULL: it does not
 * exist), by identity, path, glob or directory; or NULL. */
const struct policy_rule *policy_protects(const struct policy *p, const struct policy_subject *subj, unsigned op,
                                          const char *canonical_path, const struct stat *st);

/* The rule that refuses op on something beneath the directory canonical_dir (moving the
 * directory moves what it holds), or NULL. */
const struct policy_rule *policy_protects_beneath(const struct policy *p, const struct policy_subject *subj,
                                                  unsigned op, const char *canonical_dir);

/* The rule that refuses a file no rule matches (default = deny), or NULL. */
const struct policy_rule *policy_default_rule(const struct policy *p);

/* The rule that refuses a file off a trusted path (trusted_path = yes), or NULL. */
const struct policy_rule *policy_trusted_path_rule(const struct policy *p);

/* Whether a trusted_path_exempt of subj's sections names the file. */
bool policy_trusted_path_exempt(const struct policy *p, const struct policy_subject *subj, const char *canonical_path,
                                const struct stat *st);

/* The rule that refuses every file without a name (fileless = deny), or NULL. */
const struct policy_rule *policy_fileless_rule(const struct policy *p);

/* Write a normalized dump of the policy (settings, then rules in file order). For tests
 * and for administrators who want to see what execguard understood. */
void policy_dump(const struct policy *p, FILE *out);

const char *policy_mode_to_string(enum policy_mode m);
const char *policy_action_to_string(enum policy_action a);
const char *policy_rule_kind_to_string(enum policy_rule_kind k);
