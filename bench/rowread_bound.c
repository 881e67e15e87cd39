/* The machine's random-row-read bound, for bench_retrieve.py (compiled by it with the system
 * C compiler and loaded through ctypes; not part of libengram).
 *
 * rowread_bound() maps `path` read-only (like the engine: MADV_HUGEPAGE when asked), then
 * reads the rows `ids[0..n)` (each `row_bytes` bytes at `offset + id * row_bytes`), touching
 * every 64-byte line of every row, prefetching `distance` rows ahead, split over `threads`
 * threads. Returns the best time in seconds over `reps` passes (the first pass also maps the
 * pages), or a negative value on error. No conversion, no output writes: a pure read bound. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const uint8_t *base;
    const int64_t *ids;
    long begin, end, row_bytes;
    int distance;
    uint64_t sum;
} part;

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

double rowread_bound(const char *path, long offset, long row_bytes, const int64_t *ids, long n,
                     int threads, int distance, int reps, int huge_pages) {
    if (threads < 1 || threads > 64 || row_bytes <= 0 || n <= 0) return -1;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -2;
    struct stat st;
    if (fstat(fd, &st) != 0) { close(fd); return -3; }
    void *map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return -4;
    if (huge_pages) madvise(map, st.st_size, MADV_HUGEPAGE);
    const uint8_t *base = (const uint8_t *)map + offset;
    double best = 1e30;
    for (int rep = 0; rep < reps; rep++) {
        pthread_t th[64];
        part parts[64];
        double t0 = now();
        for (int k = 0; k < threads; k++) {
            parts[k] = (part){base, ids, n * k / threads, n * (k + 1) / threads, row_bytes, distance, 0};
            if (k > 0) pthread_create(&th[k], NULL, read_rows, &parts[k]);
        }
        read_rows(&parts[0]);
        for (int k = 1; k < threads; k++) pthread_join(th[k], NULL);
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    munmap(map, st.st_size);
    return best;
}
