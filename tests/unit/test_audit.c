/* audit_escape(): what a process controls can never forge or break a record. */
#include <string.h>

#include "audit.h"
#include "tests.h"
#include "util.h"

struct escape_case {
        const char *name;
        const char *in;
        size_t size;
        const char *out;
};

static const struct escape_case cases[] = {
        { "plain", "/usr/bin/df", 64, "/usr/bin/df" },
        { "empty", "", 64, "" },
        { "spaces kept", "/tmp/a b", 64, "/tmp/a b" },
        { "newline", "/tmp/a\nb", 64, "/tmp/a\\x0ab" },
        { "forged record", "x\ndecision=allow", 64, "x\\x0adecision=allow" },
        { "carriage return", "a\rb", 64, "a\\x0db" },
        { "tab", "a\tb", 64, "a\\x09b" },
        { "escape", "a\x1b[31mb", 64, "a\\x1b[31mb" },
        { "0x01", "\x01", 64, "\\x01" },
        { "0x1f", "\x1f", 64, "\\x1f" },
        { "quote", "a\"b", 64, "a\\x22b" },
        { "backslash", "a\\b", 64, "a\\x5cb" },
        { "already escaped", "\\x0a", 64, "\\x5cx0a" },
        { "DEL",
          "a\x7f"
          "b",
          64, "a\\x7fb" },
        { "UTF-8 kept", "/tmp/\xc3\xa9", 64, "/tmp/\xc3\xa9" },
        /* Truncation: "..." marks it, and an escape is never cut in half. */
        { "truncated", "abcdefghijklmnop", 8, "abcd..." },
        { "truncated before escape", "abc\ndefghijk", 10, "abc..." },
        { "size 4", "abcdef", 4, "..." },
        { "size 1", "abc", 1, "" },
        /* What fits is not truncated. */
        { "fits exactly", "abcdefg", 8, "abcdefg" },
        { "fits with room", "abcdef", 8, "abcdef" },
        { "escape fits exactly", "ab\n", 7, "ab\\x0a" },
};

START_TEST(escape) {
        const struct escape_case *c = &cases[_i];
        char out[128];
        memset(out, 'Z', sizeof out);
        ck_assert_uint_le(c->size, sizeof out);
        audit_escape(c->in, out, c->size);
        ck_assert_msg(memchr(out, '\0', c->size) != NULL, "%s: not terminated within %zu bytes", c->name, c->size);
        ck_assert_msg(strcmp(out, c->out) == 0, "%s: '%s', expected '%s'", c->name, out, c->out);
        ck_assert_msg(c->size == sizeof out || out[c->size] == 'Z', "%s: wrote past %zu bytes", c->name, c->size);
}
END_TEST

/* No control byte survives, whatever the input. */
START_TEST(no_control_bytes) {
        char in[256], out[1024];
        for (int i = 1; i < 256; i++)
                in[i - 1] = (char) i;
        in[255] = '\0';
        audit_escape(in, out, sizeof out);
        ck_assert_uint_eq(strlen(out), 255 + 3 * (0x1f + 3)); /* 0x01-0x1f, '"', '\\', DEL */
        for (const unsigned char *s = (const unsigned char *) out; *s; s++)
                ck_assert_msg(*s >= 0x20 && *s != 0x7f && *s != '"', "byte %#x in output", *s);
}
END_TEST

START_TEST(decision_names) {
        ck_assert_str_eq(audit_decision_to_string(AUDIT_DENY), "deny");
        ck_assert_str_eq(audit_decision_to_string(AUDIT_KILL), "kill");
        ck_assert_str_eq(audit_decision_to_string(AUDIT_WOULD_BLOCK), "audit");
}
END_TEST

Suite *audit_suite(void) {
        Suite *s = suite_create("audit");
        TCase *tc = tcase_create("escape");
        tcase_add_loop_test(tc, escape, 0, (int) ELEMENTSOF(cases));
        tcase_add_test(tc, no_control_bytes);
        tcase_add_test(tc, decision_names);
        suite_add_tcase(s, tc);
        return s;
}
