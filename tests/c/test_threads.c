/* One model shared by N threads, each with its own context and hash state: forward logits,
 * greedy and sampled generation, fuse (model and context), hash and retrieve (one output
 * above 2 MiB: streaming stores, several gather threads) on the same inputs, repeated,
 * must equal the serial results bit for bit (memcmp). tests/tsan.sh runs this program
 * against a ThreadSanitizer build of the library. Uses the tiny model fuzz/model/model.onnx
 * (fuzz/make_model.py) from $ENGRAM_ROOT, or argv[1]. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include "check.h"

enum { V = 64, HC = 2, D = 16, VW = 16, HCOLS = 4, T = 10, GEN = 6, NTHREADS = 4, ROUNDS = 3 };

typedef struct {
    float logits[T * V];
    float prefill[V];
    int32_t greedy[GEN], sampled[GEN];
    size_t n_greedy, n_sampled;
    float fuse_y[T * HC * D], fuse_g[T * HC], cfuse_y[T * HC * D];
    int64_t hash[T * HCOLS];
    float vectors[T * VW];
    uint64_t big_hash;    /* FNV-1a of a retrieve output above 2 MiB (the streaming-store path) */
    engram_status status; /* first failure */
} result;

static engram_model *model;
static const int32_t ids[T] = {3, 17, 42, 5, 63, 0, 9, 9, 21, 48};
static float hidden[T * HC * D];

#define TRY(call) do { engram_status s_ = (call); if (s_ != ENGRAM_OK && r->status == ENGRAM_OK) { \
    r->status = s_; fprintf(stderr, "  %s: %s\n", #call, engram_last_error()); } } while (0)

enum { BIG = 40000 }; /* ids: 40000 x 16 floats = 2.56 MB of output */
static int32_t big_ids[BIG];

static uint64_t fnv(const void *p, size_t n) {
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) { h ^= b[i]; h *= 1099511628211ull; }
    return h;
}

static void run_once(result *r) {
    engram_context_params cp = engram_context_default_params();
    cp.max_length = 32;
    cp.n_threads = 1;
    engram_context *ctx = NULL;
    engram_hash_state *hs = NULL;
    size_t n = 0;
    r->status = ENGRAM_OK;
    TRY(engram_context_new(model, &cp, &ctx));
    TRY(engram_hash_state_create(model, &hs));
    if (!ctx || !hs) { engram_context_free(ctx); engram_hash_state_free(hs); return; }
    TRY(engram_forward(ctx, ids, T, r->logits, T * V, &n));
    TRY(engram_context_reset(ctx));
    TRY(engram_context_prefill(ctx, ids, T, r->prefill, V, &n));
    TRY(engram_context_reset(ctx));
    engram_generate_params gp = engram_generate_default_params();
    gp.max_new_tokens = GEN;
    TRY(engram_generate(ctx, ids, T, &gp, NULL, NULL, r->greedy, GEN, &r->n_greedy, NULL));
    TRY(engram_context_reset(ctx));
    gp.temperature = 0.9f; gp.top_k = 20; gp.top_p = 0.9f; gp.seed = 1234;
    TRY(engram_generate(ctx, ids, 4, &gp, NULL, NULL, r->sampled, GEN, &r->n_sampled, NULL));
    TRY(engram_model_fuse(model, 1, hidden, T * HC * D, ids, T, r->fuse_y, T * HC * D, &n, r->fuse_g, T * HC));
    /* the context's fuse stream, token by token */
    for (int t = 0; t < T; t++)
        TRY(engram_context_fuse(ctx, 0, hidden + t * HC * D, HC * D, ids + t, 1, r->cfuse_y + t * HC * D, HC * D, &n, NULL, 0));
    TRY(engram_hash_state_append(hs, ids, 3));
    TRY(engram_model_hash(model, hs, ids, T, 0, r->hash, T * HCOLS, &n));
    TRY(engram_model_retrieve(model, hs, ids, T, 1, r->vectors, T * VW, &n));
    float *big = malloc((size_t)BIG * VW * sizeof(float));
    if (big) {
        TRY(engram_model_retrieve(model, NULL, big_ids, BIG, 0, big, (size_t)BIG * VW, &n));
        r->big_hash = fnv(big, (size_t)BIG * VW * sizeof(float));
        free(big);
    }
    engram_hash_state_free(hs);
    engram_context_free(ctx);
}

static result serial, results[NTHREADS][ROUNDS];

static void *worker(void *arg) {
    result *rs = arg;
    for (int k = 0; k < ROUNDS; k++) run_once(&rs[k]);
    return NULL;
}

int main(int argc, char **argv) {
    char path[1200];
    if (argc > 1) snprintf(path, sizeof path, "%s", argv[1]);
    else {
        const char *root = getenv("ENGRAM_ROOT");
        if (!root) { fprintf(stderr, "test_threads: set ENGRAM_ROOT or pass a model path\n"); return 1; }
        snprintf(path, sizeof path, "%s/fuzz/model/model.onnx", root);
    }
    for (int i = 0; i < BIG; i++) big_ids[i] = (int32_t)((i * 2654435761u) >> 26);  /* 0..63 */
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) hidden[i] = (float)((int)(i * 7 % 23) - 11) / 9.0f;
    engram_model_params mp = engram_model_default_params();
    mp.n_threads = 2; /* retrieve splits its gather across threads too */
    CHECK_STATUS(engram_model_load(path, &mp, &model), ENGRAM_OK);
    if (!model) return check_summary("test_threads");
    memset(&serial, 0, sizeof serial);
    memset(results, 0, sizeof results);
    run_once(&serial);
    CHECK(serial.status == ENGRAM_OK);
    CHECK(serial.n_greedy == GEN);
    CHECK(serial.big_hash != 0);
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) CHECK(pthread_create(&th[i], NULL, worker, results[i]) == 0);
    for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
    int same = 0;
    for (int i = 0; i < NTHREADS; i++)
        for (int k = 0; k < ROUNDS; k++) {
            int eq = memcmp(&results[i][k], &serial, sizeof serial) == 0;
            if (!eq) fprintf(stderr, "  thread %d round %d differs from the serial run\n", i, k);
            CHECK(eq);
            same += eq;
        }
    printf("  %d of %d threaded runs identical to the serial run (bit for bit)\n", same, NTHREADS * ROUNDS);
    engram_model_free(model);
    return check_summary("test_threads");
}
