/* Judging an exec's chain (src/judge.h): the arguments each file of the chain receives,
 * default = deny and trusted_path over a whole chain, and the trusted path walk itself
 * (src/trusted.h) on real directories: root's and nobody's, group- and world-writable,
 * sticky, noexec, a file deleted or renamed after it was opened. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "judge.h"
#include "policy.h"
#include "tests.h"
#include "trusted.h"
#include "util.h"

/* ---- judge_args_of() on chains made by hand --------------------------------------------- */

/* The words of a policy_args, '|' between them. */
static void words_of(const struct policy_args *a, char *buf, size_t size) {
        size_t n = 0;
        buf[0] = '\0';
        const char *tail = a->tail;
        for (size_t i = 0; i < a->n_pre + a->n_tail; i++) {
                const char *w;
                if (i < a->n_pre)
                        w = a->pre[i];
                else {
                        w = tail;
                        tail += strlen(tail) + 1;
                }
                n += (size_t) snprintf(buf + n, size - n, "%s%s", i ? "|" : "", w);
                ck_assert_uint_lt(n, size);
        }
}

static struct exec_file *add_file(struct exec_chain *c, enum exec_role role) {
        ck_assert_uint_lt(c->n, ELEMENTSOF(c->files));
        struct exec_file *f = &c->files[c->n++];
        memset(f, 0, sizeof *f);
        f->role = role;
        f->fd = -1;
        return f;
}

/* A script file whose #! line names interp, with arg (NULL: none). */
static void add_script(struct exec_chain *c, const char *interp, const char *arg) {
        enum exec_role role = c->n == 0 ? EXEC_ROLE_PROGRAM : EXEC_ROLE_SCRIPT_INTERP;
        struct exec_file *f = add_file(c, role);
        snprintf(f->script.interp, sizeof f->script.interp, "%s", interp);
        if (arg) {
                snprintf(f->script.arg, sizeof f->script.arg, "%s", arg);
                f->script.has_arg = true;
        }
}

static void expect_args(const struct exec_chain *c, unsigned i, const struct exec_args *args, const char *want) {
        struct policy_args a;
        char got[1024];
        memset(&a, 0xa5, sizeof a); /* every field must be written */
        judge_args_of(c, i, args, &a);
        ck_assert_uint_le(a.n_pre, POLICY_ARGS_PRE_MAX);
        words_of(&a, got, sizeof got);
        ck_assert_msg(strcmp(got, want) == 0, "file %u: '%s', expected '%s'", i, got, want);
}

#define ARGV3 "argv0\0a1\0a 2"
static const struct exec_args args3 = { .bytes = ARGV3, .argc = 3, .filename = "./script" };

START_TEST(args_program) {
        struct exec_chain c = {};
        add_file(&c, EXEC_ROLE_PROGRAM);
        expect_args(&c, 0, &args3, "a1|a 2");
        struct exec_args one = { .bytes = "argv0", .argc = 1, .filename = "/x" };
        expect_args(&c, 0, &one, "");
        struct exec_args none = { .bytes = "", .argc = 0, .filename = "/x" };
        expect_args(&c, 0, &none, "");
        struct exec_args empties = { .bytes = "\0\0", .argc = 3, .filename = "/x" };
        expect_args(&c, 0, &empties, "|");
}
END_TEST

/* #!/bin/sh: the interpreter gets the script's name as exec'd, then argv[1] on. */
START_TEST(args_script) {
        struct exec_chain c = {};
        add_script(&c, "/bin/sh", NULL);
        add_file(&c, EXEC_ROLE_SCRIPT_INTERP);
        c.image = 1;
        expect_args(&c, 0, &args3, "a1|a 2");
        expect_args(&c, 1, &args3, "./script|a1|a 2");
        /* The #! argument is one word, blanks and all. */
        struct exec_chain d = {};
        add_script(&d, "/usr/bin/env", "python3 -u");
        add_file(&d, EXEC_ROLE_SCRIPT_INTERP);
        d.image = 1;
        expect_args(&d, 1, &args3, "python3 -u|./script|a1|a 2");
        /* No filename known: an empty word keeps the places of the others. */
        struct exec_args nameless = { .bytes = ARGV3, .argc = 3, .filename = NULL };
        expect_args(&d, 1, &nameless, "python3 -u||a1|a 2");
}
END_TEST

/* Two levels, as binfmt_script builds them: script -> /s/s2 (itself a script) -> /bin/sh. */
START_TEST(args_script_nested) {
        struct exec_chain c = {};
        add_script(&c, "/s/s2", "-x");
        add_script(&c, "/bin/sh", "-e");
        add_file(&c, EXEC_ROLE_SCRIPT_INTERP);
        c.image = 2;
        expect_args(&c, 0, &args3, "a1|a 2");
        expect_args(&c, 1, &args3, "-x|./script|a1|a 2");
        /* argv of /bin/sh: [/bin/sh, -e, /s/s2, -x, ./script, a1, a 2] */
        expect_args(&c, 2, &args3, "-e|/s/s2|-x|./script|a1|a 2");

        struct exec_chain d = {};
        add_script(&d, "/s/s2", NULL);
        add_script(&d, "/bin/sh", NULL);
        add_file(&d, EXEC_ROLE_SCRIPT_INTERP);
        d.image = 2;
        expect_args(&d, 1, &args3, "./script|a1|a 2");
        expect_args(&d, 2, &args3, "/s/s2|./script|a1|a 2");

        /* Three levels, the middle one without an argument. */
        struct exec_chain e = {};
        add_script(&e, "/s/s2", "A");
        add_script(&e, "/s/s3", NULL);
        add_script(&e, "/bin/sh", "C");
        add_file(&e, EXEC_ROLE_SCRIPT_INTERP);
        e.image = 3;
        expect_args(&e, 2, &args3, "/s/s2|A|./script|a1|a 2");
        expect_args(&e, 3, &args3, "C|/s/s3|/s/s2|A|./script|a1|a 2");
}
END_TEST

/* The deepest chain the kernel runs: every word a level adds still fits. */
START_TEST(args_script_deepest) {
        struct exec_chain c = {};
        static const char *const interps[] = { "/i1", "/i2", "/i3", "/i4", "/i5" };
        for (size_t k = 0; k < ELEMENTSOF(interps); k++)
                add_script(&c, interps[k], "o");
        add_file(&c, EXEC_ROLE_SCRIPT_INTERP);
        c.image = c.n - 1;
        expect_args(&c, c.n - 1, &args3, "o|/i4|o|/i3|o|/i2|o|/i1|o|./script|a1|a 2");
}
END_TEST

/* The ELF interpreter runs with the arguments of the image it loads. */
START_TEST(args_elf_interp) {
        struct exec_chain c = {};
        add_file(&c, EXEC_ROLE_PROGRAM);
        add_file(&c, EXEC_ROLE_ELF_INTERP);
        c.image = 0;
        expect_args(&c, 1, &args3, "a1|a 2");

        struct exec_chain d = {};
        add_script(&d, "/usr/bin/python3", "-u");
        add_file(&d, EXEC_ROLE_SCRIPT_INTERP);
        add_file(&d, EXEC_ROLE_ELF_INTERP);
        d.image = 1;
        expect_args(&d, 2, &args3, "-u|./script|a1|a 2");
}
END_TEST

/* The program a loader run as a command loads: the loader's words after the one naming it. */
START_TEST(args_loaded) {
        struct exec_chain c = {};
        add_file(&c, EXEC_ROLE_PROGRAM); /* ld.so */
        struct exec_file *f = add_file(&c, EXEC_ROLE_LOADED);
        f->loaded_word = 1;
        struct exec_args plain = { .bytes = "ld.so\0/bin/prog\0x\0y", .argc = 4, .filename = "/lib64/ld.so" };
        expect_args(&c, 0, &plain, "/bin/prog|x|y");
        expect_args(&c, 1, &plain, "x|y");
        struct exec_args alone = { .bytes = "ld.so\0/bin/prog", .argc = 2, .filename = "/lib64/ld.so" };
        expect_args(&c, 1, &alone, "");
        f->loaded_word = 3;
        struct exec_args opts = {
                .bytes = "ld.so\0--library-path\0/lib\0/bin/prog\0-v",
                .argc = 5,
                .filename = "/lib64/ld.so",
        };
        expect_args(&c, 1, &opts, "-v");

        /* Reached through #!: the loader's words begin with the #! ones. */
        struct exec_chain d = {};
        add_script(&d, "/lib64/ld.so", NULL);
        add_file(&d, EXEC_ROLE_SCRIPT_INTERP);
        f = add_file(&d, EXEC_ROLE_LOADED);
        d.image = 1;
        f->loaded_word = 1; /* ./script itself */
        expect_args(&d, 2, &args3, "a1|a 2");
        struct exec_chain e = {};
        add_script(&e, "/lib64/ld.so", "/bin/prog");
        add_file(&e, EXEC_ROLE_SCRIPT_INTERP);
        f = add_file(&e, EXEC_ROLE_LOADED);
        e.image = 1;
        f->loaded_word = 1; /* /bin/prog, the #! argument */
        expect_args(&e, 2, &args3, "./script|a1|a 2");
        f->loaded_word = 3; /* a1 */
        expect_args(&e, 2, &args3, "a 2");
        f->loaded_word = 9; /* past the end: nothing left */
        expect_args(&e, 2, &args3, "");
}
END_TEST

/* ---- a trusted place to build in ---------------------------------------------------------- */

/* A private mount namespace with a fresh tmpfs on /tmp, root's and 0755: directories made
 * in it are on a trusted path (/ is root's and not writable by others on any sane host),
 * and it goes away with the test's process. False without root, or when check runs the
 * tests in its own process (CK_FORK=no). */
static bool trusted_tmp(void) {
        const char *fork_mode = getenv("CK_FORK");
        if (geteuid() != 0 || (fork_mode && strcmp(fork_mode, "no") == 0))
                return false;
        struct stat st;
        ck_assert_int_eq(stat("/", &st), 0);
        ck_assert_msg(st.st_uid == 0 && !(st.st_mode & (S_IWGRP | S_IWOTH)), "/ itself is not trusted here");
        ck_assert_msg(unshare(CLONE_NEWNS) == 0, "unshare: %m");
        ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        ck_assert_msg(mount("eg-unit", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0, "mount: %m");
        return true;
}

static void make_dir(const char *path, mode_t mode, uid_t uid) {
        ck_assert_msg(mkdir(path, 0700) == 0, "mkdir %s: %m", path);
        ck_assert_int_eq(chmod(path, mode), 0);
        ck_assert_int_eq(chown(path, uid, uid), 0);
}

static void make_prog(const char *path, mode_t mode, uid_t uid) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
        ck_assert_msg(fd >= 0, "create %s: %m", path);
        /* Contents of their own: a copy of a blocked file is blocked (match_content). */
        char content[PATH_MAX + 16];
        int n = snprintf(content, sizeof content, "#!/bin/true\n%s\n", path);
        ck_assert_int_eq(write(fd, content, (size_t) n), n);
        close(fd);
        ck_assert_int_eq(chmod(path, mode), 0);
        ck_assert_int_eq(chown(path, uid, uid), 0);
}

/* f as the resolver fills it: the canonical path, the file open, its stat. */
static void open_file(struct exec_file *f, const char *path, enum exec_role role) {
        memset(f, 0, sizeof *f);
        snprintf(f->path, sizeof f->path, "%s", path);
        f->role = role;
        f->fd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_msg(f->fd >= 0, "open %s: %m", path);
        ck_assert_int_eq(fstat(f->fd, &f->st), 0);
}

enum { NOBODY = 65534 };

/* The tree the trusted path cases walk. */
static void trusted_tree(void) {
        make_dir("/tmp/ok", 0755, 0);
        make_prog("/tmp/ok/prog", 0755, 0);
        make_prog("/tmp/ok/readonly", 0500, 0);
        make_prog("/tmp/ok/gw", 0775, 0);
        make_prog("/tmp/ok/ow", 0757, 0);
        make_prog("/tmp/ok/nobody", 0755, NOBODY);
        make_dir("/tmp/ok/deep", 0711, 0);
        make_dir("/tmp/ok/deep/er", 0755, 0);
        make_prog("/tmp/ok/deep/er/prog", 0755, 0);
        make_dir("/tmp/user", 0755, NOBODY);
        make_prog("/tmp/user/prog", 0755, 0);
        make_dir("/tmp/open", 0777, 0);
        make_prog("/tmp/open/prog", 0755, 0);
        make_dir("/tmp/sticky", 01777, 0);
        make_prog("/tmp/sticky/prog", 0755, 0);
        make_dir("/tmp/grp", 0775, 0);
        make_prog("/tmp/grp/prog", 0755, 0);
        make_dir("/tmp/mid", 0777, 0);
        make_dir("/tmp/mid/sub", 0755, 0);
        make_prog("/tmp/mid/sub/prog", 0755, 0);
        make_dir("/tmp/noexec", 0755, 0);
        ck_assert_int_eq(mount("eg-unit", "/tmp/noexec", "tmpfs", MS_NOEXEC, "mode=0755"), 0);
        make_prog("/tmp/noexec/prog", 0755, 0);
        make_dir("/tmp/wmnt", 0755, 0);
        ck_assert_int_eq(mount("eg-unit", "/tmp/wmnt", "tmpfs", 0, "mode=0777"), 0);
        make_prog("/tmp/wmnt/prog", 0755, 0);
}

static const struct {
        const char *path;
        int r;
        const char *why;
} trusted_cases[] = {
        { "/tmp/ok/prog", 1, "" },
        { "/tmp/ok/readonly", 1, "" },
        { "/tmp/ok/deep/er/prog", 1, "" }, /* a directory others may only pass through */
        { "/tmp/ok/gw", 0, "/tmp/ok/gw is writable by its group (mode 0775)" },
        { "/tmp/ok/ow", 0, "/tmp/ok/ow is writable by others (mode 0757)" },
        { "/tmp/ok/nobody", 0, "/tmp/ok/nobody is owned by uid 65534, not root" },
        { "/tmp/user/prog", 0, "/tmp/user is owned by uid 65534, not root" },
        { "/tmp/open/prog", 0, "/tmp/open is writable by others (mode 0777)" },
        { "/tmp/sticky/prog", 0, "/tmp/sticky is writable by others (mode 1777)" },
        { "/tmp/grp/prog", 0, "/tmp/grp is writable by its group (mode 0775)" },
        { "/tmp/mid/sub/prog", 0, "/tmp/mid is writable by others (mode 0777)" }, /* two levels up */
        { "/tmp/noexec/prog", 0, "/tmp/noexec/prog is on a file system mounted noexec" },
        { "/tmp/wmnt/prog", 0, "/tmp/wmnt is writable by others (mode 0777)" }, /* a mount's root */
};

START_TEST(trusted_path) {
        if (!trusted_tmp())
                return;
        trusted_tree();
        struct exec_file f;
        char why[256] = "unchanged";
        open_file(&f, trusted_cases[_i].path, EXEC_ROLE_PROGRAM);
        if (trusted_cases[_i].r == 1)
                why[0] = '\0';
        int r = trusted_path_check(&f, why, sizeof why);
        ck_assert_msg(r == trusted_cases[_i].r, "%s: %d (%s), expected %d", f.path, r, why, trusted_cases[_i].r);
        ck_assert_msg(strcmp(why, trusted_cases[_i].why) == 0, "%s: '%s', expected '%s'", f.path, why,
                      trusted_cases[_i].why);
        close(f.fd);
}
END_TEST

/* A file with no name any more has no directory to trust. */
START_TEST(trusted_path_deleted) {
        if (!trusted_tmp())
                return;
        trusted_tree();
        struct exec_file f;
        char why[256];
        open_file(&f, "/tmp/ok/prog", EXEC_ROLE_PROGRAM);
        ck_assert_int_eq(unlink("/tmp/ok/prog"), 0);
        ck_assert_int_eq(fstat(f.fd, &f.st), 0);
        ck_assert_uint_eq(f.st.st_nlink, 0);
        ck_assert_int_eq(trusted_path_check(&f, why, sizeof why), 0);
        ck_assert_str_eq(why, "it has no name (memfd or deleted), so no trusted directory");
        close(f.fd);
}
END_TEST

/* Renamed out of its directory after it was opened: the walk does not vouch for it. */
START_TEST(trusted_path_renamed) {
        if (!trusted_tmp())
                return;
        trusted_tree();
        struct exec_file f;
        char why[256];
        open_file(&f, "/tmp/ok/prog", EXEC_ROLE_PROGRAM);
        ck_assert_int_eq(rename("/tmp/ok/prog", "/tmp/open/moved"), 0);
        ck_assert_int_eq(trusted_path_check(&f, why, sizeof why), 0);
        ck_assert_str_eq(why, "/tmp/ok/prog is not in /tmp/ok any more");
        /* And another file put in its place is not it. */
        make_prog("/tmp/ok/prog", 0755, 0);
        ck_assert_int_eq(trusted_path_check(&f, why, sizeof why), 0);
        ck_assert_str_eq(why, "/tmp/ok/prog is not in /tmp/ok any more");
        close(f.fd);
}
END_TEST

/* The host's own /tmp: world-writable and sticky. */
START_TEST(trusted_path_host_tmp) {
        char dir[TMPDIR_MAX], path[PATH_MAX], why[256];
        struct stat st;
        ck_assert_int_eq(stat("/tmp", &st), 0);
        if (!(st.st_mode & S_IWOTH) || geteuid() != 0)
                return; /* not the usual /tmp */
        tmpdir_make(dir, "eg-judge");
        snprintf(path, sizeof path, "%s/prog", dir);
        make_prog(path, 0755, 0);
        struct exec_file f;
        open_file(&f, path, EXEC_ROLE_PROGRAM);
        ck_assert_int_eq(trusted_path_check(&f, why, sizeof why), 0);
        char want[64];
        snprintf(want, sizeof want, "/tmp is writable by others (mode %04o)", (unsigned) (st.st_mode & 07777));
        ck_assert_str_eq(why, want);
        /* A file named by a relative path has no walk. */
        snprintf(f.path, sizeof f.path, "prog");
        ck_assert_int_eq(trusted_path_check(&f, why, sizeof why), 0);
        ck_assert_str_eq(why, "prog is not a path from the root");
        close(f.fd);
        tmpdir_remove(dir);
}
END_TEST

/* ---- judge_chain(): default = deny and trusted_path over a chain ------------------------- */

static const char chain_policy[] = "[execguard]\n"                                        /* 1 */
                                   "default = deny\n"                                     /* 2 */
                                   "trusted_path = yes\n"                                 /* 3 */
                                   "[allow]\n"                                            /* 4 */
                                   "dir = /tmp/ok\n"                                      /* 5 */
                                   "path = /tmp/open/prog\n"                              /* 6 */
                                   "path = /tmp/user/prog\n"                              /* 7 */
                                   "command = /tmp/grp/prog status *\n"                   /* 8 */
                                   "command = /tmp/mid/sub/prog /tmp/ok/deep/er/prog *\n" /* 9 */
                                   "[block]\n"                                            /* 10 */
                                   "trusted_path_exempt = /tmp/user/\n"                   /* 11 */
                                   "trusted_path_exempt = /tmp/grp/prog\n"                /* 12 */
                                   "trusted_path_exempt = /tmp/mid/\n"                    /* 13 */
                                   "path = /tmp/ok/deep/er/prog\n";                       /* 14 */

struct chain_fixture {
        struct policy *policy;
        struct identity_cache *cache;
        struct exec_chain chain;
        struct verdict v;
};

static bool chain_setup(struct chain_fixture *fx) {
        if (!trusted_tmp())
                return false;
        trusted_tree();
        make_prog("/tmp/user/other", 0755, 0);
        fx->policy = policytext_ok(chain_policy);
        fx->cache = identity_cache_new();
        ck_assert_ptr_nonnull(fx->cache);
        fx->chain = (struct exec_chain){};
        return true;
}

static void chain_teardown(struct chain_fixture *fx) {
        exec_chain_reset(&fx->chain);
        identity_cache_free(fx->cache);
        policy_free(fx->policy);
}

/* Judge the chain of these files (the first the program, the others #! interpreters). */
static int judge(struct chain_fixture *fx, const char *const *paths, size_t n, const struct exec_args *args) {
        exec_chain_reset(&fx->chain);
        for (size_t i = 0; i < n; i++) {
                struct exec_file *f = &fx->chain.files[fx->chain.n++];
                open_file(f, paths[i], i ? EXEC_ROLE_SCRIPT_INTERP : EXEC_ROLE_PROGRAM);
                if (i + 1 < n)
                        snprintf(f->script.interp, sizeof f->script.interp, "%s", paths[i + 1]);
        }
        fx->chain.image = fx->chain.n - 1;
        return judge_chain(fx->policy, NULL, fx->cache, &fx->chain, args, &fx->v);
}

START_TEST(chain_default_and_trusted) {
        struct chain_fixture fx;
        if (!chain_setup(&fx))
                return;
        const struct policy_rule *deny = policy_default_rule(fx.policy);
        const struct policy_rule *trusted = policy_trusted_path_rule(fx.policy);

        /* Allowed, on a trusted path. */
        ck_assert_int_eq(judge(&fx, (const char *[]){ "/tmp/ok/prog" }, 1, NULL), 0);
        ck_assert_msg(!fx.v.rule, "line %u: %s", fx.v.rule ? fx.v.rule->line : 0, fx.v.why);
        ck_assert(fx.v.allow && fx.v.allow->line == 5);
        ck_assert_str_eq(fx.v.why, "");

        /* No allow rule. */
        ck_assert_int_eq(judge(&fx, (const char *[]){ "/tmp/sticky/prog" }, 1, NULL), 0);
        ck_assert_ptr_eq(fx.v.rule, deny);
        ck_assert_ptr_eq(fx.v.file, &fx.chain.files[0]);
        ck_assert_str_eq(fx.v.why, "no allow rule matches /tmp/sticky/prog");

        /* Allowed, but in a world-writable directory. */
        ck_assert_int_eq(judge(&fx, (const char *[]){ "/tmp/open/prog" }, 1, NULL), 0);
        ck_assert_ptr_eq(fx.v.rule, trusted);
        ck_assert_str_eq(fx.v.why, "/tmp/open is writable by others (mode 0777)");

        /* Allowed, and exempt from the walk. */
        ck_assert_int_eq(judge(&fx, (const char *[]){ "/tmp/user/prog" }, 1, NULL), 0);
        ck_assert_ptr_null(fx.v.rule);

        /* Exempt, but no allow: an exemption allows nothing. */
        ck_assert_int_eq(judge(&fx, (const char *[]){ "/tmp/user/other" }, 1, NULL), 0);
        ck_assert_ptr_eq(fx.v.rule, deny);

        /* A block, where an allow dir holds the file too: the block. */
        ck_assert_int_eq(judge(&fx, (const char *[]){ "/tmp/ok/deep/er/prog" }, 1, NULL), 0);
        ck_assert(fx.v.rule && fx.v.rule->line == 14);

        /* A script allowed, its interpreter not: the interpreter is what is refused. */
        ck_assert_int_eq(judge(&fx, (const char *[]){ "/tmp/ok/prog", "/tmp/sticky/prog" }, 2, NULL), 0);
        ck_assert_ptr_eq(fx.v.rule, deny);
        ck_assert_ptr_eq(fx.v.file, &fx.chain.files[1]);
        ck_assert_str_eq(fx.v.why, "no allow rule matches /tmp/sticky/prog");
        /* ... or its interpreter off the trusted path. */
        ck_assert_int_eq(judge(&fx, (const char *[]){ "/tmp/ok/prog", "/tmp/open/prog" }, 2, NULL), 0);
        ck_assert_ptr_eq(fx.v.rule, trusted);
        ck_assert_ptr_eq(fx.v.file, &fx.chain.files[1]);
        chain_teardown(&fx);
}
END_TEST

/* Command allows judge the arguments each file receives. */
START_TEST(chain_command_args) {
        struct chain_fixture fx;
        if (!chain_setup(&fx))
                return;
        const struct policy_rule *deny = policy_default_rule(fx.policy);
        struct exec_args status = { .bytes = "prog\0status\0nginx", .argc = 3, .filename = "/tmp/grp/prog" };
        struct exec_args stop = { .bytes = "prog\0stop\0nginx", .argc = 3, .filename = "/tmp/grp/prog" };

        ck_assert_int_eq(judge(&fx, (const char *[]){ "/tmp/grp/prog" }, 1, &status), 0);
        ck_assert_ptr_null(fx.v.rule);
        ck_assert(fx.v.allow && fx.v.allow->line == 8);
        ck_assert_int_eq(judge(&fx, (const char *[]){ "/tmp/grp/prog" }, 1, &stop), 0);
        ck_assert_ptr_eq(fx.v.rule, deny);
        /* Arguments not known: no command allows. */
        ck_assert_int_eq(judge(&fx, (const char *[]){ "/tmp/grp/prog" }, 1, NULL), 0);
        ck_assert_ptr_eq(fx.v.rule, deny);

        /* The interpreter of /tmp/ok/deep/er/prog gets its name first: allowed by line 9 ...
         * but the script itself is blocked (line 14), and it comes first. */
        struct exec_args script = { .bytes = "x\0arg", .argc = 2, .filename = "/tmp/ok/deep/er/prog" };
        ck_assert_int_eq(judge(&fx, (const char *[]){ "/tmp/ok/deep/er/prog", "/tmp/mid/sub/prog" }, 2, &script), 0);
        ck_assert(fx.v.rule && fx.v.rule->line == 14);
        ck_assert_ptr_eq(fx.v.file, &fx.chain.files[0]);
        /* A script allowed by its directory, run by that interpreter: the interpreter's
         * arguments are the script's name and argv[1] on, so line 9 does not match. */
        struct exec_args other = { .bytes = "x\0arg", .argc = 2, .filename = "/tmp/ok/prog" };
        ck_assert_int_eq(judge(&fx, (const char *[]){ "/tmp/ok/prog", "/tmp/mid/sub/prog" }, 2, &other), 0);
        ck_assert_ptr_eq(fx.v.rule, deny);
        ck_assert_ptr_eq(fx.v.file, &fx.chain.files[1]);
        chain_teardown(&fx);
}
END_TEST

/* The interpreter's own command allow, with the script's name as exec'd. */
START_TEST(chain_interpreter_command) {
        if (!trusted_tmp())
                return;
        trusted_tree();
        struct chain_fixture fx = {};
        fx.policy = policytext_ok("[execguard]\ndefault = deny\n"
                                  "[allow]\n"
                                  "dir = /tmp/ok\n"
                                  "command = /tmp/mid/sub/prog -e /tmp/ok/prog *\n");
        fx.cache = identity_cache_new();
        struct exec_args run = { .bytes = "prog\0one", .argc = 2, .filename = "/tmp/ok/prog" };
        ck_assert_int_eq(judge(&fx, (const char *[]){ "/tmp/ok/prog", "/tmp/mid/sub/prog" }, 2, &run), 0);
        ck_assert_ptr_eq(fx.v.rule, policy_default_rule(fx.policy)); /* no "-e" on the #! line */
        snprintf(fx.chain.files[0].script.arg, sizeof fx.chain.files[0].script.arg, "-e");
        fx.chain.files[0].script.has_arg = true;
        ck_assert_int_eq(judge_chain(fx.policy, NULL, fx.cache, &fx.chain, &run, &fx.v), 0);
        ck_assert_ptr_null(fx.v.rule);
        ck_assert(fx.v.allow && fx.v.allow->line == 4); /* the first allow of the chain: the script's dir */
        /* Run by another name: the interpreter's word 2 is that name. */
        struct exec_args renamed = { .bytes = "prog\0one", .argc = 2, .filename = "./prog" };
        ck_assert_int_eq(judge_chain(fx.policy, NULL, fx.cache, &fx.chain, &renamed, &fx.v), 0);
        ck_assert_ptr_eq(fx.v.rule, policy_default_rule(fx.policy));
        chain_teardown(&fx);
}
END_TEST

/* The identity cache trusts a stamp only for a file nobody but root can write: a same-size
 * rewrite under the very stamp that was hashed (a shared mapping does that, e2e content.sh)
 * is seen in a file of anybody else, and the fresh hash always sees it. */
START_TEST(cache_only_root_writes) {
        struct stat st = { .st_uid = 0, .st_mode = S_IFREG | 0755 };
        ck_assert(identity_only_root_writes(&st));
        st.st_mode = S_IFREG | 0775;
        ck_assert(!identity_only_root_writes(&st));
        st.st_mode = S_IFREG | 0757;
        ck_assert(!identity_only_root_writes(&st));
        st = (struct stat){ .st_uid = 65534, .st_mode = S_IFREG | 0555 };
        ck_assert(!identity_only_root_writes(&st));

        char dir[TMPDIR_MAX], path[TMPDIR_MAX + 8];
        tmpdir_make(dir, "eg-cache");
        snprintf(path, sizeof path, "%s/f", dir);
        for (int owner = 0; owner < 2; owner++) {
                bool root_owned = owner == 0 && geteuid() == 0;
                int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                ck_assert_int_ge(fd, 0);
                if (owner == 1 && geteuid() == 0)
                        ck_assert_int_eq(fchown(fd, 65534, 65534), 0);
                ck_assert_int_eq(pwrite(fd, "AAAA", 4, 0), 4);
                struct stat fst;
                ck_assert_int_eq(fstat(fd, &fst), 0);
                /* A stamp as old as a settled one (identity.h), kept while the bytes change. */
                fst.st_mtim.tv_sec -= 10;
                fst.st_ctim.tv_sec -= 10;
                _cleanup_(identity_cache_freep) struct identity_cache *c = identity_cache_new();
                ck_assert_ptr_nonnull(c);
                uint8_t a[SHA256_LEN], b[SHA256_LEN], fresh[SHA256_LEN];
                ck_assert_int_eq(identity_sha256(c, fd, &fst, a), 0);
                ck_assert_int_eq(pwrite(fd, "BBBB", 4, 0), 4);
                ck_assert_int_eq(identity_sha256(c, fd, &fst, b), 0);
                ck_assert_int_eq(identity_sha256_fresh(c, fd, &fst, fresh), 0);
                ck_assert(memcmp(a, fresh, SHA256_LEN) != 0);
                if (root_owned)
                        ck_assert(memcmp(a, b, SHA256_LEN) == 0); /* root's file: the cache holds */
                else if (owner == 1)
                        ck_assert(memcmp(b, fresh, SHA256_LEN) == 0); /* not root's: read again */
                close(fd);
                unlink(path);
        }
        tmpdir_remove(dir);
}
END_TEST

/* judge_unpinned(): an ELF interpreter or a loaded program judged by content, that somebody
 * but root can write; never the program itself (the verifier hashes it at its exec stop), nor
 * a file that was not hashed. */
START_TEST(unpinned_files) {
        struct exec_chain chain = { .n = 3, .image = 1 };
        chain.files[0].role = EXEC_ROLE_PROGRAM;
        chain.files[1].role = EXEC_ROLE_PROGRAM;
        chain.files[2].role = EXEC_ROLE_ELF_INTERP;
        for (unsigned i = 0; i < chain.n; i++)
                chain.files[i].st = (struct stat){ .st_uid = 1000, .st_mode = S_IFREG | 0755 };
        struct verdict v = { .hashed = 1u << 0 | 1u << 1 };
        ck_assert_ptr_null(judge_unpinned(&chain, &v));
        v.hashed |= 1u << 2;
        ck_assert_ptr_eq(judge_unpinned(&chain, &v), &chain.files[2]);
        chain.files[2].st.st_uid = 0;
        ck_assert_ptr_null(judge_unpinned(&chain, &v));
        chain.files[2].st.st_mode |= S_IWGRP;
        ck_assert_ptr_eq(judge_unpinned(&chain, &v), &chain.files[2]);
        chain.files[2].role = EXEC_ROLE_LOADED;
        ck_assert_ptr_eq(judge_unpinned(&chain, &v), &chain.files[2]);
        chain.files[2].role = EXEC_ROLE_SCRIPT_INTERP;
        ck_assert_ptr_null(judge_unpinned(&chain, &v));
}
END_TEST

Suite *judge_suite(void) {
        Suite *s = suite_create("judge");
        TCase *tc = tcase_create("args");
        tcase_add_test(tc, args_program);
        tcase_add_test(tc, args_script);
        tcase_add_test(tc, args_script_nested);
        tcase_add_test(tc, args_script_deepest);
        tcase_add_test(tc, args_elf_interp);
        tcase_add_test(tc, args_loaded);
        suite_add_tcase(s, tc);

        tc = tcase_create("trusted");
        tcase_add_loop_test(tc, trusted_path, 0, (int) ELEMENTSOF(trusted_cases));
        tcase_add_test(tc, trusted_path_deleted);
        tcase_add_test(tc, trusted_path_renamed);
        tcase_add_test(tc, trusted_path_host_tmp);
        suite_add_tcase(s, tc);

        tc = tcase_create("chain");
        tcase_add_test(tc, chain_default_and_trusted);
        tcase_add_test(tc, chain_command_args);
        tcase_add_test(tc, chain_interpreter_command);
        suite_add_tcase(s, tc);

        tc = tcase_create("content");
        tcase_add_test(tc, cache_only_root_writes);
        tcase_add_test(tc, unpinned_files);
        suite_add_tcase(s, tc);
        return s;
}
