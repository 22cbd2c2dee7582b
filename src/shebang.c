#include "shebang.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "util.h"

static bool spacetab(char c) {
        return c == ' ' || c == '\t';
}

/* Both scan up to and including last, as the kernel's helpers do. */
static const char *next_non_spacetab(const char *first, const char *last) {
        for (; first <= last; first++)
                if (!spacetab(*first))
                        return first;
        return NULL;
}

static const char *next_terminator(const char *first, const char *last) {
        for (; first <= last; first++)
                if (spacetab(*first) || *first == '\0')
                        return first;
        return NULL;
}

int shebang_parse(const char buf[], char *ret_interp, size_t size, char *ret_arg) {
        if (buf[0] != '#' || buf[1] != '!')
                return -ENOEXEC;

        /* The last byte of the kernel's buffer becomes the terminator of the line. */
        const char *buf_end = buf + EG_SHEBANG_BUF - 1;
        const char *i_end = memchr(buf, '\n', EG_SHEBANG_BUF);
        if (!i_end) {
                i_end = next_non_spacetab(buf + 2, buf_end);
                if (!i_end)
                        return -ENOEXEC; /* only spaces and tabs */
                /* No space, tab or NUL after the name: it may be cut off, so the kernel
                 * refuses rather than run a truncated interpreter path. */
                if (!next_terminator(i_end, buf_end))
                        return -ENOEXEC;
                i_end = buf_end;
        }
        while (spacetab(i_end[-1])) /* stops at the '!' at the latest */
                i_end--;
        const char *i_name = next_non_spacetab(buf + 2, i_end);
        if (!i_name || i_name == i_end)
                return -ENOEXEC;
        /* The kernel writes a NUL at i_end and at the first space, tab or NUL after the
         * name: the name is what lies before the earlier of the two. */
        const char *i_sep = next_terminator(i_name, i_end);
        size_t len = (i_sep && i_sep < i_end ? i_sep : i_end) - i_name;
        if (len == 0)
                return -ENOEXEC;
        if (len >= size)
                return -ENAMETOOLONG;
        memcpy(ret_interp, i_name, len);
        ret_interp[len] = '\0';

        /* The optional argument: from the first non-blank after the name up to the end of
         * the line (blanks inside kept), or to a NUL in it, which may leave it empty. A NUL
         * right after the name ends the line there. */
        if (!i_sep || i_sep >= i_end || *i_sep == '\0')
                return 0;
        const char *i_arg = next_non_spacetab(i_sep, i_end - 1);
        if (!i_arg)
                return 0;
        if (ret_arg) {
                size_t arg_len = strnlen(i_arg, (size_t) (i_end - i_arg));
                memcpy(ret_arg, i_arg, arg_len);
                ret_arg[arg_len] = '\0';
        }
        return 1;
}
