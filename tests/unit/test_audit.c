/* Audit records: what a process controls can never forge or break a record, in syslog, in
 * the journal or in the JSON log file; and the JSON is what log shippers expect (ECS). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "supervise.h"
#include "tests.h"
#include "util.h"

START_TEST(decision_names) {
        ck_assert_str_eq(audit_decision_to_string(AUDIT_ALLOW), "allow");
        ck_assert_str_eq(audit_decision_to_string(AUDIT_DENY), "deny");
        ck_assert_str_eq(audit_decision_to_string(AUDIT_KILL), "kill");
        ck_assert_str_eq(audit_decision_to_string(AUDIT_WOULD_BLOCK), "audit");
        ck_assert_str_eq(audit_decision_to_string(AUDIT_SUPERVISOR_LOST), "supervisor-lost");
        ck_assert_str_eq(audit_decision_to_string(AUDIT_SESSION_DEGRADED), "session-degraded");
}
END_TEST

/* ---- checkers, written independently of audit.c ------------------------------------- */

/* A value of a syslog line or a journal field, for inputs whose bytes >= 0x80 are none of them
 * well-formed UTF-8 (as 0x80-0xff in order): the C0 controls, DEL, backslash, double quote
 * and every byte >= 0x80 as \xNN, the rest as it is. */
static void value_oracle(const char *in, char *out) {
        for (const unsigned char *s = (const unsigned char *) in; *s; s++)
                if (*s < 0x20 || *s >= 0x7f || *s == '\\' || *s == '"')
                        out += sprintf(out, "\\x%02x", *s);
                else
                        *out++ = (char) *s;
        *out = '\0';
}

/* Well-formed UTF-8 (Unicode 3.9 D92): no overlong form, no surrogate, nothing above
 * U+10FFFF, no cut sequence. */
static bool utf8_valid(const char *str, size_t n) {
        static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
        const unsigned char *s = (const unsigned char *) str;
        for (size_t i = 0; i < n;) {
                size_t len;
                uint32_t cp;
                if (s[i] < 0x80) {
                        i++;
                        continue;
                } else if ((s[i] & 0xe0) == 0xc0) {
                        len = 2;
                        cp = s[i] & 0x1f;
                } else if ((s[i] & 0xf0) == 0xe0) {
                        len = 3;
                        cp = s[i] & 0x0f;
                } else if ((s[i] & 0xf8) == 0xf0) {
                        len = 4;
                        cp = s[i] & 0x07;
                } else
                        return false;
                if (n - i < len)
                        return false;
                for (size_t k = 1; k < len; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (s[i + k] & 0x3f);
                }
                if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += len;
        }
        return true;
}

/* A small JSON (RFC 8259) syntax checker: the end of the value at p, or NULL. */
static const char *json_value(const char *p, int depth);

static const char *json_ws(const char *p) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
                p++;
        return p;
}

static bool is_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static const char *json_string_end(const char *p) {
        if (*p++ != '"')
                return NULL;
        for (; *p != '"'; p++) {
                if ((unsigned char) *p < 0x20) /* the terminator too */
                        return NULL;
                if (*p == '\\') {
                        p++;
                        if (*p == 'u') {
                                for (int i = 1; i <= 4; i++)
                                        if (!is_hex(p[i]))
                                                return NULL;
                                p += 4;
                        } else if (*p == '\0' || !strchr("\"\\/bfnrt", *p))
                                return NULL;
                }
        }
        return p + 1;
}

static const char *json_number_end(const char *p) {
        if (*p == '-')
                p++;
        if (*p == '0')
                p++;
        else if (is_digit(*p))
                while (is_digit(*p))
                        p++;
        else
                return NULL;
        if (*p == '.') {
                if (!is_digit(*++p))
                        return NULL;
                while (is_digit(*p))
                        p++;
        }
        if (*p == 'e' || *p == 'E') {
                p++;
                if (*p == '+' || *p == '-')
                        p++;
                if (!is_digit(*p))
                        return NULL;
                while (is_digit(*p))
                        p++;
        }
        return p;
}

static const char *json_members(const char *p, int depth, char close, bool object) {
        p = json_ws(p + 1);
        if (*p == close)
                return p + 1;
        for (;;) {
                if (object) {
                        p = json_string_end(p);
                        if (!p)
                                return NULL;
                        p = json_ws(p);
                        if (*p++ != ':')
                                return NULL;
                }
                p = json_value(p, depth + 1);
                if (!p)
                        return NULL;
                p = json_ws(p);
                if (*p == close)
                        return p + 1;
                if (*p++ != ',')
                        return NULL;
        }
}

static const char *json_value(const char *p, int depth) {
        if (depth > 16)
                return NULL;
        p = json_ws(p);
        switch (*p) {
        case '{':
                return json_members(p, depth, '}', true);
        case '[':
                return json_members(p, depth, ']', false);
        case '"':
                return json_string_end(p);
        case 't':
                return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
        case 'f':
                return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
        case 'n':
                return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
        default:
                return json_number_end(p);
        }
}

/* One JSON object on one line: valid JSON, valid UTF-8, no raw control character but the
 * final newline, no raw C1 control either. */
static void assert_json_line(const char *line, int len) {
        ck_assert_int_gt(len, 0);
        ck_assert_uint_eq(strlen(line), (size_t) len);
        ck_assert_msg(line[len - 1] == '\n', "no newline at the end: %s", line);
        ck_assert_msg(line[0] == '{', "not an object: %s", line);
        const char *end = json_value(line, 0);
        ck_assert_msg(end != NULL, "not JSON: %s", line);
        ck_assert_msg(end == line + len - 1, "more after the object: %s", end);
        ck_assert_msg(utf8_valid(line, (size_t) len), "not UTF-8: %s", line);
        for (int i = 0; i < len - 1; i++) {
                unsigned char c = (unsigned char) line[i];
                if (c < 0x20 || c == 0x7f || (c == 0xc2 && (unsigned char) line[i + 1] < 0xa0))
                        ck_abort_msg("raw control character %#x at %d: %s", c, i, line);
        }
}

/* The JSON string of key (the first one): its escaped content, into out. */
static void json_member(const char *line, const char *key, char *out, size_t size) {
        char pattern[64];
        snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
        const char *p = strstr(line, pattern);
        ck_assert_msg(p != NULL, "no %s in %s", key, line);
        p += strlen(pattern);
        const char *end = json_string_end(p - 1);
        ck_assert_ptr_nonnull(end);
        ck_assert_uint_lt((size_t) (end - 1 - p), size);
        memcpy(out, p, (size_t) (end - 1 - p));
        out[end - 1 - p] = '\0';
}

/* ---- records ------------------------------------------------------------------------ */

static const struct policy_rule block_rule = {
        .kind = POLICY_RULE_PATH,
        .text = (char *) "/usr/bin/df",
        .canonical = (char *) "/usr/bin/df",
        .line = 6,
};

static const struct policy_rule allow_rule = {
        .kind = POLICY_RULE_GLOB,
        .allow = true,
        .scope = "user:alice",
        .text = (char *) "/usr/bin/d*",
        .canonical = (char *) "/usr/bin/d*",
        .line = 11,
};

static const char *const deny_argv[] = { "df", "-h", "/home" };
static const char *const deny_chain[] = { "/usr/bin/df" };
static const char *const allow_argv[] = { "du", "-s", "a b" };
static const char *const allow_chain[] = { "/usr/bin/du", "/lib64/ld-linux-x86-64.so.2" };

/* 2026-11-22T10:00:00Z */
#define T0 1795341600

static struct audit_record deny_record(void) {
        return (struct audit_record){
                .decision = AUDIT_DENY,
                .time = { T0, 123456789 },
                .mode = "enforce",
                .session = "8c1f2a",
                .requested = "df",
                .executable = "/usr/bin/df",
                .chain = deny_chain,
                .chain_len = ELEMENTSOF(deny_chain),
                .blocked = "/usr/bin/df",
                .policy_source = "/etc/execguard.ini",
                .rule = &block_rule,
                .process = {
                        .pid = 4242,
                        .ppid = 4200,
                        .uid = 1000,
                        .euid = 0,
                        .user = "alice",
                        .euser = "root",
                        .tty = "pts/3",
                        .cwd = "/home/alice",
                        .argv = deny_argv,
                        .argc = ELEMENTSOF(deny_argv),
                        .argv_truncated = true,
                },
        };
}

/* The record of a session that came in over SSH, of a process whose login user (the
 * kernel's loginuid) is not its uid: sudo. */
static struct audit_record origin_record(void) {
        struct audit_record rec = deny_record();
        rec.source_ip = "2001:db8::7";
        rec.source_port = 50022;
        rec.process.has_auid = true;
        rec.process.auid = 65534;
        rec.process.auser = "nobody";
        rec.process.has_audit_session = true;
        rec.process.audit_session = 7;
        return rec;
}

static struct audit_record allow_record(void) {
        return (struct audit_record){
                .decision = AUDIT_ALLOW,
                .time = { T0 + 61, 999999999 },
                .mode = "audit",
                .session = "8c1f2a",
                .requested = "/usr/bin/du",
                .executable = "/usr/bin/du",
                .chain = allow_chain,
                .chain_len = ELEMENTSOF(allow_chain),
                .policy_source = "/etc/execguard.ini",
                .rule = &allow_rule,
                .process = {
                        .pid = 4243,
                        .ppid = 1,
                        .uid = 1000,
                        .euid = 1000,
                        .user = "alice",
                        .euser = "alice",
                        .cwd = "/",
                        .argv = allow_argv,
                        .argc = ELEMENTSOF(allow_argv),
                },
        };
}

/* Nothing known but the decision. */
static struct audit_record unknown_record(void) {
        return (struct audit_record){
                .decision = AUDIT_KILL,
                .time = { T0, 0 },
                .process = { .pid = -1, .ppid = -1, .uid = (uid_t) -1, .euid = (uid_t) -1 },
        };
}

static const char golden_deny[] =
        "{\"@timestamp\":\"2026-11-22T10:00:00.123456Z\",\"ecs\":{\"version\":\"8.11.0\"},"
        "\"message\":\"execguard: deny /usr/bin/df (requested \\\"df\\\") by pid 4242 uid 1000 (alice) euid 0 (root): "
        "blocked by /etc/execguard.ini:6 (path = /usr/bin/df)\","
        "\"event\":{\"kind\":\"event\",\"category\":[\"process\"],\"type\":[\"start\",\"denied\"],"
        "\"action\":\"exec-denied\",\"outcome\":\"failure\",\"module\":\"execguard\",\"dataset\":\"execguard.exec\"},"
        "\"process\":{\"pid\":4242,\"executable\":\"/usr/bin/df\",\"args\":[\"df\",\"-h\",\"/home\"],\"args_count\":3,"
        "\"working_directory\":\"/home/alice\",\"parent\":{\"pid\":4200}},"
        "\"user\":{\"id\":\"1000\",\"name\":\"alice\",\"effective\":{\"id\":\"0\",\"name\":\"root\"}},"
        "\"host\":{\"hostname\":\"web-1\"},"
        "\"rule\":{\"name\":\"/etc/execguard.ini:6\",\"description\":\"path = /usr/bin/df\","
        "\"ruleset\":\"/etc/execguard.ini\"},"
        "\"execguard\":{\"decision\":\"deny\",\"mode\":\"enforce\",\"session\":\"8c1f2a\",\"requested\":\"df\","
        "\"chain\":[\"/usr/bin/df\"],\"blocked\":\"/usr/bin/df\",\"tty\":\"pts/3\",\"args_truncated\":true}}\n";

static const char golden_allow[] =
        "{\"@timestamp\":\"2026-11-22T10:01:01.999999Z\",\"ecs\":{\"version\":\"8.11.0\"},"
        "\"message\":\"execguard: allow /usr/bin/du by pid 4243 uid 1000 (alice): "
        "allowed by /etc/execguard.ini:11 ([user:alice] allow = /usr/bin/d*)\","
        "\"event\":{\"kind\":\"event\",\"category\":[\"process\"],\"type\":[\"start\",\"allowed\"],"
        "\"action\":\"exec-allowed\",\"outcome\":\"success\",\"module\":\"execguard\",\"dataset\":\"execguard.exec\"},"
        "\"process\":{\"pid\":4243,\"executable\":\"/usr/bin/du\",\"args\":[\"du\",\"-s\",\"a b\"],\"args_count\":3,"
        "\"working_directory\":\"/\",\"parent\":{\"pid\":1}},"
        "\"user\":{\"id\":\"1000\",\"name\":\"alice\",\"effective\":{\"id\":\"1000\",\"name\":\"alice\"}},"
        "\"host\":{\"hostname\":\"web-1\"},"
        "\"rule\":{\"name\":\"/etc/execguard.ini:11\",\"description\":\"[user:alice] allow = /usr/bin/d*\","
        "\"ruleset\":\"/etc/execguard.ini\"},"
        "\"execguard\":{\"decision\":\"allow\",\"mode\":\"audit\",\"session\":\"8c1f2a\",\"requested\":\"/usr/bin/du\","
        "\"chain\":[\"/usr/bin/du\",\"/lib64/ld-linux-x86-64.so.2\"]}}\n";

/* What is unknown is left out, and an object left with nothing in it too. */
static const char golden_unknown[] =
        "{\"@timestamp\":\"2026-11-22T10:00:00.000000Z\",\"ecs\":{\"version\":\"8.11.0\"},"
        "\"message\":\"execguard: kill\","
        "\"event\":{\"kind\":\"event\",\"category\":[\"process\"],\"type\":[\"start\",\"denied\"],"
        "\"action\":\"exec-killed\",\"outcome\":\"failure\",\"module\":\"execguard\",\"dataset\":\"execguard.exec\"},"
        "\"execguard\":{\"decision\":\"kill\"}}\n";

/* The record the wrapper makes when the standalone supervisor of its session dies: a
 * process that ended, with the session id, the supervisor's pid, and how it ended. */
static struct audit_record lost_record(void) {
        return (struct audit_record){
                .decision = AUDIT_SUPERVISOR_LOST,
                .time = { T0, 0 },
                .mode = "enforce",
                .session = "8c1f2a",
                .note = "killed by signal 9",
                .process = { .pid = 4300, .ppid = 4299, .uid = 1000, .euid = 1000 },
        };
}

static const char golden_lost[] =
        "{\"@timestamp\":\"2026-11-22T10:00:00.000000Z\",\"ecs\":{\"version\":\"8.11.0\"},"
        "\"message\":\"execguard: the supervisor of session 8c1f2a (pid 4300) was lost (killed by signal 9): "
        "execs in this session now fail\","
        "\"event\":{\"kind\":\"event\",\"category\":[\"process\"],\"type\":[\"end\"],"
        "\"action\":\"supervisor-lost\",\"outcome\":\"failure\",\"module\":\"execguard\",\"dataset\":\"execguard."
        "exec\"},"
        "\"process\":{\"pid\":4300,\"parent\":{\"pid\":4299}},"
        "\"user\":{\"id\":\"1000\",\"effective\":{\"id\":\"1000\"}},"
        "\"host\":{\"hostname\":\"web-1\"},"
        "\"execguard\":{\"decision\":\"supervisor-lost\",\"mode\":\"enforce\",\"session\":\"8c1f2a\","
        "\"note\":\"killed by signal 9\"}}\n";

/* The record the wrapper makes when a session that reached no daemon starts standalone short
 * of its policy: a session that started, with what it lacks; and a decision of such a session
 * says it too. */
static struct audit_record degraded_record(void) {
        return (struct audit_record){
                .decision = AUDIT_SESSION_DEGRADED,
                .time = { T0, 0 },
                .mode = "enforce",
                .session = "8c1f2a",
                .source_ip = "192.0.2.7",
                .source_port = 50022,
                .degraded = "no_new_privs forced; log_file not written (Permission denied)",
                .policy_source = "/etc/execguard.ini",
                .process = { .pid = 4300, .ppid = 4299, .uid = 1000, .euid = 1000 },
        };
}

static const char golden_degraded[] =
        "{\"@timestamp\":\"2026-11-22T10:00:00.000000Z\",\"ecs\":{\"version\":\"8.11.0\"},"
        "\"message\":\"execguard: session 8c1f2a reached no daemon and is supervised standalone, degraded: "
        "no_new_privs forced; log_file not written (Permission denied)\","
        "\"event\":{\"kind\":\"event\",\"category\":[\"session\"],\"type\":[\"start\"],"
        "\"action\":\"session-degraded\",\"outcome\":\"success\",\"module\":\"execguard\",\"dataset\":"
        "\"execguard.exec\"},"
        "\"process\":{\"pid\":4300,\"parent\":{\"pid\":4299}},"
        "\"user\":{\"id\":\"1000\",\"effective\":{\"id\":\"1000\"}},"
        "\"source\":{\"ip\":\"192.0.2.7\",\"port\":50022},"
        "\"host\":{\"hostname\":\"web-1\"},"
        "\"execguard\":{\"decision\":\"session-degraded\",\"mode\":\"enforce\",\"session\":\"8c1f2a\","
        "\"degraded\":\"no_new_privs forced; log_file not written (Permission denied)\"}}\n";

START_TEST(json_golden_degraded) {
        struct audit_record rec = degraded_record();
        char buf[4096];
        int n = audit_format_json(&rec, "web-1", buf, sizeof buf);
        ck_assert_str_eq(buf, golden_degraded);
        ck_assert_int_eq(n, (int) strlen(golden_degraded));
        assert_json_line(buf, n);

        rec = deny_record();
        rec.degraded = "no_new_privs forced";
        n = audit_format_json(&rec, "web-1", buf, sizeof buf);
        ck_assert_int_gt(n, 0);
        ck_assert_ptr_nonnull(strstr(buf, "\"session\":\"8c1f2a\",\"degraded\":\"no_new_privs forced\""));
        assert_json_line(buf, n);
}
END_TEST

START_TEST(json_golden_lost) {
        struct audit_record rec = lost_record();
        char buf[4096];
        int n = audit_format_json(&rec, "web-1", buf, sizeof buf);
        ck_assert_int_eq(n, (int) strlen(golden_lost));
        ck_assert_str_eq(buf, golden_lost);
        assert_json_line(buf, n);
}
END_TEST

START_TEST(json_golden_deny) {
        struct audit_record rec = deny_record();
        char buf[4096];
        int n = audit_format_json(&rec, "web-1", buf, sizeof buf);
        ck_assert_int_eq(n, (int) strlen(golden_deny));
        ck_assert_str_eq(buf, golden_deny);
        assert_json_line(buf, n);
}
END_TEST

/* A file operation refused by [protect]: a file event, its action named for the operation,
 * the operation, syscall and both paths under execguard, the protected path as file.path. */
START_TEST(json_file_operation) {
        static const struct policy_rule protect_rule = {
                .kind = POLICY_RULE_DIR,
                .scope = "protect",
                .key = "dir",
                .text = (char *) "/etc/ssh",
                .canonical = (char *) "/etc/ssh/",
                .line = 4,
        };
        struct audit_record rec = deny_record();
        rec.executable = NULL;
        rec.chain = NULL;
        rec.chain_len = 0;
        rec.rule = &protect_rule;
        rec.operation = "rename";
        rec.syscall = "renameat2";
        rec.requested = "sshd_config";
        rec.target = "/tmp/x";
        rec.blocked = "/etc/ssh/sshd_config";
        char buf[4096];
        int n = audit_format_json(&rec, "web-1", buf, sizeof buf);
        ck_assert_int_gt(n, 0);
        assert_json_line(buf, n);
        static const char *const parts[] = {
                "\"message\":\"execguard: deny rename of /etc/ssh/sshd_config (requested \\\"sshd_config\\\") to "
                "\\\"/tmp/x\\\" with renameat2() by pid 4242",
                "\"event\":{\"kind\":\"event\",\"category\":[\"file\"],\"type\":[\"change\",\"denied\"],"
                "\"action\":\"file-rename-denied\",\"outcome\":\"failure\",\"module\":\"execguard\","
                "\"dataset\":\"execguard.file\"},\"file\":{\"path\":\"/etc/ssh/sshd_config\"}",
                "\"operation\":\"rename\",\"syscall\":\"renameat2\",\"requested\":\"sshd_config\",\"target\":\"/tmp/"
                "x\"",
                "\"rule\":{\"name\":\"/etc/execguard.ini:4\",\"description\":\"[protect] dir = /etc/ssh\"",
        };
        for (size_t i = 0; i < ELEMENTSOF(parts); i++)
                ck_assert_msg(strstr(buf, parts[i]), "missing %s in %s", parts[i], buf);
        /* unlink is a deletion, audited in audit mode. */
        rec.operation = "unlink";
        rec.decision = AUDIT_WOULD_BLOCK;
        n = audit_format_json(&rec, "web-1", buf, sizeof buf);
        ck_assert_int_gt(n, 0);
        ck_assert_ptr_nonnull(strstr(buf, "\"type\":[\"deletion\",\"allowed\"],\"action\":\"file-delete-audited\""));
}
END_TEST

/* SSH_CONNECTION as sshd sets it gives the source; anything else none, and nothing of it. */
START_TEST(ssh_connection) {
        static const struct {
                const char *value, *ip;
                unsigned port;
        } ssh_cases[] = {
                { "192.0.2.7 50022 198.51.100.1 22", "192.0.2.7", 50022 },
                { "2001:DB8:0:0::7 1 2001:db8::1 22", "2001:db8::7", 1 },
                { "::ffff:192.0.2.7 65535 ::1 22", "::ffff:192.0.2.7", 65535 },
                { "x\ny 1 2 3", NULL, 0 },
                { "1.2.3.4 99999 5.6.7.8 22", NULL, 0 },
                { "1.2.3.4 65536 5.6.7.8 22", NULL, 0 },
                { "1.2.3.4 0 5.6.7.8 22", NULL, 0 },
                { "1.2.3.4 022 5.6.7.8 22", NULL, 0 },
                { "1.2.3.4 +22 5.6.7.8 22", NULL, 0 },
                { "1.2.3.4 22 5.6.7.8", NULL, 0 },
                { "1.2.3.4 22 5.6.7.8 22 x", NULL, 0 },
                { "1.2.3.4  22 5.6.7.8 22", NULL, 0 },
                { " 1.2.3.4 22 5.6.7.8 22", NULL, 0 },
                { "1.2.3.4 22 5.6.7.8 22 ", NULL, 0 },
                { "1.2.3 22 5.6.7.8 22", NULL, 0 },
                { "example.com 22 5.6.7.8 22", NULL, 0 },
                { "fe80::1%eth0 22 fe80::2 22", NULL, 0 },
                { "1.2.3.4 22 bad 22", NULL, 0 },
                { "1.2.3.4\t22 5.6.7.8 22", NULL, 0 },
                { "", NULL, 0 },
                { NULL, NULL, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(ssh_cases); i++) {
                struct session sess;
                memset(&sess, 0x41, sizeof sess);
                bool ok = session_source_from_ssh(&sess, ssh_cases[i].value);
                ck_assert_msg(ok == (ssh_cases[i].ip != NULL), "case %zu", i);
                ck_assert_str_eq(sess.source_ip, ssh_cases[i].ip ? ssh_cases[i].ip : "");
                ck_assert_uint_eq(sess.source_port, ssh_cases[i].port);
        }
        /* What the daemon receives is checked again. */
        struct session sess = {};
        ck_assert(!session_source_set(&sess, "1.2.3.4\n", 22));
        ck_assert_str_eq(sess.source_ip, "");
        ck_assert(!session_source_set(&sess, "1.2.3.4", 0));
        ck_assert(session_source_set(&sess, "10.0.0.1", 22));
        ck_assert_str_eq(sess.source_ip, "10.0.0.1");
}
END_TEST

START_TEST(json_golden_origin) {
        struct audit_record rec = origin_record();
        char buf[4096];
        int n = audit_format_json(&rec, "web-1", buf, sizeof buf);
        assert_json_line(buf, n);
        ck_assert_msg(strstr(buf, ",\"user\":{\"id\":\"1000\",\"name\":\"alice\",\"effective\":{\"id\":\"0\","
                                  "\"name\":\"root\"},\"audit\":{\"id\":\"65534\",\"name\":\"nobody\"}},"
                                  "\"source\":{\"ip\":\"2001:db8::7\",\"port\":50022},\"host\":"),
                      "%s", buf);
        ck_assert_msg(strstr(buf, ",\"execguard\":{\"decision\":\"deny\",\"mode\":\"enforce\",\"session\":\"8c1f2a\","
                                  "\"audit_session\":7,\"requested\":\"df\","),
                      "%s", buf);
        /* Not known: left out, not 4294967295 nor an empty object. */
        rec = deny_record();
        n = audit_format_json(&rec, "web-1", buf, sizeof buf);
        ck_assert_int_eq(n, (int) strlen(golden_deny));
        ck_assert_ptr_null(strstr(buf, "audit"));
        ck_assert_ptr_null(strstr(buf, "source"));
}
END_TEST

START_TEST(json_golden_allow) {
        struct audit_record rec = allow_record();
        char buf[4096];
        int n = audit_format_json(&rec, "web-1", buf, sizeof buf);
        ck_assert_int_eq(n, (int) strlen(golden_allow));
        ck_assert_str_eq(buf, golden_allow);
        assert_json_line(buf, n);
}
END_TEST

START_TEST(json_unknown) {
        struct audit_record rec = unknown_record();
        char buf[4096];
        int n = audit_format_json(&rec, NULL, buf, sizeof buf);
        ck_assert_int_eq(n, (int) strlen(golden_unknown));
        ck_assert_str_eq(buf, golden_unknown);
        assert_json_line(buf, n);

        /* A rule but no policy source, a note, an empty argv (argc 0: worth seeing). */
        rec.rule = &block_rule;
        rec.note = "exec changed after it was approved";
        rec.process.argv = deny_argv;
        rec.process.argc = 0;
        rec.process.ppid = 0; /* a parent outside the pid namespace */
        n = audit_format_json(&rec, "", buf, sizeof buf);
        assert_json_line(buf, n);
        ck_assert_ptr_nonnull(strstr(buf, "\"message\":\"execguard: kill: blocked by line 6 (path = /usr/bin/df); "
                                          "exec changed after it was approved\""));
        ck_assert_ptr_nonnull(strstr(buf, "\"process\":{\"args\":[],\"args_count\":0,\"parent\":{\"pid\":0}}"));
        ck_assert_ptr_nonnull(strstr(buf, "\"rule\":{\"name\":\"line 6\",\"description\":\"path = /usr/bin/df\"}"));
        ck_assert_ptr_nonnull(strstr(buf, "\"host\":{\"hostname\":\"\"}"));
        ck_assert_ptr_null(strstr(buf, "\"user\""));
        ck_assert_ptr_null(strstr(buf, "\"verifier\""));

        /* The check after exec that held it, in the execguard object. */
        rec.verifier = "kernel";
        n = audit_format_json(&rec, "", buf, sizeof buf);
        assert_json_line(buf, n);
        const char *object = strstr(buf, "\"execguard\":{");
        ck_assert_ptr_nonnull(object);
        ck_assert_ptr_nonnull(strstr(object, "\"verifier\":\"kernel\""));
}
END_TEST

/* Seconds of CLOCK_REALTIME, the clock records are stamped with. Not time(): glibc reads it
 * from the coarse clock, which lags by up to a tick, so a stamp taken a moment before it can
 * be a second ahead of it. */
static time_t realtime_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return ts.tv_sec;
}

/* A zero time is "now". */
START_TEST(json_time_now) {
        struct audit_record rec = unknown_record();
        char buf[4096], stamp[64];
        rec.time = (struct timespec){};
        time_t before = realtime_s();
        int n = audit_format_json(&rec, NULL, buf, sizeof buf);
        assert_json_line(buf, n);
        json_member(buf, "@timestamp", stamp, sizeof stamp);
        struct tm tm = {};
        ck_assert_ptr_nonnull(strptime(stamp, "%Y-%m-%dT%H:%M:%S", &tm));
        time_t t = timegm(&tm);
        ck_assert_int_ge(t, before);
        ck_assert_int_le(t, realtime_s());
        ck_assert_uint_eq(strlen(stamp), strlen("2026-11-22T10:00:00.000000Z"));
}
END_TEST

/* What JSON makes of byte b alone (b is never part of well-formed UTF-8 in 0x01..0xff in
 * order: continuation bytes come before every lead byte). */
static void json_oracle(unsigned char b, char *out) {
        const char *shortform = NULL;
        switch (b) {
        case '"':
                shortform = "\\\"";
                break;
        case '\\':
                shortform = "\\\\";
                break;
        case '\b':
                shortform = "\\b";
                break;
        case '\f':
                shortform = "\\f";
                break;
        case '\n':
                shortform = "\\n";
                break;
        case '\r':
                shortform = "\\r";
                break;
        case '\t':
                shortform = "\\t";
                break;
        }
        if (shortform)
                strcpy(out, shortform);
        else if (b < 0x20 || b == 0x7f)
                sprintf(out, "\\u%04x", b);
        else if (b >= 0x80)
                sprintf(out, "\\\\x%02x", b); /* the text \xNN */
        else
                sprintf(out, "%c", b);
}

/* Every byte a path or an argument can hold. */
START_TEST(json_every_byte) {
        char all[256], expected[256 * 6 + 1] = "";
        for (int i = 1; i < 256; i++) {
                all[i - 1] = (char) i;
                json_oracle((unsigned char) i, expected + strlen(expected));
        }
        all[255] = '\0';
        /* The same bytes as arguments, 64 a piece, and in every other string. */
        char args[4][65];
        const char *argv[4];
        for (int a = 0; a < 4; a++) {
                memcpy(args[a], all + 64 * a, 64);
                args[a][64] = '\0';
                argv[a] = args[a];
        }
        args[3][63] = '\0';
        const char *chain[] = { all, all };
        struct policy_rule rule = { .kind = POLICY_RULE_PATH, .text = all, .scope = all, .line = 1 };
        struct audit_record rec = {
                .decision = AUDIT_WOULD_BLOCK,
                .time = { T0, 0 },
                .mode = all,
                .session = all,
                .requested = all,
                .executable = all,
                .chain = chain,
                .chain_len = 2,
                .blocked = all,
                .policy_source = all,
                .rule = &rule,
                .note = all,
                .process = { .pid = 1,
                             .ppid = 1,
                             .uid = 0,
                             .euid = 1,
                             .user = all,
                             .euser = all,
                             .tty = all,
                             .cwd = all,
                             .argv = argv,
                             .argc = 4 },
        };
        static char buf[64 * 1024], got[8192];
        int n = audit_format_json(&rec, all, buf, sizeof buf);
        assert_json_line(buf, n);

        const char *keys[] = { "executable", "working_directory", "requested", "blocked", "tty",
                               "note",       "hostname",          "mode",      "session", "ruleset" };
        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                json_member(buf, keys[k], got, sizeof got);
                ck_assert_msg(strcmp(got, expected) == 0, "%s:\n%s\nexpected\n%s", keys[k], got, expected);
        }
        char want[4096];
        const char *p = strstr(buf, "\"args\":[");
        ck_assert_ptr_nonnull(p);
        p += strlen("\"args\":[");
        for (int a = 0; a < 4; a++) {
                want[0] = '"';
                want[1] = '\0';
                for (const char *s = args[a]; *s; s++)
                        json_oracle((unsigned char) *s, want + strlen(want));
                strcat(want, a < 3 ? "\"," : "\"],\"args_count\":4,");
                ck_assert_msg(strncmp(p, want, strlen(want)) == 0, "argument %d:\n%.*s\nexpected\n%s", a,
                              (int) strlen(want), p, want);
                p += strlen(want);
        }
        /* In the message, the values are escaped first: no backslash of the input reaches it
         * unescaped. */
        char message[8192], escaped[1024];
        json_member(buf, "message", message, sizeof message);
        value_oracle(all, escaped);
        char *e = escaped, want_msg[4096] = "execguard: audit ";
        /* escaped is ASCII; its backslashes and quotes are JSON-escaped. */
        for (char *w = want_msg + strlen(want_msg); *e; e++) {
                json_oracle((unsigned char) *e, w);
                w += strlen(w);
        }
        ck_assert_msg(strncmp(message, want_msg, strlen(want_msg)) == 0, "message:\n%s\nexpected\n%s", message,
                      want_msg);
}
END_TEST

struct utf8_case {
        const char *name;
        const char *in;
        const char *json; /* the content of the JSON string */
};

static const struct utf8_case utf8_cases[] = {
        { "ASCII", "/usr/bin/df", "/usr/bin/df" },
        { "2 bytes", "/tmp/\xc3\xa9", "/tmp/\xc3\xa9" },
        { "3 bytes", "\xe2\x82\xac", "\xe2\x82\xac" },
        { "4 bytes", "\xf0\x9d\x84\x9e", "\xf0\x9d\x84\x9e" },
        { "U+10FFFF", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf" },
        { "U+D7FF", "\xed\x9f\xbf", "\xed\x9f\xbf" },
        { "U+E000", "\xee\x80\x80", "\xee\x80\x80" },
        { "U+00A0 (first after C1)", "\xc2\xa0", "\xc2\xa0" },
        { "C1: U+0080", "\xc2\x80", "\\u0080" },
        { "C1: CSI",
          "\xc2\x9b"
          "31m",
          "\\u009b31m" },
        { "DEL", "\x7f", "\\u007f" },
        { "ESC", "\x1b[2J", "\\u001b[2J" },
        { "overlong /", "\xc0\xaf", "\\\\xc0\\\\xaf" },
        { "overlong NUL", "\xc0\x80", "\\\\xc0\\\\x80" },
        { "overlong 3 bytes", "\xe0\x80\xaf", "\\\\xe0\\\\x80\\\\xaf" },
        { "overlong 4 bytes", "\xf0\x80\x80\xaf", "\\\\xf0\\\\x80\\\\x80\\\\xaf" },
        { "overlong C1 lead", "\xc1\xbf", "\\\\xc1\\\\xbf" },
        { "surrogate high", "\xed\xa0\x80", "\\\\xed\\\\xa0\\\\x80" },
        { "surrogate low", "\xed\xbf\xbf", "\\\\xed\\\\xbf\\\\xbf" },
        { "above U+10FFFF", "\xf4\x90\x80\x80", "\\\\xf4\\\\x90\\\\x80\\\\x80" },
        { "F5 lead", "\xf5\x80\x80\x80", "\\\\xf5\\\\x80\\\\x80\\\\x80" },
        { "FF",
          "a\xff"
          "b",
          "a\\\\xffb" },
        { "lone continuation",
          "a\x80"
          "b",
          "a\\\\x80b" },
        { "cut at the end", "ab\xe2\x82", "ab\\\\xe2\\\\x82" },
        { "cut before ASCII",
          "\xe2\x82"
          "c",
          "\\\\xe2\\\\x82c" },
        { "cut 4 bytes",
          "\xf0\x9d\x84"
          "x",
          "\\\\xf0\\\\x9d\\\\x84x" },
        { "cut, then valid", "\xc3\xc3\xa9", "\\\\xc3\xc3\xa9" },
        { "backslash x is not a byte", "\\xff", "\\\\xff" },
        { "quote", "a\"b", "a\\\"b" },
        { "newline", "x\ndecision=allow", "x\\ndecision=allow" },
};

START_TEST(json_utf8) {
        const struct utf8_case *c = &utf8_cases[_i];
        struct audit_record rec = unknown_record();
        char buf[4096], got[512];
        rec.requested = c->in;
        int n = audit_format_json(&rec, NULL, buf, sizeof buf);
        assert_json_line(buf, n);
        json_member(buf, "requested", got, sizeof got);
        ck_assert_msg(strcmp(got, c->json) == 0, "%s: '%s', expected '%s'", c->name, got, c->json);
}
END_TEST

/* Too small a buffer: -ENOBUFS, and not a byte written past it. */
START_TEST(json_nobufs) {
        struct audit_record rec = deny_record();
        static char buf[4096 + 64];
        int len = audit_format_json(&rec, "web-1", buf, 4096);
        ck_assert_int_gt(len, 0);
        for (size_t size = 0; size <= (size_t) len + 1; size++) {
                memset(buf, 0xa5, sizeof buf);
                int n = audit_format_json(&rec, "web-1", buf, size);
                if (size <= (size_t) len)
                        ck_assert_msg(n == -ENOBUFS, "size %zu: %d", size, n);
                else {
                        ck_assert_int_eq(n, len);
                        ck_assert_str_eq(buf, golden_deny);
                }
                for (size_t i = size; i < sizeof buf; i++)
                        if ((unsigned char) buf[i] != 0xa5)
                                ck_abort_msg("size %zu: byte %zu written", size, i);
        }
}
END_TEST

/* Arguments beyond the bounds are not shown, and the record says so. */
START_TEST(json_args_bounds) {
        static char big[AUDIT_ARG_BYTES * 2 + 1];
        const char *argv[AUDIT_ARGS_MAX + 10];
        memset(big, 'a', sizeof big - 1);
        for (size_t i = 0; i < ELEMENTSOF(argv); i++)
                argv[i] = "x";
        struct audit_record rec = unknown_record();
        static char buf[64 * 1024];
        rec.process.argv = argv;
        rec.process.argc = ELEMENTSOF(argv);
        int n = audit_format_json(&rec, NULL, buf, sizeof buf);
        assert_json_line(buf, n);
        char want[64];
        snprintf(want, sizeof want, "\"args_count\":%d", AUDIT_ARGS_MAX);
        ck_assert_ptr_nonnull(strstr(buf, want));
        ck_assert_ptr_nonnull(strstr(buf, "\"args_truncated\":true"));

        /* A caller that did not cut an argument: cut here. */
        argv[1] = big;
        rec.process.argc = 2;
        n = audit_format_json(&rec, NULL, buf, sizeof buf);
        assert_json_line(buf, n);
        ck_assert_ptr_nonnull(strstr(buf, "\"args_count\":2"));
        ck_assert_ptr_nonnull(strstr(buf, "\"args_truncated\":true"));
        ck_assert_uint_lt((size_t) n, AUDIT_ARG_BYTES + 1024);

        /* All of them together: AUDIT_ARGS_BYTES. */
        for (size_t i = 0; i < ELEMENTSOF(argv); i++)
                argv[i] = big + sizeof big - 1 - AUDIT_ARG_BYTES;
        rec.process.argc = ELEMENTSOF(argv);
        n = audit_format_json(&rec, NULL, buf, sizeof buf);
        assert_json_line(buf, n);
        snprintf(want, sizeof want, "\"args_count\":%d", AUDIT_ARGS_BYTES / AUDIT_ARG_BYTES);
        ck_assert_ptr_nonnull(strstr(buf, want));
}
END_TEST

/* ---- the sinks ---------------------------------------------------------------------- */

static char dir[TMPDIR_MAX];

static void setup(void) {
        tmpdir_make(dir, "eg-audit");
}

static void teardown(void) {
        tmpdir_remove(dir);
}

static void skip_or_fail(const char *why) {
        /* CI sets EXECGUARD_MUST_WORK: a test that cannot run there is a failure. */
        if (getenv("EXECGUARD_MUST_WORK"))
                ck_abort_msg("cannot run: %s", why);
        fprintf(stderr, "skipped: %s\n", why);
}

static void write_file(const char *path, const char *content) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ck_assert_msg(fd >= 0, "%s: %m", path);
        ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        close(fd);
}

/* The rest of this test (check forks each one) runs in a mount namespace of its own whose
 * /run and /dev are empty: no journald, no syslog, and the host's logs untouched. Root, or
 * an unprivileged user namespace. */
static bool private_run_and_dev(void) {
        uid_t uid = geteuid();
        gid_t gid = getegid();
        /* Without a process per test, the namespace would outlive this test. */
        const char *fork_mode = getenv("CK_FORK");
        if (fork_mode && strcmp(fork_mode, "no") == 0)
                return false;
        if (unshare(CLONE_NEWNS) < 0) {
                char map[64];
                if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                        return false;
                write_file("/proc/self/setgroups", "deny");
                snprintf(map, sizeof map, "%u %u 1", (unsigned) uid, (unsigned) uid);
                write_file("/proc/self/uid_map", map);
                snprintf(map, sizeof map, "%u %u 1", (unsigned) gid, (unsigned) gid);
                write_file("/proc/self/gid_map", map);
        }
        ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        ck_assert_int_eq(mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"), 0);
        ck_assert_int_eq(mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755"), 0);
        return true;
}

/* A datagram socket bound at path, standing in for journald or syslog. */
static int bind_sink(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        ck_assert_msg(bind(fd, (struct sockaddr *) &sa, sizeof sa) == 0, "bind %s: %m", path);
        return fd;
}

/* The next datagram, NUL-terminated; its length. */
static size_t receive(int fd, char *buf, size_t size) {
        ssize_t n = recv(fd, buf, size - 1, MSG_DONTWAIT);
        ck_assert_msg(n >= 0, "nothing received: %m");
        buf[n] = '\0';
        return (size_t) n;
}

static void assert_nothing_more(int fd) {
        char c;
        ck_assert_int_eq(recv(fd, &c, 1, MSG_DONTWAIT), -1);
        ck_assert_int_eq(errno, EAGAIN);
}

static void read_file(const char *path, char *buf, size_t size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ssize_t n = read(fd, buf, size - 1);
        ck_assert_int_ge(n, 0);
        ck_assert_uint_lt((size_t) n, size - 1);
        buf[n] = '\0';
        close(fd);
}

static void hostname(char *buf, size_t size) {
        memset(buf, 0, size);
        ck_assert_int_eq(gethostname(buf, size - 1), 0);
}

/* One line per record, each what audit_format_json() makes of it, appended to what the
 * file held. */
START_TEST(log_file_lines) {
        char path[PATH_MAX], host[HOST_NAME_MAX + 1], want[16384], line[4096];
        static char content[64 * 1024];
        struct audit *a = NULL;
        const char *warning = NULL;
        bool isolated = private_run_and_dev();

        snprintf(path, sizeof path, "%s/audit.json", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "old\n", 4), 4);
        close(fd);

        ck_assert_int_eq(audit_open(path, &a, &warning), 0);
        ck_assert_ptr_nonnull(a);
        if (isolated)
                ck_assert_str_eq(warning, "neither journald nor syslog (/dev/log) can be reached: audit records go "
                                          "only to the log_file");
        else
                fprintf(stderr, "no private /run and /dev: these records may reach the host's logs\n");

        hostname(host, sizeof host);
        strcpy(want, "old\n");
        struct audit_record recs[] = { deny_record(), allow_record(), unknown_record() };
        for (size_t i = 0; i < ELEMENTSOF(recs); i++) {
                recs[i].note = "execguard unit test";
                ck_assert_int_eq(audit_log(a, &recs[i]), 0);
                int n = audit_format_json(&recs[i], host, line, sizeof line);
                ck_assert_int_gt(n, 0);
                strcat(want, line);
        }
        audit_free(a);
        read_file(path, content, sizeof content);
        ck_assert_str_eq(content, want);

        /* Created 0640 when it is not there. */
        snprintf(path, sizeof path, "%s/new.json", dir);
        mode_t old = umask(022);
        ck_assert_int_eq(audit_open(path, &a, NULL), 0);
        umask(old);
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0640);
        ck_assert(S_ISREG(st.st_mode));

        /* Its fd is close-on-exec: the supervised tree never gets it. */
        bool found = false;
        for (int i = 0; i < 1024; i++) {
                char link[64], target[PATH_MAX];
                snprintf(link, sizeof link, "/proc/self/fd/%d", i);
                ssize_t n = readlink(link, target, sizeof target - 1);
                if (n < 0)
                        continue;
                target[n] = '\0';
                if (strcmp(target, path) == 0) {
                        found = true;
                        ck_assert_int_eq(fcntl(i, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
                        ck_assert_int_eq(fcntl(i, F_GETFL) & (O_APPEND | O_NONBLOCK | O_ACCMODE), O_APPEND | O_WRONLY);
                }
        }
        ck_assert(found);
        audit_free(a);
        audit_free(NULL);
}
END_TEST

/* Not through a symlink, and nothing but a regular file; nothing is returned then. */
START_TEST(log_file_refused) {
        char path[PATH_MAX], target[PATH_MAX], content[64];
        struct audit *a = (struct audit *) 0x1;
        const char *warning = "untouched";

        ck_assert_int_eq(audit_open(dir, &a, &warning), -EISDIR);

        snprintf(target, sizeof target, "%s/target", dir);
        snprintf(path, sizeof path, "%s/link", dir);
        int fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_int_eq(symlink(target, path), 0);
        ck_assert_int_eq(audit_open(path, &a, &warning), -ELOOP);
        /* A dangling one is not created through either. */
        snprintf(target, sizeof target, "%s/dangling-target", dir);
        snprintf(path, sizeof path, "%s/dangling", dir);
        ck_assert_int_eq(symlink(target, path), 0);
        ck_assert_int_eq(audit_open(path, &a, &warning), -ELOOP);
        ck_assert_int_eq(access(target, F_OK), -1);

        /* A FIFO: the open does not hang waiting for a reader, and with one it is still no
         * regular file. */
        snprintf(path, sizeof path, "%s/fifo", dir);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        ck_assert_int_lt(audit_open(path, &a, &warning), 0);
        int reader = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        ck_assert_int_ge(reader, 0);
        ck_assert_int_eq(audit_open(path, &a, &warning), -EINVAL);
        close(reader);

        /* A device. */
        ck_assert_int_eq(audit_open("/dev/null", &a, &warning), -EINVAL);

        /* A directory that is not there. */
        snprintf(path, sizeof path, "%s/none/audit.json", dir);
        ck_assert_int_eq(audit_open(path, &a, &warning), -ENOENT);

        ck_assert_ptr_eq(a, (struct audit *) 0x1);
        ck_assert_str_eq(warning, "untouched");
        snprintf(target, sizeof target, "%s/target", dir);
        read_file(target, content, sizeof content);
        ck_assert_str_eq(content, "");
}
END_TEST

/* A record blown up by a process (every string as long as a path can be, every byte
 * escaped sixfold) does not fit a JSON line as it is; its strings are cut and it is
 * logged all the same. */
START_TEST(log_file_huge_record) {
        static char huge[EG_PATH_MAX], content[128 * 1024], buf[64 * 1024];
        static const char *argv[AUDIT_ARGS_MAX];
        const char *chain[AUDIT_CHAIN_MAX];
        char path[PATH_MAX];
        struct audit *a;

        /* Away from the host's logs when it can be. */
        private_run_and_dev();
        memset(huge, '\x01', sizeof huge - 1);
        for (size_t i = 0; i < ELEMENTSOF(argv); i++)
                argv[i] = huge + sizeof huge - 1 - AUDIT_ARG_BYTES;
        for (size_t i = 0; i < ELEMENTSOF(chain); i++)
                chain[i] = huge;
        struct policy_rule rule = { .kind = POLICY_RULE_PATH, .text = huge, .scope = huge, .line = 1 };
        struct audit_record rec = {
                .decision = AUDIT_DENY,
                .mode = huge,
                .session = huge,
                .requested = huge,
                .executable = huge,
                .chain = chain,
                .chain_len = ELEMENTSOF(chain),
                .blocked = huge,
                .policy_source = huge,
                .rule = &rule,
                .note = huge,
                .process = { .pid = 1,
                             .ppid = 1,
                             .uid = 0,
                             .euid = 0,
                             .user = huge,
                             .euser = huge,
                             .tty = huge,
                             .cwd = huge,
                             .argv = argv,
                             .argc = ELEMENTSOF(argv) },
        };
        ck_assert_int_eq(audit_format_json(&rec, NULL, buf, sizeof buf), -ENOBUFS);

        snprintf(path, sizeof path, "%s/audit.json", dir);
        ck_assert_int_eq(audit_open(path, &a, NULL), 0);
        ck_assert_int_eq(audit_log(a, &rec), 0);
        audit_free(a);
        read_file(path, content, sizeof content);
        assert_json_line(content, (int) strlen(content));
        ck_assert_ptr_nonnull(strstr(content, "\"truncated\":true"));
        ck_assert_ptr_nonnull(strstr(content, "\"args_truncated\":true"));
        ck_assert_ptr_nonnull(strstr(content, "\"requested\":\"\\u0001\\u0001"));
}
END_TEST

/* Neither journald nor syslog: the audit still opens, and says where records go. */
START_TEST(no_sink_warning) {
        struct audit *a = NULL;
        const char *warning = NULL;
        if (!private_run_and_dev()) {
                skip_or_fail("no mount namespace");
                return;
        }
        ck_assert_int_eq(audit_open(NULL, &a, &warning), 0);
        ck_assert_str_eq(warning, "neither journald nor syslog (/dev/log) can be reached: audit records will be lost");
        audit_free(a);
        /* A socket nobody listens on any more counts as none. */
        close(bind_sink("/dev/log"));
        ck_assert_int_eq(audit_open(NULL, &a, &warning), 0);
        ck_assert_ptr_nonnull(warning);
        audit_free(a);
}
END_TEST

/* The fields of a native-protocol datagram (text form only: no value holds a newline),
 * CODE_FILE, CODE_LINE and CODE_FUNC left out, into one string: "A=1|B=2|". */
static void journal_fields(char *datagram, size_t len, char *out, size_t size) {
        out[0] = '\0';
        ck_assert_msg(len > 0 && datagram[len - 1] == '\n', "not a text-form entry");
        for (char *field = datagram, *nl; (nl = strchr(field, '\n')); field = nl + 1) {
                *nl = '\0';
                ck_assert_msg(strchr(field, '=') != NULL, "binary field: %s", field);
                if (strncmp(field, "CODE_", 5) == 0)
                        continue;
                ck_assert_uint_lt(strlen(out) + strlen(field) + 2, size);
                strcat(out, field);
                strcat(out, "|");
        }
}

START_TEST(journal_fields_sent) {
        static char datagram[128 * 1024], fields[128 * 1024], want[8192];
        char host[HOST_NAME_MAX + 1];
        struct audit *a = NULL;
        const char *warning = "unset";
        if (!private_run_and_dev()) {
                skip_or_fail("no mount namespace");
                return;
        }
        ck_assert_int_eq(mkdir("/run/systemd", 0755), 0);
        ck_assert_int_eq(mkdir("/run/systemd/journal", 0755), 0);
        int sink = bind_sink("/run/systemd/journal/socket");
        ck_assert_int_eq(audit_open(NULL, &a, &warning), 0);
        ck_assert_ptr_null(warning);
        hostname(host, sizeof host);

        struct audit_record rec = deny_record();
        ck_assert_int_eq(audit_log(a, &rec), 0);
        size_t n = receive(sink, datagram, sizeof datagram);
        journal_fields(datagram, n, fields, sizeof fields);
        snprintf(want, sizeof want,
                 "MESSAGE=execguard: deny /usr/bin/df (requested \"df\") by pid 4242 uid 1000 (alice) euid 0 (root): "
                 "blocked by /etc/execguard.ini:6 (path = /usr/bin/df)|"
                 "MESSAGE_ID=" AUDIT_MESSAGE_ID "|PRIORITY=4|SYSLOG_IDENTIFIER=execguard|SYSLOG_FACILITY=10|"
                 "EXECGUARD_DECISION=deny|EXECGUARD_MODE=enforce|EXECGUARD_SESSION=8c1f2a|EXECGUARD_PID=4242|"
                 "EXECGUARD_PPID=4200|EXECGUARD_UID=1000|EXECGUARD_EUID=0|EXECGUARD_USER=alice|EXECGUARD_EUSER=root|"
                 "EXECGUARD_TTY=pts/3|EXECGUARD_CWD=/home/alice|EXECGUARD_REQUESTED=df|"
                 "EXECGUARD_EXECUTABLE=/usr/bin/df|EXECGUARD_CHAIN=/usr/bin/df|"
                 "EXECGUARD_ARGV=\"df\" \"-h\" \"/home\" ...|EXECGUARD_BLOCKED=/usr/bin/df|"
                 "EXECGUARD_RULE=/etc/execguard.ini:6|EXECGUARD_RULE_TEXT=path = /usr/bin/df|"
                 "EXECGUARD_HOSTNAME=%s|",
                 host);
        ck_assert_str_eq(fields, want);

        /* Where the session came from and who logged in, after the session. */
        rec = origin_record();
        ck_assert_int_eq(audit_log(a, &rec), 0);
        n = receive(sink, datagram, sizeof datagram);
        journal_fields(datagram, n, fields, sizeof fields);
        ck_assert_msg(strstr(fields,
                             "|EXECGUARD_SESSION=8c1f2a|EXECGUARD_SOURCE_IP=2001:db8::7|"
                             "EXECGUARD_SOURCE_PORT=50022|EXECGUARD_AUDIT_UID=65534|EXECGUARD_AUDIT_USER=nobody|"
                             "EXECGUARD_AUDIT_SESSION=7|EXECGUARD_PID=4242|"),
                      "%s", fields);

        rec = allow_record();
        ck_assert_int_eq(audit_log(a, &rec), 0);
        n = receive(sink, datagram, sizeof datagram);
        journal_fields(datagram, n, fields, sizeof fields);
        ck_assert_ptr_nonnull(strstr(fields, "|PRIORITY=6|"));
        ck_assert_ptr_null(strstr(fields, "EXECGUARD_SOURCE"));
        ck_assert_ptr_null(strstr(fields, "EXECGUARD_AUDIT"));
        ck_assert_ptr_nonnull(strstr(fields, "|EXECGUARD_CHAIN=/usr/bin/du -> /lib64/ld-linux-x86-64.so.2|"));
        ck_assert_ptr_nonnull(strstr(fields, "|EXECGUARD_ARGV=\"du\" \"-s\" \"a b\"|"));
        ck_assert_ptr_nonnull(strstr(fields, "|EXECGUARD_RULE_TEXT=[user:alice] allow = /usr/bin/d*|"));
        ck_assert_ptr_null(strstr(fields, "EXECGUARD_TTY"));
        ck_assert_ptr_null(strstr(fields, "EXECGUARD_BLOCKED"));

        rec = unknown_record();
        rec.decision = AUDIT_WOULD_BLOCK;
        ck_assert_int_eq(audit_log(a, &rec), 0);
        n = receive(sink, datagram, sizeof datagram);
        journal_fields(datagram, n, fields, sizeof fields);
        snprintf(want, sizeof want,
                 "MESSAGE=execguard: audit|MESSAGE_ID=" AUDIT_MESSAGE_ID "|PRIORITY=5|SYSLOG_IDENTIFIER=execguard|"
                 "SYSLOG_FACILITY=10|EXECGUARD_DECISION=audit|EXECGUARD_HOSTNAME=%s|",
                 host);
        ck_assert_str_eq(fields, want);

        rec = lost_record();
        ck_assert_int_eq(audit_log(a, &rec), 0);
        n = receive(sink, datagram, sizeof datagram);
        journal_fields(datagram, n, fields, sizeof fields);
        snprintf(want, sizeof want,
                 "MESSAGE=execguard: the supervisor of session 8c1f2a (pid 4300) was lost (killed by signal 9): "
                 "execs in this session now fail|MESSAGE_ID=" AUDIT_MESSAGE_ID_SUPERVISOR_LOST "|PRIORITY=3|"
                 "SYSLOG_IDENTIFIER=execguard|SYSLOG_FACILITY=10|EXECGUARD_DECISION=supervisor-lost|"
                 "EXECGUARD_MODE=enforce|EXECGUARD_SESSION=8c1f2a|EXECGUARD_PID=4300|EXECGUARD_PPID=4299|"
                 "EXECGUARD_UID=1000|EXECGUARD_EUID=1000|EXECGUARD_NOTE=killed by signal 9|EXECGUARD_HOSTNAME=%s|",
                 host);
        ck_assert_str_eq(fields, want);

        rec = degraded_record();
        ck_assert_int_eq(audit_log(a, &rec), 0);
        n = receive(sink, datagram, sizeof datagram);
        journal_fields(datagram, n, fields, sizeof fields);
        ck_assert_ptr_nonnull(strstr(fields, "|MESSAGE_ID=" AUDIT_MESSAGE_ID_SESSION_DEGRADED "|PRIORITY=4|"));
        ck_assert_ptr_nonnull(strstr(fields, "|EXECGUARD_DECISION=session-degraded|"));
        ck_assert_ptr_nonnull(
                strstr(fields, "|EXECGUARD_DEGRADED=no_new_privs forced; log_file not written (Permission denied)|"));

        /* Every byte, in every field: the controls, backslash and quote escaped, and what is
         * not UTF-8 too (0x80-0xff in order is never well-formed), else journalctl would
         * show the entry as "blob data". */
        char all[256], escaped[2048], field[2100];
        for (int i = 1; i < 256; i++)
                all[i - 1] = (char) i;
        all[255] = '\0';
        value_oracle(all, escaped);
        const char *argv[] = { all, "b c" };
        rec = deny_record();
        rec.requested = rec.blocked = rec.process.cwd = rec.process.user = all;
        rec.process.argv = argv;
        rec.process.argc = 2;
        rec.process.argv_truncated = false;
        ck_assert_int_eq(audit_log(a, &rec), 0);
        n = receive(sink, datagram, sizeof datagram);
        for (size_t i = 0; i < n - 1; i++)
                if ((unsigned char) datagram[i] < 0x20 && datagram[i] != '\n')
                        ck_abort_msg("raw %#x", datagram[i]);
        ck_assert(utf8_valid(datagram, n));
        journal_fields(datagram, n, fields, sizeof fields);
        const char *names[] = { "EXECGUARD_REQUESTED", "EXECGUARD_BLOCKED", "EXECGUARD_CWD" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                snprintf(field, sizeof field, "|%s=%s|", names[i], escaped);
                ck_assert_msg(strstr(fields, field), "no %s", field);
        }
        /* A user name has a smaller bound: cut, and it says so. */
        const char *user = strstr(fields, "|EXECGUARD_USER=");
        ck_assert_ptr_nonnull(user);
        user += strlen("|EXECGUARD_USER=");
        const char *after = strstr(user, "|EXECGUARD_EUSER=");
        ck_assert_ptr_nonnull(after);
        size_t user_len = (size_t) (after - user);
        ck_assert_uint_lt(user_len, 512);
        ck_assert_int_eq(strncmp(user, escaped, user_len - 3), 0);
        ck_assert_int_eq(strncmp(user + user_len - 3, "...", 3), 0);
        snprintf(field, sizeof field, "|EXECGUARD_ARGV=\"%s\" \"b c\"|", escaped);
        ck_assert_msg(strstr(fields, field), "no %s in %s", field, fields);

        /* Well-formed UTF-8 is kept, C1 controls are not. */
        rec.requested = "/tmp/caf\xc3\xa9 \xe2\x82\xac\xc2\x9b"
                        "1m\xed\xa0\x80";
        ck_assert_int_eq(audit_log(a, &rec), 0);
        n = receive(sink, datagram, sizeof datagram);
        journal_fields(datagram, n, fields, sizeof fields);
        ck_assert_ptr_nonnull(
                strstr(fields, "|EXECGUARD_REQUESTED=/tmp/caf\xc3\xa9 \xe2\x82\xac\\xc2\\x9b1m\\xed\\xa0\\x80|"));
        assert_nothing_more(sink);

        /* journald gone: the record goes to syslog, and the caller hears of it. */
        close(sink);
        int syslog_sink = bind_sink("/dev/log");
        rec = deny_record();
        ck_assert_int_lt(audit_log(a, &rec), 0);
        receive(syslog_sink, datagram, sizeof datagram);
        ck_assert_msg(strstr(datagram, "]: decision=deny pid=4242 uid=1000 requested=\"df\""), "%s", datagram);
        audit_free(a);
        close(syslog_sink);
}
END_TEST

/* The syslog line after "<PRI>TIMESTAMP execguard[PID]: ", and its priority. */
static const char *syslog_line(char *datagram, int *ret_priority) {
        ck_assert_int_eq(sscanf(datagram, "<%d>", ret_priority), 1);
        const char *p = strstr(datagram, "execguard[");
        ck_assert_ptr_nonnull(p);
        p = strstr(p, "]: ");
        ck_assert_ptr_nonnull(p);
        return p + 3;
}

START_TEST(syslog_line_sent) {
        static char datagram[128 * 1024];
        struct audit *a = NULL;
        const char *warning = "unset";
        int priority;
        if (!private_run_and_dev()) {
                skip_or_fail("no mount namespace");
                return;
        }
        int sink = bind_sink("/dev/log");
        ck_assert_int_eq(audit_open(NULL, &a, &warning), 0);
        ck_assert_ptr_null(warning);

        /* The beginning is what scripts have always read. */
        struct audit_record rec = deny_record();
        ck_assert_int_eq(audit_log(a, &rec), 0);
        receive(sink, datagram, sizeof datagram);
        ck_assert_str_eq(syslog_line(datagram, &priority),
                         "decision=deny pid=4242 uid=1000 requested=\"df\" blocked=\"/usr/bin/df\" "
                         "rule=\"/etc/execguard.ini:6\" match=\"/usr/bin/df\" session=\"8c1f2a\" ppid=\"4200\" "
                         "euid=\"0\" user=\"alice\" euser=\"root\" tty=\"pts/3\" cwd=\"/home/alice\" "
                         "executable=\"/usr/bin/df\" chain=\"/usr/bin/df\" argv=\"df -h /home ...\" mode=\"enforce\"");
        ck_assert_int_eq(priority, LOG_AUTHPRIV | LOG_WARNING);

        rec = origin_record();
        ck_assert_int_eq(audit_log(a, &rec), 0);
        receive(sink, datagram, sizeof datagram);
        ck_assert_str_eq(syslog_line(datagram, &priority),
                         "decision=deny pid=4242 uid=1000 requested=\"df\" blocked=\"/usr/bin/df\" "
                         "rule=\"/etc/execguard.ini:6\" match=\"/usr/bin/df\" session=\"8c1f2a\" "
                         "source_ip=\"2001:db8::7\" source_port=\"50022\" auid=\"65534\" auser=\"nobody\" "
                         "audit_session=\"7\" ppid=\"4200\" "
                         "euid=\"0\" user=\"alice\" euser=\"root\" tty=\"pts/3\" cwd=\"/home/alice\" "
                         "executable=\"/usr/bin/df\" chain=\"/usr/bin/df\" argv=\"df -h /home ...\" mode=\"enforce\"");

        /* Empty is not known either: left out, never key="". */
        rec = deny_record();
        rec.requested = "";
        rec.process.user = "";
        rec.process.argc = 0;
        rec.process.argv_truncated = false;
        ck_assert_int_eq(audit_log(a, &rec), 0);
        receive(sink, datagram, sizeof datagram);
        ck_assert_str_eq(syslog_line(datagram, &priority),
                         "decision=deny pid=4242 uid=1000 blocked=\"/usr/bin/df\" "
                         "rule=\"/etc/execguard.ini:6\" match=\"/usr/bin/df\" session=\"8c1f2a\" ppid=\"4200\" "
                         "euid=\"0\" euser=\"root\" tty=\"pts/3\" cwd=\"/home/alice\" "
                         "executable=\"/usr/bin/df\" chain=\"/usr/bin/df\" mode=\"enforce\"");

        rec = allow_record();
        ck_assert_int_eq(audit_log(a, &rec), 0);
        receive(sink, datagram, sizeof datagram);
        ck_assert_str_eq(syslog_line(datagram, &priority),
                         "decision=allow pid=4243 uid=1000 requested=\"/usr/bin/du\" "
                         "rule=\"/etc/execguard.ini:11\" match=\"/usr/bin/d*\" session=\"8c1f2a\" ppid=\"1\" "
                         "euid=\"1000\" user=\"alice\" euser=\"alice\" cwd=\"/\" executable=\"/usr/bin/du\" "
                         "chain=\"/usr/bin/du -> /lib64/ld-linux-x86-64.so.2\" argv=\"du -s a\\x20b\" mode=\"audit\"");
        ck_assert_int_eq(priority, LOG_AUTHPRIV | LOG_INFO);

        rec = unknown_record();
        rec.decision = AUDIT_WOULD_BLOCK;
        rec.note = "exec changed after it was approved";
        ck_assert_int_eq(audit_log(a, &rec), 0);
        receive(sink, datagram, sizeof datagram);
        ck_assert_str_eq(syslog_line(datagram, &priority), "decision=audit pid=-1 uid=4294967295 "
                                                           "note=\"exec changed after it was approved\"");
        ck_assert_int_eq(priority, LOG_AUTHPRIV | LOG_NOTICE);

        /* A lost supervisor: the same beginning, at error priority. */
        rec = lost_record();
        ck_assert_int_eq(audit_log(a, &rec), 0);
        receive(sink, datagram, sizeof datagram);
        ck_assert_str_eq(syslog_line(datagram, &priority),
                         "decision=supervisor-lost pid=4300 uid=1000 "
                         "note=\"killed by signal 9\" session=\"8c1f2a\" ppid=\"4299\" euid=\"1000\" mode=\"enforce\"");
        ck_assert_int_eq(priority, LOG_AUTHPRIV | LOG_ERR);

        /* A newline in a file name cannot start a record of its own. */
        rec = deny_record();
        rec.requested = "x\ndecision=allow y";
        ck_assert_int_eq(audit_log(a, &rec), 0);
        receive(sink, datagram, sizeof datagram);
        ck_assert_ptr_null(strchr(datagram, '\n'));
        ck_assert_ptr_nonnull(strstr(datagram, " requested=\"x\\x0adecision=allow y\" "));

        /* As long as a process can make it: still one datagram, bounded, argv cut, and the
         * last pair still there. */
        static char huge[EG_PATH_MAX];
        static const char *argv[AUDIT_ARGS_MAX];
        const char *chain[AUDIT_CHAIN_MAX];
        memset(huge, '\x01', sizeof huge - 1);
        for (size_t i = 0; i < ELEMENTSOF(argv); i++)
                argv[i] = huge + sizeof huge - 1 - AUDIT_ARG_BYTES;
        for (size_t i = 0; i < ELEMENTSOF(chain); i++)
                chain[i] = huge;
        rec.process.argv = argv;
        rec.process.argc = ELEMENTSOF(argv);
        rec.chain = chain;
        rec.chain_len = ELEMENTSOF(chain);
        rec.blocked = rec.executable = rec.process.cwd = rec.process.user = rec.process.euser = huge;
        ck_assert_int_eq(audit_log(a, &rec), 0);
        size_t n = receive(sink, datagram, sizeof datagram);
        assert_nothing_more(sink);
        ck_assert_uint_le(n, 32 * 1024 + 64);
        ck_assert_uint_gt(n, 31 * 1024);
        const char *line = syslog_line(datagram, &priority);
        ck_assert_ptr_nonnull(strstr(line, "decision=deny pid=4242 uid=1000 requested=\"x\\x0adecision=allow y\" "));
        ck_assert_ptr_nonnull(strstr(line, " argv=\"\\x01\\x01"));
        const char *tail = "...\" mode=\"enforce\"";
        ck_assert_msg(strlen(line) > strlen(tail) && strcmp(line + strlen(line) - strlen(tail), tail) == 0, "%s",
                      line + strlen(line) - 40);
        for (const char *p = line; *p; p++)
                if ((unsigned char) *p < 0x20)
                        ck_abort_msg("raw %#x", *p);
        audit_free(a);
        close(sink);
}
END_TEST

Suite *audit_suite(void) {
        Suite *s = suite_create("audit");
        TCase *tc = tcase_create("escape");
        tcase_add_test(tc, decision_names);
        suite_add_tcase(s, tc);

        tc = tcase_create("json");
        tcase_add_test(tc, json_golden_deny);
        tcase_add_test(tc, json_file_operation);
        tcase_add_test(tc, json_golden_allow);
        tcase_add_test(tc, json_golden_origin);
        tcase_add_test(tc, ssh_connection);
        tcase_add_test(tc, json_golden_lost);
        tcase_add_test(tc, json_golden_degraded);
        tcase_add_test(tc, json_unknown);
        tcase_add_test(tc, json_time_now);
        tcase_add_test(tc, json_every_byte);
        tcase_add_loop_test(tc, json_utf8, 0, (int) ELEMENTSOF(utf8_cases));
        tcase_add_test(tc, json_nobufs);
        tcase_add_test(tc, json_args_bounds);
        suite_add_tcase(s, tc);

        tc = tcase_create("sinks");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, log_file_lines);
        tcase_add_test(tc, log_file_refused);
        tcase_add_test(tc, log_file_huge_record);
        tcase_add_test(tc, no_sink_warning);
        tcase_add_test(tc, journal_fields_sent);
        tcase_add_test(tc, syslog_line_sent);
        suite_add_tcase(s, tc);
        return s;
}
