/* cat_sat.c - walks "The cat sat on the mat." through every stage of an Engram model:
 * tokenize, compress, hash, retrieve, fuse and forward, printing what each stage gives.
 *
 *   make && ./cat_sat [MODEL_DIR]      (MODEL_DIR holds model.onnx and tokenizer.json;
 *                                       default: $ENGRAM_MODEL, else ../model)
 */
#include <engram.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the failed call and the library's message, then leaves. */
#define CHECK(call) do { \
    engram_status s_ = (call); \
    if (s_ != ENGRAM_OK) { \
        fprintf(stderr, "%s failed: %s (%s)\n", #call, engram_last_error(), engram_status_string(s_)); \
        exit(1); \
    } \
} while (0)

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : (getenv("ENGRAM_MODEL") ? getenv("ENGRAM_MODEL") : "../model");
    char model_path[4096], tok_path[4096];
    snprintf(model_path, sizeof model_path, "%s/model.onnx", dir);
    snprintf(tok_path, sizeof tok_path, "%s/tokenizer.json", dir);
    const char *text = "The cat sat on the mat.";
    printf("libengram %s\n", engram_version());

    /* 1. Tokenize: ask for the size, then fill a buffer of that size. */
    engram_tokenizer *tok = NULL;
    CHECK(engram_tokenizer_load(tok_path, &tok));
    size_t n = 0;
    CHECK(engram_tokenize(tok, text, strlen(text), 0, NULL, 0, &n));
    int32_t *ids = malloc(n * sizeof *ids);
    CHECK(engram_tokenize(tok, text, strlen(text), 0, ids, n, &n));
    printf("\n1. tokenize \"%s\" -> %zu tokens\n", text, n);
    for (size_t t = 0; t < n; t++) {
        char piece[256];
        size_t need;
        CHECK(engram_detokenize(tok, &ids[t], 1, piece, sizeof piece, &need));
        printf("   [%zu] id %5d  \"%s\"\n", t, ids[t], piece);
    }

    /* 2. Compress: the surjective vocabulary map. */
    engram_model *model = NULL;
    engram_model_params mp = engram_model_default_params();
    CHECK(engram_model_load(model_path, &mp, &model));
    int64_t *comp = malloc(n * sizeof *comp);
    size_t need = 0;
    CHECK(engram_model_compress(model, ids, n, comp, n, &need));
    printf("\n2. compress ->");
    for (size_t t = 0; t < n; t++) printf(" %lld", (long long)comp[t]);
    printf("\n");

    /* The first Engram layer and the shapes, from the model's description. */
    char cfg[8192];
    CHECK(engram_model_config_json(model, cfg, sizeof cfg, &need));
    int layer = -1, hidden = 0, hc = 1;
    const char *p = strstr(cfg, "\"layer_ids\"");
    if (p && (p = strchr(p, '['))) layer = atoi(p + 1);
    if ((p = strstr(cfg, "\"hidden_size\"")) && (p = strchr(p, ':'))) hidden = atoi(p + 1);
    if ((p = strstr(cfg, "\"hc_mult\"")) && (p = strchr(p, ':'))) hc = atoi(p + 1);
    if (layer < 0 || hidden <= 0) { fprintf(stderr, "the model has no Engram layer\n"); return 1; }

    /* 3. Hash: per-head indices, then row ids into the layer's table. */
    size_t cols = 0;
    CHECK(engram_model_row_ids(model, NULL, ids, n, layer, NULL, 0, &cols));
    int64_t *rows = malloc(cols * sizeof *rows);
    CHECK(engram_model_row_ids(model, NULL, ids, n, layer, rows, cols, &cols));
    size_t heads = cols / n;
    printf("\n3. hash (layer %d): %zu heads per token (orders 2..N, heads 0..K-1), table rows:\n", layer, heads);
    for (size_t t = 0; t < n; t++) {
        printf("   [%zu]", t);
        for (size_t j = 0; j < heads; j++) printf(" %lld", (long long)rows[t * heads + j]);
        printf("\n");
    }

    /* 4. Retrieve: the rows, concatenated per token. */
    size_t nvec = 0;
    CHECK(engram_model_retrieve(model, NULL, ids, n, layer, NULL, 0, &nvec));
    float *vec = malloc(nvec * sizeof *vec);
    CHECK(engram_model_retrieve(model, NULL, ids, n, layer, vec, nvec, &nvec));
    size_t width = nvec / n;
    printf("\n4. retrieve -> %zu x %zu floats; token 0 starts with %.4f %.4f %.4f\n", n, width, vec[0], vec[1], vec[2]);

    /* 5. Fuse: gate the memory into hidden states (here: the token embeddings would come
     * from the backbone; a constant hidden state shows the gate's response to the memory). */
    size_t nh = n * (size_t)hc * (size_t)hidden;
    float *h = malloc(nh * sizeof *h), *y = malloc(nh * sizeof *y), *gates = malloc(n * (size_t)hc * sizeof *gates);
    for (size_t i = 0; i < nh; i++) h[i] = (float)sin((double)i * 0.01);
    CHECK(engram_model_fuse(model, layer, h, nh, ids, n, y, nh, &need, gates, n * (size_t)hc));
    printf("\n5. fuse (layer %d) -> gate per token (stream 0):", layer);
    for (size_t t = 0; t < n; t++) printf(" %.3f", gates[t * (size_t)hc]);
    printf("\n");

    /* 6. Forward: logits of the next token after the whole text. */
    engram_context *ctx = NULL;
    engram_context_params cp = engram_context_default_params();
    cp.max_length = 256;
    CHECK(engram_context_new(model, &cp, &ctx));
    size_t vocab = 0;
    CHECK(engram_tokenizer_vocab_size(tok, &vocab));
    size_t nl = 0;
    CHECK(engram_context_prefill(ctx, ids, n, NULL, 0, &nl));
    float *logits = malloc(nl * sizeof *logits);
    CHECK(engram_context_prefill(ctx, ids, n, logits, nl, &nl));
    size_t best = 0;
    for (size_t v = 1; v < nl; v++) if (logits[v] > logits[best]) best = v;
    char piece[256];
    int32_t best_id = (int32_t)best;
    CHECK(engram_detokenize(tok, &best_id, 1, piece, sizeof piece, &need));
    printf("\n6. forward -> %zu logits; most likely next token: id %zu \"%s\"\n", nl, best, piece);

    free(logits); free(gates); free(y); free(h); free(vec); free(rows); free(comp); free(ids);
    engram_context_free(ctx);
    engram_model_free(model);
    engram_tokenizer_free(tok);
    return 0;
}
