/* The lines of an INI file as the policy is written: "[section]" headers, "key = value"
 * pairs, comments and blank lines. Our own, not a library's: inih's lines end at 198 bytes
 * (a command rule with many arguments does not fit) and it reads an indented line as the
 * continuation of the value before, neither of which an administrator expects. */
#pragma once

#include <stddef.h>

/* The longest line, not counting its newline. */
#define INI_LINE_MAX 4096

enum ini_line_kind {
        INI_LINE_NONE,    /* blank, or a comment */
        INI_LINE_SECTION, /* name: what is between '[' and ']' */
        INI_LINE_PAIR,    /* name and value */
};

struct ini_line {
        enum ini_line_kind kind;
        const char *name;
        const char *value;
};

/* Parse one line (without its newline) in place: blanks around it, around the key and
 * around the value are dropped, and so is a comment after the value (a blank followed by
 * ';'). Returns 0, or -EINVAL with *ret_why saying what is wrong. */
int ini_parse_line(char *line, struct ini_line *ret, const char **ret_why);
