/* A tiny test harness: CHECK-style assertions that report file:line and keep going, and a summary
 * line; the process exits non-zero if any check failed (a test that cannot fail is not a test).
 * Exit code 77 = skipped (ctest SKIP_RETURN_CODE), e.g. when ../shared/data is absent. */
#ifndef LMC_TEST_H
#define LMC_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lmc_test_failures = 0;
static int lmc_test_checks = 0;

#define CHECK(cond) do { lmc_test_checks++; if (!(cond)) { lmc_test_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_MSG(cond, ...) do { lmc_test_checks++; if (!(cond)) { lmc_test_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define CHECK_EQ_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); lmc_test_checks++; \
    if (_a != _b) { lmc_test_failures++; fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld vs %lld)\n", \
    __FILE__, __LINE__, #a, #b, _a, _b); } } while (0)
#define CHECK_STR_CONTAINS(s, sub) do { const char *_s = (s); lmc_test_checks++; \
    if (!_s || !strstr(_s, (sub))) { lmc_test_failures++; fprintf(stderr, \
    "%s:%d: CHECK failed: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, _s ? _s : "(null)", (sub)); } } while (0)
/* |a-b| <= atol + rtol*|b| */
#define CHECK_CLOSE(a, b, atol, rtol) do { double _a = (a), _b = (b); lmc_test_checks++; \
    if (!(fabs(_a - _b) <= (atol) + (rtol) * fabs(_b))) { lmc_test_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s ~= %s (%.9g vs %.9g)\n", __FILE__, __LINE__, #a, #b, _a, _b); } } while (0)

#define TEST_SKIP(...) do { fprintf(stderr, "SKIP: "); fprintf(stderr, __VA_ARGS__); \
    fputc('\n', stderr); exit(77); } while (0)

/* Path helpers: the source tree and ../shared, from the environment ctest sets. */
static inline const char *test_source_dir(void) {
    const char *s = getenv("LMC_SOURCE_DIR");
    return s ? s : ".";
}
static inline const char *test_shared_dir(void) {
    const char *s = getenv("LMC_SHARED_DIR");
    return s ? s : "../shared";
}
/* A fresh scratch directory for this test (under $TMPDIR or /tmp). Caller frees. */
static inline char *test_tmpdir(void) {
    const char *base = getenv("TMPDIR");
    char *p = (char *)malloc(4096);
    snprintf(p, 4096, "%s/lmc-test-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(p)) { perror("mkdtemp"); exit(1); }
    return p;
}

static inline int test_summary(const char *name) {
    printf("%s: %d checks, %d failed\n", name, lmc_test_checks, lmc_test_failures);
    return lmc_test_failures ? 1 : 0;
}

#endif
