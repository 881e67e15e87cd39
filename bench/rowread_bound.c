/* The machine's random-row-read bound, for bench_retrieve.py (compiled by it with the system
 * C compiler and loaded through ctypes; not part of libengram).
 *
 * rowread_bound() maps `path` read-only (like the engine: MADV_HUGEPAGE when asked), then
 * reads the rows `ids[0..n)` (each `row_bytes` bytes at `offset + id * row_bytes`), touching
 * every 64-byte line of every row, prefetching `distance` rows ahead, split over `threads`
 * threads. Returns the best time in seconds over `reps` passes (the first pass also maps the
 * pages), or a negative value on error. No conversion, no output writes: a pure read bound.
 * With `widen` it is a plain gather loop instead: each row read whole and written out as
 * float32 with streaming stores (no hashing), the work retrieving into an output larger than
 * the caches adds to the read bound. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <emmintrin.h>

typedef struct {
    const uint8_t *base;
    const int64_t *ids;
    long begin, end, row_bytes;
    int distance;
    int widen;        /* gather mode: 1 bf16 rows (write 2x the bytes), 2 f32 rows (copy) */
    uint8_t *out;     /* gather mode: this thread's output ring */
    long out_bytes;
    uint64_t sum;
} part;

/* Gather mode: every row read whole and written as float32 (bf16 widened, f32 copied) with
 * streaming stores into a ring much larger than the caches, as any retrieval into a large
 * output must; no hashing. */
static void *gather_rows(void *arg) {
    part *p = arg;
    const long rb = p->row_bytes, wb = p->widen == 1 ? 2 * rb : rb;
    const __m128i z = _mm_setzero_si128();
    long o = 0;
    for (long i = p->begin; i < p->end; i++) {
        if (i + p->distance < p->end) {
            const uint8_t *q = p->base + p->ids[i + p->distance] * rb;
            for (long k = 0; k < rb; k += 64) __builtin_prefetch(q + k, 0, 0);
        }
        const uint8_t *r = p->base + p->ids[i] * rb;
        if (o + wb > p->out_bytes) o = 0;
        __m128i *d = (__m128i *)(p->out + o);
        for (long k = 0; k < rb; k += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(r + k));
            if (p->widen == 1) {
                _mm_stream_si128(d++, _mm_unpacklo_epi16(z, v));
                _mm_stream_si128(d++, _mm_unpackhi_epi16(z, v));
            } else {
                _mm_stream_si128(d++, v);
            }
        }
        o += wb;
    }
    _mm_sfence();
    p->sum = (uint64_t)o;
    return NULL;
}

static void *read_rows(void *arg) {
    part *p = arg;
    uint64_t s = 0;
    const long rb = p->row_bytes;
    for (long i = p->begin; i < p->end; i++) {
        if (i + p->distance < p->end) {
            const uint8_t *q = p->base + p->ids[i + p->distance] * rb;
            for (long o = 0; o < rb; o += 64) __builtin_prefetch(q + o, 0, 0);
        }
        const uint8_t *r = p->base + p->ids[i] * rb;
        for (long o = 0; o < rb; o += 64) s += *(const volatile uint64_t *)(r + o);
    }
    p->sum = s;
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* widen: 0 the read bound (one load per line, no output); 1 / 2 the plain gather loop of
 * bf16 / f32 rows (see gather_rows), writing into a 64 MiB ring per thread. */
double rowread_bound(const char *path, long offset, long row_bytes, const int64_t *ids, long n,
                     int threads, int distance, int reps, int huge_pages, int widen) {
    if (threads < 1 || threads > 64 || row_bytes <= 0 || n <= 0 || widen < 0 || widen > 2) return -1;
    if (widen && row_bytes % 16) return -1;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -2;
    struct stat st;
    if (fstat(fd, &st) != 0) { close(fd); return -3; }
    void *map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return -4;
    if (huge_pages) madvise(map, st.st_size, MADV_HUGEPAGE);
    const uint8_t *base = (const uint8_t *)map + offset;
    const long ring = 64L << 20;
    uint8_t *outs[64] = {0};
    if (widen) {
        for (int k = 0; k < threads; k++) {
            if (posix_memalign((void **)&outs[k], 64, ring)) { for (int j = 0; j < k; j++) free(outs[j]); munmap(map, st.st_size); return -5; }
            memset(outs[k], 0, ring);
        }
    }
    void *(*fn)(void *) = widen ? gather_rows : read_rows;
    double best = 1e30;
    for (int rep = 0; rep < reps; rep++) {
        pthread_t th[64];
        part parts[64];
        double t0 = now();
        for (int k = 0; k < threads; k++) {
            parts[k] = (part){base, ids, n * k / threads, n * (k + 1) / threads, row_bytes, distance, widen, outs[k], ring, 0};
            if (k > 0) pthread_create(&th[k], NULL, fn, &parts[k]);
        }
        fn(&parts[0]);
        for (int k = 1; k < threads; k++) pthread_join(th[k], NULL);
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    for (int k = 0; k < threads; k++) free(outs[k]);
    munmap(map, st.st_size);
    return best;
}
