/* The policy language of issue 6 (src/policy.h, /work/spec6.md): the new keys and sections
 * parsed (golden dumps, errors with their line and message), and policy_decide() for
 * directory trees, command patterns, precedence, parent and time conditions, default =
 * deny, trusted_path exemptions and re-identification; and the clock the time windows are
 * judged by (wallclock.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "tests.h"
#include "util.h"
#include "wallclock.h"

#define NX     "/nonexistent-eg"
#define ZERO64 "0000000000000000000000000000000000000000000000000000000000000000"

enum { UID_ROOT = 0, UID_NOBODY = 65534, GID_ROOT = 0, GID_ADM = 4, GID_NOGROUP = 65534 };

/* What the dump says after the settings: the sections' conditions and the rules. */
static const char *rules_part(const char *dump) {
        const char *s = strstr(dump, "resolve_timeout = ");
        ck_assert_ptr_nonnull(s);
        return strchr(s, '\n') + 1;
}

/* Arguments after argv[0]: words separated by '|' ("" none; NULL: not known), laid end to
 * end in buf as an exec's are. */
struct args_buf {
        char bytes[512];
        struct policy_args a;
};

static const struct policy_args *args_of(struct args_buf *b, const char *words) {
        if (!words)
                return NULL;
        b->a = (struct policy_args){ .tail = b->bytes };
        ck_assert_uint_lt(strlen(words), sizeof b->bytes);
        strcpy(b->bytes, words);
        if (words[0] != '\0')
                for (char *s = b->bytes;; s++) {
                        if (*s == '|' || *s == '\0') {
                                b->a.n_tail++;
                                if (*s == '\0')
                                        break;
                                *s = '\0';
                        }
                }
        return &b->a;
}

/* A context at this weekday (0: Sunday) and time, with no parent known. */
static struct policy_context at(int weekday, int hour, int minute) {
        return (struct policy_context){ .time_known = true, .weekday = weekday, .minute = hour * 60 + minute };
}

/* The rule deciding path with these arguments for uid in gid, in ctx. */
static const struct policy_rule *decide_for(const struct policy *p, uid_t uid, gid_t gid,
                                            const struct policy_context *ctx, const char *path,
                                            const struct policy_args *args) {
        struct policy_subject subj;
        int r = policy_subject_init(p, uid, &gid, 1, ctx, &subj);
        ck_assert_msg(r == 0, "policy_subject_init: %d", r);
        return policy_decide(p, &subj, path, NULL, NULL, args);
}

static void write_file(const char *path, const char *content, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        ck_assert_msg(fd >= 0, "create %s: %m", path);
        ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        close(fd);
        ck_assert_int_eq(chmod(path, mode), 0);
}

/* ---- parsing: golden dumps ------------------------------------------------------------------ */

struct dump_case {
        const char *name;
        const char *text;
        const char *rules; /* what follows the settings in the dump */
};

static const struct dump_case dump_cases[] = {
        { "dir", "[block]\ndir = " NX "/tools\n", "2: dir " NX "/tools -> " NX "/tools/\n" },
        { "dir with a slash", "[block]\ndir = " NX "/tools/\n", "2: dir " NX "/tools/ -> " NX "/tools/\n" },
        { "dir through a symlink", "[block]\ndir = /bin\n", "2: dir /bin -> /usr/bin/\n" },
        { "dir of the root", "[block]\ndir = /\n", "2: dir / -> /\n" },
        { "[allow]: every key allows",
          "[allow]\ndir = /usr/lib\npath = /bin/df\nhash = sha256:" ZERO64 "\ncommand = " NX "/git status *\n",
          "2: [allow] allow dir /usr/lib -> /usr/lib/\n"
          "3: [allow] allow /bin/df -> /usr/bin/df\n"
          "4: [allow] allow sha256:" ZERO64 " -> sha256:" ZERO64 "\n"
          "5: [allow] allow command " NX "/git status * -> " NX "/git [status] ...\n" },
        { "allow keys in [block]",
          "[block]\nallow = " NX "/a\nallow_dir = " NX "/d\nallow_command = " NX "/c x\nallow = sha256:" ZERO64 "\n",
          "2: allow " NX "/a -> " NX "/a\n"
          "3: allow dir " NX "/d -> " NX "/d/\n"
          "4: allow command " NX "/c x -> " NX "/c [x]\n"
          "5: allow sha256:" ZERO64 " -> sha256:" ZERO64 "\n" },
        { "allow keys in [user:] and [group:]",
          "[user:nobody]\nallow_dir = " NX "/d\n[group:adm]\nallow_command = " NX "/c\n",
          "2: [user:nobody] allow dir " NX "/d -> " NX "/d/\n"
          "4: [group:adm] allow command " NX "/c -> " NX "/c\n" },
        { "commands",
          "[block]\n"
          "command = /bin/rm -rf /\n"
          "command = " NX "/p a * c\n"
          "command = " NX "/p *\n"
          "command = " NX "/p\n"
          "command = " NX "/p a\\ b \\*\n"
          "command = " NX "/*/p x\n"
          "command = " NX "/p   a\t b\n"
          "command = " NX "/p -[rf]* ?\n",
          "2: command /bin/rm -rf / -> /usr/bin/rm [-rf] [/]\n"
          "3: command " NX "/p a * c -> " NX "/p [a] [*] [c]\n"
          "4: command " NX "/p * -> " NX "/p ...\n"
          "5: command " NX "/p -> " NX "/p\n"
          "6: command " NX "/p a\\ b \\* -> " NX "/p [a\\ b] [\\*]\n"
          "7: command " NX "/*/p x -> " NX "/*/p [x]\n"
          "8: command " NX "/p   a\t b -> " NX "/p [a] [b]\n"
          "9: command " NX "/p -[rf]* ? -> " NX "/p [-[rf]*] [?]\n" },
        { "command through a symlinked directory", "[block]\ncommand = /bin/systemctl stop execguard*\n",
          "2: command /bin/systemctl stop execguard* -> /usr/bin/systemctl [stop] [execguard*]\n" },
        { "trusted_path_exempt: path, glob, tree",
          "[block]\ntrusted_path_exempt = " NX "/tool\ntrusted_path_exempt = " NX "/*.sh\n"
          "trusted_path_exempt = " NX "/tree/\n[user:nobody]\ntrusted_path_exempt = /bin/\n",
          "2: trusted_path_exempt " NX "/tool -> " NX "/tool\n"
          "3: trusted_path_exempt " NX "/*.sh -> " NX "/*.sh\n"
          "4: trusted_path_exempt dir " NX "/tree/ -> " NX "/tree/\n"
          "6: [user:nobody] trusted_path_exempt dir /bin/ -> /usr/bin/\n" },
        { "conditions, each header its own section",
          "[block]\n"               /* 1: section 0 */
          "hours = 09:00-18:00\n"   /* 2 */
          "days = mon-fri\n"        /* 3 */
          "parent = /bin/sh\n"      /* 4 */
          "parent = /usr/sbin/*\n"  /* 5 */
          "path = " NX "/a\n"       /* 6 */
          "[block]\n"               /* 7: section 1, no conditions */
          "path = " NX "/b\n"       /* 8 */
          "[user:nobody]\n"         /* 9: section 2 */
          "days = fri-mon\n"        /* 10 */
          "hours = 22:00-06:00\n"   /* 11 */
          "path = " NX "/c\n"       /* 12 */
          "[allow]\n"               /* 13: section 3 */
          "hours = 00:00-24:00\n"   /* 14 */
          "path = " NX "/d\n"       /* 15 */
          "[user:nobody]\n"         /* 16: section 4 */
          "parent = " NX "/httpd\n" /* 17 */
          "dir = " NX "/www\n",     /* 18 */
          "section 0 [block]: hours 09:00-18:00 days mon tue wed thu fri parent /bin/sh -> /usr/bin/dash "
          "parent /usr/sbin/* -> /usr/sbin/*\n"
          "section 2 [user:nobody]: hours 22:00-06:00 days sun mon fri sat\n"
          "section 3 [allow]: hours 00:00-24:00\n"
          "section 4 [user:nobody]: parent " NX "/httpd -> " NX "/httpd\n"
          "6: path " NX "/a -> " NX "/a\n"
          "8: path " NX "/b -> " NX "/b\n"
          "12: [user:nobody] path " NX "/c -> " NX "/c\n"
          "15: [allow] allow " NX "/d -> " NX "/d\n"
          "18: [user:nobody] dir " NX "/www -> " NX "/www/\n" },
        { "a section of conditions only", "[block]\nhours = 18:00-24:00\n", "section 0 [block]: hours 18:00-00:00\n" },
        { "hours from 24:00", "[group:adm]\nhours = 24:00-06:00\n", "section 1 [group:adm]: hours 00:00-06:00\n" },
        { "days: a list", "[block]\ndays = sat,sun\n", "section 0 [block]: days sun sat\n" },
        { "days: blanks", "[block]\ndays = mon , wed,fri - sat\n", "section 0 [block]: days mon wed fri sat\n" },
        { "days: every one", "[block]\ndays = sun-sat\n", "section 0 [block]: days sun mon tue wed thu fri sat\n" },
        { "days: one day as a range", "[block]\ndays = thu-thu\n", "section 0 [block]: days thu\n" },
        { "days: wrapping", "[block]\ndays = sat-mon\n", "section 0 [block]: days sun mon sat\n" },
        { "hours and days in two sections",
          "[block]\nhours = 01:00-02:00\ndays = mon\n[block]\nhours = 03:00-04:00\ndays = tue\n",
          "section 0 [block]: hours 01:00-02:00 days mon\nsection 1 [block]: hours 03:00-04:00 days tue\n" },
        { "parent repeated", "[group:adm]\nparent = " NX "/a\nparent = " NX "/b/*\n",
          "section 1 [group:adm]: parent " NX "/a -> " NX "/a parent " NX "/b/* -> " NX "/b/*\n" },
};

START_TEST(dump_new_keys) {
        const struct dump_case *c = &dump_cases[_i];
        _cleanup_(policy_freep) struct policy *p = policytext_ok(c->text);
        _cleanup_free_ char *d = policytext_dump(p);
        ck_assert_msg(strcmp(rules_part(d), c->rules) == 0, "%s: dump\n%s\nexpected\n%s", c->name, rules_part(d),
                      c->rules);
}
END_TEST

START_TEST(dump_settings) {
        _cleanup_(policy_freep) struct policy *p =
                policytext_ok("[execguard]\ndefault = deny\ntrusted_path = yes\n[allow]\npath = /bin/df\n");
        _cleanup_free_ char *d = policytext_dump(p);
        ck_assert_ptr_nonnull(strstr(d, "\ndefault = deny\ntrusted_path = yes\n"));
        ck_assert_ptr_nonnull(policy_default_rule(p));
        ck_assert_ptr_nonnull(policy_trusted_path_rule(p));

        _cleanup_(policy_freep) struct policy *q =
                policytext_ok("[execguard]\ndefault = allow\ntrusted_path = no\n[block]\npath = /bin/df\n");
        _cleanup_free_ char *e = policytext_dump(q);
        ck_assert_ptr_nonnull(strstr(e, "\ndefault = allow\ntrusted_path = no\n"));
        ck_assert_ptr_null(policy_default_rule(q));
        ck_assert_ptr_null(policy_trusted_path_rule(q));
        ck_assert(!policy_has_commands(q) && !policy_has_windows(q) && !policy_has_parents(q));
}
END_TEST

/* What the policy says it needs to judge an exec: arguments, the time, the parent. */
START_TEST(needs) {
        static const struct {
                const char *text;
                bool commands, windows, parents;
        } cases[] = {
                { "[block]\npath = " NX "/a\ndir = " NX "/d\n", false, false, false },
                { "[block]\ncommand = " NX "/a\n", true, false, false },
                { "[allow]\ncommand = " NX "/a x\n", true, false, false },
                { "[user:nobody]\nallow_command = " NX "/a *\n", true, false, false },
                { "[block]\nhours = 01:00-02:00\n", false, true, false },
                { "[group:adm]\ndays = mon\n", false, true, false },
                { "[allow]\nparent = " NX "/a\n", false, false, true },
                { "[block]\ntrusted_path_exempt = " NX "/a\n", false, false, false },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(policy_freep) struct policy *p = policytext_ok(cases[i].text);
                ck_assert_msg(policy_has_commands(p) == cases[i].commands &&
                                      policy_has_windows(p) == cases[i].windows &&
                                      policy_has_parents(p) == cases[i].parents,
                              "case %zu: commands %d windows %d parents %d", i, policy_has_commands(p),
                              policy_has_windows(p), policy_has_parents(p));
        }
}
END_TEST

/* ---- parsing: errors ------------------------------------------------------------------------ */

struct error_case {
        const char *name;
        const char *text;
        unsigned line;
        const char *message; /* a substring of the error's message */
};

#define HOURS_ERROR "invalid hours"
#define DAYS_ERROR  "(expected days and ranges such as mon-fri or sat,sun)"

static const struct error_case error_cases[] = {
        /* [execguard] */
        { "default: a third word", "[execguard]\ndefault = block\n", 2,
          "invalid default 'block' (expected allow or deny)" },
        { "default twice", "[execguard]\ndefault = deny\ndefault = deny\n", 3,
          "'default' set twice (first on line 2)" },
        { "trusted_path: a number", "[execguard]\ntrusted_path = 1\n", 2,
          "invalid trusted_path '1' (expected yes or no)" },
        { "trusted_path twice across sections",
          "[execguard]\ntrusted_path = yes\n[block]\npath = /bin/df\n[execguard]\ntrusted_path = no\n", 6,
          "'trusted_path' set twice (first on line 2)" },
        { "a rule key in [execguard]", "[execguard]\ndir = /usr\n", 2, "unknown key 'dir' in [execguard]" },
        { "parent in [execguard]", "[execguard]\nparent = /bin/sh\n", 2, "unknown key 'parent' in [execguard]" },
        { "hours in [execguard]", "[execguard]\nhours = 09:00-10:00\n", 2, "unknown key 'hours' in [execguard]" },
        /* hours */
        { "hours: one digit", "[block]\nhours = 9:00-18:00\n", 2, HOURS_ERROR " '9:00-18:00'" },
        { "hours: no minutes", "[block]\nhours = 09-18\n", 2, HOURS_ERROR },
        { "hours: blanks", "[block]\nhours = 09:00 - 18:00\n", 2, HOURS_ERROR },
        { "hours: a blank inside a number", "[block]\nhours = 09: 0-18:00\n", 2, HOURS_ERROR },
        { "hours: a sign", "[block]\nhours = +9:00-18:00\n", 2, HOURS_ERROR },
        { "hours: trailing junk", "[block]\nhours = 09:00-18:00x\n", 2, HOURS_ERROR },
        { "hours: one time", "[block]\nhours = 09:00\n", 2, HOURS_ERROR },
        { "hours: 25", "[block]\nhours = 09:00-25:00\n", 2, HOURS_ERROR },
        { "hours: minute 60", "[block]\nhours = 09:60-10:00\n", 2, HOURS_ERROR },
        { "hours: 24:01", "[block]\nhours = 09:00-24:01\n", 2, HOURS_ERROR },
        { "hours: equal start and end", "[block]\nhours = 10:00-10:00\n", 2,
          "(expected HH:MM-HH:MM, such as 09:00-18:00, the end not the start)" },
        { "hours: 00:00-00:00", "[block]\nhours = 00:00-00:00\n", 2, HOURS_ERROR },
        { "hours: 24:00 is 00:00", "[block]\nhours = 24:00-00:00\n", 2, HOURS_ERROR },
        { "hours: empty", "[block]\nhours =\n", 2, HOURS_ERROR },
        { "hours twice in a section", "[block]\nhours = 09:00-10:00\npath = /bin/df\nhours = 11:00-12:00\n", 4,
          "'hours' set twice in this section (first on line 2)" },
        { "hours twice in a user's section", "[user:nobody]\nhours = 09:00-10:00\nhours = 09:00-10:00\n", 3,
          "'hours' set twice in this section (first on line 2)" },
        /* days */
        { "days: unknown day", "[block]\ndays = mon-fry\n", 2, "invalid days 'mon-fry' " DAYS_ERROR },
        { "days: capitals", "[block]\ndays = Mon\n", 2, DAYS_ERROR },
        { "days: whole names", "[block]\ndays = monday\n", 2, DAYS_ERROR },
        { "days: numbers", "[block]\ndays = 1-5\n", 2, DAYS_ERROR },
        { "days: empty", "[block]\ndays =\n", 2, DAYS_ERROR },
        { "days: a trailing comma", "[block]\ndays = mon,\n", 2, DAYS_ERROR },
        { "days: an open range", "[block]\ndays = mon-\n", 2, DAYS_ERROR },
        { "days: a range of three", "[block]\ndays = mon-wed-fri\n", 2, DAYS_ERROR },
        { "days: blank-separated", "[block]\ndays = mon tue\n", 2, DAYS_ERROR },
        { "days twice in a section", "[group:adm]\ndays = mon\nparent = /bin/sh\ndays = tue\n", 4,
          "'days' set twice in this section (first on line 2)" },
        /* parent */
        { "parent: relative", "[block]\nparent = bin/sh\n", 2, "path 'bin/sh' is not absolute" },
        { "parent: a name", "[user:nobody]\nparent = nginx\n", 2, "path 'nginx' is not absolute" },
        { "parent: empty", "[block]\nparent =\n", 2, "path '' is not absolute" },
        { "parent: '#' comment", "[block]\nparent = /bin/sh # shells\n", 2, "'#' starts a comment only" },
        /* command */
        { "command: empty", "[block]\ncommand =\n", 2, "empty command (expected a program and its arguments)" },
        { "allow_command: empty", "[block]\npath = /bin/df\nallow_command =\n", 3, "empty command" },
        { "command: relative program", "[block]\ncommand = rm -rf /\n", 2, "path 'rm' is not absolute" },
        { "command: a lone '*' for the program", "[block]\ncommand = * x\n", 2, "path '*' is not absolute" },
        { "command: a directory", "[block]\ncommand = /usr/bin x\n", 2, "'/usr/bin x' is a directory: name a program" },
        { "command in [allow]: a directory", "[allow]\ncommand = /usr/bin\n", 2,
          "'/usr/bin' is a directory: name a program" },
        { "command in [execguard]", "[execguard]\ncommand = /bin/rm\n", 2, "unknown key 'command' in [execguard]" },
        /* allow_* in [allow] */
        { "allow in [allow]", "[allow]\npath = /bin/df\nallow = /bin/du\n", 3,
          "in [allow] every rule allows: write path = ..." },
        { "allow_dir in [allow]", "[allow]\nallow_dir = /usr/lib\n", 2,
          "in [allow] every rule allows: write dir = ..." },
        { "allow_command in [allow]", "[allow]\nallow_command = /bin/ls *\n", 2,
          "in [allow] every rule allows: write command = ..." },
        { "an unknown key in [allow]", "[allow]\nblock = /bin/ls\n", 2,
          "unknown key 'block' in [allow] (known: path, hash, dir, command, trusted_path_exempt, parent, hours, "
          "days)" },
        { "an unknown key in [block]", "[block]\nexempt = /bin/ls\n", 2,
          "unknown key 'exempt' in [block] (known: path, hash, dir, command, allow, allow_dir, allow_command, "
          "trusted_path_exempt, parent, hours, days)" },
        /* dir */
        { "dir: a glob", "[block]\ndir = /usr/lib/*\n", 2, "dir takes a directory, not a glob" },
        { "dir: a ?", "[block]\ndir = /opt/tool?\n", 2, "dir takes a directory, not a glob" },
        { "allow_dir: a glob", "[user:nobody]\nallow_dir = /home/*/bin\n", 2,
          "allow_dir takes a directory, not a glob" },
        { "dir in [allow]: a glob", "[allow]\ndir = /opt/[ab]\n", 2, "dir takes a directory, not a glob" },
        { "dir: a file", "[block]\npath = /bin/df\ndir = /usr/bin/dash\n", 3,
          "'/usr/bin/dash' is not a directory: use path = /usr/bin/dash" },
        { "dir: a symlink to a file", "[block]\ndir = /bin/sh\n", 2,
          "'/bin/sh' is not a directory: use path = /usr/bin/dash" },
        { "dir: relative", "[block]\ndir = usr/lib\n", 2, "dir 'usr/lib' is not absolute" },
        { "allow_dir: a file", "[group:adm]\nallow_dir = /usr/bin/dash\n", 2,
          "'/usr/bin/dash' is not a directory: use allow = /usr/bin/dash" },
        { "dir in [allow]: a file", "[allow]\ndir = /usr/bin/dash\n", 2,
          "'/usr/bin/dash' is not a directory: use path = /usr/bin/dash" },
        /* A directory where a file is meant: the hint keeps the rule's meaning. */
        { "path: a directory", "[block]\npath = /bin\n", 2,
          "'/bin' is a directory: name a program, or use dir = /usr/bin" },
        { "allow: a directory", "[block]\nallow = /usr/lib\n", 2,
          "'/usr/lib' is a directory: name a program, or use allow_dir = /usr/lib" },
        { "allow in [user:]: a directory", "[user:nobody]\nallow = /usr/lib/\n", 2,
          "'/usr/lib/' is a directory: name a program, or use allow_dir = /usr/lib" },
        { "path in [allow]: a directory", "[allow]\npath = /usr/lib\n", 2,
          "'/usr/lib' is a directory: name a program, or use dir = /usr/lib" },
        /* trusted_path_exempt */
        { "exempt: relative", "[block]\ntrusted_path_exempt = bin/\n", 2, "path 'bin/' is not absolute" },
        { "exempt: a hash", "[block]\ntrusted_path_exempt = sha256:" ZERO64 "\n", 2, "is not absolute" },
        { "exempt: a directory without its slash", "[block]\ntrusted_path_exempt = /bin\n", 2,
          "'/bin' is a directory: name a program, or its tree: trusted_path_exempt = /usr/bin/" },
        { "exempt: a glob tree", "[block]\ntrusted_path_exempt = /opt/*/\n", 2,
          "trusted_path_exempt takes a directory, not a glob" },
        /* hash in [allow] */
        { "hash in [allow]: short", "[allow]\nhash = sha256:00\n", 2, "invalid hash 'sha256:00'" },
};

START_TEST(parse_errors) {
        const struct error_case *c = &error_cases[_i];
        struct policy *p = NULL;
        struct policy_error err = {};
        int r = policytext_parse(c->text, strlen(c->text), &p, &err);
        ck_assert_msg(r == -EINVAL, "%s: r=%d, expected -EINVAL", c->name, r);
        ck_assert_msg(!p, "%s: a failed parse produced a policy", c->name);
        ck_assert_msg(err.line == c->line, "%s: line %u (%s), expected %u", c->name, err.line, err.message, c->line);
        ck_assert_msg(strstr(err.message, c->message), "%s: message '%s' lacks '%s'", c->name, err.message, c->message);
}
END_TEST

/* What is valid that looks close to the errors above. */
START_TEST(parse_edges_valid) {
        static const char *const texts[] = {
                "[block]\nhours = 00:00-24:00\n",
                "[block]\nhours = 23:59-00:00\n",
                "[block]\nhours = 00:00-00:01\n",
                "[block]\nhours = 09:00-10:00\n[block]\nhours = 09:00-10:00\n", /* two sections */
                "[user:nobody]\ndays = mon\n[user:nobody]\ndays = mon\n",       /* two sections of one user */
                "[block]\nhours = 09:00-10:00\n[execguard]\n[block]\nhours = 11:00-12:00\n",
                "[block]\ncommand = " NX "/p * x\n", /* a lone '*' not last */
                "[block]\ncommand = " NX "/p * * *\n",
                "[block]\ncommand = " NX "/p \\\n", /* a backslash at the end */
                "[allow]\nparent = " NX "/a\nparent = " NX "/a\n",
                "[block]\ndir = " NX "/not/yet\n", /* a tree to come */
                "[block]\ntrusted_path_exempt = /usr/bin/\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(texts); i++)
                policy_free(policytext_ok(texts[i]));
}
END_TEST

/* ---- decisions: directory trees ------------------------------------------------------------- */

struct tree_fixture {
        char dir[TMPDIR_MAX];
        struct policy *policy;
};

/* Lines of the tree policy. */
enum { L_TOOLS = 2, L_VIA_LINK = 3, L_SLASH = 4, L_ALLOW_SAFE = 5, L_ALLOW_OPT = 7 };

static void tree_setup(struct tree_fixture *fx) {
        char path[PATH_MAX], text[2048];
        tmpdir_make(fx->dir, "eg-rules");
        static const char *const dirs[] = { "tools", "toolsx",   "tools/sub", "tools/safe",
                                            "other", "other/in", "opt",       "opt/x" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                snprintf(path, sizeof path, "%s/%s", fx->dir, dirs[i]);
                ck_assert_int_eq(mkdir(path, 0755), 0);
        }
        snprintf(path, sizeof path, "%s/link", fx->dir);
        ck_assert_int_eq(symlink("other", path), 0);
        snprintf(text, sizeof text,
                 "[block]\n"
                 "dir = %1$s/tools\n"            /* L_TOOLS */
                 "dir = %1$s/link/in\n"          /* L_VIA_LINK: canonical other/in */
                 "dir = %1$s/opt/\n"             /* L_SLASH */
                 "allow_dir = %1$s/tools/safe\n" /* L_ALLOW_SAFE: a block beats it */
                 "[allow]\n"
                 "dir = %1$s/opt/x\n", /* L_ALLOW_OPT: another section of the level */
                 fx->dir);
        fx->policy = policytext_ok(text);
}

static void tree_teardown(struct tree_fixture *fx) {
        policy_free(fx->policy);
        tmpdir_remove(fx->dir);
}

static const struct {
        const char *path; /* %s: the fixture's directory */
        unsigned line;    /* 0: no rule */
} tree_cases[] = {
        { "%s/tools/prog", L_TOOLS },
        { "%s/tools/sub/prog", L_TOOLS },
        { "%s/tools/sub/deeper/still/prog", L_TOOLS },
        { "%s/tools/.hidden", L_TOOLS },
        { "%s/tools/safe/prog", L_TOOLS }, /* within a section, a block beats an allow */
        { "%s/toolsx/prog", 0 },           /* the prefix ends at a '/' */
        { "%s/tools", 0 },                 /* the directory itself is not in it */
        { "%s/toolsprog", 0 },
        { "%s/tool/prog", 0 },
        { "%s/other/in/prog", L_VIA_LINK },
        { "%s/other/inx/prog", 0 },
        { "%s/other/prog", 0 },
        { "%s/link/in/prog", 0 }, /* not canonical: never what the resolver passes */
        { "%s/opt/prog", L_SLASH },
        { "%s/opt/x/prog", L_SLASH }, /* [allow] is another section of the same level */
        { "/usr/bin/prog", 0 },
};

START_TEST(decide_dir) {
        struct tree_fixture fx;
        char path[PATH_MAX];
        tree_setup(&fx);
        snprintf(path, sizeof path, tree_cases[_i].path, fx.dir);
        const struct policy_rule *rule = policy_decide(fx.policy, NULL, path, NULL, NULL, NULL);
        unsigned want = tree_cases[_i].line;
        ck_assert_msg(want ? rule && rule->line == want && !rule->allow : !rule, "%s: line %u (%s), expected %u", path,
                      rule ? rule->line : 0, rule && rule->allow ? "allow" : "block", want);
        ck_assert_msg(!rule || rule->kind == POLICY_RULE_DIR, "%s: decided by a %s rule", path,
                      policy_rule_kind_to_string(rule->kind));
        tree_teardown(&fx);
}
END_TEST

/* An allow_dir does allow, where no block of its level names the file. */
START_TEST(decide_allow_dir) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok("[block]\ndir = " NX "/a\n"
                                                                 "[user:nobody]\nallow_dir = " NX "/a/b\n"
                                                                 "[allow]\ndir = " NX "/c\n");
        const struct policy_rule *r = decide_for(p, UID_NOBODY, GID_NOGROUP, NULL, NX "/a/b/prog", NULL);
        ck_assert(r && r->allow && r->line == 4 && r->kind == POLICY_RULE_DIR);
        r = decide_for(p, UID_NOBODY, GID_NOGROUP, NULL, NX "/a/prog", NULL);
        ck_assert(r && !r->allow && r->line == 2);
        r = decide_for(p, UID_ROOT, GID_ROOT, NULL, NX "/a/b/prog", NULL);
        ck_assert(r && !r->allow && r->line == 2);
        r = decide_for(p, UID_ROOT, GID_ROOT, NULL, NX "/c/d/prog", NULL);
        ck_assert(r && r->allow && r->line == 6);
        ck_assert_ptr_null(decide_for(p, UID_ROOT, GID_ROOT, NULL, NX "/cc/prog", NULL));
}
END_TEST

START_TEST(decide_dir_root) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok("[allow]\ndir = /\n");
        const struct policy_rule *r = policy_decide(p, NULL, "/usr/bin/df", NULL, NULL, NULL);
        ck_assert(r && r->allow);
        ck_assert_ptr_nonnull(policy_decide(p, NULL, "/x", NULL, NULL, NULL));
}
END_TEST

/* ---- decisions: command patterns ------------------------------------------------------------ */

struct command_case {
        const char *rule;    /* command = RULE */
        const char *program; /* the canonical path judged */
        const char *args;    /* after argv[0], '|' between words; NULL: not known */
        bool match;
};

static const struct command_case command_cases[] = {
        { NX "/systemctl stop execguard*", NX "/systemctl", "stop|execguard", true },
        { NX "/systemctl stop execguard*", NX "/systemctl", "stop|execguard.service", true },
        { NX "/systemctl stop execguard*", NX "/systemctl", "stop|execguard|now", false }, /* exactly two */
        { NX "/systemctl stop execguard*", NX "/systemctl", "stop", false },
        { NX "/systemctl stop execguard*", NX "/systemctl", "", false },
        { NX "/systemctl stop execguard*", NX "/systemctl", "start|execguard", false },
        { NX "/systemctl stop execguard*", NX "/systemctl", "stop|xexecguard", false },
        { NX "/systemctl stop execguard*", NX "/systemctl", "execguard|stop", false },
        { NX "/systemctl stop execguard*", NX "/systemctl", NULL, true }, /* unknown: a block blocks */
        { NX "/systemctl stop execguard*", NX "/systemctl2", "stop|execguard", false },
        { NX "/systemctl stop execguard*", NX "/systemct", "stop|execguard", false },
        { NX "/rm -rf /", NX "/rm", "-rf|/", true },
        { NX "/rm -rf /", NX "/rm", "-rf|/tmp", false },
        { NX "/rm -rf /", NX "/rm", "-rf|/|x", false },
        { NX "/rm -rf /", NX "/rm", "-fr|/", false },
        { NX "/rm -rf /", NX "/rm", "-rf|//", false },
        /* A lone '*' in the middle: exactly one argument, any. */
        { NX "/p a * c", NX "/p", "a|b|c", true },
        { NX "/p a * c", NX "/p", "a|x/y z|c", true },
        { NX "/p a * c", NX "/p", "a||c", true },
        { NX "/p a * c", NX "/p", "a|c", false },
        { NX "/p a * c", NX "/p", "a|b|b|c", false },
        { NX "/p a * c", NX "/p", "a|b|c|d", false },
        { NX "/p * *", NX "/p", "a|b", true },
        { NX "/p * *", NX "/p", "a", true }, /* the last lone '*': zero or more */
        { NX "/p * *", NX "/p", "", false },
        /* A trailing lone '*': zero or more. */
        { NX "/p x *", NX "/p", "x", true },
        { NX "/p x *", NX "/p", "x|a|b|c", true },
        { NX "/p x *", NX "/p", "", false },
        { NX "/p x *", NX "/p", "y", false },
        { NX "/p x *", NX "/p", "y|x", false },
        { NX "/p *", NX "/p", "", true },
        { NX "/p *", NX "/p", "a|b|c", true },
        /* No pattern: no arguments at all. */
        { NX "/p", NX "/p", "", true },
        { NX "/p", NX "/p", "a", false },
        /* Globs per argument, '*' across '/', no special leading dot. */
        { NX "/p /etc/*", NX "/p", "/etc/a/b", true },
        { NX "/p /etc/*", NX "/p", "/etc/", true },
        { NX "/p /etc/*", NX "/p", "/etcx", false },
        { NX "/p -*", NX "/p", "-rf", true },
        { NX "/p -*", NX "/p", "rf", false },
        { NX "/p *.conf", NX "/p", ".conf", true },
        { NX "/p ?", NX "/p", "a", true },
        { NX "/p ?", NX "/p", "ab", false },
        { NX "/p ?", NX "/p", "/", true },
        { NX "/p -[rf][rf]", NX "/p", "-rf", true },
        { NX "/p -[rf][rf]", NX "/p", "-fr", true },
        { NX "/p -[rf][rf]", NX "/p", "-rx", false },
        /* Backslash: a blank inside a word, a literal star. */
        { NX "/p a\\ b \\*", NX "/p", "a b|*", true },
        { NX "/p a\\ b \\*", NX "/p", "a b|x", false },
        { NX "/p a\\ b \\*", NX "/p", "a|b|*", false },
        { NX "/p a\\ b \\*", NX "/p", "a\\ b|*", false },
        { NX "/p a\\ b \\*", NX "/p", "a b|*|x", false }, /* '\*' is no lone '*' */
        { NX "/p a\\*", NX "/p", "a*", true },
        { NX "/p a\\*", NX "/p", "ab", false },
        /* Blanks between words: any number of spaces and tabs. */
        { NX "/p   a \t b", NX "/p", "a|b", true },
        { NX "/p   a \t b", NX "/p", "a b", false },
        /* The program by glob (FNM_PATHNAME) or with an escaped blank. */
        { NX "/*/tool x", NX "/bin/tool", "x", true },
        { NX "/*/tool x", NX "/a/b/tool", "x", false },
        { NX "/*/tool x", NX "/tool", "x", false },
        { NX "/*/tool x", NX "/bin/tool", "y", false },
        { NX "/*/tool x", NX "/bin/tool", NULL, true },
        { NX "/my\\ prog x", NX "/my prog", "x", true },
        { NX "/my\\ prog x", NX "/my\\ prog", "x", false },
        { NX "/my\\ prog x", NX "/my", "prog|x", false },
};

START_TEST(decide_command) {
        const struct command_case *c = &command_cases[_i];
        char text[512];
        snprintf(text, sizeof text, "[block]\ncommand = %s\n", c->rule);
        _cleanup_(policy_freep) struct policy *p = policytext_ok(text);
        struct args_buf b;
        const struct policy_rule *rule = policy_decide(p, NULL, c->program, NULL, NULL, args_of(&b, c->args));
        ck_assert_msg(c->match ? rule != NULL : rule == NULL, "command = %s, %s %s%s: %s, expected %s", c->rule,
                      c->program, c->args ? "args " : "args unknown", c->args ? c->args : "",
                      rule ? "blocked" : "not blocked", c->match ? "blocked" : "not blocked");
        if (rule)
                ck_assert(rule->kind == POLICY_RULE_COMMAND && !rule->allow && rule->line == 2);
}
END_TEST

/* Words a #! line puts in front count as arguments, before those of the exec. */
START_TEST(decide_command_pre_words) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok("[block]\ncommand = " NX "/sh -e /srv/s.sh *\n"
                                                                 "command = " NX "/env python3\\ -u *\n");
        struct policy_args a = { .pre = { "-e", "/srv/s.sh" }, .n_pre = 2, .tail = "x\0y", .n_tail = 2 };
        ck_assert_ptr_nonnull(policy_decide(p, NULL, NX "/sh", NULL, NULL, &a));
        a.n_tail = 0;
        ck_assert_ptr_nonnull(policy_decide(p, NULL, NX "/sh", NULL, NULL, &a));
        a.pre[1] = "/srv/other.sh";
        ck_assert_ptr_null(policy_decide(p, NULL, NX "/sh", NULL, NULL, &a));
        /* The tail alone, the same words: the same. */
        struct policy_args t = { .tail = "-e\0/srv/s.sh\0z", .n_tail = 3 };
        ck_assert_ptr_nonnull(policy_decide(p, NULL, NX "/sh", NULL, NULL, &t));
        /* One pre word, the rest in the tail. */
        struct policy_args m = { .pre = { "-e" }, .n_pre = 1, .tail = "/srv/s.sh", .n_tail = 1 };
        ck_assert_ptr_nonnull(policy_decide(p, NULL, NX "/sh", NULL, NULL, &m));
        /* The #! argument is one word, blanks and all. */
        struct policy_args e = { .pre = { "python3 -u", "/srv/x.py" }, .n_pre = 2 };
        const struct policy_rule *r = policy_decide(p, NULL, NX "/env", NULL, NULL, &e);
        ck_assert(r && r->line == 3);
        e.pre[0] = "python3";
        ck_assert_ptr_null(policy_decide(p, NULL, NX "/env", NULL, NULL, &e));
}
END_TEST

/* The program of a command, by file: identity (a hard link), the path a symlink named,
 * content (a copy, match_content = yes). */
START_TEST(decide_command_program_identity) {
        char dir[TMPDIR_MAX], prog[PATH_MAX], hard[PATH_MAX], lnk[PATH_MAX], copy[PATH_MAX], other[PATH_MAX];
        char text[PATH_MAX + 128];
        tmpdir_make(dir, "eg-rules");
        snprintf(prog, sizeof prog, "%s/prog", dir);
        snprintf(hard, sizeof hard, "%s/hard", dir);
        snprintf(lnk, sizeof lnk, "%s/link", dir);
        snprintf(copy, sizeof copy, "%s/copy", dir);
        snprintf(other, sizeof other, "%s/other", dir);
        write_file(prog, "#!/bin/sh\necho the program\n", 0755);
        write_file(copy, "#!/bin/sh\necho the program\n", 0755);
        write_file(other, "#!/bin/sh\necho the other one\n", 0755);
        ck_assert_int_eq(link(prog, hard), 0);
        ck_assert_int_eq(symlink("prog", lnk), 0);

        snprintf(text, sizeof text, "[block]\ncommand = %s stop *\n", lnk);
        _cleanup_(policy_freep) struct policy *p = policytext_ok(text);
        struct args_buf b;
        const struct policy_args *stop = args_of(&b, "stop|now");
        struct stat st;
        uint8_t digest[SHA256_LEN];

        ck_assert_ptr_nonnull(policy_decide(p, NULL, prog, NULL, NULL, stop)); /* the symlink's target */
        ck_assert_int_eq(stat(hard, &st), 0);
        ck_assert_ptr_nonnull(policy_decide(p, NULL, hard, &st, NULL, stop));
        ck_assert_ptr_null(policy_decide(p, NULL, hard, NULL, NULL, stop)); /* the name alone */
        ck_assert_int_eq(identity_sha256_path(copy, digest, &st), 0);
        ck_assert(policy_wants_content(p, NULL, st.st_size));
        ck_assert_ptr_nonnull(policy_decide(p, NULL, copy, &st, digest, stop));
        ck_assert_ptr_null(policy_decide(p, NULL, copy, &st, NULL, stop));
        /* Same file, other arguments: not this rule. */
        struct args_buf b2;
        ck_assert_ptr_null(policy_decide(p, NULL, hard, &st, digest, args_of(&b2, "start")));
        ck_assert_int_eq(identity_sha256_path(other, digest, &st), 0);
        ck_assert_ptr_null(policy_decide(p, NULL, other, &st, digest, stop));

        /* match_content = no: a copy is another program. */
        snprintf(text, sizeof text, "[execguard]\nmatch_content = no\n[block]\ncommand = %s stop *\n", prog);
        _cleanup_(policy_freep) struct policy *q = policytext_ok(text);
        ck_assert_int_eq(identity_sha256_path(copy, digest, &st), 0);
        ck_assert_ptr_null(policy_decide(q, NULL, copy, &st, digest, stop));
        tmpdir_remove(dir);
}
END_TEST

/* Without the arguments a command block blocks its program, and a command allow allows
 * nothing. */
START_TEST(decide_command_args_unknown) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok("[block]\n"
                                                                 "command = " NX "/a x\n"
                                                                 "allow_command = " NX "/b *\n"
                                                                 "[allow]\n"
                                                                 "command = " NX "/c *\n"
                                                                 "[user:nobody]\n"
                                                                 "allow_command = " NX "/a x\n");
        const struct policy_rule *r = policy_decide(p, NULL, NX "/a", NULL, NULL, NULL);
        ck_assert(r && !r->allow && r->line == 2);
        ck_assert_ptr_null(policy_decide(p, NULL, NX "/b", NULL, NULL, NULL));
        ck_assert_ptr_null(policy_decide(p, NULL, NX "/c", NULL, NULL, NULL));
        /* The user's allow needs the arguments too: the global block decides. */
        r = decide_for(p, UID_NOBODY, GID_NOGROUP, NULL, NX "/a", NULL);
        ck_assert(r && !r->allow && r->line == 2);
        struct args_buf b;
        r = decide_for(p, UID_NOBODY, GID_NOGROUP, NULL, NX "/a", args_of(&b, "x"));
        ck_assert(r && r->allow && r->line == 7);
        r = policy_decide(p, NULL, NX "/b", NULL, NULL, args_of(&b, ""));
        ck_assert(r && r->allow && r->line == 3);
        r = policy_decide(p, NULL, NX "/c", NULL, NULL, args_of(&b, "any|thing"));
        ck_assert(r && r->allow && r->line == 5);
}
END_TEST

/* ---- decisions: precedence ------------------------------------------------------------------ */

static const char precedence_policy[] = "[block]\n"                                     /* 1 */
                                        "command = " NX "/systemctl stop *\n"           /* 2 */
                                        "path = " NX "/tool\n"                          /* 3 */
                                        "[allow]\n"                                     /* 4 */
                                        "command = " NX "/systemctl status *\n"         /* 5 */
                                        "path = " NX "/tool\n"                          /* 6 */
                                        "path = " NX "/free\n"                          /* 7 */
                                        "dir = " NX "/opt\n"                            /* 8 */
                                        "[group:adm]\n"                                 /* 9 */
                                        "allow_command = " NX "/systemctl stop nginx\n" /* 10 */
                                        "path = " NX "/opt/admtool\n"                   /* 11 */
                                        "[user:nobody]\n"                               /* 12 */
                                        "command = " NX "/systemctl status secret\n"    /* 13 */
                                        "allow = " NX "/tool\n"                         /* 14 */
                                        "[user:nobody]\n"                               /* 15 */
                                        "hours = 09:00-17:00\n"                         /* 16 */
                                        "path = " NX "/free\n"                          /* 17 */
                                        "[group:adm]\n"                                 /* 18 */
                                        "parent = " NX "/httpd\n"                       /* 19 */
                                        "path = " NX "/opt/x\n"                         /* 20 */
                                        "[user:nobody]\n"                               /* 21 */
                                        "days = sat,sun\n"                              /* 22 */
                                        "allow = " NX "/opt/admtool\n";                 /* 23 */

struct precedence_case {
        const char *name;
        uid_t uid;
        gid_t gid;
        int weekday, hour; /* the time of the exec */
        const char *parent;
        const char *path;
        const char *args;
        unsigned line; /* 0: no rule */
        bool allow;
};

static const struct precedence_case precedence_cases[] = {
        { "global command block", UID_ROOT, GID_ROOT, 1, 12, NULL, NX "/systemctl", "stop|nginx", 2, false },
        { "a group's allow beats the global block", UID_ROOT, GID_ADM, 1, 12, NULL, NX "/systemctl", "stop|nginx", 10,
          true },
        { "the group's allow is for its arguments only", UID_ROOT, GID_ADM, 1, 12, NULL, NX "/systemctl", "stop|apache",
          2, false },
        { "arguments unknown: the group's allow does not apply", UID_ROOT, GID_ADM, 1, 12, NULL, NX "/systemctl", NULL,
          2, false },
        { "global command allow", UID_ROOT, GID_ROOT, 1, 12, NULL, NX "/systemctl", "status|x", 5, true },
        { "the user's command block beats the global allow", UID_NOBODY, GID_NOGROUP, 1, 12, NULL, NX "/systemctl",
          "status|secret", 13, false },
        { "the user's block is for its arguments only", UID_NOBODY, GID_NOGROUP, 1, 12, NULL, NX "/systemctl",
          "status|other", 5, true },
        { "no rule for these arguments", UID_ROOT, GID_ROOT, 1, 12, NULL, NX "/systemctl", "start|x", 0, false },
        { "in [block] and [allow]: the block", UID_ROOT, GID_ROOT, 1, 12, NULL, NX "/tool", "", 3, false },
        { "the user's allow beats the global block", UID_NOBODY, GID_NOGROUP, 1, 12, NULL, NX "/tool", "", 14, true },
        { "a user's section within its hours", UID_NOBODY, GID_NOGROUP, 1, 10, NULL, NX "/free", "", 17, false },
        { "a user's section outside its hours", UID_NOBODY, GID_NOGROUP, 1, 17, NULL, NX "/free", "", 7, true },
        { "another user: not the section", UID_ROOT, GID_ROOT, 1, 10, NULL, NX "/free", "", 7, true },
        { "a group's block beats a global allow dir", UID_ROOT, GID_ADM, 1, 12, NULL, NX "/opt/admtool", "", 11,
          false },
        { "outside the group: the global allow dir", UID_ROOT, GID_ROOT, 1, 12, NULL, NX "/opt/admtool", "", 8, true },
        { "the user's weekend allow beats the group's block", UID_NOBODY, GID_ADM, 6, 12, NULL, NX "/opt/admtool", "",
          23, true },
        { "on a weekday the group's block", UID_NOBODY, GID_ADM, 5, 12, NULL, NX "/opt/admtool", "", 11, false },
        { "a group's section for its parent", UID_ROOT, GID_ADM, 1, 12, NX "/httpd", NX "/opt/x", "", 20, false },
        { "a group's section, another parent", UID_ROOT, GID_ADM, 1, 12, NX "/sshd", NX "/opt/x", "", 8, true },
        { "a parent section of another group", UID_ROOT, GID_ROOT, 1, 12, NX "/httpd", NX "/opt/x", "", 8, true },
};

START_TEST(decide_precedence) {
        const struct precedence_case *c = &precedence_cases[_i];
        _cleanup_(policy_freep) struct policy *p = policytext_ok(precedence_policy);
        struct policy_context ctx = at(c->weekday, c->hour, 0);
        ctx.parent = c->parent ? c->parent : NX "/nothing";
        struct args_buf b;
        const struct policy_rule *r = decide_for(p, c->uid, c->gid, &ctx, c->path, args_of(&b, c->args));
        if (c->line == 0)
                ck_assert_msg(!r, "%s: decided by line %u", c->name, r ? r->line : 0);
        else
                ck_assert_msg(r && r->line == c->line && r->allow == c->allow, "%s: line %u (%s), expected %u (%s)",
                              c->name, r ? r->line : 0, r && r->allow ? "allow" : "block", c->line,
                              c->allow ? "allow" : "block");
}
END_TEST

/* Each header is a section of its own: the conditions of one are not the other's. */
START_TEST(sections_are_separate) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok("[block]\n"
                                                                 "path = " NX "/always\n"
                                                                 "[block]\n"
                                                                 "hours = 09:00-10:00\n"
                                                                 "path = " NX "/morning\n"
                                                                 "[block]\n"
                                                                 "path = " NX "/also-always\n"
                                                                 "[user:nobody]\n"
                                                                 "path = " NX "/user-always\n"
                                                                 "[user:nobody]\n"
                                                                 "days = sun\n"
                                                                 "path = " NX "/user-sunday\n");
        struct policy_context nine = at(1, 9, 30), noon = at(1, 12, 0), sunday = at(0, 12, 0);
        ck_assert_ptr_nonnull(decide_for(p, UID_ROOT, GID_ROOT, &noon, NX "/always", NULL));
        ck_assert_ptr_nonnull(decide_for(p, UID_ROOT, GID_ROOT, &noon, NX "/also-always", NULL));
        ck_assert_ptr_null(decide_for(p, UID_ROOT, GID_ROOT, &noon, NX "/morning", NULL));
        ck_assert_ptr_nonnull(decide_for(p, UID_ROOT, GID_ROOT, &nine, NX "/morning", NULL));
        ck_assert_ptr_nonnull(decide_for(p, UID_NOBODY, GID_NOGROUP, &noon, NX "/user-always", NULL));
        ck_assert_ptr_null(decide_for(p, UID_NOBODY, GID_NOGROUP, &noon, NX "/user-sunday", NULL));
        ck_assert_ptr_nonnull(decide_for(p, UID_NOBODY, GID_NOGROUP, &sunday, NX "/user-sunday", NULL));
        ck_assert_ptr_nonnull(decide_for(p, UID_NOBODY, GID_NOGROUP, &sunday, NX "/user-always", NULL));
        /* Without a context: the unconditional sections only. */
        ck_assert_ptr_nonnull(decide_for(p, UID_NOBODY, GID_NOGROUP, NULL, NX "/user-always", NULL));
        ck_assert_ptr_nonnull(policy_decide(p, NULL, NX "/also-always", NULL, NULL, NULL));
        ck_assert_ptr_null(policy_decide(p, NULL, NX "/morning", NULL, NULL, NULL));
        ck_assert_ptr_null(decide_for(p, UID_NOBODY, GID_NOGROUP, NULL, NX "/user-sunday", NULL));
}
END_TEST

/* ---- decisions: parents --------------------------------------------------------------------- */

static const char parent_policy[] = "[block]\n"               /* 1 */
                                    "parent = /bin/sh\n"      /* 2: /usr/bin/dash, by identity too */
                                    "path = " NX "/a\n"       /* 3 */
                                    "[block]\n"               /* 4 */
                                    "parent = " NX "/httpd\n" /* 5: a path only */
                                    "parent = " NX "/nginx\n" /* 6 */
                                    "path = " NX "/b\n"       /* 7 */
                                    "[block]\n"               /* 8 */
                                    "parent = " NX "/www/*\n" /* 9: a glob */
                                    "path = " NX "/c\n";      /* 10 */

struct parent_case {
        const char *parent;  /* the canonical path of the exec'ing program */
        const char *stat_of; /* the file whose stat goes with it; NULL: none */
        const char *blocked; /* which of a, b, c are blocked */
};

static const struct parent_case parent_cases[] = {
        { "/usr/bin/dash", "/usr/bin/dash", "a" },
        { "/usr/bin/dash", NULL, "a" },                  /* by path */
        { "/elsewhere/hardlink", "/usr/bin/dash", "a" }, /* by identity */
        { "/usr/bin/dash-not", "/usr/bin/sleep", "" },
        { "/usr/bin/sleep", "/usr/bin/sleep", "" },
        { NX "/httpd", NULL, "b" },
        { NX "/nginx", NULL, "b" },
        { NX "/httpd2", NULL, "" },
        { NX "/http", NULL, "" },
        { NX "/www/php", NULL, "c" },
        { NX "/www/.hidden", NULL, "c" },
        { NX "/www/x/php", NULL, "" }, /* FNM_PATHNAME */
        { NX "/wwwx", NULL, "" },
        { "", NULL, "" }, /* execguard check without --parent */
};

START_TEST(decide_parent) {
        const struct parent_case *c = &parent_cases[_i];
        _cleanup_(policy_freep) struct policy *p = policytext_ok(parent_policy);
        struct stat st;
        struct policy_context ctx = { .parent = c->parent };
        if (c->stat_of) {
                ck_assert_int_eq(stat(c->stat_of, &st), 0);
                ctx.parent_st = &st;
        }
        static const char *const names[] = { "a", "b", "c" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char path[64];
                snprintf(path, sizeof path, NX "/%s", names[i]);
                bool want = strstr(c->blocked, names[i]) != NULL;
                const struct policy_rule *r = decide_for(p, UID_ROOT, GID_ROOT, &ctx, path, NULL);
                ck_assert_msg(want == (r != NULL), "parent %s%s: %s %s, expected %s", c->parent,
                              c->stat_of ? " (stat)" : "", path, r ? "blocked" : "not blocked",
                              want ? "blocked" : "not blocked");
        }
}
END_TEST

/* What policy_subject_init() needs from the context, and what it does without one. */
START_TEST(subject_context_needed) {
        _cleanup_(policy_freep) struct policy *parents = policytext_ok(parent_policy);
        _cleanup_(policy_freep) struct policy *hours =
                policytext_ok("[user:nobody]\nhours = 09:00-10:00\npath = " NX "/a\n[block]\npath = " NX "/b\n");
        _cleanup_(policy_freep) struct policy *days = policytext_ok("[group:adm]\ndays = mon\npath = " NX "/a\n");
        _cleanup_(policy_freep) struct policy *plain = policytext_ok("[block]\npath = " NX "/a\n");
        struct policy_subject subj;
        gid_t root = GID_ROOT, adm = GID_ADM;

        struct policy_context timed = at(1, 9, 0);
        ck_assert_int_eq(policy_subject_init(parents, UID_ROOT, &root, 1, &timed, &subj), -ENODATA);
        struct policy_context nothing = {};
        ck_assert_int_eq(policy_subject_init(hours, UID_NOBODY, &root, 1, &nothing, &subj), -ENODATA);
        ck_assert_int_eq(policy_subject_init(days, UID_ROOT, &adm, 1, &nothing, &subj), -ENODATA);
        /* Sections the subject is not in need nothing. */
        ck_assert_int_eq(policy_subject_init(hours, UID_ROOT, &root, 1, &nothing, &subj), 0);
        ck_assert_int_eq(policy_subject_init(days, UID_ROOT, &root, 1, &nothing, &subj), 0);
        ck_assert_int_eq(policy_subject_init(plain, UID_ROOT, &root, 1, &nothing, &subj), 0);
        /* A parent alone does for a policy of parents, the time alone for one of hours. */
        struct policy_context parent = { .parent = NX "/httpd" };
        ck_assert_int_eq(policy_subject_init(parents, UID_ROOT, &root, 1, &parent, &subj), 0);
        ck_assert_ptr_nonnull(policy_decide(parents, &subj, NX "/b", NULL, NULL, NULL));
        ck_assert_int_eq(policy_subject_init(hours, UID_NOBODY, &root, 1, &timed, &subj), 0);
        ck_assert_ptr_nonnull(policy_decide(hours, &subj, NX "/a", NULL, NULL, NULL));

        /* NULL: nothing known, the conditional sections left out. */
        ck_assert_int_eq(policy_subject_init(parents, UID_ROOT, &root, 1, NULL, &subj), 0);
        ck_assert_uint_eq(subj.level_end[2], 0); /* every section has a parent */
        ck_assert_ptr_null(policy_decide(parents, &subj, NX "/b", NULL, NULL, NULL));
        ck_assert_int_eq(policy_subject_init(hours, UID_NOBODY, &root, 1, NULL, &subj), 0);
        ck_assert_uint_eq(subj.level_end[0], 0);
        ck_assert_ptr_null(policy_decide(hours, &subj, NX "/a", NULL, NULL, NULL));
        ck_assert_ptr_nonnull(policy_decide(hours, &subj, NX "/b", NULL, NULL, NULL));
}
END_TEST

/* Sections per subject are bounded when the policy is loaded, so that what applies to a
 * process fits its subject: 32 of everybody's and 32 of one user's load and apply, one more
 * of either is an error naming the line of its first key. */
static char *sections_text(const char *header, int n) {
        size_t size = (size_t) n * 64 + 1, len = 0;
        char *text = malloc(size);
        ck_assert_ptr_nonnull(text);
        text[0] = '\0';
        for (int i = 0; i < n; i++)
                len += (size_t) snprintf(text + len, size - len, "[%s]\npath = " NX "/%d\n", header, i);
        return text;
}

START_TEST(subject_sections_bounded) {
        _cleanup_free_ char *global = sections_text("block", 32), *user = sections_text("user:root", 32);
        size_t size = strlen(global) + strlen(user) + 1;
        _cleanup_free_ char *both = malloc(size);
        ck_assert_ptr_nonnull(both);
        snprintf(both, size, "%s%s", global, user);
        _cleanup_(policy_freep) struct policy *p = policytext_ok(both);
        struct policy_subject subj;
        gid_t root = GID_ROOT;
        ck_assert_int_eq(policy_subject_init(p, UID_ROOT, &root, 1, NULL, &subj), 0);
        ck_assert_uint_eq(subj.level_end[0], 32);
        ck_assert_uint_eq(subj.level_end[2], 64);

        static const struct {
                const char *header;
                const char *message;
        } over[] = {
                { "block", "more than 32 [block] and [allow] sections" },
                { "allow", "more than 32 [block] and [allow] sections" },
                { "user:root", "more than 32 [user:root] sections" },
                { "group:root", "more than 32 [group:root] sections" },
        };
        for (size_t i = 0; i < ELEMENTSOF(over); i++) {
                _cleanup_free_ char *text = sections_text(over[i].header, 33);
                struct policy *q = NULL;
                struct policy_error err = {};
                ck_assert_int_eq(policytext_parse(text, strlen(text), &q, &err), -EINVAL);
                ck_assert_ptr_null(q);
                ck_assert_msg(err.line == 66 && strstr(err.message, over[i].message), "%s: line %u '%s'",
                              over[i].header, err.line, err.message);
        }
}
END_TEST

/* ---- decisions: time windows ---------------------------------------------------------------- */

static const char window_policy[] = "[block]\n"                 /* 1 */
                                    "hours = 09:00-18:00\n"     /* 2 */
                                    "path = " NX "/day\n"       /* 3 */
                                    "[block]\n"                 /* 4 */
                                    "hours = 22:00-06:00\n"     /* 5 */
                                    "path = " NX "/night\n"     /* 6 */
                                    "[block]\n"                 /* 7 */
                                    "days = fri-mon\n"          /* 8 */
                                    "path = " NX "/weekend\n"   /* 9 */
                                    "[block]\n"                 /* 10 */
                                    "days = mon-fri\n"          /* 11 */
                                    "hours = 12:00-13:00\n"     /* 12 */
                                    "path = " NX "/lunch\n"     /* 13 */
                                    "[block]\n"                 /* 14 */
                                    "hours = 00:00-24:00\n"     /* 15 */
                                    "days = wed\n"              /* 16 */
                                    "path = " NX "/wednesday\n" /* 17 */
                                    "[block]\n"                 /* 18 */
                                    "hours = 18:00-24:00\n"     /* 19 */
                                    "path = " NX "/evening\n";  /* 20 */

static const struct {
        const char *name;
        int weekday, hour, minute;
        bool blocked;
} window_cases[] = {
        { "day", 1, 9, 0, true },          { "day", 1, 8, 59, false },       { "day", 1, 17, 59, true },
        { "day", 1, 18, 0, false },        { "day", 0, 12, 0, true }, /* no days: every day */
        { "day", 6, 12, 0, true },         { "night", 1, 22, 0, true },      { "night", 1, 23, 59, true },
        { "night", 2, 0, 0, true },        { "night", 2, 5, 59, true },      { "night", 2, 6, 0, false },
        { "night", 2, 21, 59, false },     { "night", 2, 12, 0, false },     { "weekend", 5, 12, 0, true },
        { "weekend", 6, 0, 0, true },      { "weekend", 0, 23, 59, true },   { "weekend", 1, 12, 0, true },
        { "weekend", 2, 12, 0, false },    { "weekend", 3, 12, 0, false },   { "weekend", 4, 23, 59, false },
        { "lunch", 1, 12, 0, true },       { "lunch", 5, 12, 59, true },     { "lunch", 1, 13, 0, false },
        { "lunch", 1, 11, 59, false },     { "lunch", 6, 12, 30, false },    { "lunch", 0, 12, 30, false },
        { "wednesday", 3, 0, 0, true },    { "wednesday", 3, 23, 59, true }, { "wednesday", 4, 0, 0, false },
        { "wednesday", 2, 23, 59, false }, { "evening", 1, 18, 0, true },    { "evening", 1, 23, 59, true },
        { "evening", 2, 0, 0, false },     { "evening", 1, 17, 59, false },
};

START_TEST(decide_window) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok(window_policy);
        char path[64];
        snprintf(path, sizeof path, NX "/%s", window_cases[_i].name);
        struct policy_context ctx = at(window_cases[_i].weekday, window_cases[_i].hour, window_cases[_i].minute);
        const struct policy_rule *r = decide_for(p, UID_ROOT, GID_ROOT, &ctx, path, NULL);
        ck_assert_msg(window_cases[_i].blocked == (r != NULL), "%s on day %d at %02d:%02d: %s", path,
                      window_cases[_i].weekday, window_cases[_i].hour, window_cases[_i].minute,
                      r ? "blocked" : "not blocked");
}
END_TEST

/* ---- default = deny, trusted_path and its exemptions ---------------------------------------- */

static const char exempt_policy[] = "[execguard]\n"                               /* 1 */
                                    "default = deny\n"                            /* 2 */
                                    "trusted_path = yes\n"                        /* 3 */
                                    "[block]\n"                                   /* 4 */
                                    "trusted_path_exempt = " NX "/opt/tool\n"     /* 5 */
                                    "trusted_path_exempt = " NX "/scripts/*.sh\n" /* 6 */
                                    "trusted_path_exempt = " NX "/tree/\n"        /* 7 */
                                    "[user:nobody]\n"                             /* 8 */
                                    "trusted_path_exempt = " NX "/home/\n"        /* 9 */
                                    "[block]\n"                                   /* 10 */
                                    "hours = 09:00-17:00\n"                       /* 11 */
                                    "trusted_path_exempt = " NX "/office/\n"      /* 12 */
                                    "[allow]\n"                                   /* 13 */
                                    "trusted_path_exempt = " NX "/allowed/\n";    /* 14 */

START_TEST(default_and_trusted_rules) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok(exempt_policy);
        const struct policy_rule *d = policy_default_rule(p), *t = policy_trusted_path_rule(p);
        ck_assert_ptr_nonnull(d);
        ck_assert_int_eq(d->kind, POLICY_RULE_DEFAULT);
        ck_assert_uint_eq(d->line, 2);
        ck_assert_str_eq(d->text, "default = deny");
        ck_assert(!d->allow);
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(t->kind, POLICY_RULE_TRUSTED_PATH);
        ck_assert_uint_eq(t->line, 3);
        ck_assert_str_eq(t->text, "trusted_path = yes");
        ck_assert(!t->allow);
        ck_assert_ptr_null(policy_fileless_rule(p));
        ck_assert_str_eq(policy_rule_kind_to_string(POLICY_RULE_DEFAULT), "default");
        ck_assert_str_eq(policy_rule_kind_to_string(POLICY_RULE_TRUSTED_PATH), "trusted_path");
        ck_assert_str_eq(policy_rule_kind_to_string(POLICY_RULE_DIR), "dir");
        ck_assert_str_eq(policy_rule_kind_to_string(POLICY_RULE_COMMAND), "command");
}
END_TEST

static const struct {
        const char *path;
        uid_t uid;
        int hour;
        bool exempt;
} exempt_cases[] = {
        { NX "/opt/tool", UID_ROOT, 12, true },      { NX "/opt/tool2", UID_ROOT, 12, false },
        { NX "/opt/other", UID_ROOT, 12, false },    { NX "/scripts/a.sh", UID_ROOT, 12, true },
        { NX "/scripts/a.py", UID_ROOT, 12, false }, { NX "/scripts/sub/a.sh", UID_ROOT, 12, false },
        { NX "/tree/x", UID_ROOT, 12, true },        { NX "/tree/x/y/z", UID_ROOT, 12, true },
        { NX "/treex/x", UID_ROOT, 12, false },      { NX "/home/u/bin/x", UID_NOBODY, 12, true },
        { NX "/home/u/bin/x", UID_ROOT, 12, false }, { NX "/office/x", UID_ROOT, 10, true },
        { NX "/office/x", UID_ROOT, 17, false },     { NX "/allowed/x", UID_ROOT, 12, true },
};

START_TEST(trusted_path_exempt_lookup) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok(exempt_policy);
        struct policy_context ctx = at(1, exempt_cases[_i].hour, 0);
        struct policy_subject subj;
        gid_t gid = GID_ROOT;
        ck_assert_int_eq(policy_subject_init(p, exempt_cases[_i].uid, &gid, 1, &ctx, &subj), 0);
        const char *path = exempt_cases[_i].path;
        ck_assert_msg(policy_trusted_path_exempt(p, &subj, path, NULL) == exempt_cases[_i].exempt,
                      "%s (uid %u at %d:00): exempt %d", path, (unsigned) exempt_cases[_i].uid, exempt_cases[_i].hour,
                      !exempt_cases[_i].exempt);
        /* An exemption neither blocks nor allows. */
        ck_assert_ptr_null(policy_decide(p, &subj, path, NULL, NULL, NULL));
}
END_TEST

/* The global scope alone (NULL subject): its unconditional sections; and by identity. */
START_TEST(trusted_path_exempt_global_and_identity) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok(exempt_policy);
        ck_assert(policy_trusted_path_exempt(p, NULL, NX "/opt/tool", NULL));
        ck_assert(!policy_trusted_path_exempt(p, NULL, NX "/home/u/x", NULL));
        ck_assert(!policy_trusted_path_exempt(p, NULL, NX "/office/x", NULL));

        char dir[TMPDIR_MAX], prog[PATH_MAX], hard[PATH_MAX], text[PATH_MAX + 128];
        tmpdir_make(dir, "eg-rules");
        snprintf(prog, sizeof prog, "%s/prog", dir);
        snprintf(hard, sizeof hard, "%s/hard", dir);
        write_file(prog, "program", 0755);
        ck_assert_int_eq(link(prog, hard), 0);
        snprintf(text, sizeof text, "[execguard]\ntrusted_path = yes\n[block]\ntrusted_path_exempt = %s\n", prog);
        _cleanup_(policy_freep) struct policy *q = policytext_ok(text);
        struct stat st;
        ck_assert_int_eq(stat(hard, &st), 0);
        ck_assert(policy_trusted_path_exempt(q, NULL, hard, &st));
        ck_assert(!policy_trusted_path_exempt(q, NULL, hard, NULL));
        /* Exemptions are not content rules: a copy is not exempt, and nothing is hashed for them. */
        ck_assert(!policy_wants_content(q, NULL, st.st_size));
        tmpdir_remove(dir);
}
END_TEST

/* ---- re-identification keeps the language --------------------------------------------------- */

START_TEST(reidentify_keeps_everything) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok("[execguard]\n"
                                                                 "default = deny\n"
                                                                 "trusted_path = yes\n"
                                                                 "[block]\n"
                                                                 "command = /bin/rm -rf / *\n"
                                                                 "hours = 22:00-06:00\n"
                                                                 "days = sat-sun\n"
                                                                 "dir = " NX "/tools\n"
                                                                 "[allow]\n"
                                                                 "parent = /bin/sh\n"
                                                                 "parent = " NX "/www/*\n"
                                                                 "command = " NX "/git status *\n"
                                                                 "dir = /usr/lib\n"
                                                                 "trusted_path_exempt = " NX "/opt/\n"
                                                                 "[user:nobody]\n"
                                                                 "allow_command = " NX "/a\\ b \\* x\n"
                                                                 "trusted_path_exempt = " NX "/home/*\n");
        _cleanup_(policy_freep) struct policy *q = NULL;
        struct policy_error err = {};
        ck_assert_int_eq(policy_reidentify(p, &q, &err), 0);
        _cleanup_free_ char *a = policytext_dump(p);
        _cleanup_free_ char *b = policytext_dump(q);
        ck_assert_str_eq(a, b);
        ck_assert_ptr_nonnull(strstr(b, "section 0 [block]: hours 22:00-06:00 days sun sat\n"));
        ck_assert_ptr_nonnull(strstr(b, "command /bin/rm -rf / * -> /usr/bin/rm [-rf] [/] ...\n"));

        const struct policy_rule *d = policy_default_rule(q), *t = policy_trusted_path_rule(q);
        ck_assert(d && d->line == 2 && t && t->line == 3);
        ck_assert(policy_has_commands(q) && policy_has_windows(q) && policy_has_parents(q) && policy_has_scopes(q));

        /* And it decides alike. */
        struct policy_context sat_night = at(6, 23, 0), mon_noon = at(1, 12, 0);
        sat_night.parent = mon_noon.parent = "/usr/bin/dash";
        struct args_buf b0, b1;
        for (int k = 0; k < 2; k++) {
                const struct policy *x = k ? q : p;
                const struct policy_args *rf = args_of(&b0, "-rf|/|--no-preserve-root");
                const struct policy_rule *r = decide_for(x, UID_ROOT, GID_ROOT, &sat_night, "/usr/bin/rm", rf);
                ck_assert(r && r->line == 5 && !r->allow);
                ck_assert_ptr_null(decide_for(x, UID_ROOT, GID_ROOT, &mon_noon, "/usr/bin/rm", rf));
                r = decide_for(x, UID_ROOT, GID_ROOT, &mon_noon, NX "/git", args_of(&b1, "status"));
                ck_assert(r && r->allow && r->line == 12);
                r = decide_for(x, UID_NOBODY, GID_NOGROUP, &mon_noon, NX "/a b", args_of(&b1, "*|x"));
                ck_assert(r && r->allow && r->line == 16);
                ck_assert_ptr_null(decide_for(x, UID_NOBODY, GID_NOGROUP, &mon_noon, NX "/a b", args_of(&b1, "y|x")));
                struct policy_subject subj;
                gid_t gid = GID_NOGROUP;
                ck_assert_int_eq(policy_subject_init(x, UID_NOBODY, &gid, 1, &mon_noon, &subj), 0);
                ck_assert(policy_trusted_path_exempt(x, &subj, NX "/home/u", NULL));
                ck_assert(policy_trusted_path_exempt(x, &subj, NX "/opt/a/b", NULL));
                struct policy_context other = mon_noon;
                other.parent = "/usr/bin/bash";
                ck_assert_int_eq(policy_subject_init(x, UID_NOBODY, &gid, 1, &other, &subj), 0);
                ck_assert(!policy_trusted_path_exempt(x, &subj, NX "/opt/a/b", NULL));
        }
}
END_TEST

/* ---- the clock ------------------------------------------------------------------------------ */

static const struct {
        const char *text;
        int weekday, minute; /* -1: invalid */
} clock_cases[] = {
        { "2026-11-22 12:36", 0, 12 * 60 + 36 },
        { "2026-11-23 00:00", 1, 0 },
        { "2026-11-27 23:59", 5, 23 * 60 + 59 },
        { "2024-02-29 08:00", 4, 8 * 60 }, /* a leap day */
        { "2000-01-01 09:30", 6, 9 * 60 + 30 },
        { "2026-02-29 08:00", -1, 0 },
        { "2026-02-30 08:00", -1, 0 },
        { "2026-04-31 08:00", -1, 0 },
        { "2026-13-01 08:00", -1, 0 },
        { "2026-00-10 08:00", -1, 0 },
        { "2026-01-00 08:00", -1, 0 },
        { "2026-01-01 24:00", -1, 0 },
        { "2026-01-01 12:60", -1, 0 },
        { "2026-01-01 12:00x", -1, 0 },
        { "2026-01-01 12:00 ", -1, 0 },
        { "2026-01-01 12:00:00", -1, 0 },
        { "2026-01-01", -1, 0 },
        { "12:00", -1, 0 },
        { "", -1, 0 },
        { "tomorrow", -1, 0 },
};

START_TEST(clock_parse) {
        struct policy_context ctx = { .weekday = 99, .minute = 99999 };
        int r = wallclock_parse(clock_cases[_i].text, &ctx);
        if (clock_cases[_i].weekday < 0) {
                ck_assert_msg(r == -EINVAL, "'%s': %d, expected -EINVAL", clock_cases[_i].text, r);
                ck_assert(!ctx.time_known);
                return;
        }
        ck_assert_msg(r == 0, "'%s': %d", clock_cases[_i].text, r);
        ck_assert(ctx.time_known);
        ck_assert_int_eq(ctx.weekday, clock_cases[_i].weekday);
        ck_assert_int_eq(ctx.minute, clock_cases[_i].minute);
}
END_TEST

/* A local time: the weekday of a date does not depend on the zone. */
START_TEST(clock_parse_zone) {
        static const char *const zones[] = { "UTC0", "XST-14", "YST12", "CET-1CEST,M3.5.0,M10.5.0/3" };
        for (size_t i = 0; i < ELEMENTSOF(zones); i++) {
                ck_assert_int_eq(setenv("TZ", zones[i], 1), 0);
                tzset();
                struct policy_context ctx = {};
                ck_assert_int_eq(wallclock_parse("2026-03-29 02:30", &ctx), 0); /* a CEST gap */
                ck_assert_int_eq(ctx.weekday, 0);
                ck_assert_int_eq(ctx.minute, 2 * 60 + 30);
        }
}
END_TEST

enum clock_file {
        CLOCK_OK,
        CLOCK_NEWLINE,
        CLOCK_OTHERS_WRITE,
        CLOCK_GROUP_WRITE,
        CLOCK_NOBODY,
        CLOCK_MISSING,
        CLOCK_SYMLINK,
        CLOCK_DIRECTORY,
        CLOCK_GARBAGE,
        CLOCK_EMPTY
};

static const struct {
        enum clock_file kind;
        int r;
} clock_file_cases[] = {
        { CLOCK_OK, 0 },
        { CLOCK_NEWLINE, 0 },
        { CLOCK_OTHERS_WRITE, -EPERM },
        { CLOCK_GROUP_WRITE, -EPERM },
        { CLOCK_NOBODY, -EPERM },
        { CLOCK_MISSING, -ENOENT },
        { CLOCK_SYMLINK, -ELOOP },
        { CLOCK_DIRECTORY, -EPERM },
        { CLOCK_GARBAGE, -EINVAL },
        { CLOCK_EMPTY, -EINVAL },
};

START_TEST(clock_test_file) {
        char dir[TMPDIR_MAX], path[PATH_MAX], real[PATH_MAX];
        enum clock_file kind = clock_file_cases[_i].kind;
        if (kind == CLOCK_NOBODY && geteuid() != 0)
                return; /* needs chown */
        tmpdir_make(dir, "eg-clock");
        snprintf(path, sizeof path, "%s/clock", dir);
        snprintf(real, sizeof real, "%s/real", dir);
        switch (kind) {
        case CLOCK_OK:
                write_file(path, "2026-11-27 07:15", 0644);
                break;
        case CLOCK_NEWLINE:
                write_file(path, "2026-11-27 07:15\n", 0600);
                break;
        case CLOCK_OTHERS_WRITE:
                write_file(path, "2026-11-27 07:15\n", 0646);
                break;
        case CLOCK_GROUP_WRITE:
                write_file(path, "2026-11-27 07:15\n", 0664);
                break;
        case CLOCK_NOBODY:
                write_file(path, "2026-11-27 07:15\n", 0644);
                ck_assert_int_eq(chown(path, UID_NOBODY, GID_NOGROUP), 0);
                break;
        case CLOCK_MISSING:
                break;
        case CLOCK_SYMLINK:
                write_file(real, "2026-11-27 07:15\n", 0644);
                ck_assert_int_eq(symlink(real, path), 0);
                break;
        case CLOCK_DIRECTORY:
                ck_assert_int_eq(mkdir(path, 0755), 0);
                break;
        case CLOCK_GARBAGE:
                write_file(path, "2026-11-27 07:15 and then some\n", 0644);
                break;
        case CLOCK_EMPTY:
                write_file(path, "", 0644);
                break;
        }
        ck_assert_int_eq(setenv("EXECGUARD_TEST_CLOCK", path, 1), 0);
        struct policy_context ctx = {};
        int r = wallclock_now(&ctx);
        ck_assert_msg(r == clock_file_cases[_i].r, "case %d: %d, expected %d", (int) kind, r, clock_file_cases[_i].r);
        if (r == 0) {
                ck_assert(ctx.time_known);
                ck_assert_int_eq(ctx.weekday, 5);
                ck_assert_int_eq(ctx.minute, 7 * 60 + 15);
        }
        tmpdir_remove(dir);
}
END_TEST

/* Read at every call: a test moves the clock by rewriting the file. */
START_TEST(clock_test_file_moves) {
        char dir[TMPDIR_MAX], path[PATH_MAX];
        tmpdir_make(dir, "eg-clock");
        snprintf(path, sizeof path, "%s/clock", dir);
        ck_assert_int_eq(setenv("EXECGUARD_TEST_CLOCK", path, 1), 0);
        write_file(path, "2026-11-22 08:59\n", 0644);
        struct policy_context ctx = {};
        ck_assert_int_eq(wallclock_now(&ctx), 0);
        ck_assert_int_eq(ctx.minute, 8 * 60 + 59);
        write_file(path, "2026-11-24 09:00\n", 0644);
        ck_assert_int_eq(wallclock_now(&ctx), 0);
        ck_assert_int_eq(ctx.minute, 9 * 60);
        ck_assert_int_eq(ctx.weekday, 2);
        tmpdir_remove(dir);
}
END_TEST

START_TEST(clock_now) {
        ck_assert_int_eq(unsetenv("EXECGUARD_TEST_CLOCK"), 0);
        struct policy_context ctx = { .weekday = -1, .minute = -1 };
        ck_assert_int_eq(wallclock_now(&ctx), 0);
        ck_assert(ctx.time_known);
        ck_assert(ctx.weekday >= 0 && ctx.weekday <= 6);
        ck_assert(ctx.minute >= 0 && ctx.minute < 24 * 60);
        /* An empty variable is no test clock. */
        ck_assert_int_eq(setenv("EXECGUARD_TEST_CLOCK", "", 1), 0);
        ck_assert_int_eq(wallclock_now(&ctx), 0);
}
END_TEST

Suite *rules_suite(void) {
        Suite *s = suite_create("rules");

        TCase *tc = tcase_create("parse");
        tcase_add_loop_test(tc, dump_new_keys, 0, (int) ELEMENTSOF(dump_cases));
        tcase_add_test(tc, dump_settings);
        tcase_add_test(tc, needs);
        tcase_add_loop_test(tc, parse_errors, 0, (int) ELEMENTSOF(error_cases));
        tcase_add_test(tc, parse_edges_valid);
        suite_add_tcase(s, tc);

        tc = tcase_create("decide");
        tcase_add_loop_test(tc, decide_dir, 0, (int) ELEMENTSOF(tree_cases));
        tcase_add_test(tc, decide_allow_dir);
        tcase_add_test(tc, decide_dir_root);
        tcase_add_loop_test(tc, decide_command, 0, (int) ELEMENTSOF(command_cases));
        tcase_add_test(tc, decide_command_pre_words);
        tcase_add_test(tc, decide_command_program_identity);
        tcase_add_test(tc, decide_command_args_unknown);
        tcase_add_loop_test(tc, decide_precedence, 0, (int) ELEMENTSOF(precedence_cases));
        tcase_add_test(tc, sections_are_separate);
        tcase_add_loop_test(tc, decide_parent, 0, (int) ELEMENTSOF(parent_cases));
        tcase_add_test(tc, subject_context_needed);
        tcase_add_test(tc, subject_sections_bounded);
        tcase_add_loop_test(tc, decide_window, 0, (int) ELEMENTSOF(window_cases));
        tcase_add_test(tc, default_and_trusted_rules);
        tcase_add_loop_test(tc, trusted_path_exempt_lookup, 0, (int) ELEMENTSOF(exempt_cases));
        tcase_add_test(tc, trusted_path_exempt_global_and_identity);
        tcase_add_test(tc, reidentify_keeps_everything);
        suite_add_tcase(s, tc);

        tc = tcase_create("clock");
        tcase_add_loop_test(tc, clock_parse, 0, (int) ELEMENTSOF(clock_cases));
        tcase_add_test(tc, clock_parse_zone);
        tcase_add_loop_test(tc, clock_test_file, 0, (int) ELEMENTSOF(clock_file_cases));
        tcase_add_test(tc, clock_test_file_moves);
        tcase_add_test(tc, clock_now);
        suite_add_tcase(s, tc);
        return s;
}
