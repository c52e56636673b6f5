// SPDX-License-Identifier: MIT
// Tiny test harness (after sds testhelp.h). Each check prints one line; the exit code
// of the test binary is the verdict: TEST_REPORT() returns non-zero on any failure.
#ifndef FH_HARNESS_H
#define FH_HARNESS_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
// PostgreSQL (issue 10): tests/run.sh starts a private server (tools/pg_test_server.sh) and
// puts its folder in $FH_TEST_PG. test_pg_url makes a fresh, empty database `name` there
// and writes its URL: 1 done, 0 when $FH_TEST_PG is unset (a test binary run by hand: it
// says so and skips), -1 on failure. test_pg_sql runs SQL through psql, output into out.
static inline int test_pg_url(const char *name, char *url, size_t n) {
    const char *d = getenv("FH_TEST_PG");
    if (!d || !*d) {
        printf("# FH_TEST_PG is unset: the PostgreSQL part is skipped (tests/run.sh sets it)\n");
        return 0;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "tools/pg_test_server.sh url '%s' '%s'", d, name);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    url[0] = 0;
    char *got = fgets(url, (int)n, p);
    int st = pclose(p);
    if (!got || st != 0) return -1;
    for (char *q = url; *q; q++)
        if (*q == '\n') *q = 0;
    return 1;
}
static inline int test_pg_sql(const char *url, const char *sql, char *out, size_t n) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "psql '%s' -qAt -v ON_ERROR_STOP=1 -c \"%s\" 2>&1", url, sql);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t k = out && n ? fread(out, 1, n - 1, p) : 0;
    if (out && n) {
        out[k] = 0;
        while (k && out[k - 1] == '\n') out[--k] = 0;
    }
    return pclose(p) == 0 ? 0 : -1;
}

#ifndef FH_MODELS
#define FH_MODELS "models"
#endif
#endif
