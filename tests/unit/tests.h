/* The unit test suites, one per module. test_main.c runs them all. */
#pragma once

/* The tests see src/ through -iquote, so <check.h> is libcheck's, not src/check.h. */
#include <check.h>
#include <stddef.h>

Suite *policy_suite(void);
Suite *shebang_suite(void);
Suite *resolve_suite(void);
Suite *procmem_suite(void);
Suite *filter_suite(void);
Suite *audit_suite(void);
Suite *loader_suite(void);
Suite *latency_suite(void);
Suite *rules_suite(void);
Suite *judge_suite(void);
Suite *log_suite(void);
Suite *verify_suite(void);
Suite *binfmt_suite(void);
Suite *json_suite(void);
Suite *protect_suite(void);

/* Policies from text (policytext.c): the source name they are parsed under, a parse of len
 * bytes (which may hold NULs), a parse that must succeed, and policy_dump() as a string. */
#define POLICYTEXT_SOURCE "test.ini"
struct policy;
struct policy_error;
int policytext_parse(const char *text, size_t len, struct policy **ret, struct policy_error *reterr);
struct policy *policytext_ok(const char *text);
char *policytext_dump(const struct policy *p);

/* Temporary directories: short enough that every path built from one fits. */
#define TMPDIR_MAX 128

/* Create /tmp/PREFIX-XXXXXX and store its canonical name in dir. */
void tmpdir_make(char dir[TMPDIR_MAX], const char *prefix);

/* Remove dir and everything in it. */
void tmpdir_remove(const char *dir);
