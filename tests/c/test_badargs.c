/* Every function of engram.h with bad arguments: NULL handles and pointers, zero, huge and
 * negative-cast sizes ((size_t)-1), out-of-range ids and layers, too-small buffers, bad
 * params. Each call must return a status (never crash) with a message, and leave its output
 * buffers untouched (filled with a sentinel byte before, compared after). Uses the tiny
 * model fuzz/model/model.onnx (fuzz/make_model.py: vocab 64, hc 2, D 16, Engram layers 0
 * and 1, (N-1)*K = 4, (N-1)*E = 16, 32 positions) from $ENGRAM_ROOT, or argv[1]. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include "check.h"

#define SENT 0xA5
#define HUGE_N ((size_t)-1)
#define NEG(n) ((size_t)(intptr_t)(n)) /* a negative int cast to size_t */

enum { V = 64, HC = 2, D = 16, HCOLS = 4, VW = 16, MAXPOS = 32 };

static unsigned char buf[1 << 16];
static size_t needed_v;
static engram_tokenizer *tok_v;
static engram_model *model_v;
static engram_context *ctx_v;
static engram_hash_state *hs_v;

/* `needed` is always written (the buffer convention), so it lives outside `buf`. */
static void fill(void) { memset(buf, SENT, sizeof buf); needed_v = (size_t)0xA5A5A5A5u; }
static int untouched(void) {
    for (size_t i = 0; i < sizeof buf; i++) if (buf[i] != SENT) return 0;
    return 1;
}

/* An error status (not OK, a known code) with a message, and the output buffer untouched. */
#define CHECK_REFUSED(call) do { \
    fill(); \
    engram_status s_ = (call); \
    int ok_ = s_ != ENGRAM_OK && engram_status_string(s_) != NULL && engram_last_error()[0] != '\0'; \
    if (ok_ && untouched()) { check_passed++; } \
    else { check_failed++; fprintf(stderr, "  %s:%d: %s returned %d (%s)%s; last error: %s\n", __FILE__, __LINE__, \
        #call, (int)s_, engram_status_string(s_), untouched() ? "" : ", OUTPUT WRITTEN", engram_last_error()); } \
} while (0)

/* As CHECK_REFUSED with the exact status. */
#define CHECK_REFUSED_AS(call, want) do { \
    fill(); \
    engram_status s_ = (call); \
    if (s_ == (want) && engram_last_error()[0] != '\0' && untouched()) { check_passed++; } \
    else { check_failed++; fprintf(stderr, "  %s:%d: %s returned %d (%s), wanted %d%s; last error: %s\n", __FILE__, \
        __LINE__, #call, (int)s_, engram_status_string(s_), (int)(want), untouched() ? "" : ", OUTPUT WRITTEN", \
        engram_last_error()); } \
} while (0)

#define FB ((float *)buf)
#define IB ((int32_t *)buf)
#define LB ((int64_t *)buf)
#define CB ((char *)buf)
#define SZ ((size_t *)buf)

static const char *TINY =
    "{\"version\":\"1.0\",\"added_tokens\":[],\"normalizer\":null,"
    "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true},"
    "\"post_processor\":null,\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,\"use_regex\":true},"
    "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":null,"
    "\"end_of_word_suffix\":null,\"fuse_unk\":false,\"byte_fallback\":false,"
    "\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b\"]}}";

static void version_and_status(void) {
    CHECK(engram_version() != NULL && engram_version()[0] != '\0');
    CHECK(engram_version_number() == ENGRAM_VERSION_NUMBER);
    CHECK(engram_abi_version() >= 0);
    const engram_status odd[] = {(engram_status)-1, (engram_status)-1000, (engram_status)9999,
                                 (engram_status)INT32_MIN, (engram_status)INT32_MAX};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        const char *s = engram_status_string(odd[i]);
        CHECK(s != NULL && s[0] != '\0');
    }
    CHECK(engram_last_error() != NULL);
}

static void tokenizer(void) {
    CHECK_REFUSED_AS(engram_tokenizer_load(NULL, (engram_tokenizer **)buf), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_REFUSED_AS(engram_tokenizer_load("/nonexistent/x.json", NULL), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_REFUSED(engram_tokenizer_load("", (engram_tokenizer **)buf));
    CHECK_REFUSED(engram_tokenizer_load("/", (engram_tokenizer **)buf));
    CHECK_REFUSED(engram_tokenizer_load("/proc/self/mem", (engram_tokenizer **)buf));
    CHECK_REFUSED(engram_tokenizer_load("/dev/null", (engram_tokenizer **)buf));
    CHECK_REFUSED_AS(engram_tokenizer_load_from_memory(NULL, 5, (engram_tokenizer **)buf), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_REFUSED(engram_tokenizer_load_from_memory(NULL, 0, (engram_tokenizer **)buf));
    CHECK_REFUSED(engram_tokenizer_load_from_memory(TINY, 0, (engram_tokenizer **)buf));
    CHECK_REFUSED(engram_tokenizer_load_from_memory(TINY, HUGE_N, (engram_tokenizer **)buf));
    CHECK_REFUSED(engram_tokenizer_load_from_memory(TINY, NEG(-5), (engram_tokenizer **)buf));
    CHECK_REFUSED(engram_tokenizer_load_from_memory(TINY, strlen(TINY) - 1, (engram_tokenizer **)buf));
    CHECK_REFUSED(engram_tokenizer_load_from_memory(TINY, strlen(TINY), NULL));
    engram_tokenizer_free(NULL);
    CHECK_STATUS(engram_tokenizer_load_from_memory(TINY, strlen(TINY), &tok_v), ENGRAM_OK);
    if (!tok_v) return;
    engram_tokenizer *t = tok_v;

    CHECK_REFUSED(engram_tokenizer_vocab_size(NULL, SZ));
    CHECK_REFUSED(engram_tokenizer_vocab_size(t, NULL));

    const char *text = "abab";
    CHECK_REFUSED(engram_tokenize(NULL, text, 4, 0, IB, 16, &needed_v));
    CHECK_REFUSED(engram_tokenize(t, NULL, 4, 0, IB, 16, &needed_v));
    CHECK_REFUSED(engram_tokenize(t, text, HUGE_N, 0, IB, 16, &needed_v));
    CHECK_REFUSED(engram_tokenize(t, text, NEG(-1), 0, IB, 16, &needed_v));
    CHECK_REFUSED(engram_tokenize(t, text, 4, 0, IB, 16, NULL));
    CHECK_REFUSED(engram_tokenize(t, text, 4, 0, NULL, 16, &needed_v));
    CHECK_REFUSED(engram_tokenize(t, "ab\xff", 3, 0, IB, 16, &needed_v));
    CHECK_REFUSED(engram_tokenize(t, "\xc3", 1, 0, IB, 16, &needed_v));
    { size_t n = 0; CHECK_STATUS(engram_tokenize(t, text, 4, 0, NULL, 0, &n), ENGRAM_OK); CHECK(n == 2);
      fill(); CHECK_STATUS(engram_tokenize(t, text, 4, 0, IB, 1, &n), ENGRAM_E_BUFFER_TOO_SMALL); CHECK(untouched() && n == 2);
      fill(); CHECK_STATUS(engram_tokenize(t, text, 4, 0, IB, HUGE_N, &n), ENGRAM_E_INVALID_ARGUMENT); CHECK(untouched());
      CHECK_STATUS(engram_tokenize(t, "", 0, 0, NULL, 0, &n), ENGRAM_OK); CHECK(n == 0);
      CHECK_STATUS(engram_tokenize(t, NULL, 0, 1, NULL, 0, &n), ENGRAM_OK); CHECK(n == 0); }

    const int32_t good[] = {0, 1, 2}, bad_hi[] = {0, 3}, bad_neg[] = {-1}, bad_min[] = {INT32_MIN}, bad_max[] = {INT32_MAX};
    CHECK_REFUSED(engram_detokenize(NULL, good, 3, CB, 64, &needed_v));
    CHECK_REFUSED(engram_detokenize(t, NULL, 3, CB, 64, &needed_v));
    CHECK_REFUSED(engram_detokenize(t, good, HUGE_N, CB, 64, &needed_v));
    CHECK_REFUSED(engram_detokenize(t, good, 3, CB, 64, NULL));
    CHECK_REFUSED(engram_detokenize(t, good, 3, NULL, 64, &needed_v));
    CHECK_REFUSED(engram_detokenize(t, good, 3, CB, HUGE_N, &needed_v));
    CHECK_REFUSED_AS(engram_detokenize(t, bad_hi, 2, CB, 64, &needed_v), ENGRAM_E_OUT_OF_RANGE);
    CHECK_REFUSED_AS(engram_detokenize(t, bad_neg, 1, CB, 64, &needed_v), ENGRAM_E_OUT_OF_RANGE);
    CHECK_REFUSED_AS(engram_detokenize(t, bad_min, 1, CB, 64, &needed_v), ENGRAM_E_OUT_OF_RANGE);
    CHECK_REFUSED_AS(engram_detokenize(t, bad_max, 1, CB, 64, &needed_v), ENGRAM_E_OUT_OF_RANGE);
    { size_t n = 0; fill(); CHECK_STATUS(engram_detokenize(t, good, 3, CB, 4, &n), ENGRAM_E_BUFFER_TOO_SMALL);
      CHECK(untouched() && n == 5); /* "abab" + NUL */
      fill(); CHECK_STATUS(engram_detokenize(t, good, 3, CB, 0, &n), ENGRAM_E_BUFFER_TOO_SMALL); CHECK(untouched()); }

    CHECK_REFUSED(engram_token_to_piece(NULL, 0, CB, 64, &needed_v));
    CHECK_REFUSED(engram_token_to_piece(t, 0, CB, 64, NULL));
    CHECK_REFUSED(engram_token_to_piece(t, 0, NULL, 64, &needed_v));
    CHECK_REFUSED_AS(engram_token_to_piece(t, 3, CB, 64, &needed_v), ENGRAM_E_OUT_OF_RANGE);
    CHECK_REFUSED_AS(engram_token_to_piece(t, -1, CB, 64, &needed_v), ENGRAM_E_OUT_OF_RANGE);
    CHECK_REFUSED_AS(engram_token_to_piece(t, INT32_MIN, CB, 64, &needed_v), ENGRAM_E_OUT_OF_RANGE);
    CHECK_REFUSED_AS(engram_token_to_piece(t, INT32_MAX, CB, 64, &needed_v), ENGRAM_E_OUT_OF_RANGE);
    { size_t n = 0; fill(); CHECK_STATUS(engram_token_to_piece(t, 2, CB, 2, &n), ENGRAM_E_BUFFER_TOO_SMALL);
      CHECK(untouched() && n == 3); }

    CHECK_REFUSED(engram_token_to_id(NULL, "a", 1, IB));
    CHECK_REFUSED(engram_token_to_id(t, NULL, 1, IB));
    CHECK_REFUSED(engram_token_to_id(t, "a", 1, NULL));
    CHECK_REFUSED(engram_token_to_id(t, "a", HUGE_N, IB));
    CHECK_REFUSED(engram_token_to_id(t, "a", NEG(-2), IB));
    CHECK_REFUSED_AS(engram_token_to_id(t, "zz", 2, IB), ENGRAM_E_OUT_OF_RANGE);
    CHECK_REFUSED(engram_token_to_id(t, "", 0, IB));
    CHECK_REFUSED(engram_token_to_id(t, "\xff", 1, IB));

    CHECK_REFUSED(engram_tokenizer_compression_table(NULL, LB, 64, &needed_v, NULL));
    CHECK_REFUSED(engram_tokenizer_compression_table(t, LB, 64, NULL, NULL));
    CHECK_REFUSED(engram_tokenizer_compression_table(t, NULL, 64, &needed_v, NULL));
    CHECK_REFUSED(engram_tokenizer_compression_table(t, LB, HUGE_N, &needed_v, NULL));
    { size_t n = 0, c = 77; fill(); CHECK_STATUS(engram_tokenizer_compression_table(t, LB, 2, &n, &c), ENGRAM_E_BUFFER_TOO_SMALL);
      CHECK(untouched() && n == 3); }
}

static void model_load(const char *path) {
    engram_model_params p = engram_model_default_params();
    CHECK_REFUSED_AS(engram_model_load(NULL, NULL, (engram_model **)buf), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_REFUSED_AS(engram_model_load(path, NULL, NULL), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_REFUSED(engram_model_load("", NULL, (engram_model **)buf));
    CHECK_REFUSED(engram_model_load("/", NULL, (engram_model **)buf));
    CHECK_REFUSED(engram_model_load("/dev/null", NULL, (engram_model **)buf));
    CHECK_REFUSED(engram_model_load("/dev/zero", NULL, (engram_model **)buf));
    CHECK_REFUSED(engram_model_load("/nonexistent/model.onnx", NULL, (engram_model **)buf));
    p.n_threads = -1; CHECK_REFUSED(engram_model_load(path, &p, (engram_model **)buf));
    p = engram_model_default_params(); p.n_threads = INT32_MAX; CHECK_REFUSED(engram_model_load(path, &p, (engram_model **)buf));
    p = engram_model_default_params(); p.prefetch_distance = -5; CHECK_REFUSED(engram_model_load(path, &p, (engram_model **)buf));
    p = engram_model_default_params(); p.prefetch_distance = INT32_MIN; CHECK_REFUSED(engram_model_load(path, &p, (engram_model **)buf));
    engram_model_free(NULL);
    p = engram_model_default_params(); p.n_threads = 1;
    CHECK_STATUS(engram_model_load(path, &p, &model_v), ENGRAM_OK);
}

static void model_calls(void) {
    engram_model *m = model_v;
    CHECK_REFUSED(engram_model_config_json(NULL, CB, 4096, &needed_v));
    CHECK_REFUSED(engram_model_config_json(m, CB, 4096, NULL));
    CHECK_REFUSED(engram_model_config_json(m, NULL, 4096, &needed_v));
    CHECK_REFUSED(engram_model_config_json(m, CB, HUGE_N, &needed_v));
    { size_t n = 0; fill(); CHECK_STATUS(engram_model_config_json(m, CB, 1, &n), ENGRAM_E_BUFFER_TOO_SMALL); CHECK(untouched() && n > 1); }
    CHECK_REFUSED(engram_model_memory_json(NULL, CB, 4096, &needed_v));
    CHECK_REFUSED(engram_model_memory_json(m, CB, 4096, NULL));
    CHECK_REFUSED(engram_model_memory_json(m, NULL, 4096, &needed_v));
    { size_t n = 0; fill(); CHECK_STATUS(engram_model_memory_json(m, CB, 0, &n), ENGRAM_E_BUFFER_TOO_SMALL); CHECK(untouched() && n > 1); }

    CHECK_REFUSED(engram_hash_state_create(NULL, (engram_hash_state **)buf));
    CHECK_REFUSED(engram_hash_state_create(m, NULL));
    engram_hash_state_free(NULL);
    CHECK_REFUSED(engram_hash_state_reset(NULL));
    CHECK_STATUS(engram_hash_state_create(m, &hs_v), ENGRAM_OK);
    const int32_t ids[] = {1, 2, 3, 4}, hi[] = {1, V}, neg[] = {-1}, imin[] = {INT32_MIN}, imax[] = {INT32_MAX};
    CHECK_REFUSED(engram_hash_state_append(NULL, ids, 4));
    CHECK_REFUSED(engram_hash_state_append(hs_v, NULL, 4));
    CHECK_REFUSED(engram_hash_state_append(hs_v, ids, HUGE_N));
    CHECK_REFUSED(engram_hash_state_append(hs_v, ids, NEG(-4)));
    CHECK_REFUSED_AS(engram_hash_state_append(hs_v, hi, 2), ENGRAM_E_OUT_OF_RANGE);
    CHECK_REFUSED_AS(engram_hash_state_append(hs_v, neg, 1), ENGRAM_E_OUT_OF_RANGE);
    CHECK_REFUSED_AS(engram_hash_state_append(hs_v, imin, 1), ENGRAM_E_OUT_OF_RANGE);
    CHECK_STATUS(engram_hash_state_append(hs_v, ids, 0), ENGRAM_OK);
    CHECK_STATUS(engram_hash_state_append(hs_v, NULL, 0), ENGRAM_OK);

    /* compress */
    CHECK_REFUSED(engram_model_compress(NULL, ids, 4, LB, 64, &needed_v));
    CHECK_REFUSED(engram_model_compress(m, NULL, 4, LB, 64, &needed_v));
    CHECK_REFUSED(engram_model_compress(m, ids, 4, LB, 64, NULL));
    CHECK_REFUSED(engram_model_compress(m, ids, 0, LB, 64, &needed_v));
    CHECK_REFUSED(engram_model_compress(m, ids, HUGE_N, LB, 64, &needed_v));
    CHECK_REFUSED(engram_model_compress(m, ids, 4, NULL, 64, &needed_v));
    CHECK_REFUSED(engram_model_compress(m, ids, 4, LB, HUGE_N, &needed_v));
    CHECK_REFUSED_AS(engram_model_compress(m, hi, 2, LB, 64, &needed_v), ENGRAM_E_OUT_OF_RANGE);
    CHECK_REFUSED_AS(engram_model_compress(m, imax, 1, LB, 64, &needed_v), ENGRAM_E_OUT_OF_RANGE);
    { size_t n = 0; fill(); CHECK_STATUS(engram_model_compress(m, ids, 4, LB, 3, &n), ENGRAM_E_BUFFER_TOO_SMALL); CHECK(untouched() && n == 4); }

    /* hash, row_ids (int64 out), retrieve (float out) */
    const int32_t layers_bad[] = {-1, 2, 3, 100, INT32_MIN, INT32_MAX};
    for (int k = 0; k < 2; k++) {
        #define HCALL(mm, h, i, n, l, o, c, nd) (k == 0 ? engram_model_hash(mm, h, i, n, l, o, c, nd) : engram_model_row_ids(mm, h, i, n, l, o, c, nd))
        CHECK_REFUSED(HCALL(NULL, NULL, ids, 4, 0, LB, 64, &needed_v));
        CHECK_REFUSED(HCALL(m, NULL, NULL, 4, 0, LB, 64, &needed_v));
        CHECK_REFUSED(HCALL(m, NULL, ids, 4, 0, LB, 64, NULL));
        CHECK_REFUSED(HCALL(m, NULL, ids, 0, 0, LB, 64, &needed_v));
        CHECK_REFUSED(HCALL(m, NULL, ids, HUGE_N, 0, LB, 64, &needed_v));
        CHECK_REFUSED(HCALL(m, NULL, ids, NEG(-3), 0, LB, 64, &needed_v));
        CHECK_REFUSED(HCALL(m, NULL, ids, 4, 0, NULL, 64, &needed_v));
        CHECK_REFUSED(HCALL(m, NULL, ids, 4, 0, LB, HUGE_N, &needed_v));
        CHECK_REFUSED(HCALL(m, NULL, hi, 2, 0, LB, 64, &needed_v));
        CHECK_REFUSED(HCALL(m, hs_v, neg, 1, 1, LB, 64, &needed_v));
        for (size_t j = 0; j < sizeof layers_bad / sizeof layers_bad[0]; j++)
            CHECK_REFUSED_AS(HCALL(m, hs_v, ids, 4, layers_bad[j], LB, 64, &needed_v), ENGRAM_E_OUT_OF_RANGE);
        size_t n = 0; fill(); CHECK_STATUS(HCALL(m, NULL, ids, 4, 1, LB, 4 * HCOLS - 1, &n), ENGRAM_E_BUFFER_TOO_SMALL);
        CHECK(untouched() && n == 4 * HCOLS);
        #undef HCALL
    }
    CHECK_REFUSED(engram_model_retrieve(NULL, NULL, ids, 4, 0, FB, 256, &needed_v));
    CHECK_REFUSED(engram_model_retrieve(m, NULL, NULL, 4, 0, FB, 256, &needed_v));
    CHECK_REFUSED(engram_model_retrieve(m, NULL, ids, 4, 0, FB, 256, NULL));
    CHECK_REFUSED(engram_model_retrieve(m, NULL, ids, 0, 0, FB, 256, &needed_v));
    CHECK_REFUSED(engram_model_retrieve(m, NULL, ids, HUGE_N, 0, FB, 256, &needed_v));
    CHECK_REFUSED(engram_model_retrieve(m, NULL, ids, 4, 0, NULL, 256, &needed_v));
    CHECK_REFUSED(engram_model_retrieve(m, NULL, ids, 4, 0, FB, HUGE_N, &needed_v));
    CHECK_REFUSED(engram_model_retrieve(m, NULL, imin, 1, 0, FB, 256, &needed_v));
    for (size_t j = 0; j < sizeof layers_bad / sizeof layers_bad[0]; j++)
        CHECK_REFUSED_AS(engram_model_retrieve(m, NULL, ids, 4, layers_bad[j], FB, 256, &needed_v), ENGRAM_E_OUT_OF_RANGE);
    { size_t n = 0; fill(); CHECK_STATUS(engram_model_retrieve(m, hs_v, ids, 4, 0, FB, 4 * VW - 1, &n), ENGRAM_E_BUFFER_TOO_SMALL);
      CHECK(untouched() && n == 4 * VW); }
}

static float hidden[8 * HC * D];

static void fuse_calls(void) {
    engram_model *m = model_v;
    const int32_t ids[] = {1, 2, 3, 4}, hi[] = {1, V}, neg[] = {-7};
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) hidden[i] = (float)((int)(i % 13) - 6) / 8.0f;
    const size_t nh = 4 * HC * D;
    const int32_t layers_bad[] = {-1, 2, 100, INT32_MIN, INT32_MAX};
    for (int k = 0; k < 2; k++) {
        #define FCALL(l, h, n_h, i, n_i, o, c, nd, g, gc) (k == 0 ? engram_model_fuse(m, l, h, n_h, i, n_i, o, c, nd, g, gc) \
                                                                 : engram_context_fuse(ctx_v, l, h, n_h, i, n_i, o, c, nd, g, gc))
        float *gates = (float *)(buf + 40000);
        size_t *nd = &needed_v;
        CHECK_REFUSED(k == 0 ? engram_model_fuse(NULL, 0, hidden, nh, ids, 4, FB, nh, nd, gates, 8)
                             : engram_context_fuse(NULL, 0, hidden, nh, ids, 4, FB, nh, nd, gates, 8));
        CHECK_REFUSED(FCALL(0, NULL, nh, ids, 4, FB, nh, nd, gates, 8));
        CHECK_REFUSED(FCALL(0, hidden, nh, NULL, 4, FB, nh, nd, gates, 8));
        CHECK_REFUSED(FCALL(0, hidden, nh, ids, 4, NULL, nh, nd, gates, 8));
        CHECK_REFUSED(FCALL(0, hidden, nh, ids, 4, FB, nh, NULL, gates, 8));
        CHECK_REFUSED(FCALL(0, hidden, nh, ids, 4, FB, nh, nd, NULL, 8));
        CHECK_REFUSED(FCALL(0, hidden, nh - 1, ids, 4, FB, nh, nd, gates, 8));
        CHECK_REFUSED(FCALL(0, hidden, nh + 1, ids, 4, FB, nh, nd, gates, 8));
        CHECK_REFUSED(FCALL(0, hidden, HUGE_N, ids, 4, FB, nh, nd, gates, 8));
        CHECK_REFUSED(FCALL(0, hidden, nh, ids, HUGE_N, FB, nh, nd, gates, 8));
        CHECK_REFUSED(FCALL(0, hidden, nh, ids, NEG(-4), FB, nh, nd, gates, 8));
        CHECK_REFUSED(FCALL(0, hidden, 0, ids, 0, FB, nh, nd, gates, 8));
        CHECK_REFUSED(FCALL(0, hidden, nh, ids, 4, FB, HUGE_N, nd, gates, 8));
        CHECK_REFUSED(FCALL(0, hidden, nh, ids, 4, FB, nh, nd, gates, HUGE_N));
        CHECK_REFUSED(FCALL(0, hidden, nh, ids, 4, FB, nh - 1, nd, gates, 8));
        CHECK_REFUSED(FCALL(0, hidden, nh, ids, 4, FB, nh, nd, gates, 7));
        CHECK_REFUSED(FCALL(0, hidden, 2 * HC * D, hi, 2, FB, nh, nd, gates, 8));
        CHECK_REFUSED(FCALL(1, hidden, HC * D, neg, 1, FB, nh, nd, gates, 8));
        for (size_t j = 0; j < sizeof layers_bad / sizeof layers_bad[0]; j++)
            CHECK_REFUSED_AS(FCALL(layers_bad[j], hidden, nh, ids, 4, FB, nh, nd, gates, 8), ENGRAM_E_OUT_OF_RANGE);
        hidden[5] = NAN;
        CHECK_REFUSED_AS(FCALL(0, hidden, nh, ids, 4, FB, nh, nd, gates, 8), ENGRAM_E_INVALID_ARGUMENT);
        hidden[5] = INFINITY;
        CHECK_REFUSED_AS(FCALL(1, hidden, nh, ids, 4, FB, nh, nd, gates, 8), ENGRAM_E_INVALID_ARGUMENT);
        hidden[5] = 0.5f;
        #undef FCALL
    }
}

static int32_t stop_now(int32_t token, void *user) { (void)token; (*(int *)user)++; return 1; }

static void context_calls(void) {
    engram_model *m = model_v;
    engram_context_params cp = engram_context_default_params();
    CHECK(cp.max_length == 0 && cp.n_threads == 0);
    CHECK_REFUSED(engram_context_new(NULL, NULL, (engram_context **)buf));
    CHECK_REFUSED(engram_context_new(m, NULL, NULL));
    cp.max_length = MAXPOS + 1; CHECK_REFUSED_AS(engram_context_new(m, &cp, (engram_context **)buf), ENGRAM_E_INVALID_ARGUMENT);
    cp.max_length = HUGE_N; CHECK_REFUSED(engram_context_new(m, &cp, (engram_context **)buf));
    cp.max_length = 0; cp.n_threads = -1; CHECK_REFUSED_AS(engram_context_new(m, &cp, (engram_context **)buf), ENGRAM_E_INVALID_ARGUMENT);
    cp.n_threads = INT32_MIN; CHECK_REFUSED(engram_context_new(m, &cp, (engram_context **)buf));
    engram_context_free(NULL);
    CHECK_REFUSED(engram_context_reset(NULL));
    CHECK_REFUSED(engram_context_position(NULL, SZ, SZ + 1));
    cp.max_length = 8; cp.n_threads = 1;
    CHECK_STATUS(engram_context_new(m, &cp, &ctx_v), ENGRAM_OK);
    if (!ctx_v) return;
    engram_context *c = ctx_v;
    CHECK_STATUS(engram_context_position(c, NULL, NULL), ENGRAM_OK);

    const int32_t ids[] = {1, 2, 3}, hi[] = {1, V}, neg[] = {-1}, imin[] = {INT32_MIN}, nine[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    size_t *nd = &needed_v;
    for (int k = 0; k < 2; k++) {
        #define RUN(cx, i, n, o, cap, ndp) (k == 0 ? engram_forward(cx, i, n, o, cap, ndp) : engram_context_prefill(cx, i, n, o, cap, ndp))
        const size_t need = k == 0 ? 3 * V : V;
        CHECK_REFUSED(RUN(NULL, ids, 3, FB, need, nd));
        CHECK_REFUSED(RUN(c, NULL, 3, FB, need, nd));
        CHECK_REFUSED(RUN(c, ids, 3, FB, need, NULL));
        CHECK_REFUSED(RUN(c, ids, 0, FB, need, nd));
        CHECK_REFUSED(RUN(c, ids, HUGE_N, FB, need, nd));
        CHECK_REFUSED(RUN(c, ids, NEG(-3), FB, need, nd));
        CHECK_REFUSED(RUN(c, ids, 3, NULL, need, nd));
        CHECK_REFUSED(RUN(c, ids, 3, FB, HUGE_N, nd));
        CHECK_REFUSED_AS(RUN(c, hi, 2, FB, 2 * V, nd), ENGRAM_E_INVALID_ARGUMENT);
        CHECK_REFUSED_AS(RUN(c, neg, 1, FB, V, nd), ENGRAM_E_INVALID_ARGUMENT);
        CHECK_REFUSED_AS(RUN(c, imin, 1, FB, V, nd), ENGRAM_E_INVALID_ARGUMENT);
        CHECK_REFUSED_AS(RUN(c, nine, 9, FB, 9 * V, nd), ENGRAM_E_STATE);
        { size_t n = 0; fill(); CHECK_STATUS(RUN(c, ids, 3, FB, need - 1, &n), ENGRAM_E_BUFFER_TOO_SMALL); CHECK(untouched() && n == need); }
        size_t pos = 99; CHECK_STATUS(engram_context_position(c, &pos, NULL), ENGRAM_OK); CHECK(pos == 0); /* nothing ran */
        #undef RUN
    }
    /* A context that is full refuses one more position and stays as it was. */
    { float *lg = malloc(8 * V * sizeof(float));
      CHECK_STATUS(engram_forward(c, nine, 8, lg, 8 * V, nd), ENGRAM_OK);
      CHECK_REFUSED_AS(engram_forward(c, ids, 1, FB, V, nd), ENGRAM_E_STATE);
      size_t pos = 0, mx = 0; CHECK_STATUS(engram_context_position(c, &pos, &mx), ENGRAM_OK); CHECK(pos == 8 && mx == 8);
      CHECK_STATUS(engram_context_reset(c), ENGRAM_OK);
      free(lg); }

    /* generate */
    engram_generate_params gp = engram_generate_default_params();
    size_t *ng = &needed_v;
    engram_stop_reason *rs = (engram_stop_reason *)(buf + 60016);
    CHECK_REFUSED(engram_generate(NULL, ids, 3, &gp, NULL, NULL, IB, 4, ng, rs));
    CHECK_REFUSED(engram_generate(c, NULL, 3, &gp, NULL, NULL, IB, 4, ng, rs));
    CHECK_REFUSED(engram_generate(c, ids, 3, &gp, NULL, NULL, IB, 4, NULL, rs));
    CHECK_REFUSED(engram_generate(c, ids, HUGE_N, &gp, NULL, NULL, IB, 4, ng, rs));
    CHECK_REFUSED(engram_generate(c, ids, 3, &gp, NULL, NULL, NULL, 4, ng, rs));
    CHECK_REFUSED(engram_generate(c, ids, 3, &gp, NULL, NULL, IB, HUGE_N, ng, rs));
    CHECK_REFUSED_AS(engram_generate(c, NULL, 0, &gp, NULL, NULL, IB, 4, ng, rs), ENGRAM_E_STATE); /* empty context */
    CHECK_REFUSED_AS(engram_generate(c, nine, 9, &gp, NULL, NULL, IB, 4, ng, rs), ENGRAM_E_STATE);
    CHECK_REFUSED(engram_generate(c, hi, 2, &gp, NULL, NULL, IB, 4, ng, rs));
    gp.top_p = 0; CHECK_REFUSED_AS(engram_generate(c, ids, 3, &gp, NULL, NULL, IB, 4, ng, rs), ENGRAM_E_INVALID_ARGUMENT);
    gp.top_p = 1.5f; CHECK_REFUSED_AS(engram_generate(c, ids, 3, &gp, NULL, NULL, IB, 4, ng, rs), ENGRAM_E_INVALID_ARGUMENT);
    gp.top_p = NAN; CHECK_REFUSED_AS(engram_generate(c, ids, 3, &gp, NULL, NULL, IB, 4, ng, rs), ENGRAM_E_INVALID_ARGUMENT);
    gp = engram_generate_default_params(); gp.temperature = NAN;
    CHECK_REFUSED_AS(engram_generate(c, ids, 3, &gp, NULL, NULL, IB, 4, ng, rs), ENGRAM_E_INVALID_ARGUMENT);
    gp = engram_generate_default_params(); gp.temperature = INFINITY;
    CHECK_REFUSED(engram_generate(c, ids, 3, &gp, NULL, NULL, IB, 4, ng, rs));
    gp = engram_generate_default_params(); gp.top_k = -1;
    CHECK_REFUSED_AS(engram_generate(c, ids, 3, &gp, NULL, NULL, IB, 4, ng, rs), ENGRAM_E_INVALID_ARGUMENT);
    gp = engram_generate_default_params(); gp.n_stop_tokens = 3; gp.stop_tokens = NULL;
    CHECK_REFUSED_AS(engram_generate(c, ids, 3, &gp, NULL, NULL, IB, 4, ng, rs), ENGRAM_E_INVALID_ARGUMENT);
    gp = engram_generate_default_params(); gp.n_stop_tokens = HUGE_N; gp.stop_tokens = ids;
    CHECK_REFUSED(engram_generate(c, ids, 3, &gp, NULL, NULL, IB, 4, ng, rs));
    size_t pos = 99; CHECK_STATUS(engram_context_position(c, &pos, NULL), ENGRAM_OK); CHECK(pos == 0);
    gp = engram_generate_default_params(); gp.max_new_tokens = HUGE_N;
    CHECK_REFUSED_AS(engram_generate(c, ids, 3, &gp, NULL, NULL, IB, 4, ng, rs), ENGRAM_E_INVALID_ARGUMENT);
    /* Generation that fills the context stops with a reason, not an error. */
    gp = engram_generate_default_params(); gp.max_new_tokens = 1000;
    { size_t n = 0; engram_stop_reason r = ENGRAM_STOP_TOKEN; int32_t out[16];
      CHECK_STATUS(engram_generate(c, ids, 3, &gp, NULL, NULL, out, 16, &n, &r), ENGRAM_OK);
      CHECK(r == ENGRAM_STOP_CONTEXT_FULL && n >= 5 && n <= 6);
      int calls = 0; CHECK_STATUS(engram_generate(c, NULL, 0, &gp, stop_now, &calls, NULL, 0, &n, &r), ENGRAM_OK);
      CHECK(r == ENGRAM_STOP_CONTEXT_FULL || r == ENGRAM_STOP_CALLBACK); }
    CHECK_STATUS(engram_context_reset(c), ENGRAM_OK);
}

int main(int argc, char **argv) {
    char path[1200];
    if (argc > 1) snprintf(path, sizeof path, "%s", argv[1]);
    else {
        const char *root = getenv("ENGRAM_ROOT");
        if (!root) { fprintf(stderr, "test_badargs: set ENGRAM_ROOT or pass a model path\n"); return 1; }
        snprintf(path, sizeof path, "%s/fuzz/model/model.onnx", root);
    }
    version_and_status();
    tokenizer();
    model_load(path);
    if (model_v) {
        model_calls();
        context_calls();
        if (ctx_v) fuse_calls();
    }
    /* Handles stay valid across all those errors: a last good call on each. */
    if (tok_v) { size_t v = 0; CHECK_STATUS(engram_tokenizer_vocab_size(tok_v, &v), ENGRAM_OK); CHECK(v == 3); }
    if (ctx_v) { const int32_t ids[] = {1, 2}; float lg[2 * V]; size_t n = 0;
        CHECK_STATUS(engram_forward(ctx_v, ids, 2, lg, 2 * V, &n), ENGRAM_OK); CHECK(n == 2 * V && isfinite(lg[0])); }
    engram_hash_state_free(hs_v);
    engram_context_free(ctx_v);
    engram_model_free(model_v);
    engram_tokenizer_free(tok_v);
    return check_summary("test_badargs");
}
