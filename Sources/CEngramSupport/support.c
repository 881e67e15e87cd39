#include "engram_support.h"
#include <string.h>

/* One message per thread: a fixed buffer keeps this allocation-free and leak-free at thread exit. */
#define ENGRAM_ERROR_CAPACITY 1024
static _Thread_local char last_error[ENGRAM_ERROR_CAPACITY];

void engram_support_set_error(const char *msg, size_t len) {
    if (msg == NULL) len = 0;
    if (len >= ENGRAM_ERROR_CAPACITY) {
        /* Truncate without cutting a UTF-8 sequence in half. */
        len = ENGRAM_ERROR_CAPACITY - 1;
        while (len > 0 && ((unsigned char)msg[len] & 0xC0) == 0x80) len--;
    }
    if (len) memcpy(last_error, msg, len);
    last_error[len] = '\0';
}

const char *engram_support_get_error(void) { return last_error; }
