/* Temporary directories for the unit tests. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"
#include "util.h"

void tmpdir_make(char dir[TMPDIR_MAX], const char *prefix) {
        char tmpl[64];
        snprintf(tmpl, sizeof tmpl, "/tmp/%s-XXXXXX", prefix);
        ck_assert_ptr_nonnull(mkdtemp(tmpl));
        /* Rules are canonicalized at load time: compare against the canonical name. */
        _cleanup_free_ char *canonical = realpath(tmpl, NULL);
        ck_assert_ptr_nonnull(canonical);
        ck_assert_uint_lt(strlen(canonical), TMPDIR_MAX);
        strcpy(dir, canonical);
}

void tmpdir_remove(const char *dir) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}
