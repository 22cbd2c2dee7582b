/* Protected paths: the [protect] sections of a policy (policy_protects()) and the file
 * operations the filter traps, classified from a notification's registers on each ABI
 * (fileop_classify()). */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileop.h"
#include "policy.h"
#include "tests.h"
#include "util.h"

static const char protect_policy[] = "[execguard]\n"
                                     "[protect]\n" /* 2 */
                                     "path = /nonexistent-eg/etc/shadow\n"
                                     "dir = /nonexistent-eg/ssh\n"
                                     "path = /nonexistent-eg/keys/*.pem\n"
                                     "deny = unlink, rename\n" /* 6 */
                                     "[protect:user:nobody]\n" /* 7 */
                                     "path = /nonexistent-eg/motd\n"
                                     "deny = all\n"
                                     "[block]\n"
                                     "path = /nonexistent-eg/df\n";

START_TEST(protect_parse_and_dump) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok(protect_policy);
        ck_assert_uint_eq(policy_protected_ops(p), POLICY_OPS_ALL);
        _cleanup_free_ char *text = policytext_dump(p);
        ck_assert_msg(strstr(text, "[protect]: deny unlink rename\n"), "%s", text);
        ck_assert_msg(
                strstr(text, "[protect:user:nobody]: deny unlink rename truncate write chmod chown link symlink\n"),
                "%s", text);
        ck_assert_msg(strstr(text, "3: [protect] path /nonexistent-eg/etc/shadow"), "%s", text);
        /* A policy that protects and blocks nothing else is not "a policy that blocks nothing". */
        _cleanup_(policy_freep) struct policy *q = policytext_ok("[protect]\npath = /x\ndeny = unlink\n");
        for (size_t i = 0; i < policy_n_warnings(q); i++) {
                char w[512];
                policy_warning_format(q, i, w, sizeof w);
                ck_assert_msg(!strstr(w, "blocks nothing"), "%s", w);
        }
        /* No [protect]: nothing but exec is trapped. */
        _cleanup_(policy_freep) struct policy *none = policytext_ok("[block]\npath = /x\n");
        ck_assert_uint_eq(policy_protected_ops(none), 0);
}
END_TEST

START_TEST(protect_errors) {
        static const struct {
                const char *text;
                unsigned line;
                const char *message;
        } errors[] = {
                { "[protect]\npath = /x\n", 2, "add deny =" },
                { "[protect]\npath = /x\ndeny = unlink, frob\n", 3, "unknown operation 'frob'" },
                { "[protect]\npath = /x\ndeny = ,\n", 3, "names no operation" },
                { "[protect]\npath = /x\ndeny = unlink\ndeny = write\n", 4, "given twice" },
                { "[protect]\nallow = /x\ndeny = unlink\n", 2, "unknown key 'allow' in [protect]" },
                { "[protect]\ndir = /x/*\ndeny = unlink\n", 2, "not a glob" },
                { "[protect]\npath = relative\ndeny = unlink\n", 2, "not absolute" },
                { "[protect:block]\npath = /x\ndeny = unlink\n", 1, "unknown section" },
                { "[protect:]\npath = /x\ndeny = unlink\n", 1, "unknown section" },
                { "[protect:user:]\npath = /x\ndeny = unlink\n", 1, "unknown section" },
        };
        for (size_t i = 0; i < ELEMENTSOF(errors); i++) {
                struct policy *q = NULL;
                struct policy_error err = {};
                int r = policytext_parse(errors[i].text, strlen(errors[i].text), &q, &err);
                ck_assert_msg(r == -EINVAL && !q, "case %zu: r=%d", i, r);
                ck_assert_msg(err.line == errors[i].line && strstr(err.message, errors[i].message),
                              "case %zu: line %u '%s'", i, err.line, err.message);
        }
        /* [user:root] and [protect:user:root] are two kinds of section of one user: fine. */
        _cleanup_(policy_freep) struct policy *p =
                policytext_ok("[user:root]\npath = /x\n[protect:user:root]\npath = /y\ndeny = write\n");
        ck_assert_uint_eq(policy_protected_ops(p), POLICY_OP_WRITE);
}
END_TEST

static unsigned line_of(const struct policy_rule *rule) {
        return rule ? rule->line : 0;
}

START_TEST(protect_match) {
        _cleanup_(policy_freep) struct policy *p = policytext_ok(protect_policy);
        struct policy_subject root, nobody;
        const gid_t gid = 0;
        ck_assert_int_eq(policy_subject_init(p, 0, &gid, 1, NULL, &root), 0);
        ck_assert_int_eq(policy_subject_init(p, 65534, &gid, 1, NULL, &nobody), 0);
        /* Path, the directory and what it holds, a glob; only the operations denied. */
        ck_assert_uint_eq(line_of(policy_protects(p, &root, POLICY_OP_UNLINK, "/nonexistent-eg/etc/shadow", NULL)), 3);
        ck_assert_uint_eq(line_of(policy_protects(p, &root, POLICY_OP_RENAME, "/nonexistent-eg/ssh/a/b", NULL)), 4);
        ck_assert_uint_eq(line_of(policy_protects(p, &root, POLICY_OP_RENAME, "/nonexistent-eg/ssh", NULL)), 4);
        ck_assert_uint_eq(line_of(policy_protects(p, &root, POLICY_OP_UNLINK, "/nonexistent-eg/sshx", NULL)), 0);
        ck_assert_uint_eq(line_of(policy_protects(p, &root, POLICY_OP_UNLINK, "/nonexistent-eg/keys/a.pem", NULL)), 5);
        ck_assert_uint_eq(line_of(policy_protects(p, &root, POLICY_OP_UNLINK, "/nonexistent-eg/keys/a.pub", NULL)), 0);
        ck_assert_uint_eq(line_of(policy_protects(p, &root, POLICY_OP_WRITE, "/nonexistent-eg/etc/shadow", NULL)), 0);
        /* The user's section is the user's. */
        ck_assert_uint_eq(line_of(policy_protects(p, &nobody, POLICY_OP_CHMOD, "/nonexistent-eg/motd", NULL)), 8);
        ck_assert_uint_eq(line_of(policy_protects(p, &root, POLICY_OP_CHMOD, "/nonexistent-eg/motd", NULL)), 0);
        /* Moving a directory moves what it holds. */
        ck_assert_uint_eq(line_of(policy_protects_beneath(p, &root, POLICY_OP_RENAME, "/nonexistent-eg/etc")), 3);
        ck_assert_uint_eq(line_of(policy_protects_beneath(p, &root, POLICY_OP_RENAME, "/nonexistent-eg")), 3);
        ck_assert_uint_eq(line_of(policy_protects_beneath(p, &root, POLICY_OP_RENAME, "/")), 3);
        ck_assert_uint_eq(line_of(policy_protects_beneath(p, &root, POLICY_OP_RENAME, "/nonexistent-eg/keys")), 5);
        ck_assert_uint_eq(line_of(policy_protects_beneath(p, &root, POLICY_OP_RENAME, "/nonexistent-eg/et")), 0);
        ck_assert_uint_eq(line_of(policy_protects_beneath(p, &root, POLICY_OP_WRITE, "/nonexistent-eg/etc")), 0);
        /* The exec rules are untouched by [protect]. */
        ck_assert_uint_eq(line_of(policy_decide(p, &root, "/nonexistent-eg/etc/shadow", NULL, NULL, NULL)), 0);
        ck_assert_uint_eq(line_of(policy_decide(p, &root, "/nonexistent-eg/df", NULL, NULL, NULL)), 11);
}
END_TEST

START_TEST(protect_conditions) {
        /* hours, days and parent hold for [protect] as for any section. */
        _cleanup_(policy_freep) struct policy *p = policytext_ok("[protect]\n"
                                                                 "path = /nonexistent-eg/a\n"
                                                                 "hours = 09:00-18:00\n"
                                                                 "days = mon-fri\n"
                                                                 "deny = unlink\n"
                                                                 "[protect]\n"
                                                                 "path = /nonexistent-eg/b\n"
                                                                 "parent = /nonexistent-eg/tool\n"
                                                                 "deny = unlink\n");
        const gid_t gid = 0;
        struct policy_subject subj;
        struct policy_context monday_noon = { .time_known = true, .weekday = 1, .minute = 12 * 60, .parent = "" };
        struct policy_context sunday_noon = { .time_known = true, .weekday = 0, .minute = 12 * 60, .parent = "" };
        struct policy_context monday_night = { .time_known = true, .weekday = 1, .minute = 20 * 60, .parent = "" };
        struct policy_context by_tool = {
                .time_known = true, .weekday = 0, .minute = 0, .parent = "/nonexistent-eg/tool"
        };
        ck_assert_int_eq(policy_subject_init(p, 0, &gid, 1, &monday_noon, &subj), 0);
        ck_assert_uint_eq(line_of(policy_protects(p, &subj, POLICY_OP_UNLINK, "/nonexistent-eg/a", NULL)), 2);
        ck_assert_uint_eq(line_of(policy_protects(p, &subj, POLICY_OP_UNLINK, "/nonexistent-eg/b", NULL)), 0);
        ck_assert_int_eq(policy_subject_init(p, 0, &gid, 1, &sunday_noon, &subj), 0);
        ck_assert_uint_eq(line_of(policy_protects(p, &subj, POLICY_OP_UNLINK, "/nonexistent-eg/a", NULL)), 0);
        ck_assert_int_eq(policy_subject_init(p, 0, &gid, 1, &monday_night, &subj), 0);
        ck_assert_uint_eq(line_of(policy_protects(p, &subj, POLICY_OP_UNLINK, "/nonexistent-eg/a", NULL)), 0);
        ck_assert_int_eq(policy_subject_init(p, 0, &gid, 1, &by_tool, &subj), 0);
        ck_assert_uint_eq(line_of(policy_protects(p, &subj, POLICY_OP_UNLINK, "/nonexistent-eg/b", NULL)), 7);
}
END_TEST

START_TEST(protect_match_identity) {
        /* A hard link is the protected file under another name. */
        char dir[TMPDIR_MAX], file[TMPDIR_MAX + 16], alias[TMPDIR_MAX + 16], text[3 * TMPDIR_MAX];
        tmpdir_make(dir, "eg-protect");
        snprintf(file, sizeof file, "%s/secret", dir);
        snprintf(alias, sizeof alias, "%s/alias", dir);
        int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_int_eq(link(file, alias), 0);
        snprintf(text, sizeof text, "[protect]\npath = %s\ndeny = truncate\n", file);
        struct policy *p = policytext_ok(text);
        struct stat st;
        ck_assert_int_eq(stat(alias, &st), 0);
        ck_assert_uint_eq(line_of(policy_protects(p, NULL, POLICY_OP_TRUNCATE, alias, &st)), 2);
        ck_assert_uint_eq(line_of(policy_protects(p, NULL, POLICY_OP_TRUNCATE, alias, NULL)), 0);
        /* Identified again (a file a rule names changed): still protected, by the new policy. */
        struct policy *again = NULL;
        struct policy_error err = {};
        ck_assert_int_eq(policy_reidentify(p, &again, &err), 0);
        ck_assert_uint_eq(policy_protected_ops(again), POLICY_OP_TRUNCATE);
        ck_assert_uint_eq(line_of(policy_protects(again, NULL, POLICY_OP_TRUNCATE, alias, &st)), 2);
        ck_assert_uint_eq(line_of(policy_protects(again, NULL, POLICY_OP_TRUNCATE, file, NULL)), 2);
        policy_free(again);
        policy_free(p);
        tmpdir_remove(dir);
}
END_TEST

/* The registers of a notification, as the kernel fills struct seccomp_data. */
static struct seccomp_data data_of(uint32_t arch, int nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                                   uint64_t a4) {
        return (struct seccomp_data){ .nr = nr, .arch = arch, .args = { a0, a1, a2, a3, a4, 0 } };
}

START_TEST(fileop_classify_abis) {
        struct fileop_call call;
        unsigned ptr;
        /* x86_64 unlinkat(AT_FDCWD, path, AT_REMOVEDIR) */
        int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "unlinkat");
        struct seccomp_data d =
                data_of(AUDIT_ARCH_X86_64, nr, (uint64_t) (int64_t) AT_FDCWD, 0x1000, AT_REMOVEDIR, 0, 0);
        ck_assert(fileop_classify(&d, &call, &ptr));
        ck_assert_int_eq(call.kind, FILEOP_UNLINK);
        ck_assert_str_eq(call.syscall, "unlinkat");
        ck_assert_int_eq(call.dirfd, AT_FDCWD);
        ck_assert(call.directory);
        ck_assert_uint_eq(call.path_addr, 0x1000);
        ck_assert_uint_eq(ptr, 8);
        /* i386: a dirfd of AT_FDCWD in 32 bits, a pointer masked, truncate64's two halves,
         * chown's 16-bit "keep". */
        nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, "openat");
        d = data_of(AUDIT_ARCH_I386, nr, (uint32_t) AT_FDCWD, 0xffffffff00002000, O_WRONLY | O_TRUNC, 0644, 0);
        ck_assert(fileop_classify(&d, &call, &ptr));
        ck_assert_int_eq(call.kind, FILEOP_OPEN);
        ck_assert_int_eq(call.dirfd, AT_FDCWD);
        ck_assert_uint_eq(call.path_addr, 0x2000);
        ck_assert_uint_eq(fileop_ops(&call), POLICY_OP_WRITE | POLICY_OP_TRUNCATE);
        ck_assert_uint_eq(ptr, 4);
        nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, "truncate64");
        d = data_of(AUDIT_ARCH_I386, nr, 0x3000, 0x10, 0x1, 0, 0);
        ck_assert(fileop_classify(&d, &call, &ptr));
        ck_assert_int_eq(call.kind, FILEOP_TRUNCATE);
        ck_assert(call.length == (INT64_C(1) << 32) + 0x10);
        nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, "truncate");
        d = data_of(AUDIT_ARCH_I386, nr, 0x3000, 0xffffffff, 0, 0, 0);
        ck_assert(fileop_classify(&d, &call, &ptr));
        ck_assert(call.length == -1); /* a long, sign-extended: the kernel's EINVAL */
        nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, "chown");
        d = data_of(AUDIT_ARCH_I386, nr, 0x3000, 0xffff, 5, 0, 0);
        ck_assert(fileop_classify(&d, &call, &ptr));
        ck_assert_uint_eq(call.uid, (uid_t) -1);
        ck_assert_uint_eq(call.gid, 5);
        nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, "chown32");
        d = data_of(AUDIT_ARCH_I386, nr, 0x3000, 0xffff, 5, 0, 0);
        ck_assert(fileop_classify(&d, &call, &ptr));
        ck_assert_uint_eq(call.uid, 0xffff);
        /* x32: the number carries the x32 bit. */
        nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X32, "renameat2");
        d = data_of(AUDIT_ARCH_X86_64, nr, 3, 0x4000, 4, 0x5000, 1);
        ck_assert(fileop_classify(&d, &call, &ptr));
        ck_assert_int_eq(call.kind, FILEOP_RENAME);
        ck_assert_int_eq(call.dirfd, 3);
        ck_assert_int_eq(call.dirfd2, 4);
        ck_assert_uint_eq(call.path2_addr, 0x5000);
        ck_assert_int_eq(call.flags, 1);
        ck_assert_uint_eq(ptr, 4);
        /* symlink(target, newpath): the new name is the second. */
        nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "symlink");
        d = data_of(AUDIT_ARCH_X86_64, nr, 0x6000, 0x7000, 0, 0, 0);
        ck_assert(fileop_classify(&d, &call, &ptr));
        ck_assert_int_eq(call.kind, FILEOP_SYMLINK);
        ck_assert_uint_eq(call.path2_addr, 0x7000);
        /* Exec is no file operation; creat is an open that writes and truncates. */
        nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "execve");
        d = data_of(AUDIT_ARCH_X86_64, nr, 0, 0, 0, 0, 0);
        ck_assert(!fileop_classify(&d, &call, &ptr));
        nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "creat");
        d = data_of(AUDIT_ARCH_X86_64, nr, 0x1000, 0600, 0, 0, 0);
        ck_assert(fileop_classify(&d, &call, &ptr));
        ck_assert_uint_eq(fileop_ops(&call), POLICY_OP_WRITE | POLICY_OP_TRUNCATE);
        ck_assert_uint_eq(call.mode, 0600);
}
END_TEST

Suite *protect_suite(void) {
        Suite *s = suite_create("protect");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, protect_parse_and_dump);
        tcase_add_test(tc, protect_errors);
        tcase_add_test(tc, protect_match);
        tcase_add_test(tc, protect_conditions);
        tcase_add_test(tc, protect_match_identity);
        tcase_add_test(tc, fileop_classify_abis);
        suite_add_tcase(s, tc);
        return s;
}
