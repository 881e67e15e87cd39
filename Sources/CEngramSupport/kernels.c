/* Element-wise kernels with runtime dispatch (include/engram_kernels.h). kernels_impl.h holds
 * the code, written with clang vector extensions; it is compiled twice: 8 lanes with AVX2 +
 * FMA enabled, 4 lanes for the baseline x86-64 (SSE2). Each entry point picks the AVX2 one
 * when the CPU has AVX2 and FMA. */
#include "engram_kernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__clang__)
#define ENGRAM_KERNELS_AVX2 1
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define KW 8
#define KSUF _avx2
#include "kernels_impl.h"
#undef KW
#undef KSUF
#pragma clang attribute pop
#endif

#define KW 4
#define KSUF _base
#include "kernels_impl.h"

#if ENGRAM_KERNELS_AVX2
static int avx2_state;   /* 0 unknown, 1 no, 2 yes (a benign race: every thread computes the same) */
static int forced_base;  /* tests: run the baseline code even where AVX2 exists */
static inline int cpu_has_avx2(void) {
    int s = __atomic_load_n(&avx2_state, __ATOMIC_RELAXED);
    if (s == 0) {
        __builtin_cpu_init();
        s = (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 2 : 1;
        __atomic_store_n(&avx2_state, s, __ATOMIC_RELAXED);
    }
    return s == 2;
}
static inline int use_avx2(void) { return !__atomic_load_n(&forced_base, __ATOMIC_RELAXED) && cpu_has_avx2(); }
#define DISPATCH(name, ...) do { if (use_avx2()) name##_avx2(__VA_ARGS__); else name##_base(__VA_ARGS__); } while (0)
#else
static inline int use_avx2(void) { return 0; }
#define DISPATCH(name, ...) name##_base(__VA_ARGS__)
#endif

int engram_k_force_baseline(int on) {
#if ENGRAM_KERNELS_AVX2
    __atomic_store_n(&forced_base, on ? 1 : 0, __ATOMIC_RELAXED);
#else
    (void)on;
#endif
    return use_avx2();
}

void engram_k_exp(const float *x, float *out, size_t n) { DISPATCH(exp, x, out, n); }
void engram_k_softmax(float *x, size_t n) { DISPATCH(softmax, x, n); }
void engram_k_softmax_causal(float *x, size_t rows, size_t ld, size_t n0, size_t width) {
    DISPATCH(softmax_causal, x, rows, ld, n0, width);
}
void engram_k_gather(const void *base, size_t row_bytes, int bf16, size_t width, const int64_t *ids, size_t count,
                     const int64_t *next, size_t next_count, size_t dist, int stream, float *out) {
    if (width % 8 != 0) stream = 0;
    if (stream && ((uintptr_t)out & 31)) stream = 0;
    DISPATCH(gather, (const unsigned char *)base, row_bytes, bf16, width, ids, count, next, next_count, dist, stream, out);
#if defined(__x86_64__)
    if (stream) __builtin_ia32_sfence();
#endif
}
void engram_k_swiglu(float *g, const float *u, size_t n) { DISPATCH(swiglu, g, u, n); }
void engram_k_add_silu(float *y, const float *s, size_t n) { DISPATCH(add_silu, y, s, n); }
void engram_k_mix4(float *out, float a, const float *y, float c0, const float *x0, float c1, const float *x1,
                   float c2, const float *x2, float c3, const float *x3, size_t n) {
    DISPATCH(mix4, out, a, y, c0, x0, c1, x1, c2, x2, c3, x3, n);
}
