/* Handles the library did not hand out, or handed out and took back: a freed handle (use
 * after free, double free), a handle of another kind, a pointer to anything else (a string,
 * a stack variable, a zeroed block). Every call must answer ENGRAM_E_INVALID_ARGUMENT with a
 * message instead of crashing; every free must leave such a handle alone and the live ones
 * working. Uses the bundled model ($ENGRAM_ROOT/examples/model, or argv[1]). */
#include <stdlib.h>
#include "check.h"

int main(int argc, char **argv) {
    char dir[1024], path[1200];
    const char *root = getenv("ENGRAM_ROOT");
    if (argc > 1) snprintf(dir, sizeof dir, "%s", argv[1]);
    else if (root) snprintf(dir, sizeof dir, "%s/examples/model", root);
    else { fprintf(stderr, "test_handles: set ENGRAM_ROOT or pass the model folder\n"); return 1; }

    engram_tokenizer *tok = NULL;
    engram_model *model = NULL;
    engram_context *ctx = NULL;
    engram_hash_state *hs = NULL;
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    CHECK_STATUS(engram_tokenizer_load(path, &tok), ENGRAM_OK);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    CHECK_STATUS(engram_model_load(path, NULL, &model), ENGRAM_OK);
    CHECK_STATUS(engram_context_new(model, NULL, &ctx), ENGRAM_OK);
    CHECK_STATUS(engram_hash_state_create(model, &hs), ENGRAM_OK);
    if (!tok || !model || !ctx || !hs) return check_summary("test_handles");

    size_t n = 0, pos = 0, maxlen = 0;
    int32_t ids[8];
    char buf[256];

    /* A handle of another kind. */
    CHECK_STATUS(engram_tokenizer_vocab_size((const engram_tokenizer *)model, &n), ENGRAM_E_INVALID_ARGUMENT);
    CHECK(strstr(engram_last_error(), "engram_model handle") != NULL);
    CHECK_STATUS(engram_model_config_json((const engram_model *)tok, buf, sizeof buf, &n), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_context_position((const engram_context *)model, &pos, &maxlen), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_hash_state_append((engram_hash_state *)ctx, ids, 0), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_context_new((const engram_model *)ctx, NULL, &ctx), ENGRAM_E_INVALID_ARGUMENT);

    /* Pointers the library never returned: a string (what a binding passes when it confuses a
     * path with a handle), a stack variable, a zeroed heap block. */
    int local = 42;
    void *zeros = calloc(1, 4096);
    const void *foreign[] = {"examples/model/tokenizer.json", &local, zeros};
    for (int i = 0; i < 3; i++) {
        CHECK_STATUS(engram_tokenize((const engram_tokenizer *)foreign[i], "#", 1, 0, ids, 8, &n), ENGRAM_E_INVALID_ARGUMENT);
        CHECK(strstr(engram_last_error(), "not a live engram_tokenizer handle") != NULL);
        CHECK_STATUS(engram_forward((engram_context *)foreign[i], ids, 1, NULL, 0, &n), ENGRAM_E_INVALID_ARGUMENT);
        CHECK_STATUS(engram_model_compress((const engram_model *)foreign[i], ids, 1, NULL, 0, &n), ENGRAM_E_INVALID_ARGUMENT);
        /* Freeing them frees nothing and says so. */
        engram_tokenizer_free((engram_tokenizer *)foreign[i]);
        CHECK(strstr(engram_last_error(), "nothing freed") != NULL);
        engram_model_free((engram_model *)foreign[i]);
        engram_context_free((engram_context *)foreign[i]);
        engram_hash_state_free((engram_hash_state *)foreign[i]);
    }
    CHECK(local == 42);
    /* Freeing with the wrong free leaves the handle live. */
    engram_tokenizer_free((engram_tokenizer *)model);
    engram_context_free((engram_context *)tok);
    CHECK_STATUS(engram_tokenizer_vocab_size(tok, &n), ENGRAM_OK);
    CHECK(n == 4096);
    CHECK_STATUS(engram_model_config_json(model, NULL, 0, &n), ENGRAM_OK);

    /* The live handles still work. */
    CHECK_STATUS(engram_tokenize(tok, "The cat", 7, 0, ids, 8, &n), ENGRAM_OK);
    size_t nids = n;
    float logits[4096];
    CHECK_STATUS(engram_context_prefill(ctx, ids, nids, logits, 4096, &n), ENGRAM_OK);
    CHECK_STATUS(engram_hash_state_append(hs, ids, nids), ENGRAM_OK);

    /* Use after free and double free. */
    engram_tokenizer_free(tok);
    CHECK_STATUS(engram_tokenizer_vocab_size(tok, &n), ENGRAM_E_INVALID_ARGUMENT);
    CHECK(strstr(engram_last_error(), "already freed") != NULL);
    CHECK_STATUS(engram_tokenize(tok, "#", 1, 0, ids, 8, &n), ENGRAM_E_INVALID_ARGUMENT);
    engram_tokenizer_free(tok);   /* double free: nothing happens */
    CHECK(strstr(engram_last_error(), "nothing freed") != NULL);

    /* The model handle dies with its free; the context and hash state made from it keep the
     * model itself alive and go on working. */
    engram_model_free(model);
    CHECK_STATUS(engram_model_config_json(model, NULL, 0, &n), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_context_new(model, NULL, &ctx), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_context_prefill(ctx, ids, 1, logits, 4096, &n), ENGRAM_OK);
    CHECK_STATUS(engram_context_position(ctx, &pos, &maxlen), ENGRAM_OK);
    CHECK(pos == nids + 1);
    CHECK_STATUS(engram_hash_state_append(hs, ids, 1), ENGRAM_OK);
    engram_model_free(model);     /* double free of the model handle */
    engram_hash_state_free(hs);
    CHECK_STATUS(engram_hash_state_reset(hs), ENGRAM_E_INVALID_ARGUMENT);
    engram_context_free(ctx);
    CHECK_STATUS(engram_context_reset(ctx), ENGRAM_E_INVALID_ARGUMENT);
    engram_context_free(ctx);
    free(zeros);
    return check_summary("test_handles");
}
