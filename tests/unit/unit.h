/* What every unit test's main() does with Check, written once: a suite with one test case, and
 * running a suite to main()'s exit status. Header-only, so each test stays one source file
 * (CMakeLists.txt builds every tests/unit/test_*.c as its own program). */
#ifndef AGENTGATE_TESTS_UNIT_H
#define AGENTGATE_TESTS_UNIT_H

#include <check.h>
#include <stdlib.h>

#include "flags.h"

/* A new suite named `suite_name` holding one test case named `case_name`, which *tcase
 * receives for the tests to be added to it. Check owns both; unit_run() frees them. */
static inline Suite *unit_suite(const char *suite_name, const char *case_name, TCase **tcase)
{
    Suite *suite = suite_create(suite_name);

    *tcase = tcase_create(case_name);
    suite_add_tcase(suite, *tcase);
    return suite;
}

/* Runs every test of `suite` with Check's normal output (forking as CK_FORK says) and frees it,
 * with the build's precompiled flag database registered as agentgate registers it. Returns
 * EXIT_SUCCESS when all passed, else EXIT_FAILURE: main()'s status. */
static inline int unit_run(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    int failed;

    flags_precompiled_register(flags_precompiled_bytes, flags_precompiled_length);
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
