/* generate.c - streams a model's continuation of a prompt, token by token, through the
 * callback of engram_generate.
 *
 *   make && ./generate [MODEL_DIR] ["prompt"] [max_new_tokens]
 */
#include <engram.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call) do { \
    engram_status s_ = (call); \
    if (s_ != ENGRAM_OK) { \
        fprintf(stderr, "%s failed: %s (%s)\n", #call, engram_last_error(), engram_status_string(s_)); \
        exit(1); \
    } \
} while (0)

struct stream {
    const engram_tokenizer *tok;
    int32_t end_of_text; /* reported like any token, not printed */
};

/* Prints each token as soon as it is chosen. Returning non-zero would stop generation. */
static int32_t on_token(int32_t token, void *user_data) {
    const struct stream *s = user_data;
    char piece[256];
    size_t need = 0;
    if (token != s->end_of_text && engram_detokenize(s->tok, &token, 1, piece, sizeof piece, &need) == ENGRAM_OK) {
        fputs(piece, stdout);
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : (getenv("ENGRAM_MODEL") ? getenv("ENGRAM_MODEL") : "../model");
    const char *prompt = argc > 2 ? argv[2] : "The cat sat on the mat.";
    size_t max_new = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 48;
    char model_path[4096], tok_path[4096];
    snprintf(model_path, sizeof model_path, "%s/model.onnx", dir);
    snprintf(tok_path, sizeof tok_path, "%s/tokenizer.json", dir);

    engram_tokenizer *tok = NULL;
    engram_model *model = NULL;
    engram_context *ctx = NULL;
    CHECK(engram_tokenizer_load(tok_path, &tok));
    CHECK(engram_model_load(model_path, NULL, &model));
    engram_context_params cp = engram_context_default_params();
    cp.max_length = 512;
    CHECK(engram_context_new(model, &cp, &ctx));

    int32_t ids[512];
    size_t n = 0;
    CHECK(engram_tokenize(tok, prompt, strlen(prompt), 0, ids, 512, &n));
    engram_generate_params gp = engram_generate_default_params();
    struct stream s = { tok, -1 };
    /* Stop at the tokenizer's end-of-text token, if it has one. */
    if (engram_token_to_id(tok, "<|endoftext|>", strlen("<|endoftext|>"), &s.end_of_text) == ENGRAM_OK) {
        gp.stop_tokens = &s.end_of_text;
        gp.n_stop_tokens = 1;
    }
    gp.max_new_tokens = max_new;
    gp.temperature = 0.8f;
    gp.top_k = 40;
    gp.seed = 42;
    size_t produced = 0;
    engram_stop_reason why;
    fputs(prompt, stdout);
    CHECK(engram_generate(ctx, ids, n, &gp, on_token, &s, NULL, 0, &produced, &why));
    printf("\n[%zu tokens, stopped: %s]\n", produced,
           why == ENGRAM_STOP_MAX_TOKENS ? "max tokens" : why == ENGRAM_STOP_TOKEN ? "end of text" :
           why == ENGRAM_STOP_CALLBACK ? "callback" : "context full");

    engram_context_free(ctx);
    engram_model_free(model);
    engram_tokenizer_free(tok);
    return 0;
}
