/* The body of kernels.c, included once per instruction set: KW lanes per vector (8 under
 * AVX2 + FMA, 4 under the baseline SSE2) and KSUF appended to every name. Not a header of its
 * own: only kernels.c includes it. */
#define KCAT2(a, b) a##b
#define KCAT(a, b) KCAT2(a, b)
#define KN(name) KCAT(name, KSUF)

typedef float KN(vf) __attribute__((vector_size(KW * 4)));
typedef int32_t KN(vi) __attribute__((vector_size(KW * 4)));
#define VF KN(vf)
#define VI KN(vi)

static inline __attribute__((always_inline)) VF KN(ld)(const float *p) { VF v; memcpy(&v, p, sizeof v); return v; }
static inline __attribute__((always_inline)) void KN(st)(float *p, VF v) { memcpy(p, &v, sizeof v); }
static inline __attribute__((always_inline)) VF KN(splat)(float x) { return (VF){0} + x; }
static inline __attribute__((always_inline)) VF KN(sel)(VI m, VF a, VF b) { return (VF)((m & (VI)a) | (~m & (VI)b)); }
static inline __attribute__((always_inline)) VF KN(vmax)(VF a, VF b) { return KN(sel)(a > b, a, b); }
static inline __attribute__((always_inline)) float KN(hsum)(VF v) { float s = 0; for (int i = 0; i < KW; i++) s += v[i]; return s; }
static inline __attribute__((always_inline)) float KN(hmax)(VF v) { float m = v[0]; for (int i = 1; i < KW; i++) m = v[i] > m ? v[i] : m; return m; }

/* e^x: x = n ln2 + r, |r| <= ln2/2 (Cody-Waite, two-part ln2), e^r by its degree-7 Taylor
 * polynomial, 2^n built in the exponent bits (in two factors, so n = 128 and n = -126 fit).
 * Within a few ulp of expf on [-87.34, 88.72]; 0 below, +inf above, NaN stays NaN. */
static inline __attribute__((always_inline)) VF KN(expv)(VF x) {
    const VF hi = KN(splat)(88.72283f), lo = KN(splat)(-87.33654f);
    VF xc = KN(vmax)(x, lo);
    xc = KN(sel)(xc < hi, xc, hi);
    const VF magic = KN(splat)(12582912.0f);           /* 1.5 * 2^23: rounds to an integer */
    VF t = xc * 1.44269504088896341f + magic;
    VF nf = t - magic;
    VF r = xc - nf * 0.693145751953125f - nf * 1.42860682030941723212e-6f;
    VF p = KN(splat)(1.0f / 5040);
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    VI n = (VI)t - 0x4B400000;
    VI h = n >> 1;
    VF e = p * (VF)((h + 127) << 23) * (VF)((n - h + 127) << 23);
    e = KN(sel)(x < lo, KN(splat)(0.0f), e);
    e = KN(sel)(x > hi, KN(splat)(INFINITY), e);
    return KN(sel)(x != x, x, e);
}

static inline __attribute__((always_inline)) float KN(exp1)(float x) { return KN(expv)(KN(splat)(x))[0]; }

static void KN(exp)(const float *x, float *out, size_t n) {
    size_t i = 0;
    for (; i + KW <= n; i += KW) KN(st)(out + i, KN(expv)(KN(ld)(x + i)));
    for (; i < n; i++) out[i] = KN(exp1)(x[i]);
}

static void KN(softmax)(float *x, size_t n) {
    size_t i = 0;
    VF mv = KN(splat)(-INFINITY);
    for (; i + KW <= n; i += KW) mv = KN(vmax)(KN(ld)(x + i), mv);
    float m = KN(hmax)(mv);
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    if (m == -INFINITY) m = 0;   /* all -inf: every exp is 0, the sum 0, the result NaN */
    const VF mb = KN(splat)(m);
    VF sv = KN(splat)(0.0f);
    for (i = 0; i + KW <= n; i += KW) {
        VF e = KN(expv)(KN(ld)(x + i) - mb);
        KN(st)(x + i, e);
        sv += e;
    }
    float s = KN(hsum)(sv);
    for (; i < n; i++) { float e = KN(exp1)(x[i] - m); x[i] = e; s += e; }
    const float inv = 1.0f / s;
    const VF iv = KN(splat)(inv);
    for (i = 0; i + KW <= n; i += KW) KN(st)(x + i, KN(ld)(x + i) * iv);
    for (; i < n; i++) x[i] *= inv;
}

static void KN(softmax_causal)(float *x, size_t rows, size_t ldx, size_t n0, size_t width) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * ldx;
        size_t n = n0 + r < width ? n0 + r : width;
        KN(softmax)(row, n);
        if (n < width) memset(row + n, 0, (width - n) * sizeof(float));
    }
}

static void KN(swiglu)(float *g, const float *u, size_t n) {
    size_t i = 0;
    for (; i + KW <= n; i += KW) {
        VF a = KN(ld)(g + i);
        KN(st)(g + i, a / (1.0f + KN(expv)(-a)) * KN(ld)(u + i));
    }
    for (; i < n; i++) g[i] = g[i] / (1.0f + KN(exp1)(-g[i])) * u[i];
}

static void KN(add_silu)(float *y, const float *s, size_t n) {
    size_t i = 0;
    for (; i + KW <= n; i += KW) {
        VF a = KN(ld)(s + i);
        KN(st)(y + i, KN(ld)(y + i) + a / (1.0f + KN(expv)(-a)));
    }
    for (; i < n; i++) y[i] += s[i] / (1.0f + KN(exp1)(-s[i]));
}

static void KN(mix4)(float *out, float a, const float *y, float c0, const float *x0, float c1, const float *x1,
                     float c2, const float *x2, float c3, const float *x3, size_t n) {
    const VF av = KN(splat)(a), v0 = KN(splat)(c0), v1 = KN(splat)(c1), v2 = KN(splat)(c2), v3 = KN(splat)(c3);
    size_t i = 0;
    for (; i + KW <= n; i += KW)
        KN(st)(out + i, av * KN(ld)(y + i) + v0 * KN(ld)(x0 + i) + v1 * KN(ld)(x1 + i) + v2 * KN(ld)(x2 + i) + v3 * KN(ld)(x3 + i));
    for (; i < n; i++) out[i] = a * y[i] + c0 * x0[i] + c1 * x1[i] + c2 * x2[i] + c3 * x3[i];
}

/* Rows ids[i] of a table to float32 rows of `width` (a multiple of KW) at out; the row
 * `dist` ahead (in ids, then in next) is prefetched, one hint per 64-byte line. bf16: the bits
 * shifted into the high half; f32: copied. Streaming (non-temporal) stores when `stream`. */
static void KN(gather)(const unsigned char *base, size_t row_bytes, int bf16, size_t width,
                       const int64_t *ids, size_t count, const int64_t *next, size_t next_count,
                       size_t dist, int stream, float *out) {
    for (size_t i = 0; i < count; i++) {
        size_t a = i + dist;
        const unsigned char *q = a < count ? base + (size_t)ids[a] * row_bytes
                               : (a - count < next_count ? base + (size_t)next[a - count] * row_bytes : NULL);
        if (q) for (size_t o = 0; o < row_bytes; o += 64) __builtin_prefetch(q + o, 0, 0);
        const unsigned char *src = base + (size_t)ids[i] * row_bytes;
        float *dst = out + i * width;
        if (bf16) {
            for (size_t k = 0; k < width; k += KW) {
                uint16_t h[KW];
                memcpy(h, src + 2 * k, sizeof h);
                VI v;
                for (int j = 0; j < KW; j++) v[j] = (int32_t)((uint32_t)h[j] << 16);
                if (stream) __builtin_nontemporal_store((VF)v, (VF *)(dst + k));
                else KN(st)(dst + k, (VF)v);
            }
        } else {
            for (size_t k = 0; k < width; k += KW) {
                VF v = KN(ld)((const float *)(const void *)(src + 4 * k));
                if (stream) __builtin_nontemporal_store(v, (VF *)(dst + k));
                else KN(st)(dst + k, v);
            }
        }
    }
}

#undef VF
#undef VI
