/* Internal helpers of libengram's retrieval loop (not public API): software prefetch and
 * non-temporal stores, which Swift cannot spell. Static inline, so they compile into the
 * Swift caller. */
#ifndef ENGRAM_PREFETCH_H
#define ENGRAM_PREFETCH_H
#include <stddef.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* Row conversion with non-temporal (streaming) stores: the float32 output bypasses the caches,
 * so writing it costs no read-for-ownership of every output line. Only when dst is 16-byte
 * aligned and n a multiple of 8; returns 0 (nothing written) otherwise, or without SSE2.
 * Call engram_store_fence() before the output is handed to another thread. */
static inline __attribute__((always_inline)) int engram_bf16_to_f32_stream(const void *src, float *dst, size_t n) {
#if defined(__SSE2__)
    if (((uintptr_t)dst & 15) || (n & 7)) return 0;
    const __m128i z = _mm_setzero_si128();
    const unsigned char *s = (const unsigned char *)src;
    for (size_t k = 0; k < n; k += 8) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + 2 * k));
        _mm_stream_si128((__m128i *)(dst + k), _mm_unpacklo_epi16(z, v));
        _mm_stream_si128((__m128i *)(dst + k + 4), _mm_unpackhi_epi16(z, v));
    }
    return 1;
#else
    (void)src; (void)dst; (void)n;
    return 0;
#endif
}

static inline __attribute__((always_inline)) int engram_f32_copy_stream(const void *src, float *dst, size_t n) {
#if defined(__SSE2__)
    if (((uintptr_t)dst & 15) || (n & 7)) return 0;
    const unsigned char *s = (const unsigned char *)src;
    for (size_t k = 0; k < n; k += 8) {
        _mm_stream_si128((__m128i *)(dst + k), _mm_loadu_si128((const __m128i *)(s + 4 * k)));
        _mm_stream_si128((__m128i *)(dst + k + 4), _mm_loadu_si128((const __m128i *)(s + 4 * k + 16)));
    }
    return 1;
#else
    (void)src; (void)dst; (void)n;
    return 0;
#endif
}

static inline __attribute__((always_inline)) void engram_store_fence(void) {
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

/* Atomically adds v to *p and returns the previous value (relaxed: a work counter). */
static inline __attribute__((always_inline)) long engram_fetch_add(long *p, long v) {
    return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

#endif
