/* Policies parsed from text and dumped to text, for the policy suites. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "tests.h"

int policytext_parse(const char *text, size_t len, struct policy **ret, struct policy_error *reterr) {
        FILE *f;
        char *copy = NULL;

        if (len == 0)
                f = fopen("/dev/null", "re"); /* fmemopen() refuses a zero size */
        else {
                copy = malloc(len);
                ck_assert_ptr_nonnull(copy);
                memcpy(copy, text, len);
                f = fmemopen(copy, len, "r");
        }
        ck_assert_ptr_nonnull(f);
        int r = policy_parse(f, POLICYTEXT_SOURCE, ret, reterr);
        fclose(f);
        free(copy);
        return r;
}

struct policy *policytext_ok(const char *text) {
        struct policy *p = NULL;
        struct policy_error err = {};
        int r = policytext_parse(text, strlen(text), &p, &err);
        ck_assert_msg(r == 0, "parse failed: r=%d line %u: %s\n--- input ---\n%s", r, err.line, err.message, text);
        ck_assert_ptr_nonnull(p);
        return p;
}

char *policytext_dump(const struct policy *p) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        ck_assert_ptr_nonnull(f);
        policy_dump(p, f);
        ck_assert_int_eq(fclose(f), 0);
        return buf;
}
