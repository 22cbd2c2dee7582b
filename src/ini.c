#include "ini.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char *skip_blanks(char *s) {
        while (blank(*s))
                s++;
        return s;
}

/* Cut the blanks at the end of s (which starts at start). */
static void cut_blanks(char *start, char *end) {
        while (end > start && blank(end[-1]))
                end--;
        *end = '\0';
}

/* The first of any of chars in s, or a ';' after a blank (a comment): its address, or the
 * terminator's. */
static char *find_or_comment(char *s, const char *chars) {
        bool after_blank = false;
        for (; *s; s++) {
                if (strchr(chars, *s) || (after_blank && *s == ';'))
                        break;
                after_blank = blank(*s);
        }
        return s;
}

int ini_parse_line(char *line, struct ini_line *ret, const char **ret_why) {
        *ret = (struct ini_line){ .kind = INI_LINE_NONE };
        char *s = skip_blanks(line);
        cut_blanks(s, s + strlen(s));
        if (*s == '\0' || *s == ';' || *s == '#')
                return 0;

        if (*s == '[') {
                char *end = strchr(s + 1, ']');
                if (!end) {
                        *ret_why = "section header without ']'";
                        return -EINVAL;
                }
                *end = '\0';
                *ret = (struct ini_line){ .kind = INI_LINE_SECTION, .name = s + 1 };
                return 0;
        }

        char *sep = find_or_comment(s, "=:");
        if (*sep != '=' && *sep != ':') {
                *ret_why = "syntax error (expected [section], key = value or a comment)";
                return -EINVAL;
        }
        cut_blanks(s, sep);
        char *value = skip_blanks(sep + 1);
        char *end = find_or_comment(value, "");
        cut_blanks(value, end);
        *ret = (struct ini_line){ .kind = INI_LINE_PAIR, .name = s, .value = value };
        return 0;
}
