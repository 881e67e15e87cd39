/* Loads and frees a model, a tokenizer, a context and a hash state (running a little on
 * each, an error path included) N times (argv[2], default 1000) and checks that the
 * resident size (VmRSS in /proc/self/status) stays flat: growth after a warm-up of N/10
 * rounds must stay under LIMIT_KB (argv[3], default 4096). argv[1]: the model, default
 * $ENGRAM_ROOT/fuzz/model/model.onnx (fuzz/make_model.py). About 10 s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engram.h"

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
    if (f) fclose(f);
    return kb;
}

static const char *TOK =
    "{\"version\":\"1.0\",\"added_tokens\":[],\"normalizer\":null,"
    "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true},"
    "\"post_processor\":null,\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,\"use_regex\":true},"
    "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":null,"
    "\"end_of_word_suffix\":null,\"fuse_unk\":false,\"byte_fallback\":false,"
    "\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b\"]}}";

#define OK(call) do { if ((call) != ENGRAM_OK) { fprintf(stderr, "%s: %s\n", #call, engram_last_error()); return 1; } } while (0)

int main(int argc, char **argv) {
    char model[1200];
    const char *root = getenv("ENGRAM_ROOT");
    if (argc > 1) snprintf(model, sizeof model, "%s", argv[1]);
    else if (root) snprintf(model, sizeof model, "%s/fuzz/model/model.onnx", root);
    else { fprintf(stderr, "usage: test_load_free [MODEL [N [LIMIT_KB]]] (or set ENGRAM_ROOT)\n"); return 2; }
    const int n = argc > 2 ? atoi(argv[2]) : 1000;
    const long limit = argc > 3 ? atol(argv[3]) : 4096;
    const int warm = n / 10 > 0 ? n / 10 : 1;
    long base = 0;
    static const int32_t ids[] = {1, 2, 3, 4, 5};
    float logits[5 * 64];
    int64_t rows[5 * 4];
    for (int i = 0; i < n; i++) {
        engram_model *m = NULL;
        engram_tokenizer *t = NULL;
        engram_context *c = NULL;
        engram_hash_state *h = NULL;
        engram_model_params mp = engram_model_default_params();
        mp.n_threads = 1;
        OK(engram_model_load(model, &mp, &m));
        OK(engram_tokenizer_load_from_memory(TOK, strlen(TOK), &t));
        engram_context_params cp = engram_context_default_params();
        cp.max_length = 16; cp.n_threads = 1;
        OK(engram_context_new(m, &cp, &c));
        OK(engram_hash_state_create(m, &h));
        size_t need = 0;
        OK(engram_forward(c, ids, 5, logits, 5 * 64, &need));
        OK(engram_model_row_ids(m, h, ids, 5, 1, rows, 20, &need));
        int32_t tids[8];
        OK(engram_tokenize(t, "abab", 4, 0, tids, 8, &need));
        /* an error path too: its message is thread-local state that must not pile up */
        if (engram_forward(c, ids, 5, logits, 1, &need) != ENGRAM_E_BUFFER_TOO_SMALL) return 1;
        engram_hash_state_free(h);
        engram_context_free(c);
        engram_tokenizer_free(t);
        engram_model_free(m);
        if (i + 1 == warm) base = rss_kb();
    }
    long end = rss_kb();
    printf("test_load_free: load/free x%d: VmRSS %ld kB after %d warm-up rounds, %ld kB at the end (growth %ld kB, limit %ld kB)\n",
           n, base, warm, end, end - base, limit);
    return end - base < limit ? 0 : 1;
}
