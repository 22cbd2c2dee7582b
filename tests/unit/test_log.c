/* Diagnostics: a path a process chose, quoted in a message, can never forge a line of the
 * log nor act on the reader's terminal (log_escape(), and log_full_errno() that uses it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
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
        { "newline", "a\nexecguard: FORGED", 64, "a\\x0aexecguard: FORGED" },
        { "carriage return", "a\rb", 64, "a\\x0db" },
        { "ESC [", "a\x1b[31mb", 64, "a\\x1b[31mb" },
        { "DEL",
          "a\x7f"
          "b",
          64, "a\\x7fb" },
        { "backslash", "a\\b", 64, "a\\x5cb" },
        { "already escaped", "\\x0a", 64, "\\x5cx0a" },
        { "quote kept", "a'b\"c", 64, "a'b\"c" },
        /* C1 controls in UTF-8 (U+0080-U+009F): NEL, and CSI, which a terminal takes for ESC [. */
        { "C1 NEL as UTF-8",
          "a\xc2\x85"
          "b",
          64, "a\\xc2\\x85b" },
        { "C1 CSI as UTF-8",
          "\xc2\x9b"
          "31m",
          64, "\\xc2\\x9b31m" },
        { "C1 bare (8-bit CSI)",
          "\x9b"
          "31m",
          64, "\\x9b31m" },
        { "invalid byte",
          "a\xff"
          "b",
          64, "a\\xffb" },
        { "cut sequence at the end", "a\xc3", 64, "a\\xc3" },
        { "overlong /", "\xc0\xaf", 64, "\\xc0\\xaf" },
        { "overlong 3 bytes", "\xe0\x80\xaf", 64, "\\xe0\\x80\\xaf" },
        { "surrogate", "\xed\xa0\x80", 64, "\\xed\\xa0\\x80" },
        { "beyond U+10FFFF", "\xf4\x90\x80\x80", 64, "\\xf4\\x90\\x80\\x80" },
        /* Well-formed UTF-8 that is not a control is kept. */
        { "e acute kept", "/tmp/\xc3\xa9t\xc3\xa9", 64, "/tmp/\xc3\xa9t\xc3\xa9" },
        { "U+00A0 kept (first after C1)", "\xc2\xa0", 64, "\xc2\xa0" },
        { "euro kept", "\xe2\x82\xac", 64, "\xe2\x82\xac" },
        { "U+1F600 kept", "\xf0\x9f\x98\x80", 64, "\xf0\x9f\x98\x80" },
        /* Truncation: "..." marks it, and neither an escape nor a UTF-8 character is cut. */
        { "truncated", "abcdefghijklmnop", 8, "abcd..." },
        { "truncated before an escape", "abc\ndefghijk", 10, "abc..." },
        { "truncated before UTF-8", "ab\xc3\xa9\xc3\xa9\xc3\xa9", 8, "ab\xc3\xa9..." },
        { "size 4", "abcdef", 4, "..." },
        { "size 1", "abc", 1, "" },
        { "fits exactly", "abcdefg", 8, "abcdefg" },
        { "escape fits exactly", "ab\n", 7, "ab\\x0a" },
        { "UTF-8 fits exactly", "ab\xc3\xa9", 5, "ab\xc3\xa9" },
};

START_TEST(escape) {
        const struct escape_case *c = &cases[_i];
        char out[128];
        memset(out, 'Z', sizeof out);
        ck_assert_uint_le(c->size, sizeof out);
        log_escape(c->in, out, c->size);
        ck_assert_msg(memchr(out, '\0', c->size) != NULL, "%s: not terminated within %zu bytes", c->name, c->size);
        ck_assert_msg(strcmp(out, c->out) == 0, "%s: '%s', expected '%s'", c->name, out, c->out);
        ck_assert_msg(c->size == sizeof out || out[c->size] == 'Z', "%s: wrote past %zu bytes", c->name, c->size);
}
END_TEST

/* Every byte 0x01-0xff, alone: only printable ASCII but the backslash is kept, all else is
 * \xNN (a lone byte >= 0x80 is never well-formed UTF-8). */
START_TEST(every_byte) {
        for (int i = 1; i < 256; i++) {
                char in[2] = { (char) i, '\0' }, out[16], want[16];
                log_escape(in, out, sizeof out);
                if (i >= 0x20 && i < 0x7f && i != '\\')
                        snprintf(want, sizeof want, "%c", i);
                else
                        snprintf(want, sizeof want, "\\x%02x", (unsigned) i);
                ck_assert_msg(strcmp(out, want) == 0, "byte %#x: '%s', expected '%s'", (unsigned) i, out, want);
        }
}
END_TEST

/* log_full_errno(), to stderr: one line, escaped, with %m of the error given. */
static char *captured_line(void (*say)(void)) {
        FILE *f = tmpfile();
        ck_assert_ptr_nonnull(f);
        fflush(stderr);
        int saved = dup(STDERR_FILENO);
        ck_assert_int_ge(saved, 0);
        ck_assert_int_ge(dup2(fileno(f), STDERR_FILENO), 0);
        say();
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        static char buf[1024];
        rewind(f);
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static void say_forged(void) {
        log_warning("Cannot verify the exec of '%s' by %d", "/tmp/x\nexecguard: FORGED \x1b[31m\xc2\x9b", 42);
}

static void say_errno(void) {
        log_error_errno(-ENOENT, "%s: %m", "/tmp/a\\b\x9b");
}

START_TEST(message_escaped) {
        log_set_target(LOG_TARGET_STDERR);
        ck_assert_str_eq(
                captured_line(say_forged),
                "execguard: Cannot verify the exec of '/tmp/x\\x0aexecguard: FORGED \\x1b[31m\\xc2\\x9b' by 42\n");
        ck_assert_str_eq(captured_line(say_errno), "execguard: /tmp/a\\x5cb\\x9b: No such file or directory\n");
}
END_TEST

Suite *log_suite(void) {
        Suite *s = suite_create("log");
        TCase *tc = tcase_create("escape");
        tcase_add_loop_test(tc, escape, 0, (int) ELEMENTSOF(cases));
        tcase_add_test(tc, every_byte);
        tcase_add_test(tc, message_escaped);
        suite_add_tcase(s, tc);
        return s;
}
