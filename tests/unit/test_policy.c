/* Policy parsing and matching (src/policy.h): golden dumps of valid files, exact error lines
 * and messages for broken ones, the INI syntax pinned, a path → rule table,
 * and the safety checks of policy_load(). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ini.h"
#include "policy.h"
#include "tests.h"
#include "util.h"

#define SOURCE POLICYTEXT_SOURCE
#define HEADER(mode, action)                                                                                 \
        "source = " SOURCE "\nmode = " mode "\naction = " action "\ndefault = allow\ntrusted_path = no\n"    \
        "match_content = yes\nfileless = content\n"                                                          \
        "log_file = \nlog_allowed = no\nno_new_privs = yes\non_daemon_unavailable = standalone\nverifier = " \
        "auto\ncapabilities = "                                                                              \
        "unchanged\n" LIMITS_DEFAULT
#define LIMITS(sessions, pending, path, args, bytes)                                                 \
        "max_sessions_per_user = " sessions "\nmax_pending_per_user = " pending "\nmax_path = " path \
        "\nmax_args = " args "\nmax_argv_bytes = " bytes "\n" DAEMON_DEFAULT
#define DAEMON_DEFAULT "workers = (one per CPU)\nresolve_timeout = 5\n"
#define LIMITS_DEFAULT LIMITS("256", "256", "4096", "131072", "2097152")

/* What a global rule decides for a file, by identity, path or glob (st may be NULL). */
static const struct policy_rule *global_rule(const struct policy *p, const char *path, const struct stat *st) {
        return policy_decide(p, NULL, path, st, NULL, NULL);
}

/* What a global rule decides for content alone. */
static const struct policy_rule *global_content_rule(const struct policy *p, const uint8_t digest[SHA256_LEN]) {
        return policy_decide(p, NULL, "", NULL, digest, NULL);
}

/* ---- valid policies: golden dumps ---------------------------------------------------------- */

struct valid_case {
        const char *name;
        const char *text;
        size_t len; /* 0: strlen(text) */
        const char *dump;
};

static const struct valid_case valid_cases[] = {
        { "empty file", "", 0, HEADER("enforce", "deny") },
        { "defaults", "[execguard]\n", 0, HEADER("enforce", "deny") },
        { "comments only", "# a comment\n; another\n\n   \n", 0, HEADER("enforce", "deny") },
        { "audit kill", "[execguard]\nmode = audit\naction = kill\n", 0, HEADER("audit", "kill") },
        { "enforce deny explicit", "[execguard]\nmode = enforce\naction = deny\n", 0, HEADER("enforce", "deny") },
        { "action only", "[execguard]\naction = kill\n", 0, HEADER("enforce", "kill") },
        { "path", "[block]\npath = /usr/bin/df\n", 0,
          HEADER("enforce", "deny") "2: path /usr/bin/df -> /usr/bin/df\n" },
        { "no spaces around =", "[block]\npath=/usr/bin/df\n", 0,
          HEADER("enforce", "deny") "2: path /usr/bin/df -> /usr/bin/df\n" },
        { "tabs around =", "[block]\npath\t=\t/usr/bin/df\t\n", 0,
          HEADER("enforce", "deny") "2: path /usr/bin/df -> /usr/bin/df\n" },
        { "symlinked dir in path", "[block]\npath = /bin/df\n", 0,
          HEADER("enforce", "deny") "2: path /bin/df -> /usr/bin/df\n" },
        { "missing file under symlinked dir", "[block]\npath = /bin/no-such-tool\n", 0,
          HEADER("enforce", "deny") "2: path /bin/no-such-tool -> /usr/bin/no-such-tool\n" },
        { "missing dirs", "[block]\npath = /no-such-dir/sub/tool\n", 0,
          HEADER("enforce", "deny") "2: path /no-such-dir/sub/tool -> /no-such-dir/sub/tool\n" },
        { "symlink to program", "[block]\npath = /bin/sh\n", 0,
          HEADER("enforce", "deny") "2: path /bin/sh -> /usr/bin/dash\n" },
        { "glob", "[block]\npath = /usr/bin/*sh\n", 0,
          HEADER("enforce", "deny") "2: glob /usr/bin/*sh -> /usr/bin/*sh\n" },
        { "glob under symlinked dir", "[block]\npath = /bin/*sh\n", 0,
          HEADER("enforce", "deny") "2: glob /bin/*sh -> /usr/bin/*sh\n" },
        { "glob ? and []", "[block]\npath = /bin/d?\npath = /bin/[ab]sh\n", 0,
          HEADER("enforce", "deny") "2: glob /bin/d? -> /usr/bin/d?\n3: glob /bin/[ab]sh -> /usr/bin/[ab]sh\n" },
        { "glob at root", "[block]\npath = /*\n", 0, HEADER("enforce", "deny") "2: glob /* -> /*\n" },
        { "glob in missing dir", "[block]\npath = /no-such-dir/*\n", 0,
          HEADER("enforce", "deny") "2: glob /no-such-dir/* -> /no-such-dir/*\n" },
        { "glob in middle", "[block]\npath = /bin/*/x\n", 0,
          HEADER("enforce", "deny") "2: glob /bin/*/x -> /usr/bin/*/x\n" },
        { "full policy, sections repeated",
          "; execguard policy\n"
          "[execguard]\n"
          "mode = audit\n"
          "\n"
          "[block]\n"
          "# programs\n"
          "path = /usr/bin/df\n"
          "path = /bin/du\n"
          "[execguard]\n"
          "action = kill\n"
          "[block]\n"
          "path = /usr/sbin/*\n",
          0,
          HEADER("audit", "kill") "7: path /usr/bin/df -> /usr/bin/df\n"
                                  "8: path /bin/du -> /usr/bin/du\n"
                                  "12: glob /usr/sbin/* -> /usr/sbin/*\n" },
        /* The reader's syntax, pinned (as the system inih read it before ini.c). */
        { "inline ' ;' comment", "[block]\npath = /usr/bin/df ;c\n", 0,
          HEADER("enforce", "deny") "2: path /usr/bin/df -> /usr/bin/df\n" },
        { "inline '\\t;' comment", "[execguard]\nmode = audit\t; for now\n", 0, HEADER("audit", "deny") },
        { "';' without space is data", "[block]\npath = /tmp/a;b\n", 0,
          HEADER("enforce", "deny") "2: path /tmp/a;b -> /tmp/a;b\n" },
        { "'#' without space is data", "[block]\npath = /tmp/a#b\n", 0,
          HEADER("enforce", "deny") "2: path /tmp/a#b -> /tmp/a#b\n" },
        { "comment after section", "[block] ; programs\npath = /usr/bin/df\n", 0,
          HEADER("enforce", "deny") "2: path /usr/bin/df -> /usr/bin/df\n" },
        { "name: value", "[execguard]\nmode: audit\n[block]\npath: /usr/bin/df\n", 0,
          HEADER("audit", "deny") "4: path /usr/bin/df -> /usr/bin/df\n" },
        { "CRLF", "[execguard]\r\nmode = audit\r\n[block]\r\npath = /usr/bin/df\r\n", 0,
          HEADER("audit", "deny") "4: path /usr/bin/df -> /usr/bin/df\n" },
        { "UTF-8 BOM", "\xef\xbb\xbf[execguard]\nmode = audit\n[block]\npath = /usr/bin/df\n", 0,
          HEADER("audit", "deny") "4: path /usr/bin/df -> /usr/bin/df\n" },
        { "full-line comments",
          "# [blok]\n; [blok]\n[block]\n# path = /usr/bin/du\n;path = /usr/bin/du\npath = /usr/bin/df\n", 0,
          HEADER("enforce", "deny") "6: path /usr/bin/df -> /usr/bin/df\n" },
        { "no final newline", "[block]\npath = /usr/bin/df", 0,
          HEADER("enforce", "deny") "2: path /usr/bin/df -> /usr/bin/df\n" },
        { "trailing blanks", "[block]\npath = /usr/bin/df   \n\n\n", 0,
          HEADER("enforce", "deny") "2: path /usr/bin/df -> /usr/bin/df\n" },
        { "verifier = ptrace", "[execguard]\nverifier = ptrace\n", 0,
          "source = " SOURCE "\nmode = enforce\naction = deny\ndefault = allow\ntrusted_path = no\nmatch_content = "
          "yes\nfileless = content\n"
          "log_file = \nlog_allowed = no\nno_new_privs = yes\non_daemon_unavailable = standalone\nverifier = ptrace\n"
          "capabilities = unchanged\n" LIMITS_DEFAULT },
        { "verifier = kernel", "[execguard]\nverifier = kernel\n", 0,
          "source = " SOURCE "\nmode = enforce\naction = deny\ndefault = allow\ntrusted_path = no\nmatch_content = "
          "yes\nfileless = content\n"
          "log_file = \nlog_allowed = no\nno_new_privs = yes\non_daemon_unavailable = standalone\nverifier = kernel\n"
          "capabilities = unchanged\n" LIMITS_DEFAULT },
        { "limits",
          "[execguard]\nmax_sessions_per_user = 1\nmax_pending_per_user = 1024\nmax_path = 64\nmax_args = 1\n"
          "max_argv_bytes = 256\n",
          0,
          "source = " SOURCE "\nmode = enforce\naction = deny\ndefault = allow\ntrusted_path = no\nmatch_content = "
          "yes\nfileless = content\n"
          "log_file = \nlog_allowed = no\nno_new_privs = yes\non_daemon_unavailable = standalone\nverifier = "
          "auto\ncapabilities = "
          "unchanged\n" LIMITS("1", "1024", "64", "1", "256") },
        { "workers and resolve_timeout", "[execguard]\nworkers = 3\nresolve_timeout = 1\n", 0,
          "source = " SOURCE "\nmode = enforce\naction = deny\ndefault = allow\ntrusted_path = no\nmatch_content = "
          "yes\nfileless = content\n"
          "log_file = \nlog_allowed = no\nno_new_privs = yes\non_daemon_unavailable = standalone\nverifier = "
          "auto\ncapabilities = unchanged\nmax_sessions_per_user = 256\nmax_pending_per_user = 256\nmax_path = "
          "4096\nmax_args = 131072\nmax_argv_bytes = 2097152\nworkers = 3\nresolve_timeout = 1\n" },
};

static void test_valid(int i) {
        const struct valid_case *c = &valid_cases[i];
        _cleanup_(policy_freep) struct policy *p = NULL;
        struct policy_error err = {};
        int r = policytext_parse(c->text, c->len ? c->len : strlen(c->text), &p, &err);
        ck_assert_msg(r == 0, "%s: r=%d line %u: %s", c->name, r, err.line, err.message);
        ck_assert_ptr_nonnull(p);
        _cleanup_free_ char *d = policytext_dump(p);
        ck_assert_msg(strcmp(d, c->dump) == 0, "%s: dump\n%s\nexpected\n%s", c->name, d, c->dump);
        ck_assert_str_eq(policy_source(p), SOURCE);
}

START_TEST(valid) {
        test_valid(_i);
}
END_TEST

START_TEST(accessors) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok("[execguard]\nmode = audit\naction = kill\n");
        ck_assert_int_eq(policy_mode(p), POLICY_MODE_AUDIT);
        ck_assert_int_eq(policy_action(p), POLICY_ACTION_KILL);
        _cleanup_(policy_freep) struct policy *q = policytext_ok("");
        ck_assert_int_eq(policy_mode(q), POLICY_MODE_ENFORCE);
        ck_assert_int_eq(policy_action(q), POLICY_ACTION_DENY);
        ck_assert_str_eq(policy_mode_to_string(POLICY_MODE_ENFORCE), "enforce");
        ck_assert_str_eq(policy_mode_to_string(POLICY_MODE_AUDIT), "audit");
        ck_assert_str_eq(policy_action_to_string(POLICY_ACTION_DENY), "deny");
        ck_assert_str_eq(policy_action_to_string(POLICY_ACTION_KILL), "kill");
}
END_TEST

/* The longest line (INI_LINE_MAX bytes, not counting its newline: a command rule with many
 * arguments) is accepted whole; one byte more is an error, never a truncated rule. */
START_TEST(line_length_limit) {
        static char line[INI_LINE_MAX + 2], text[INI_LINE_MAX + 64];

        memset(line, 0, sizeof line);
        strcpy(line, "command = /usr/bin/echo");
        while (strlen(line) + 3 <= INI_LINE_MAX)
                strcat(line, " xy");
        while (strlen(line) < INI_LINE_MAX)
                strcat(line, "z");
        ck_assert_uint_eq(strlen(line), INI_LINE_MAX);
        snprintf(text, sizeof text, "[block]\n%s\n", line);
        _cleanup_(policy_freep) struct policy *p = policytext_ok(text);
        ck_assert_uint_eq(policy_n_rules(p), 1);
        /* The last argument arrived whole. */
        ck_assert_ptr_nonnull(strstr(policy_rule_at(p, 0)->text, "xyzz"));

        strcat(line, "z");
        snprintf(text, sizeof text, "[block]\n%s\n", line);
        struct policy *q = NULL;
        struct policy_error err = {};
        ck_assert_int_eq(policytext_parse(text, strlen(text), &q, &err), -EINVAL);
        ck_assert_ptr_null(q);
        ck_assert_uint_eq(err.line, 2);
        ck_assert_ptr_nonnull(strstr(err.message, "line too long"));

        /* The same at the end of a file without a newline. */
        snprintf(text, sizeof text, "[block]\n%s", line);
        err = (struct policy_error){};
        ck_assert_int_eq(policytext_parse(text, strlen(text), &q, &err), -EINVAL);
        ck_assert_uint_eq(err.line, 2);
        ck_assert_ptr_nonnull(strstr(err.message, "line too long"));
}
END_TEST

/* A line with leading blanks is a line of its own (as systemd, git config and sudoers read
 * it), never the continuation of the value before. */
START_TEST(indented_lines) {
        _cleanup_(policy_freep) struct policy *p =
                policytext_ok("[execguard]\n  mode = enforce\n [block]\n\tpath = /usr/bin/df\n   path = /usr/bin/du\n");
        ck_assert_uint_eq(policy_n_rules(p), 2);
        ck_assert_str_eq(policy_rule_at(p, 0)->text, "/usr/bin/df");
        ck_assert_str_eq(policy_rule_at(p, 1)->text, "/usr/bin/du");
}
END_TEST

/* ---- warnings: what loads, but is said ------------------------------------------------------ */

static char *warning_text(const struct policy *p, size_t i) {
        static char buf[512];
        policy_warning_format(p, i, buf, sizeof buf);
        return buf;
}

/* One policy file serves a fleet: a user or group this host lacks is a warning with the
 * header's line, and that section applies to nobody here; a rule naming nothing yet warns
 * with its line. */
START_TEST(warnings_missing) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok("[block]\n"
                                                                 "path = /nonexistent-eg/dff\n"
                                                                 "dir = /nonexistent-eg/tree\n"
                                                                 "[user:no-such-user-eg]\n"
                                                                 "path = /usr/bin/true\n"
                                                                 "[group:no-such-group-eg]\n"
                                                                 "path = /usr/bin/false\n");
        ck_assert_uint_eq(policy_n_warnings(p), 4);
        ck_assert_ptr_nonnull(strstr(warning_text(p, 0), ":2: warning: path = /nonexistent-eg/dff: no such file; "
                                                         "the rule will apply if it appears"));
        ck_assert_ptr_nonnull(strstr(warning_text(p, 1), ":3: warning: dir = /nonexistent-eg/tree: no such directory"));
        ck_assert_ptr_nonnull(strstr(warning_text(p, 2), ":4: warning: no user 'no-such-user-eg' on this host"));
        ck_assert_ptr_nonnull(strstr(warning_text(p, 3), ":6: warning: no group 'no-such-group-eg' on this host"));
        /* Nobody here is the unknown user or in the unknown group: not even a subject of
         * every id (uid and gid (uid_t) -1, which stand for them inside). */
        struct policy_subject subj;
        gid_t groups[] = { 0, (gid_t) -1 };
        ck_assert_int_eq(policy_subject_init(p, (uid_t) -1, groups, 2, NULL, &subj), 0);
        ck_assert_ptr_null(policy_decide(p, &subj, "/usr/bin/true", NULL, NULL, NULL));
        ck_assert_ptr_null(policy_decide(p, &subj, "/usr/bin/false", NULL, NULL, NULL));
}
END_TEST

/* 200 rules naming nothing: ten warnings and one that counts the rest. */
START_TEST(warnings_capped) {
        static char text[200 * 40];
        size_t len = (size_t) snprintf(text, sizeof text, "[block]\n");
        for (int i = 0; i < 200; i++)
                len += (size_t) snprintf(text + len, sizeof text - len, "path = /nonexistent-eg/%d\n", i);
        _cleanup_(policy_freep) struct policy *p = policytext_ok(text);
        ck_assert_uint_eq(policy_n_warnings(p), 11);
        ck_assert_ptr_nonnull(strstr(warning_text(p, 10), ": warning: 190 more warnings like these"));
}
END_TEST

/* An enforcing policy that blocks nothing says so; one that blocks by default, or audits,
 * does not. */
START_TEST(warnings_blocks_nothing) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok("[execguard]\nmode = enforce\n");
        ck_assert_uint_eq(policy_n_warnings(p), 1);
        ck_assert_ptr_nonnull(strstr(warning_text(p, 0), ": warning: the policy blocks nothing"));
        _cleanup_(policy_freep) struct policy *q = policytext_ok("[execguard]\ndefault = deny\n");
        ck_assert_uint_eq(policy_n_warnings(q), 0);
        _cleanup_(policy_freep) struct policy *r = policytext_ok("[execguard]\nmode = audit\n");
        ck_assert_uint_eq(policy_n_warnings(r), 0);
        _cleanup_(policy_freep) struct policy *t = policytext_ok("[block]\npath = /usr/bin/df\n");
        ck_assert_uint_eq(policy_n_warnings(t), 0);
}
END_TEST

/* ---- errors: exact line and message --------------------------------------------------------- */

struct error_case {
        const char *name;
        const char *text;
        size_t len; /* 0: strlen(text) */
        unsigned line;
        const char *message; /* a substring of reterr.message */
};

static const struct error_case error_cases[] = {
        { "unknown section", "[execguard]\nmode = audit\n[blok]\npath = /usr/bin/df\n", 0, 3,
          "unknown section [blok]" },
        { "unknown empty section", "[execguard]\n[nothing]\n[block]\npath = /usr/bin/df\n", 0, 2,
          "unknown section [nothing]" },
        { "unknown empty section at end", "[block]\npath = /usr/bin/df\n[extra]\n", 0, 3, "unknown section [extra]" },
        { "section name with spaces", "[ block ]\npath = /usr/bin/df\n", 0, 1, "unknown section [ block ]" },
        { "section name case", "[Block]\n", 0, 1, "unknown section [Block]" },
        { "unknown section after BOM", "\xef\xbb\xbf[blok]\n[block]\npath = /usr/bin/df\n", 0, 1,
          "unknown section [blok]" },
        { "unknown key in [execguard]", "[execguard]\nmodes = audit\n", 0, 2, "unknown key 'modes' in [execguard]" },
        { "path in [execguard]", "[execguard]\npath = /usr/bin/df\n", 0, 2, "unknown key 'path' in [execguard]" },
        { "unknown key in [block]", "[block]\npath = /usr/bin/df\nprogram = /usr/bin/du\n", 0, 3,
          "unknown key 'program' in [block]" },
        { "mode in [block]", "[block]\nmode = audit\n", 0, 2, "unknown key 'mode' in [block]" },
        { "key before any section", "mode = audit\n[execguard]\n", 0, 1, "'mode' outside a section" },
        { "key before any section after comments", "; policy\n\npath = /usr/bin/df\n[block]\n", 0, 3,
          "'path' outside a section" },
        { "invalid mode", "[execguard]\nmode = Enforce\n", 0, 2, "invalid mode 'Enforce'" },
        { "invalid verifier", "[execguard]\nverifier = bpf\n", 0, 2,
          "invalid verifier 'bpf' (expected auto, kernel or ptrace)" },
        { "empty mode", "[execguard]\nmode =\n", 0, 2, "invalid mode ''" },
        { "invalid action", "[execguard]\naction = block\n", 0, 2, "invalid action 'block'" },
        { "mode set twice", "[execguard]\nmode = audit\n\nmode = audit\n", 0, 4, "'mode' set twice (first on line 2)" },
        { "action set twice across sections",
          "[execguard]\naction = kill\n[block]\npath = /usr/bin/df\n[execguard]\naction = deny\n", 0, 6,
          "'action' set twice (first on line 2)" },
        { "relative path", "[block]\npath = usr/bin/df\n", 0, 2, "path 'usr/bin/df' is not absolute" },
        { "empty path", "[block]\npath =\n", 0, 2, "path '' is not absolute" },
        { "directory", "[block]\npath = /usr/bin/df\npath = /usr/bin\n", 0, 3, "is a directory" },
        { "directory via symlink", "[block]\npath = /bin\n", 0, 2, "is a directory" },
        { "directory with slash", "[block]\npath = /usr/bin/\n", 0, 2, "is a directory" },
        { "trailing # comment", "[block]\npath = /usr/bin/df # disk usage\n", 0, 2, "'#' starts a comment only" },
        { "trailing tab # comment", "[block]\npath = /usr/bin/df\t#disk usage\n", 0, 2, "'#' starts a comment only" },
        { "continuation line", "[block]\npath = /usr/bin/df\n  /usr/bin/du\n", 0, 3, "syntax error" },
        { "NUL byte", "[block]\npath = /usr/bin/d\0f\n", sizeof "[block]\npath = /usr/bin/d\0f\n" - 1, 2, "NUL byte" },
        { "NUL byte in comment", "[block]\n; \0\npath = /usr/bin/df\n",
          sizeof "[block]\n; \0\npath = /usr/bin/df\n" - 1, 2, "NUL byte" },
        { "section without ]", "[block\npath = /usr/bin/df\n", 0, 1, "section header without ']'" },
        { "no =", "[block]\n/usr/bin/df\n", 0, 2, "syntax error" },
        { "no = later", "[execguard]\nmode = audit\n[block]\npath = /usr/bin/df\n/usr/bin/du\n", 0, 5, "syntax error" },
        { "first error wins", "[blok]\nmode = x\n", 0, 1, "unknown section [blok]" },
        { "limit not a number", "[execguard]\nmax_args = many\n", 0, 2,
          "invalid max_args 'many' (expected a number from 1 to 16777216)" },
        { "limit negative", "[execguard]\nmax_sessions_per_user = -1\n", 0, 2, "invalid max_sessions_per_user '-1'" },
        { "limit zero", "[execguard]\nmax_sessions_per_user = 0\n", 0, 2, "invalid max_sessions_per_user '0'" },
        { "limit with unit", "[execguard]\nmax_argv_bytes = 1M\n", 0, 2, "invalid max_argv_bytes '1M'" },
        { "limit too big", "[execguard]\nmax_pending_per_user = 1025\n", 0, 2,
          "invalid max_pending_per_user '1025' (expected a number from 1 to 1024)" },
        { "limit overflows", "[execguard]\nmax_args = 99999999999999999999999\n", 0, 2, "invalid max_args" },
        { "max_path beyond PATH_MAX", "[execguard]\nmax_path = 4097\n", 0, 2, "from 64 to 4096" },
        { "limit set twice", "[execguard]\nmax_path = 100\nmax_path = 100\n", 0, 3, "'max_path' set twice" },
        { "no workers", "[execguard]\nworkers = 0\n", 0, 2, "invalid workers '0' (expected a number from 1 to 256)" },
        { "too many workers", "[execguard]\nworkers = 257\n", 0, 2, "invalid workers '257'" },
        { "resolve_timeout zero", "[execguard]\nresolve_timeout = 0\n", 0, 2,
          "invalid resolve_timeout '0' (expected a number from 1 to 3600)" },
        { "resolve_timeout with unit", "[execguard]\nresolve_timeout = 5s\n", 0, 2, "invalid resolve_timeout '5s'" },
};

static void test_error(int i) {
        const struct error_case *c = &error_cases[i];
        struct policy *p = NULL;
        struct policy_error err = {};
        int r = policytext_parse(c->text, c->len ? c->len : strlen(c->text), &p, &err);
        ck_assert_msg(r == -EINVAL, "%s: r=%d, expected -EINVAL", c->name, r);
        ck_assert_msg(p == NULL, "%s: a failed parse produced a policy", c->name);
        ck_assert_msg(err.line == c->line, "%s: error on line %u (%s), expected line %u", c->name, err.line,
                      err.message, c->line);
        ck_assert_msg(strstr(err.message, c->message), "%s: message '%s' lacks '%s'", c->name, err.message, c->message);
        policy_free(p);
}

START_TEST(error) {
        test_error(_i);
}
END_TEST

/* reterr may be NULL, and a failed parse leaves *ret_policy alone. */
START_TEST(error_without_reterr) {
        struct policy *p = (struct policy *) 0x1;
        ck_assert_int_eq(policytext_parse("[blok]\n", 7, &p, NULL), -EINVAL);
        ck_assert_ptr_eq(p, (struct policy *) 0x1);
}
END_TEST

/* ---- matching --------------------------------------------------------------------------------- */

struct match_fixture {
        char dir[TMPDIR_MAX];
        struct policy *policy;
};

static void make_file(const char *dir, const char *name) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
        ck_assert_msg(fd >= 0, "create %s: %m", path);
        ck_assert_int_eq(write(fd, "x", 1), 1);
        close(fd);
}

/* Line numbers of the rules in the matching policy. */
enum {
        L_DF = 2,
        L_FILE = 3,
        L_LINK = 4,
        L_X_STAR = 5,
        L_G_A = 6,
        L_G_QB = 7,
        L_G_CLASS = 8,
        L_G_STAR = 9,
        L_LDIR = 10,
        L_ROOT = 11,
        L_DF_AGAIN = 12,
};

static void match_setup(struct match_fixture *fx) {
        char path[PATH_MAX], target[PATH_MAX];
        char text[4096];

        tmpdir_make(fx->dir, "eg-policy");
        make_file(fx->dir, "file");
        make_file(fx->dir, "target");
        make_file(fx->dir, "copy");
        snprintf(path, sizeof path, "%s/file", fx->dir);
        snprintf(target, sizeof target, "%s/hardlink", fx->dir);
        ck_assert_int_eq(link(path, target), 0);
        snprintf(path, sizeof path, "%s/link", fx->dir);
        ck_assert_int_eq(symlink("target", path), 0);
        snprintf(path, sizeof path, "%s/y", fx->dir);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/ldir", fx->dir);
        ck_assert_int_eq(symlink("y", path), 0);

        snprintf(text, sizeof text,
                 "[block]\n"
                 "path = /usr/bin/df\n"  /* L_DF */
                 "path = %1$s/file\n"    /* L_FILE */
                 "path = %1$s/link\n"    /* L_LINK: a symlink, canonical is target */
                 "path = %1$s/x/*\n"     /* L_X_STAR */
                 "path = %1$s/g/a*\n"    /* L_G_A: four globs in one bucket */
                 "path = %1$s/g/?b\n"    /* L_G_QB */
                 "path = %1$s/g/[xy]z\n" /* L_G_CLASS */
                 "path = %1$s/g/*\n"     /* L_G_STAR */
                 "path = %1$s/ldir/*\n"  /* L_LDIR: glob under a symlinked dir */
                 "path = /*\n"           /* L_ROOT */
                 "path = /bin/df\n",     /* L_DF_AGAIN: same file as L_DF */
                 fx->dir);
        fx->policy = policytext_ok(text);
}

static void match_teardown(struct match_fixture *fx) {
        policy_free(fx->policy);
        tmpdir_remove(fx->dir);
}

struct match_case {
        const char *path; /* "%s" is the fixture directory */
        bool with_stat;   /* pass the stat of the path (it must exist) */
        unsigned line;    /* 0: no rule */
};

static const struct match_case match_cases[] = {
        { "/usr/bin/df", false, L_DF },
        { "/usr/bin/df", true, L_DF },
        { "/usr/bin/dfx", false, 0 },
        { "/usr/bin/d", false, 0 },
        { "/usr/bin", false, 0 },
        { "/usr/bin/df/x", false, 0 },
        { "/usr/sbin/df", false, 0 },
        { "%s/file", false, L_FILE },
        { "%s/file", true, L_FILE },
        { "%s/hardlink", true, L_FILE }, /* same file, by identity */
        { "%s/hardlink", false, 0 },     /* the name alone is not blocked */
        { "%s/copy", true, 0 },          /* another inode (content rules are not ours) */
        { "%s/target", false, L_LINK },  /* the rule named a symlink to it */
        { "%s/target", true, L_LINK },
        { "%s/x/a", false, L_X_STAR },
        { "%s/x/.hidden", false, L_X_STAR }, /* no FNM_PERIOD: dot files too */
        { "%s/x/a/b", false, 0 },            /* FNM_PATHNAME: '*' stops at '/' */
        { "%s/x", false, 0 },
        { "%s/xa", false, 0 },
        { "%s/g/abc", false, L_G_A }, /* also matches g/ *: the first line is reported */
        { "%s/g/ab", false, L_G_A },
        { "%s/g/xb", false, L_G_QB },
        { "%s/g/xz", false, L_G_CLASS },
        { "%s/g/yz", false, L_G_CLASS },
        { "%s/g/zz", false, L_G_STAR },
        { "%s/g/b", false, L_G_STAR },
        { "%s/g/sub/abc", false, 0 },
        { "%s/y/prog", false, L_LDIR },
        { "%s/ldir/prog", false, 0 }, /* not canonical: never what the resolver passes */
        { "/vmlinuz", false, L_ROOT },
        { "/usr", false, L_ROOT },
        { "/usr/bin/du", false, 0 },
        { "/tmp/g/abc", false, 0 },
};

static void test_match(int i) {
        const struct match_case *c = &match_cases[i];
        struct match_fixture fx = {};
        char path[PATH_MAX];
        struct stat st;

        match_setup(&fx);
        snprintf(path, sizeof path, c->path, fx.dir);
        if (c->with_stat)
                ck_assert_msg(stat(path, &st) == 0, "stat %s: %m", path);
        const struct policy_rule *rule = global_rule(fx.policy, path, c->with_stat ? &st : NULL);
        if (c->line == 0)
                ck_assert_msg(rule == NULL, "%s%s: matched line %u, expected no match", path,
                              c->with_stat ? " (stat)" : "", rule ? rule->line : 0);
        else {
                ck_assert_msg(rule != NULL, "%s%s: no match, expected line %u", path, c->with_stat ? " (stat)" : "",
                              c->line);
                ck_assert_msg(rule->line == c->line, "%s%s: matched line %u, expected line %u", path,
                              c->with_stat ? " (stat)" : "", rule->line, c->line);
        }
        match_teardown(&fx);
}

START_TEST(match) {
        test_match(_i);
}
END_TEST

/* A rule with no glob characters is never a glob, whatever it names. */
START_TEST(match_literal_only) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok("[block]\npath = /no-such-dir/tool\n");
        ck_assert_ptr_nonnull(global_rule(p, "/no-such-dir/tool", NULL));
        ck_assert_ptr_null(global_rule(p, "/no-such-dir/too", NULL));
        ck_assert_ptr_null(global_rule(p, "/no-such-dir/tool2", NULL));
        ck_assert_ptr_null(global_rule(p, "/no-such-dir", NULL));
        ck_assert_ptr_null(global_rule(p, "/", NULL));
}
END_TEST

START_TEST(match_empty_policy) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok("[execguard]\n");
        struct stat st;
        ck_assert_int_eq(stat("/usr/bin/df", &st), 0);
        ck_assert_ptr_null(global_rule(p, "/usr/bin/df", &st));
        ck_assert_ptr_null(global_rule(p, "/", NULL));
}
END_TEST

/* ---- policy_load -------------------------------------------------------------------------------- */

static void write_policy(const char *path, mode_t mode) {
        static const char text[] = "[execguard]\nmode = audit\n[block]\npath = /usr/bin/df\n";
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ck_assert_msg(fd >= 0, "create %s: %m", path);
        ck_assert_int_eq(write(fd, text, sizeof text - 1), (ssize_t) sizeof text - 1);
        close(fd);
        /* chmod, not the umask, decides the mode. */
        ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(load_ok) {
        char dir[TMPDIR_MAX], path[PATH_MAX], expected[2 * PATH_MAX];
        tmpdir_make(dir, "eg-load");
        snprintf(path, sizeof path, "%s/p.ini", dir);
        write_policy(path, 0644);

        _cleanup_(policy_freep) struct policy *p = NULL;
        struct policy_error err = {};
        int r = policy_load(path, &p, &err);
        ck_assert_msg(r == 0, "policy_load: %d: %s", r, err.message);
        ck_assert_str_eq(policy_source(p), path);
        _cleanup_free_ char *d = policytext_dump(p);
        snprintf(expected, sizeof expected,
                 "source = %s\nmode = audit\naction = deny\ndefault = allow\ntrusted_path = no\nmatch_content = yes\n"
                 "fileless = content\n"
                 "log_file = \nlog_allowed = no\nno_new_privs = yes\non_daemon_unavailable = standalone\nverifier = "
                 "auto\ncapabilities "
                 "= unchanged\n" LIMITS_DEFAULT "4: path "
                 "/usr/bin/df -> /usr/bin/df\n",
                 path);
        ck_assert_str_eq(d, expected);

        /* Owner-only is fine too. */
        ck_assert_int_eq(chmod(path, 0600), 0);
        _cleanup_(policy_freep) struct policy *q = NULL;
        ck_assert_int_eq(policy_load(path, &q, &err), 0);
        ck_assert_ptr_nonnull(q);
        tmpdir_remove(dir);
}
END_TEST

struct load_case {
        const char *name;
        int kind; /* see load_prepare() */
        int r;
        const char *message;
};

enum {
        LOAD_GROUP_WRITABLE,
        LOAD_WORLD_WRITABLE,
        LOAD_SYMLINK,
        LOAD_DIRECTORY,
        LOAD_MISSING,
        LOAD_OTHER_OWNER,
        LOAD_EMPTY,
};

static const struct load_case load_cases[] = {
        { "group-writable", LOAD_GROUP_WRITABLE, -EPERM, "writable by group or others" },
        { "world-writable", LOAD_WORLD_WRITABLE, -EPERM, "writable by group or others" },
        { "symlink", LOAD_SYMLINK, -ELOOP, "must not be a symlink" },
        { "directory", LOAD_DIRECTORY, -EINVAL, "not a regular file" },
        { "missing", LOAD_MISSING, -ENOENT, "No such file" },
        { "other owner", LOAD_OTHER_OWNER, -EPERM, "owned by uid 4242" },
        /* What a truncation leaves: never a policy that blocks nothing. */
        { "empty", LOAD_EMPTY, -ENODATA, "empty file (truncated?)" },
};

static void load_prepare(const char *dir, int kind, char *path, size_t size) {
        char good[PATH_MAX];
        snprintf(good, sizeof good, "%s/good.ini", dir);
        write_policy(good, 0644);
        snprintf(path, size, "%s/p.ini", dir);
        switch (kind) {
        case LOAD_GROUP_WRITABLE:
                write_policy(path, 0664);
                break;
        case LOAD_WORLD_WRITABLE:
                write_policy(path, 0646);
                break;
        case LOAD_SYMLINK:
                /* A symlink to a perfectly good policy: refused all the same. */
                ck_assert_int_eq(symlink(good, path), 0);
                break;
        case LOAD_DIRECTORY:
                ck_assert_int_eq(mkdir(path, 0755), 0);
                break;
        case LOAD_MISSING:
                break;
        case LOAD_OTHER_OWNER:
                write_policy(path, 0644);
                ck_assert_int_eq(chown(path, 4242, 4242), 0);
                break;
        case LOAD_EMPTY:
                write_policy(path, 0644);
                ck_assert_int_eq(truncate(path, 0), 0);
                break;
        default:
                ck_abort_msg("bad load case");
        }
}

static void test_load_refused(int i) {
        const struct load_case *c = &load_cases[i];
        char dir[TMPDIR_MAX], path[PATH_MAX];

        if (c->kind == LOAD_OTHER_OWNER && geteuid() != 0)
                return; /* needs chown */
        tmpdir_make(dir, "eg-load");
        load_prepare(dir, c->kind, path, sizeof path);

        struct policy *p = NULL;
        struct policy_error err = {};
        int r = policy_load(path, &p, &err);
        ck_assert_msg(r == c->r, "%s: r=%d (%s), expected %d", c->name, r, err.message, c->r);
        ck_assert_msg(p == NULL, "%s: a refused file produced a policy", c->name);
        ck_assert_msg(err.line == 0, "%s: line %u for a file-level error", c->name, err.line);
        ck_assert_msg(strstr(err.message, c->message), "%s: message '%s' lacks '%s'", c->name, err.message, c->message);
        tmpdir_remove(dir);
}

START_TEST(load_refused) {
        test_load_refused(_i);
}
END_TEST

/* A syntax error in a loaded file is reported like a parsed one. */
START_TEST(load_syntax_error) {
        char dir[TMPDIR_MAX], path[PATH_MAX];
        tmpdir_make(dir, "eg-load");
        snprintf(path, sizeof path, "%s/p.ini", dir);
        FILE *f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        fputs("[execguard]\nmode = audit\n[block]\npath = relative\n", f);
        fclose(f);
        ck_assert_int_eq(chmod(path, 0644), 0);

        struct policy *p = NULL;
        struct policy_error err = {};
        ck_assert_int_eq(policy_load(path, &p, &err), -EINVAL);
        ck_assert_ptr_null(p);
        ck_assert_uint_eq(err.line, 4);
        ck_assert_ptr_nonnull(strstr(err.message, "not absolute"));
        tmpdir_remove(dir);
}
END_TEST

/* Write content to path through a new file renamed into place, as a package upgrade does. */
static void replace_file(const char *path, const char *content) {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s.new", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        close(fd);
        ck_assert_int_eq(rename(tmp, path), 0);
}

static void digest_of(const char *path, uint8_t digest[SHA256_LEN]) {
        ck_assert_int_eq(identity_sha256_path(path, digest, NULL), 0);
}

START_TEST(reidentify_after_replace) {
        char dir[TMPDIR_MAX], prog[PATH_MAX], text[PATH_MAX + 32];
        tmpdir_make(dir, "eg-reid");
        snprintf(prog, sizeof prog, "%s/prog", dir);
        replace_file(prog, "old program");
        struct stat old_st, new_st;
        uint8_t old_digest[SHA256_LEN], new_digest[SHA256_LEN];
        ck_assert_int_eq(stat(prog, &old_st), 0);
        digest_of(prog, old_digest);

        snprintf(text, sizeof text, "[block]\npath = %s\n", prog);
        _cleanup_(policy_freep) struct policy *p = policytext_ok(text);

        replace_file(prog, "new program!");
        ck_assert_int_eq(stat(prog, &new_st), 0);
        digest_of(prog, new_digest);
        /* Not known yet: a hard link to the new file elsewhere, or a copy of it. */
        ck_assert_ptr_null(global_rule(p, "/elsewhere/link", &new_st));
        ck_assert_ptr_null(global_content_rule(p, new_digest));

        _cleanup_(policy_freep) struct policy *fresh = NULL;
        struct policy_error err = {};
        ck_assert_int_eq(policy_reidentify(p, &fresh, &err), 0);
        /* The new file, by identity and by content. */
        const struct policy_rule *rule = global_rule(fresh, "/elsewhere/link", &new_st);
        ck_assert_ptr_nonnull(rule);
        ck_assert_uint_eq(rule->line, 2);
        ck_assert(policy_wants_content(fresh, NULL, new_st.st_size));
        ck_assert_ptr_nonnull(global_content_rule(fresh, new_digest));
        /* And still the old one: a hard link or a copy made before the upgrade. */
        ck_assert_ptr_nonnull(global_rule(fresh, "/elsewhere/old-link", &old_st));
        ck_assert(policy_wants_content(fresh, NULL, old_st.st_size));
        ck_assert_ptr_nonnull(global_content_rule(fresh, old_digest));
        /* The same rules, the same settings. */
        ck_assert_uint_eq(policy_n_rules(fresh), policy_n_rules(p));
        ck_assert_str_eq(policy_source(fresh), policy_source(p));

        /* Once more: the formers accumulate. */
        replace_file(prog, "newest program");
        _cleanup_(policy_freep) struct policy *fresher = NULL;
        ck_assert_int_eq(policy_reidentify(fresh, &fresher, &err), 0);
        ck_assert_ptr_nonnull(global_content_rule(fresher, old_digest));
        ck_assert_ptr_nonnull(global_content_rule(fresher, new_digest));
        ck_assert_ptr_nonnull(global_rule(fresher, "/x", &old_st));
        ck_assert_ptr_nonnull(global_rule(fresher, "/x", &new_st));
        tmpdir_remove(dir);
}
END_TEST

/* An allowed file that is replaced is allowed as it is now only: a copy or a hard link of the
 * program it was (say, a vulnerable version, saved before the upgrade) is not allowed on. */
START_TEST(reidentify_forgets_what_an_allow_was) {
        char dir[TMPDIR_MAX], prog[PATH_MAX], text[PATH_MAX + 64];
        tmpdir_make(dir, "eg-reid");
        snprintf(prog, sizeof prog, "%s/prog", dir);
        replace_file(prog, "old program");
        struct stat old_st, new_st;
        uint8_t old_digest[SHA256_LEN], new_digest[SHA256_LEN];
        ck_assert_int_eq(stat(prog, &old_st), 0);
        digest_of(prog, old_digest);
        snprintf(text, sizeof text, "[execguard]\ndefault = deny\n[allow]\npath = %s\n", prog);
        _cleanup_(policy_freep) struct policy *p = policytext_ok(text);
        const struct policy_rule *rule = global_rule(p, "/elsewhere/old-link", &old_st);
        ck_assert(rule && rule->allow); /* before: a hard link of the allowed file is allowed */

        replace_file(prog, "new program!");
        ck_assert_int_eq(stat(prog, &new_st), 0);
        digest_of(prog, new_digest);
        _cleanup_(policy_freep) struct policy *fresh = NULL;
        struct policy_error err = {};
        ck_assert_int_eq(policy_reidentify(p, &fresh, &err), 0);
        rule = global_rule(fresh, "/elsewhere/link", &new_st);
        ck_assert(rule && rule->allow);
        ck_assert_ptr_nonnull(global_content_rule(fresh, new_digest));
        ck_assert_ptr_null(global_rule(fresh, "/elsewhere/old-link", &old_st));
        ck_assert_ptr_null(global_content_rule(fresh, old_digest));
        tmpdir_remove(dir);
}
END_TEST

START_TEST(reidentify_refuses_a_directory) {
        char dir[TMPDIR_MAX], prog[PATH_MAX], text[PATH_MAX + 32];
        tmpdir_make(dir, "eg-reid");
        snprintf(prog, sizeof prog, "%s/prog", dir);
        replace_file(prog, "program");
        snprintf(text, sizeof text, "[block]\npath = %s\n", prog);
        _cleanup_(policy_freep) struct policy *p = policytext_ok(text);
        ck_assert_int_eq(unlink(prog), 0);
        ck_assert_int_eq(mkdir(prog, 0755), 0);
        struct policy *fresh = NULL;
        struct policy_error err = {};
        ck_assert_int_eq(policy_reidentify(p, &fresh, &err), -EINVAL);
        ck_assert_ptr_null(fresh);
        ck_assert_uint_eq(err.line, 2);
        tmpdir_remove(dir);
}
END_TEST

/* ---- scopes: [user:NAME], [group:NAME], allow, and precedence ------------------------- */

static const char scoped_policy[] = "[block]\n"                         /* 1 */
                                    "path = /nonexistent-eg/df\n"       /* 2 */
                                    "path = /nonexistent-eg/tools/*\n"  /* 3 */
                                    "[group:adm]\n"                     /* 4 */
                                    "allow = /nonexistent-eg/df\n"      /* 5 */
                                    "path = /nonexistent-eg/who\n"      /* 6 */
                                    "allow = /nonexistent-eg/who\n"     /* 7 */
                                    "allow = /nonexistent-eg/tools/*\n" /* 8 */
                                    "allow = /nonexistent-eg/both\n"    /* 9 */
                                    "[user:nobody]\n"                   /* 10 */
                                    "path = /nonexistent-eg/id\n"       /* 11 */
                                    "allow = /nonexistent-eg/who\n"     /* 12 */
                                    "[group:staff]\n"                   /* 13 */
                                    "path = /nonexistent-eg/both\n";    /* 14 */

enum { UID_ROOT = 0, UID_NOBODY = 65534, GID_ROOT = 0, GID_ADM = 4, GID_STAFF = 50, GID_NOGROUP = 65534 };

struct scope_case {
        const char *name;
        uid_t uid;
        gid_t gids[3];
        size_t n_gids;
        const char *path;
        unsigned line; /* the deciding rule's line; 0: no rule */
        bool allow;
};

static const struct scope_case scope_cases[] = {
        { "global block applies to everybody", UID_ROOT, { GID_ROOT }, 1, "/nonexistent-eg/df", 2, false },
        { "a group's allow overrides the global block",
          UID_ROOT,
          { GID_ROOT, GID_ADM },
          2,
          "/nonexistent-eg/df",
          5,
          true },
        { "the group counts as a supplementary group too",
          UID_NOBODY,
          { GID_NOGROUP, GID_ADM },
          2,
          "/nonexistent-eg/df",
          5,
          true },
        { "within a scope a block beats an allow", UID_ROOT, { GID_ADM }, 1, "/nonexistent-eg/who", 6, false },
        { "the user's scope beats the group's", UID_NOBODY, { GID_ADM }, 1, "/nonexistent-eg/who", 12, true },
        { "a user's block applies to that user", UID_NOBODY, { GID_NOGROUP }, 1, "/nonexistent-eg/id", 11, false },
        { "a user's block applies to nobody else", UID_ROOT, { GID_ROOT }, 1, "/nonexistent-eg/id", 0, false },
        { "a glob allow overrides a global glob block", UID_ROOT, { GID_ADM }, 1, "/nonexistent-eg/tools/x", 8, true },
        { "the global glob block, outside the group", UID_ROOT, { GID_ROOT }, 1, "/nonexistent-eg/tools/x", 3, false },
        { "two groups: a block in one beats an allow in the other",
          UID_ROOT,
          { GID_ADM, GID_STAFF },
          2,
          "/nonexistent-eg/both",
          14,
          false },
        { "an allow with nothing to override is still an allow",
          UID_ROOT,
          { GID_ADM },
          1,
          "/nonexistent-eg/both",
          9,
          true },
        { "no rule at all", UID_NOBODY, { GID_ADM, GID_STAFF }, 2, "/nonexistent-eg/other", 0, false },
};

static void test_scope(int i) {
        const struct scope_case *c = &scope_cases[i];
        _cleanup_(policy_freep) struct policy *p = policytext_ok(scoped_policy);
        struct policy_subject subj;
        ck_assert_int_eq(policy_subject_init(p, c->uid, c->gids, c->n_gids, NULL, &subj), 0);
        const struct policy_rule *rule = policy_decide(p, &subj, c->path, NULL, NULL, NULL);
        if (c->line == 0) {
                ck_assert_msg(!rule, "%s: decided by line %u", c->name, rule ? rule->line : 0);
                return;
        }
        ck_assert_msg(rule, "%s: no rule", c->name);
        ck_assert_msg(rule->line == c->line && rule->allow == c->allow, "%s: line %u (%s), expected %u (%s)", c->name,
                      rule->line, rule->allow ? "allow" : "block", c->line, c->allow ? "allow" : "block");
}

START_TEST(scope_precedence) {
        test_scope(_i);
}
END_TEST

START_TEST(scope_dump_and_errors) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok(scoped_policy);
        _cleanup_free_ char *text = policytext_dump(p);
        ck_assert_ptr_nonnull(strstr(text, "5: [group:adm] allow /nonexistent-eg/df -> /nonexistent-eg/df\n"));
        ck_assert_ptr_nonnull(strstr(text, "11: [user:nobody] path /nonexistent-eg/id"));
        ck_assert_ptr_nonnull(strstr(text, "2: path /nonexistent-eg/df"));

        static const struct {
                const char *text;
                unsigned line;
                const char *message;
        } errors[] = {
                { "[user:]\npath = /x\n", 1, "unknown section" },
                { "[user:root]\npath = /x\n[user:root]\npath = /y\n", 0, NULL }, /* one section, twice: fine */
                { "[execguard]\nallow = /x\n", 2, "unknown key 'allow'" },
                { "[group:adm]\nallow = relative\n", 2, "not absolute" },
                { "[group:adm]\nallow = sha256:12\n", 2, "invalid hash" },
                { "[group:adm]\nbogus = /x\n", 2, "unknown key 'bogus' in [group:adm]" },
        };
        for (size_t i = 0; i < ELEMENTSOF(errors); i++) {
                struct policy *q = NULL;
                struct policy_error err = {};
                int r = policytext_parse(errors[i].text, strlen(errors[i].text), &q, &err);
                if (!errors[i].message) {
                        ck_assert_int_eq(r, 0);
                        policy_free(q);
                        continue;
                }
                ck_assert_msg(r == -EINVAL && !q, "case %zu: r=%d", i, r);
                ck_assert_msg(err.line == errors[i].line && strstr(err.message, errors[i].message),
                              "case %zu: line %u '%s'", i, err.line, err.message);
        }
}
END_TEST

START_TEST(scope_subject) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok(scoped_policy);
        struct policy_subject subj;
        /* Groups without a section are no scope; one listed twice is one scope. */
        const gid_t gids[] = { GID_ROOT, GID_ADM, GID_NOGROUP, GID_ADM, GID_STAFF };
        ck_assert_int_eq(policy_subject_init(p, UID_NOBODY, gids, ELEMENTSOF(gids), NULL, &subj), 0);
        ck_assert_uint_eq(subj.level_end[0], 1);                     /* the user's section */
        ck_assert_uint_eq(subj.level_end[1] - subj.level_end[0], 2); /* adm and staff, once each */
        ck_assert_int_eq(policy_subject_init(p, UID_ROOT, gids, 1, NULL, &subj), 0);
        ck_assert_uint_eq(subj.level_end[0], 0);
        ck_assert_uint_eq(subj.level_end[1], 0);
}
END_TEST

Suite *policy_suite(void) {
        Suite *s = suite_create("policy");

        TCase *tc = tcase_create("parse");
        tcase_add_loop_test(tc, valid, 0, (int) ELEMENTSOF(valid_cases));
        tcase_add_test(tc, accessors);
        tcase_add_test(tc, line_length_limit);
        tcase_add_test(tc, indented_lines);
        tcase_add_test(tc, warnings_missing);
        tcase_add_test(tc, warnings_capped);
        tcase_add_test(tc, warnings_blocks_nothing);
        suite_add_tcase(s, tc);

        tc = tcase_create("errors");
        tcase_add_loop_test(tc, error, 0, (int) ELEMENTSOF(error_cases));
        tcase_add_test(tc, error_without_reterr);
        suite_add_tcase(s, tc);

        tc = tcase_create("match");
        tcase_add_loop_test(tc, match, 0, (int) ELEMENTSOF(match_cases));
        tcase_add_test(tc, match_literal_only);
        tcase_add_test(tc, match_empty_policy);
        suite_add_tcase(s, tc);

        tc = tcase_create("load");
        tcase_add_test(tc, load_ok);
        tcase_add_loop_test(tc, load_refused, 0, (int) ELEMENTSOF(load_cases));
        tcase_add_test(tc, load_syntax_error);
        suite_add_tcase(s, tc);

        tc = tcase_create("scopes");
        tcase_add_loop_test(tc, scope_precedence, 0, (int) ELEMENTSOF(scope_cases));
        tcase_add_test(tc, scope_dump_and_errors);
        tcase_add_test(tc, scope_subject);
        suite_add_tcase(s, tc);

        tc = tcase_create("reidentify");
        tcase_add_test(tc, reidentify_after_replace);
        tcase_add_test(tc, reidentify_forgets_what_an_allow_was);
        tcase_add_test(tc, reidentify_refuses_a_directory);
        suite_add_tcase(s, tc);

        return s;
}
