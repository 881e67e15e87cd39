/* Internal helpers of libengram's retrieval loop (not public API): software prefetch and
 * non-temporal stores, which Swift cannot spell. Static inline, so they compile into the
 * Swift caller. */
#ifndef ENGRAM_PREFETCH_H
#define ENGRAM_PREFETCH_H
#include <stddef.h>
#include <stdint.h>

/* Prefetches `bytes` bytes starting at p (one hint per 64-byte line) for reading, with
 * little temporal locality: table rows are used once. */
static inline __attribute__((always_inline)) void engram_prefetch_row(const void *p, size_t bytes) {
    const char *c = (const char *)p;
    const char *end = c + bytes;
    /* Cover the line of the first byte and every line up to the last byte. */
    for (; c < end; c += 64) __builtin_prefetch(c, 0, 0);
    if (bytes && (((uintptr_t)(end - 1) & ~(uintptr_t)63) > ((uintptr_t)(c - 64) & ~(uintptr_t)63)))
        __builtin_prefetch(end - 1, 0, 0);
}

/* Loads one byte of every 64-byte line of the row (volatile: the compiler keeps them). Unlike
 * a prefetch hint, which this machine's (virtualised) memory system often drops on a TLB
 * miss, a load always walks the page tables and brings the line in; issued back to back for a
 * group of rows they overlap, so the misses of a whole group are in flight at once. Returns
 * a value to fold into a sink so the loads are not dead. */
static inline __attribute__((always_inline)) unsigned engram_touch_row(const void *p, size_t bytes) {
    const volatile unsigned char *c = (const volatile unsigned char *)p;
    unsigned s = 0;
    for (size_t o = 0; o < bytes; o += 64) s += c[o];
    if (bytes && (((uintptr_t)c + bytes - 1) >> 6) != (((uintptr_t)c + ((bytes - 1) & ~(size_t)63)) >> 6))
        s += c[bytes - 1];
    return s;
}

/* Atomically adds v to *p and returns the previous value (relaxed: a work counter). */
static inline __attribute__((always_inline)) long engram_fetch_add(long *p, long v) {
    return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

#endif
