/* The "Fuse, forward, context and generation" section of engram.h on a small model exported
 * by engram.export, against ONNX Runtime logits and the PyTorch fuse module
 * (tests/fixtures/make_c_forward_fixture.py, run here through $ENGRAM_ROOT/.venv/bin/python;
 * a fixture folder may also be given as argv[1]). Checks logits, prefill + decode, fuse
 * (whole and streaming), generation with a callback and stop tokens, the buffer convention
 * and errors. */
#include <math.h>
#define ABS(x) ((x) < 0 ? -(x) : (x))
#include <stdlib.h>
#include "check.h"

#define MAXF 20000

typedef struct { char key[32]; size_t n; double v[MAXF]; } entry;
static entry entries[8];
static int n_entries;

static int read_expect(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    while (n_entries < 8 && fscanf(f, "%31s %zu", entries[n_entries].key, &entries[n_entries].n) == 2) {
        entry *e = &entries[n_entries];
        if (e->n > MAXF) { fclose(f); return 0; }
        for (size_t i = 0; i < e->n; i++)
            if (fscanf(f, "%lf", &e->v[i]) != 1) { fclose(f); return 0; }
        n_entries++;
    }
    fclose(f);
    return n_entries > 0;
}

static const entry *find(const char *key) {
    for (int i = 0; i < n_entries; i++) if (strcmp(entries[i].key, key) == 0) return &entries[i];
    fprintf(stderr, "missing key %s\n", key);
    exit(1);
}

static double max_abs(const float *a, const entry *e, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = ABS((double)a[i] - e->v[i]);
        if (!(d <= m)) m = isnan(d) ? INFINITY : d;
    }
    return m;
}

/* max |a - b| / max(1, |b|) */
static double max_rel2(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double s = ABS((double)b[i]) > 1 ? ABS((double)b[i]) : 1;
        double d = ABS((double)a[i] - b[i]) / s;
        if (!(d <= m)) m = isnan(d) ? INFINITY : d;
    }
    return m;
}

typedef struct { int32_t seen[64]; int n; int stop_after; } cb_state;

static int32_t on_token(int32_t token, void *user) {
    cb_state *s = user;
    if (s->n < 64) s->seen[s->n] = token;
    s->n++;
    return s->stop_after > 0 && s->n >= s->stop_after;
}

int main(int argc, char **argv) {
    char dir[1024], path[1200];
    if (argc > 1) {
        snprintf(dir, sizeof dir, "%s", argv[1]);
    } else {
        const char *root = getenv("ENGRAM_ROOT");
        if (!root) { fprintf(stderr, "test_forward: set ENGRAM_ROOT or pass a fixture folder\n"); return 1; }
        snprintf(dir, sizeof dir, "%s/build/ctests/forward_fixture", root);
        char cmd[3000];
        snprintf(cmd, sizeof cmd, "cd '%s' && .venv/bin/python tests/fixtures/make_c_forward_fixture.py '%s' > /dev/null 2>&1", root, dir);
        CHECK(system(cmd) == 0);
    }
    snprintf(path, sizeof path, "%s/expect.txt", dir);
    CHECK(read_expect(path));
    const entry *cfg = find("config"), *ids_e = find("ids"), *logits_e = find("logits");
    const entry *hidden_e = find("hidden"), *y_e = find("y"), *gates_e = find("gates");
    const size_t V = (size_t)cfg->v[0], hc = (size_t)cfg->v[1], D = (size_t)cfg->v[2];
    const int32_t layer = (int32_t)cfg->v[3];
    const size_t T = ids_e->n;
    int32_t ids[64];
    for (size_t i = 0; i < T; i++) ids[i] = (int32_t)ids_e->v[i];

    snprintf(path, sizeof path, "%s/model.onnx", dir);
    engram_model *m = NULL;
    CHECK_STATUS(engram_model_load(path, NULL, &m), ENGRAM_OK);
    if (!m) return check_summary("test_forward");

    /* Full forward vs ONNX Runtime. */
    engram_context *ctx = NULL;
    engram_context_params cp = engram_context_default_params();
    cp.max_length = 32;
    cp.n_threads = 1;
    CHECK_STATUS(engram_context_new(m, &cp, &ctx), ENGRAM_OK);
    size_t needed = 0;
    CHECK_STATUS(engram_forward(ctx, ids, T, NULL, 0, &needed), ENGRAM_OK);   /* size query runs nothing */
    CHECK(needed == T * V);
    size_t pos = 99, maxlen = 0;
    CHECK_STATUS(engram_context_position(ctx, &pos, &maxlen), ENGRAM_OK);
    CHECK(pos == 0 && maxlen == 32);
    float *logits = calloc(T * V, sizeof(float));
    CHECK(engram_forward(ctx, ids, T, logits, T * V - 1, &needed) == ENGRAM_E_BUFFER_TOO_SMALL);
    CHECK_STATUS(engram_forward(ctx, ids, T, logits, T * V, &needed), ENGRAM_OK);
    double err = max_abs(logits, logits_e, T * V);
    printf("  logits vs ONNX Runtime: max abs error %.3g\n", err);
    CHECK(err <= 1e-4);

    /* Prefill then decode: 1e-5 relative to max(1, |logit|) (another summation order). */
    CHECK_STATUS(engram_context_reset(ctx), ENGRAM_OK);
    float *row = calloc(V, sizeof(float));
    CHECK_STATUS(engram_context_prefill(ctx, ids, 5, row, V, &needed), ENGRAM_OK);
    CHECK(needed == V);
    CHECK(max_rel2(row, logits + 4 * V, V) <= 1e-5);
    for (size_t t = 5; t < T; t++) {
        CHECK_STATUS(engram_forward(ctx, ids + t, 1, row, V, &needed), ENGRAM_OK);
        CHECK(max_rel2(row, logits + t * V, V) <= 1e-5);
    }
    CHECK_STATUS(engram_context_position(ctx, &pos, NULL), ENGRAM_OK);
    CHECK(pos == T);

    /* Errors: bad token, too many positions, NULLs. */
    int32_t bad = (int32_t)V;
    CHECK(engram_forward(ctx, &bad, 1, row, V, &needed) == ENGRAM_E_INVALID_ARGUMENT);
    float *big = calloc(32 * V, sizeof(float));
    int32_t many[32] = {0};
    CHECK(engram_forward(ctx, many, 32, big, 32 * V, &needed) == ENGRAM_E_STATE);
    CHECK(strlen(engram_last_error()) > 0);
    CHECK(engram_forward(NULL, ids, 1, row, V, &needed) == ENGRAM_E_INVALID_ARGUMENT);
    CHECK(engram_forward(ctx, NULL, 1, row, V, &needed) == ENGRAM_E_INVALID_ARGUMENT);
    CHECK(engram_forward(ctx, ids, 0, row, V, &needed) == ENGRAM_E_INVALID_ARGUMENT);
    engram_context *bad_ctx = NULL;
    cp.max_length = 100000;
    CHECK(engram_context_new(m, &cp, &bad_ctx) == ENGRAM_E_INVALID_ARGUMENT && bad_ctx == NULL);

    /* Fuse: whole sequence, then streaming through the context. */
    const size_t HD = hc * D;
    float *hidden = malloc(T * HD * sizeof(float)), *y = malloc(T * HD * sizeof(float)), *gates = malloc(T * hc * sizeof(float));
    for (size_t i = 0; i < T * HD; i++) hidden[i] = (float)hidden_e->v[i];
    CHECK_STATUS(engram_model_fuse(m, layer, hidden, T * HD, ids, T, y, T * HD, &needed, gates, T * hc), ENGRAM_OK);
    CHECK(needed == T * HD);
    double ey = max_abs(y, y_e, T * HD), eg = max_abs(gates, gates_e, T * hc);
    printf("  fuse vs PyTorch: Y %.3g, gates %.3g\n", ey, eg);
    CHECK(ey <= 1e-5 && eg <= 1e-5);
    CHECK_STATUS(engram_context_reset(ctx), ENGRAM_OK);
    float *y2 = malloc(T * HD * sizeof(float));
    for (size_t t = 0; t < T; t++)
        CHECK_STATUS(engram_context_fuse(ctx, layer, hidden + t * HD, HD, ids + t, 1, y2 + t * HD, HD, &needed, NULL, 0), ENGRAM_OK);
    CHECK(max_abs(y2, y_e, T * HD) <= 1e-5);
    CHECK(engram_model_fuse(m, layer, hidden, T * HD - 1, ids, T, y, T * HD, &needed, NULL, 0) == ENGRAM_E_INVALID_ARGUMENT);
    CHECK(engram_model_fuse(m, 1, hidden, T * HD, ids, T, y, T * HD, &needed, NULL, 0) == ENGRAM_E_OUT_OF_RANGE);
    CHECK(engram_model_fuse(m, layer, hidden, T * HD, ids, T, y, T * HD, &needed, gates, 1) == ENGRAM_E_BUFFER_TOO_SMALL);
    hidden[7] = NAN;
    CHECK(engram_model_fuse(m, layer, hidden, T * HD, ids, T, y, T * HD, &needed, NULL, 0) == ENGRAM_E_INVALID_ARGUMENT);
    hidden[7] = INFINITY;
    CHECK(engram_model_fuse(m, layer, hidden, T * HD, ids, T, y, T * HD, &needed, NULL, 0) == ENGRAM_E_INVALID_ARGUMENT);

    /* Generation: greedy = argmax of a full forward; callback sees every token; stops. */
    CHECK_STATUS(engram_context_reset(ctx), ENGRAM_OK);
    engram_generate_params gp = engram_generate_default_params();
    CHECK(gp.temperature == 0 && gp.top_p == 1 && gp.top_k == 0);
    gp.max_new_tokens = 6;
    int32_t out[16];
    size_t n = 0;
    engram_stop_reason why = ENGRAM_STOP_CALLBACK;
    cb_state cs = {{0}, 0, 0};
    CHECK_STATUS(engram_generate(ctx, ids, 4, &gp, on_token, &cs, out, 16, &n, &why), ENGRAM_OK);
    CHECK(n == 6 && cs.n == 6 && why == ENGRAM_STOP_MAX_TOKENS);
    CHECK(memcmp(out, cs.seen, 6 * sizeof(int32_t)) == 0);
    int32_t seq[16];
    memcpy(seq, ids, 4 * sizeof(int32_t));
    memcpy(seq + 4, out, 6 * sizeof(int32_t));
    engram_context *c2 = NULL;
    cp.max_length = 16;
    CHECK_STATUS(engram_context_new(m, &cp, &c2), ENGRAM_OK);
    CHECK_STATUS(engram_forward(c2, seq, 10, big, 10 * V, &needed), ENGRAM_OK);
    int argmax_ok = 1;
    for (int i = 0; i < 6; i++) {
        const float *r = big + (size_t)(3 + i) * V;
        size_t best = 0;
        for (size_t v = 1; v < V; v++) if (r[v] > r[best]) best = v;
        if ((int32_t)best != out[i]) argmax_ok = 0;
    }
    CHECK(argmax_ok);
    engram_context_free(c2);

    /* Callback stop, stop token, sampling reproducibility. */
    CHECK_STATUS(engram_context_reset(ctx), ENGRAM_OK);
    gp.temperature = 1.0f; gp.top_k = 10; gp.top_p = 0.9f; gp.seed = 99; gp.max_new_tokens = 8;
    int32_t a[16], b[16];
    size_t na = 0, nb = 0;
    CHECK_STATUS(engram_generate(ctx, ids, 3, &gp, NULL, NULL, a, 16, &na, NULL), ENGRAM_OK);
    CHECK_STATUS(engram_context_reset(ctx), ENGRAM_OK);
    CHECK_STATUS(engram_generate(ctx, ids, 3, &gp, NULL, NULL, b, 16, &nb, NULL), ENGRAM_OK);
    CHECK(na == 8 && nb == 8 && memcmp(a, b, sizeof(int32_t) * 8) == 0);
    CHECK_STATUS(engram_context_reset(ctx), ENGRAM_OK);
    cb_state stopper = {{0}, 0, 2};
    CHECK_STATUS(engram_generate(ctx, ids, 3, &gp, on_token, &stopper, NULL, 0, &n, &why), ENGRAM_OK);
    CHECK(n == 2 && why == ENGRAM_STOP_CALLBACK);
    CHECK_STATUS(engram_context_position(ctx, &pos, NULL), ENGRAM_OK);
    CHECK(pos == 5);
    CHECK_STATUS(engram_context_reset(ctx), ENGRAM_OK);
    gp.stop_tokens = &a[2];
    gp.n_stop_tokens = 1;
    CHECK_STATUS(engram_generate(ctx, ids, 3, &gp, NULL, NULL, b, 16, &nb, &why), ENGRAM_OK);
    CHECK(why == ENGRAM_STOP_TOKEN && nb <= 3 && b[nb - 1] == a[2]);
    gp.top_p = 0;
    CHECK(engram_generate(ctx, ids, 3, &gp, NULL, NULL, b, 16, &nb, &why) == ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_context_reset(ctx), ENGRAM_OK);
    CHECK(engram_generate(ctx, NULL, 0, NULL, NULL, NULL, NULL, 0, &nb, NULL) == ENGRAM_E_STATE);
    CHECK(engram_generate(ctx, ids, 3, NULL, NULL, NULL, NULL, 0, NULL, NULL) == ENGRAM_E_INVALID_ARGUMENT);

    engram_context_free(ctx);
    engram_context_free(NULL);
    engram_model_free(m);
    free(logits); free(row); free(big); free(hidden); free(y); free(y2); free(gates);
    return check_summary("test_forward");
}
