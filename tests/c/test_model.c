/* The Model section of engram.h on models exported by engram.export, against expectations
 * from the independent numpy reference (tests/reference/model_fixture.py, run here through
 * $ENGRAM_ROOT/.venv/bin/python; a fixture folder may also be given as argv[1]).
 * Checks compress/hash/row_ids/retrieve, the streaming state, the buffer convention,
 * errors, and concurrent use of one model from two threads. */
#include <pthread.h>
#include <stdlib.h>
#include "check.h"

#define MAXV 20000

typedef struct { char key[32]; size_t n; long long v[MAXV]; } entry;
static entry entries[16];
static int n_entries;

static int read_expect(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    n_entries = 0;
    while (n_entries < 16 && fscanf(f, "%31s %zu", entries[n_entries].key, &entries[n_entries].n) == 2) {
        entry *e = &entries[n_entries];
        if (e->n > MAXV) { fclose(f); return 0; }
        for (size_t i = 0; i < e->n; i++)
            if (fscanf(f, "%lld", &e->v[i]) != 1) { fclose(f); return 0; }
        n_entries++;
    }
    fclose(f);
    return n_entries > 0;
}

static const entry *find(const char *key) {
    for (int i = 0; i < n_entries; i++) if (strcmp(entries[i].key, key) == 0) return &entries[i];
    return NULL;
}

typedef struct { const engram_model *m; const int32_t *ids; size_t n; int32_t layer; const entry *want; int ok; } job;

static void *retrieve_many(void *arg) {
    job *j = arg;
    size_t needed = 0;
    engram_model_retrieve(j->m, NULL, j->ids, j->n, j->layer, NULL, 0, &needed);
    float *out = malloc(needed * sizeof(float));
    j->ok = out != NULL;
    for (int rep = 0; rep < 50 && j->ok; rep++) {
        if (engram_model_retrieve(j->m, NULL, j->ids, j->n, j->layer, out, needed, &needed) != ENGRAM_OK) j->ok = 0;
        for (size_t i = 0; i < needed && j->ok; i++) {
            uint32_t bits; memcpy(&bits, &out[i], 4);
            if ((long long)bits != j->want->v[i]) j->ok = 0;
        }
    }
    free(out);
    return NULL;
}

static void test_fixture(const char *dir) {
    char path[2048];
    snprintf(path, sizeof path, "%s/expect.txt", dir);
    int have = read_expect(path);
    CHECK(have);
    if (!have) return;
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    engram_model *m = NULL;
    engram_model_params params = engram_model_default_params();
    CHECK(params.huge_pages == 1 && params.populate == 0 && params.prefetch_distance > 0 && params.streaming_stores == 1);
    CHECK_STATUS(engram_model_load(path, &params, &m), ENGRAM_OK);
    if (!m) return;

    const entry *ids64 = find("ids"), *layers = find("layers"), *vocab = find("vocab_size");
    size_t n = ids64->n;
    int32_t ids[256];
    for (size_t i = 0; i < n; i++) ids[i] = (int32_t)ids64->v[i];

    /* compress + the buffer convention (size query, too small, exact). */
    size_t needed = 0;
    int64_t c[256];
    CHECK_STATUS(engram_model_compress(m, ids, n, NULL, 0, &needed), ENGRAM_OK);
    CHECK(needed == n);
    CHECK_STATUS(engram_model_compress(m, ids, n, c, n - 1, &needed), ENGRAM_E_BUFFER_TOO_SMALL);
    CHECK(needed == n);
    CHECK_STATUS(engram_model_compress(m, ids, n, c, n, &needed), ENGRAM_OK);
    int same = 1;
    for (size_t i = 0; i < n; i++) same &= c[i] == find("compressed")->v[i];
    CHECK(same);

    for (size_t li = 0; li < layers->n; li++) {
        int32_t layer = (int32_t)layers->v[li];
        char key[32];
        snprintf(key, sizeof key, "hash_%d", layer);
        const entry *wh = find(key);
        snprintf(key, sizeof key, "rows_%d", layer);
        const entry *wr = find(key);
        snprintf(key, sizeof key, "vec_%d", layer);
        const entry *wv = find(key);
        CHECK(wh && wr && wv);
        if (!wh || !wr || !wv) continue;
        int64_t *h = malloc(wh->n * 8);
        float *v = malloc(wv->n * 4);
        CHECK_STATUS(engram_model_hash(m, NULL, ids, n, layer, h, wh->n, &needed), ENGRAM_OK);
        same = needed == wh->n;
        for (size_t i = 0; i < wh->n && same; i++) same &= h[i] == wh->v[i];
        CHECK(same);
        CHECK_STATUS(engram_model_row_ids(m, NULL, ids, n, layer, h, wr->n, &needed), ENGRAM_OK);
        same = needed == wr->n;
        for (size_t i = 0; i < wr->n && same; i++) same &= h[i] == wr->v[i];
        CHECK(same);
        CHECK_STATUS(engram_model_retrieve(m, NULL, ids, n, layer, v, wv->n, &needed), ENGRAM_OK);
        same = needed == wv->n;
        for (size_t i = 0; i < wv->n && same; i++) { uint32_t b; memcpy(&b, &v[i], 4); same &= (long long)b == wv->v[i]; }
        CHECK(same);

        /* Streaming, token by token: the same row ids and vectors. */
        engram_hash_state *st = NULL;
        CHECK_STATUS(engram_hash_state_create(m, &st), ENGRAM_OK);
        size_t cols = wr->n / n, width = wv->n / n;
        int stream_ok = 1;
        for (size_t t = 0; t < n; t++) {
            int64_t row[64];
            float vec[512];
            if (cols > 64 || width > 512) { stream_ok = 0; break; }
            stream_ok &= engram_model_row_ids(m, st, &ids[t], 1, layer, row, cols, &needed) == ENGRAM_OK;
            stream_ok &= engram_model_retrieve(m, st, &ids[t], 1, layer, vec, width, &needed) == ENGRAM_OK;
            for (size_t k = 0; k < cols; k++) stream_ok &= row[k] == wr->v[t * cols + k];
            for (size_t k = 0; k < width; k++) { uint32_t b; memcpy(&b, &vec[k], 4); stream_ok &= (long long)b == wv->v[t * width + k]; }
            stream_ok &= engram_hash_state_append(st, &ids[t], 1) == ENGRAM_OK;
        }
        CHECK(stream_ok);
        CHECK_STATUS(engram_hash_state_reset(st), ENGRAM_OK);
        CHECK_STATUS(engram_model_row_ids(m, st, ids, n, layer, h, wr->n, &needed), ENGRAM_OK);
        CHECK(h[wr->n - 1] == wr->v[wr->n - 1]);
        CHECK_STATUS(engram_hash_state_append(st, ids, 0), ENGRAM_OK);
        engram_hash_state_free(st);

        /* Two threads sharing the model. */
        job jobs[2] = {{m, ids, n, layer, wv, 0}, {m, ids, n, layer, wv, 0}};
        pthread_t th[2];
        for (int k = 0; k < 2; k++) pthread_create(&th[k], NULL, retrieve_many, &jobs[k]);
        for (int k = 0; k < 2; k++) pthread_join(th[k], NULL);
        CHECK(jobs[0].ok && jobs[1].ok);
        free(h);
        free(v);
    }

    /* Errors: a status and a message; outputs untouched. */
    int32_t layer0 = (int32_t)layers->v[0];
    int32_t bad_ids[2] = {1, (int32_t)vocab->v[0]};
    int64_t sentinel[64];
    for (int i = 0; i < 64; i++) sentinel[i] = -7;
    needed = 12345;
    CHECK_STATUS(engram_model_hash(m, NULL, bad_ids, 2, layer0, sentinel, 64, &needed), ENGRAM_E_OUT_OF_RANGE);
    CHECK(strstr(engram_last_error(), "vocabulary") != NULL);
    CHECK(sentinel[0] == -7);
    bad_ids[1] = -3;
    CHECK_STATUS(engram_model_compress(m, bad_ids, 2, sentinel, 64, &needed), ENGRAM_E_OUT_OF_RANGE);
    CHECK(sentinel[0] == -7 && sentinel[1] == -7);
    CHECK_STATUS(engram_model_retrieve(m, NULL, ids, n, 9999, NULL, 0, &needed), ENGRAM_E_OUT_OF_RANGE);
    CHECK(strstr(engram_last_error(), "9999") != NULL);
    CHECK_STATUS(engram_model_row_ids(m, NULL, ids, 0, layer0, sentinel, 64, &needed), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_model_hash(m, NULL, NULL, 3, layer0, sentinel, 64, &needed), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_model_hash(NULL, NULL, ids, 3, layer0, sentinel, 64, &needed), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_model_hash(m, NULL, ids, 3, layer0, sentinel, 64, NULL), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_model_hash(m, NULL, ids, (size_t)-1, layer0, sentinel, 64, &needed), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_model_hash(m, NULL, ids, 3, layer0, NULL, 64, &needed), ENGRAM_E_INVALID_ARGUMENT);

    /* Config and memory JSON. */
    char small[4];
    CHECK_STATUS(engram_model_config_json(m, small, sizeof small, &needed), ENGRAM_E_BUFFER_TOO_SMALL);
    char *json = malloc(needed);
    CHECK_STATUS(engram_model_config_json(m, json, needed, &needed), ENGRAM_OK);
    CHECK(json[0] == '{' && strstr(json, "\"max_ngram_size\"") != NULL && strlen(json) + 1 == needed);
    free(json);
    CHECK_STATUS(engram_model_memory_json(m, NULL, 0, &needed), ENGRAM_OK);
    json = malloc(needed);
    CHECK_STATUS(engram_model_memory_json(m, json, needed, &needed), ENGRAM_OK);
    CHECK(strstr(json, "\"compressed_vocab_size\"") != NULL && strstr(json, "\"primes\"") != NULL);
    free(json);

    /* A state outlives its model handle. */
    engram_hash_state *st = NULL;
    CHECK_STATUS(engram_hash_state_create(m, &st), ENGRAM_OK);
    engram_model_free(m);
    CHECK_STATUS(engram_hash_state_append(st, ids, n), ENGRAM_OK);
    engram_hash_state_free(st);
}

int main(int argc, char **argv) {
    engram_model *m = (engram_model *)0x1;
    CHECK_STATUS(engram_model_load("/nonexistent/model.onnx", NULL, &m), ENGRAM_E_IO);
    CHECK(m == (engram_model *)0x1);
    CHECK_STATUS(engram_model_load(NULL, NULL, &m), ENGRAM_E_INVALID_ARGUMENT);
    engram_model_params bad = engram_model_default_params();
    bad.n_threads = -1;
    CHECK_STATUS(engram_model_load("x.onnx", &bad, &m), ENGRAM_E_INVALID_ARGUMENT);
    engram_model_free(NULL);
    engram_hash_state_free(NULL);
    CHECK_STATUS(engram_hash_state_create(NULL, NULL), ENGRAM_E_INVALID_ARGUMENT);

    char dir[1024];
    if (argc > 1) {
        snprintf(dir, sizeof dir, "%s", argv[1]);
    } else {
        const char *root = getenv("ENGRAM_ROOT");
        if (!root) { fprintf(stderr, "test_model: set ENGRAM_ROOT or pass a fixture folder\n"); return 1; }
        snprintf(dir, sizeof dir, "%s/build/fixtures/memory", root);
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "cd '%s' && .venv/bin/python tests/reference/model_fixture.py '%s' > /dev/null", root, dir);
        CHECK(system(cmd) == 0);
    }
    const char *names[] = {"f32_n3", "bf16_n4", "f16_n2"};
    for (int i = 0; i < 3; i++) {
        char sub[1100];
        snprintf(sub, sizeof sub, "%s/%s", dir, names[i]);
        test_fixture(sub);
    }
    return check_summary("test_model");
}
