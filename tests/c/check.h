/* A minimal check harness for the C tests: CHECK(cond) counts and reports; CHECK_STATUS
 * also prints engram_last_error(). Each test program ends with `return check_summary(name);`. */
#ifndef ENGRAM_TEST_CHECK_H
#define ENGRAM_TEST_CHECK_H
#include <stdio.h>
#include <string.h>
#include "engram.h"

static int check_passed = 0, check_failed = 0;

#define CHECK(cond) do { \
    if (cond) { check_passed++; } \
    else { check_failed++; fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } \
} while (0)

/* The call must return `want`; when want is an error the thread message must be non-empty. */
#define CHECK_STATUS(call, want) do { \
    engram_status s_ = (call); \
    if (s_ == (want) && (s_ == ENGRAM_OK || engram_last_error()[0] != '\0')) { check_passed++; } \
    else { check_failed++; fprintf(stderr, "  %s:%d: %s returned %d (%s), wanted %d; last error: %s\n", \
        __FILE__, __LINE__, #call, (int)s_, engram_status_string(s_), (int)(want), engram_last_error()); } \
} while (0)

static int check_summary(const char *name) {
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed == 0 ? 0 : 1;
}
#endif
