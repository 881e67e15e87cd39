/* Element-wise kernels of libengram's forward pass (internal, hidden symbols).
 *
 * Each is compiled twice (kernels.c): with AVX2 + FMA and for the baseline x86-64 (SSE2); the
 * AVX2 code runs when the CPU has it, so the library runs on any x86-64 and uses 256-bit FMA
 * where it exists. Pointers may be unaligned; n may be any length. */
#ifndef ENGRAM_KERNELS_H
#define ENGRAM_KERNELS_H
#include <stddef.h>
#include <stdint.h>

#define ENGRAM_HIDDEN __attribute__((visibility("hidden")))

/* In place: x = softmax(x[0..n)). -inf entries give 0; all -inf or a NaN gives NaN. */
ENGRAM_HIDDEN void engram_k_softmax(float *x, size_t n);
/* Rows [0, rows) of a [rows, ld] matrix: row r is softmax over its first n0 + r entries,
 * the rest of the row (up to `width`) is set to 0 (causal attention scores). */
ENGRAM_HIDDEN void engram_k_softmax_causal(float *x, size_t rows, size_t ld, size_t n0, size_t width);
/* In place: g[i] = silu(g[i]) * u[i]. */
ENGRAM_HIDDEN void engram_k_swiglu(float *g, const float *u, size_t n);
/* y[i] += silu(s[i]) (the short conv's activation, added to the stream). */
ENGRAM_HIDDEN void engram_k_add_silu(float *y, const float *s, size_t n);
/* out = a * y + c0 * x0 + c1 * x1 + c2 * x2 + c3 * x3 (the write-back of one of four streams). */
ENGRAM_HIDDEN void engram_k_mix4(float *out, float a, const float *y, float c0, const float *x0,
                                 float c1, const float *x1, float c2, const float *x2, float c3, const float *x3, size_t n);
/* Retrieval: rows ids[0..count) of a table at `base` (row_bytes apart, each `width` elements
 * of bfloat16 when bf16 != 0, else float32) to float32 at out ([count, width]). `dist` rows
 * ahead are prefetched, continuing into next[0..next_count) (the following batch). `stream`:
 * non-temporal stores (used only when width % 8 == 0 and out is 32-byte aligned; fenced
 * before returning). Needs width % 8 == 0 for bf16 (the caller checks). */
ENGRAM_HIDDEN void engram_k_gather(const void *base, size_t row_bytes, int bf16, size_t width, const int64_t *ids,
                                   size_t count, const int64_t *next, size_t next_count, size_t dist, int stream,
                                   float *out);
/* e^x of each element (out may alias x): the kernels' exp, exposed for the tests. */
ENGRAM_HIDDEN void engram_k_exp(const float *x, float *out, size_t n);
/* Tests: nonzero runs the baseline code even on an AVX2 CPU (process-wide); returns 1 when
 * the AVX2 + FMA code runs after the change, 0 when the baseline code does. */
ENGRAM_HIDDEN int engram_k_force_baseline(int on);

#endif
