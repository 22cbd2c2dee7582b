/* Runs every unit suite, one forked process per test (check's default CK_FORK), and prints
 * check's summary line. Exit status: 0 if every test passed. */
#include <stdio.h>
#include <stdlib.h>

#include "tests.h"

int main(void) {
        /* check kills a test after 4 s by default: too short on a loaded machine (or under
         * ASan), where a timeout would be a failure that says nothing about the code. No
         * test is timed; a hang still ends, after a minute. */
        setenv("CK_DEFAULT_TIMEOUT", "60", 0);
        SRunner *sr = srunner_create(policy_suite());
        srunner_add_suite(sr, shebang_suite());
        srunner_add_suite(sr, binfmt_suite());
        srunner_add_suite(sr, resolve_suite());
        srunner_add_suite(sr, procmem_suite());
        srunner_add_suite(sr, filter_suite());
        srunner_add_suite(sr, protect_suite());
        srunner_add_suite(sr, audit_suite());
        srunner_add_suite(sr, loader_suite());
        srunner_add_suite(sr, rules_suite());
        srunner_add_suite(sr, judge_suite());
        srunner_add_suite(sr, latency_suite());
        srunner_add_suite(sr, log_suite());
        srunner_add_suite(sr, verify_suite());
        srunner_add_suite(sr, json_suite());

        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
