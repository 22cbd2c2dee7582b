/* shebang_parse() fed with the first bytes of arbitrary files, and compared with a second
 * reading of the "#!" line done the way fs/binfmt_script.c does it: in a copy of the buffer,
 * by writing NULs into it and taking C strings (shebang.c measures lengths instead).
 *
 * Input: the file's content; only its first EG_SHEBANG_BUF bytes count, zero-filled past
 * the end, as the kernel's bprm->buf is. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "shebang.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool blank(char c) {
        return c == ' ' || c == '\t';
}

/* First index in [from, to] (inclusive, as the kernel's helpers scan) that is not blank,
 * or that ends a name (blank or NUL); -1 if none. */
static int find_non_blank(const char *b, int from, int to) {
        for (int i = from; i <= to; i++)
                if (!blank(b[i]))
                        return i;
        return -1;
}

static int find_name_end(const char *b, int from, int to) {
        for (int i = from; i <= to; i++)
                if (blank(b[i]) || b[i] == '\0')
                        return i;
        return -1;
}

enum outcome {
        NOT_A_SCRIPT, /* -ENOEXEC: another binary format's turn */
        EMPTY_NAME,   /* the kernel goes on to open "" and fails the exec with ENOENT */
        INTERP,
};

/* The model. On INTERP, interp and arg (when *has_arg) point into work. */
static enum outcome model(const char in[EG_SHEBANG_BUF], char work[EG_SHEBANG_BUF], const char **interp,
                          const char **arg, bool *has_arg) {
        const int last = EG_SHEBANG_BUF - 1;
        memcpy(work, in, EG_SHEBANG_BUF);
        if (work[0] != '#' || work[1] != '!')
                return NOT_A_SCRIPT;
        const char *nl = memchr(work, '\n', EG_SHEBANG_BUF);
        int end = nl ? (int) (nl - work) : -1;
        if (end < 0) {
                /* No newline: the name must be followed by a blank or NUL in the buffer,
                 * or it may have been cut off. */
                int first = find_non_blank(work, 2, last);
                if (first < 0 || find_name_end(work, first, last) < 0)
                        return NOT_A_SCRIPT;
                end = last;
        }
        while (blank(work[end - 1]))
                end--;
        int name = find_non_blank(work, 2, end);
        if (name < 0 || name == end)
                return NOT_A_SCRIPT;
        int sep = find_name_end(work, name, end), argpos = -1;
        if (sep >= 0 && work[sep] != '\0')
                argpos = find_non_blank(work, sep, end);
        work[end] = '\0';
        if (argpos >= 0)
                work[sep] = '\0';
        if (work[name] == '\0')
                return EMPTY_NAME;
        *interp = work + name;
        *has_arg = argpos >= 0;
        *arg = *has_arg ? work + argpos : NULL;
        return INTERP;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* Heap buffers of exactly the documented sizes, so that ASan sees any access past
         * them. */
        char *buf = calloc(1, EG_SHEBANG_BUF);
        char *work = malloc(EG_SHEBANG_BUF);
        char *interp = malloc(EG_SHEBANG_BUF);
        char *arg = malloc(EG_SHEBANG_BUF);
        if (!buf || !work || !interp || !arg)
                abort();
        memcpy(buf, data, size < EG_SHEBANG_BUF ? size : EG_SHEBANG_BUF);

        const char *m_interp = NULL, *m_arg = NULL;
        bool m_has_arg = false;
        enum outcome expected = model(buf, work, &m_interp, &m_arg, &m_has_arg);

        memset(arg, 'A', EG_SHEBANG_BUF);
        int r = shebang_parse(buf, interp, EG_SHEBANG_BUF, arg);
        switch (expected) {
        case NOT_A_SCRIPT:
        case EMPTY_NAME:
                /* Either way no interpreter runs: the kernel fails or tries other formats. */
                if (r != -ENOEXEC)
                        fuzz_fail("expected -ENOEXEC (%s), got %d", expected == EMPTY_NAME ? "empty name" : "no script",
                                  r);
                break;
        case INTERP:
                if (r < 0)
                        fuzz_fail("expected interpreter '%s', got %d", m_interp, r);
                if (strcmp(interp, m_interp) != 0)
                        fuzz_fail("interpreter '%s', the kernel's is '%s'", interp, m_interp);
                if ((r == 1) != m_has_arg)
                        fuzz_fail("argument: got %d, the kernel %s one", r, m_has_arg ? "passes" : "passes no");
                if (m_has_arg && strcmp(arg, m_arg) != 0)
                        fuzz_fail("argument '%s', the kernel's is '%s'", arg, m_arg);
                break;
        }

        /* A smaller output buffer: the same answer, or -ENAMETOOLONG when the name does not
         * fit; and ret_arg may be NULL. */
        size_t small = 1 + size % EG_SHEBANG_BUF;
        char *interp_small = malloc(small);
        if (!interp_small)
                abort();
        int r2 = shebang_parse(buf, interp_small, small, NULL);
        if (expected == INTERP && strlen(m_interp) >= small) {
                if (r2 != -ENAMETOOLONG)
                        fuzz_fail("'%s' in %zu bytes: got %d, expected -ENAMETOOLONG", m_interp, small, r2);
        } else if (r2 != r || (r >= 0 && strcmp(interp_small, interp) != 0))
                fuzz_fail("output size %zu changed the answer: %d, was %d", small, r2, r);

        free(interp_small);
        free(buf);
        free(work);
        free(interp);
        free(arg);
        return 0;
}
