/* Internal helpers of libengram; not part of the public API (hidden symbols). */
#ifndef ENGRAM_SUPPORT_H
#define ENGRAM_SUPPORT_H
#include <stddef.h>

/* Stores a copy of msg (len bytes, need not be NUL-terminated) as this thread's last error. */
__attribute__((visibility("hidden"))) void engram_support_set_error(const char *msg, size_t len);
/* This thread's last error message ("" when none). Valid until the next library call on the thread. */
__attribute__((visibility("hidden"))) const char *engram_support_get_error(void);

#endif
