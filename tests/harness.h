// SPDX-License-Identifier: MIT
// Tiny test harness (after sds testhelp.h). Each check prints one line; the exit code
// of the test binary is the verdict: TEST_REPORT() returns non-zero on any failure.
#ifndef FH_HARNESS_H
#define FH_HARNESS_H
#include <stdio.h>
#include <stdlib.h>

static int test_failed_, test_passed_;
#define TEST_COND(descr, cond)                                                          \
    do {                                                                                \
        if (cond) {                                                                     \
            test_passed_++;                                                             \
            printf("%d - %s: PASSED\n", test_passed_ + test_failed_, descr);             \
        } else {                                                                        \
            test_failed_++;                                                             \
            printf("%d - %s: FAILED (%s:%d)\n", test_passed_ + test_failed_, descr,     \
                   __FILE__, __LINE__);                                                 \
        }                                                                               \
        fflush(stdout);                                                                 \
    } while (0)
#define TEST_REPORT()                                                                   \
    (printf("%d tests, %d passed, %d failed\n", test_passed_ + test_failed_, test_passed_, \
            test_failed_),                                                              \
     test_failed_ ? 1 : 0)

// Paths the tests read: ../shared is a sibling of the repository root.
#ifndef FH_SHARED
#define FH_SHARED "../shared"
#endif
// Reference outputs the build makes with the reference runtimes (Makefile: goldens)
#ifndef FH_GOLDEN
#define FH_GOLDEN "build/golden"
#endif
#ifndef FH_MODELS
#define FH_MODELS "models"
#endif
#endif
