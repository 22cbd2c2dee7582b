/* shebang_parse() against the kernel's fs/binfmt_script.c: the buffer is always
 * EG_SHEBANG_BUF (BINPRM_BUF_SIZE) bytes, zero-filled past the file's content, as the
 * kernel's bprm->buf is. The kernel scans buf[2] up to and including buf[255] for the
 * interpreter's terminator, and never makes buf[255] part of the name. */
#include <errno.h>
#include <string.h>

#include "shebang.h"
#include "tests.h"
#include "util.h"

struct shebang_case {
        const char *name;
        const char *content; /* the file's first bytes; NULL: built by fill_case() */
        size_t len;          /* 0: strlen(content) */
        int r;
        const char *interp; /* when r == 0 */
        size_t size;        /* output buffer size; 0: EG_PATH_MAX */
        const char *arg;    /* the optional argument when r == 0; NULL: none */
};

/* Cases whose content does not fit a string literal comfortably. */
enum {
        FILL_TRUNCATED = 1, /* "#!/" and name bytes to the very end: no terminator */
        FILL_SPACE_AT_200,  /* name, a space at byte 200, then an argument to the end */
        FILL_NUL_AT_255,    /* a 255-byte file: name through byte 254, zero fill at 255 */
        FILL_SPACE_AT_255,  /* a 256-byte file: name through byte 254, a space at 255 */
        FILL_TAB_AT_255,    /* the same with a tab */
        FILL_SPACES_ONLY,   /* "#!" and 254 spaces */
        FILL_LONG_NEWLINE,  /* name through byte 254, newline at 255 */
};

static const struct shebang_case cases[] = {
        { "plain", "#!/bin/sh\n", 0, 0, "/bin/sh", 0, NULL },
        { "space and argument", "#! /bin/sh -x\n", 0, 0, "/bin/sh", 0, "-x" },
        { "tabs", "#!\t/bin/sh\t-x\t\n", 0, 0, "/bin/sh", 0, "-x" },
        { "spaces and tabs", "#! \t /usr/bin/env \t python3 -u \n", 0, 0, "/usr/bin/env", 0, "python3 -u" },
        { "trailing spaces trimmed", "#!/bin/sh   \n", 0, 0, "/bin/sh", 0, NULL },
        { "trailing tabs and spaces", "#!/bin/sh \t \t\n", 0, 0, "/bin/sh", 0, NULL },
        { "no newline, zero fill", "#!/bin/sh", 0, 0, "/bin/sh", 0, NULL },
        { "no newline, argument", "#!/bin/sh -e", 0, 0, "/bin/sh", 0, "-e" },
        { "no newline, trailing space", "#!/bin/sh ", 0, 0, "/bin/sh", 0, "" },
        { "relative interpreter", "#!interp\n", 0, 0, "interp", 0, NULL },
        { "script body follows", "#!/bin/sh\necho hello\nexit 0\n", 0, 0, "/bin/sh", 0, NULL },
        { "CR is part of the name", "#!/bin/sh\r\n", 0, 0, "/bin/sh\r", 0, NULL },
        { "NUL ends the name", "#!/bin/s\0h\n", sizeof "#!/bin/s\0h\n" - 1, 0, "/bin/s", 0, NULL },
        { "argument keeps inner blanks", "#!/bin/sh  a b  \n", 0, 0, "/bin/sh", 0, "a b" },
        { "NUL starts the argument", "#!/bin/sh \0x\n", sizeof "#!/bin/sh \0x\n" - 1, 0, "/bin/sh", 0, "" },
        { "NUL ends the argument", "#!/bin/sh -a\0b\n", sizeof "#!/bin/sh -a\0b\n" - 1, 0, "/bin/sh", 0, "-a" },
        { "only the first line", "#!/bin/sh\n#!/bin/bash\n", 0, 0, "/bin/sh", 0, NULL },
        /* No interpreter. */
        { "empty #! line", "#!\n", 0, -ENOEXEC, NULL, 0, NULL },
        { "blank #! line", "#!   \n", 0, -ENOEXEC, NULL, 0, NULL },
        { "tab #! line", "#!\t\n", 0, -ENOEXEC, NULL, 0, NULL },
        { "newline before the name", "#!\n/bin/sh\n", 0, -ENOEXEC, NULL, 0, NULL },
        { "only spaces to the end", NULL, FILL_SPACES_ONLY, -ENOEXEC, NULL, 0, NULL },
        /* Not a script. */
        { "ELF",
          "\x7f"
          "ELF\x02\x01\x01",
          0, -ENOEXEC, NULL, 0, NULL },
        { "empty", "", 0, -ENOEXEC, NULL, 0, NULL },
        { "one #", "#", 0, -ENOEXEC, NULL, 0, NULL },
        { "# comment", "# !/bin/sh\n", 0, -ENOEXEC, NULL, 0, NULL },
        { "!#", "!#/bin/sh\n", 0, -ENOEXEC, NULL, 0, NULL },
        { "leading space", " #!/bin/sh\n", 0, -ENOEXEC, NULL, 0, NULL },
        { "BOM", "\xef\xbb\xbf#!/bin/sh\n", 0, -ENOEXEC, NULL, 0, NULL },
        /* The end of the buffer. */
        { "truncated name", NULL, FILL_TRUNCATED, -ENOEXEC, NULL, 0, NULL },
        { "long name, space before byte 255", NULL, FILL_SPACE_AT_200, 0, NULL, 0,
          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" },
        { "long name, zero fill at byte 255", NULL, FILL_NUL_AT_255, 0, NULL, 0, NULL },
        { "long name, space at byte 255", NULL, FILL_SPACE_AT_255, 0, NULL, 0, NULL },
        { "long name, tab at byte 255", NULL, FILL_TAB_AT_255, 0, NULL, 0, NULL },
        { "long name, newline at byte 255", NULL, FILL_LONG_NEWLINE, 0, NULL, 0, NULL },
        /* The output buffer. */
        { "name longer than buffer", "#!/bin/bash\n", 0, -ENAMETOOLONG, NULL, 9, NULL },
        { "name just fits", "#!/bin/bash\n", 0, 0, "/bin/bash", 10, NULL },
        { "name one too long", "#!/bin/bash\n", 0, -ENAMETOOLONG, NULL, 10 - 1, NULL },
        { "tiny buffer", "#!/bin/sh\n", 0, -ENAMETOOLONG, NULL, 1, NULL },
};

/* Build the buffer for a case; expected_interp receives the expected name for the fill
 * cases that succeed. */
static void fill_case(const struct shebang_case *c, char buf[EG_SHEBANG_BUF], char expected[EG_SHEBANG_BUF]) {
        memset(buf, 0, EG_SHEBANG_BUF);
        expected[0] = '\0';
        if (c->content) {
                size_t len = c->len ? c->len : strlen(c->content);
                ck_assert_uint_le(len, EG_SHEBANG_BUF);
                memcpy(buf, c->content, len);
                if (c->interp)
                        strcpy(expected, c->interp);
                return;
        }

        /* "#!/aaaa..." with the name running through byte 254. */
        memcpy(buf, "#!/", 3);
        memset(buf + 3, 'a', EG_SHEBANG_BUF - 1 - 3);
        buf[EG_SHEBANG_BUF - 1] = '\0';
        strcpy(expected, buf + 2); /* bytes 2..254: 253 of them */

        switch (c->len) {
        case FILL_TRUNCATED:
                buf[EG_SHEBANG_BUF - 1] = 'a';
                break;
        case FILL_SPACE_AT_200:
                buf[200] = ' ';
                memset(buf + 201, 'x', EG_SHEBANG_BUF - 201);
                expected[200 - 2] = '\0';
                break;
        case FILL_NUL_AT_255:
                break;
        case FILL_SPACE_AT_255:
                buf[EG_SHEBANG_BUF - 1] = ' ';
                break;
        case FILL_TAB_AT_255:
                buf[EG_SHEBANG_BUF - 1] = '\t';
                break;
        case FILL_SPACES_ONLY:
                memset(buf + 2, ' ', EG_SHEBANG_BUF - 2);
                expected[0] = '\0';
                break;
        case FILL_LONG_NEWLINE:
                buf[EG_SHEBANG_BUF - 1] = '\n';
                break;
        default:
                ck_abort_msg("bad fill case");
        }
}

START_TEST(parse) {
        const struct shebang_case *c = &cases[_i];
        char buf[EG_SHEBANG_BUF], expected[EG_SHEBANG_BUF];
        char out[EG_PATH_MAX], arg[EG_SHEBANG_BUF];

        fill_case(c, buf, expected);
        size_t size = c->size ? c->size : sizeof out;
        memset(out, 'Z', sizeof out);
        memset(arg, 'Z', sizeof arg);
        int r = shebang_parse(buf, out, size, arg);
        int expected_r = c->r == 0 && c->arg ? 1 : c->r;
        ck_assert_msg(r == expected_r, "%s: r=%d (%s), expected %d (%s)", c->name, r, strerror(-r), expected_r,
                      strerror(-expected_r));
        if (r >= 0) {
                ck_assert_msg(strlen(out) < size, "%s: result overruns the buffer", c->name);
                ck_assert_msg(strcmp(out, expected) == 0, "%s: interpreter '%s', expected '%s'", c->name, out,
                              expected);
                if (c->arg)
                        ck_assert_msg(strcmp(arg, c->arg) == 0, "%s: argument '%s', expected '%s'", c->name, arg,
                                      c->arg);
                else
                        ck_assert_msg(arg[0] == 'Z', "%s: argument written where there is none", c->name);
        } else
                /* Outputs are written only on success. */
                ck_assert_msg(out[0] == 'Z', "%s: output written on failure", c->name);
        /* Never a byte past size. */
        ck_assert_msg(size == sizeof out || out[size] == 'Z', "%s: wrote past the output buffer", c->name);
}
END_TEST

Suite *shebang_suite(void) {
        Suite *s = suite_create("shebang");
        TCase *tc = tcase_create("parse");
        tcase_add_loop_test(tc, parse, 0, (int) ELEMENTSOF(cases));
        suite_add_tcase(s, tc);
        return s;
}
