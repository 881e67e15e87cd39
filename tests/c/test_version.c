/* Header and runtime versions agree; status strings and the per-thread error are sane. */
#include <pthread.h>
#include <stdlib.h>
#include "check.h"

static void *other_thread(void *arg) {
    (void)arg;
    /* A fresh thread starts with no error message. */
    return (void *)(engram_last_error()[0] == '\0' ? (void *)1 : NULL);
}

int main(void) {
    CHECK(strcmp(engram_version(), ENGRAM_VERSION_STRING) == 0);
    CHECK(engram_version_number() == ENGRAM_VERSION_NUMBER);
    CHECK(engram_abi_version() == ENGRAM_ABI_VERSION);
    CHECK(strcmp(engram_status_string(ENGRAM_OK), "ok") == 0);
    for (int s = ENGRAM_E_INVALID_ARGUMENT; s <= ENGRAM_E_INTERNAL; s++) {
        const char *str = engram_status_string((engram_status)s);
        CHECK(str != NULL && str[0] != '\0' && strcmp(str, "unknown status") != 0);
    }
    CHECK(strcmp(engram_status_string((engram_status)-1), "unknown status") == 0);
    CHECK(strcmp(engram_status_string((engram_status)12345), "unknown status") == 0);
    CHECK(engram_last_error() != NULL);
    pthread_t t;
    void *ok = NULL;
    CHECK(pthread_create(&t, NULL, other_thread, NULL) == 0);
    pthread_join(t, &ok);
    CHECK(ok != NULL);
    return check_summary("test_version");
}
