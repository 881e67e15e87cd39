/*
 * engram.h - the C API of libengram, an inference engine for DeepSeek Engram
 * ("conditional memory") language models.
 *
 * If it is not in this header, it is not API.
 *
 * Conventions (they hold for every function below unless its note says otherwise):
 *
 *  - Status: functions return an engram_status. ENGRAM_OK is 0; on any other value a
 *    message for this thread is available from engram_last_error() and every output
 *    parameter is left untouched (the one exception: `*needed` of a caller-owned buffer
 *    is written with ENGRAM_E_BUFFER_TOO_SMALL, so the caller can grow the buffer).
 *  - Never a crash: NULL handles and pointers, zero, negative or absurd sizes are
 *    reported as ENGRAM_E_INVALID_ARGUMENT (or a more precise status), never a trap.
 *  - Handles are opaque. Every create/load has a free; free accepts NULL. The library
 *    checks every handle against those it handed out and has not taken back: a freed
 *    handle, a handle of another kind or any other pointer is ENGRAM_E_INVALID_ARGUMENT,
 *    and freeing one does nothing (engram_last_error() says so). Freeing a handle while
 *    another thread is using it remains the caller's race.
 *  - Caller-owned buffers come as (T *out, size_t capacity, size_t *needed): the
 *    function writes the number of elements it needs to *needed; if capacity is too
 *    small it returns ENGRAM_E_BUFFER_TOO_SMALL and writes nothing to out. Passing
 *    out == NULL with capacity == 0 is a size query: it returns ENGRAM_OK and sets *needed.
 *    Sizes are size_t, token ids int32_t, hashes/row ids int64_t, tensors float32 row-major.
 *  - Strings in are UTF-8 with an explicit byte length (no NUL needed); strings out are
 *    NUL-terminated UTF-8 owned by the library unless stated otherwise.
 *  - Threads: a model or tokenizer is immutable after load and may be shared by any
 *    number of threads; a context belongs to one thread at a time. engram_last_error()
 *    is per thread.
 */
#ifndef ENGRAM_H
#define ENGRAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ENGRAM_API __attribute__((visibility("default")))
#else
#define ENGRAM_API
#endif

/* ------------------------------------------------------------------------------------ */
/* Versions                                                                             */
/* ------------------------------------------------------------------------------------ */

#define ENGRAM_VERSION_MAJOR 0
#define ENGRAM_VERSION_MINOR 1
#define ENGRAM_VERSION_PATCH 0
#define ENGRAM_VERSION_STRING "0.1.0"
/* MAJOR * 1000000 + MINOR * 1000 + PATCH */
#define ENGRAM_VERSION_NUMBER \
    (ENGRAM_VERSION_MAJOR * 1000000 + ENGRAM_VERSION_MINOR * 1000 + ENGRAM_VERSION_PATCH)
/* Bumped whenever a declaration in this header changes incompatibly. */
#define ENGRAM_ABI_VERSION 1

/* The runtime library's version, "MAJOR.MINOR.PATCH"; equals ENGRAM_VERSION_STRING when
 * header and library match. Static storage, never NULL. Thread-safe. */
ENGRAM_API const char *engram_version(void);

/* The runtime library's ENGRAM_VERSION_NUMBER. Thread-safe. */
ENGRAM_API int32_t engram_version_number(void);

/* The runtime library's ENGRAM_ABI_VERSION; a host built against another ABI version
 * must not call anything else. Thread-safe. */
ENGRAM_API int32_t engram_abi_version(void);

/* ------------------------------------------------------------------------------------ */
/* Status and errors                                                                    */
/* ------------------------------------------------------------------------------------ */

typedef enum engram_status {
    ENGRAM_OK = 0,
    ENGRAM_E_INVALID_ARGUMENT = 1, /* NULL pointer, bad size, bad value */
    ENGRAM_E_BUFFER_TOO_SMALL = 2, /* caller buffer too small; *needed tells the size */
    ENGRAM_E_IO = 3,               /* a file could not be opened, read or mapped */
    ENGRAM_E_FORMAT = 4,           /* a file is malformed or inconsistent */
    ENGRAM_E_UNSUPPORTED = 5,      /* valid input asking for a feature not implemented */
    ENGRAM_E_OUT_OF_RANGE = 6,     /* an id, layer or position outside its range */
    ENGRAM_E_OUT_OF_MEMORY = 7,    /* an allocation failed or would exceed limits */
    ENGRAM_E_INVALID_UTF8 = 8,     /* text is not valid UTF-8; the message names the offset */
    ENGRAM_E_STATE = 9,            /* the call does not fit the object's state (context full) */
    ENGRAM_E_CANCELLED = 10,       /* a callback asked to stop */
    ENGRAM_E_INTERNAL = 11         /* a bug in libengram; please report it */
} engram_status;

/* A short constant description of a status ("ok", "invalid argument", ...); unknown
 * values give "unknown status". Static storage, never NULL. Thread-safe. */
ENGRAM_API const char *engram_status_string(engram_status status);

/* The message of the last failed call on this thread, "" if the last call succeeded.
 * Owned by the library; valid until the next libengram call on the same thread.
 * Never NULL. */
ENGRAM_API const char *engram_last_error(void);

/* ------------------------------------------------------------------------------------ */
/* Tokenizer (tokenizer.json, byte-level BPE)                                           */
/* ------------------------------------------------------------------------------------ */

/* A Hugging Face tokenizer.json with a byte-level BPE model (GPT-2, Llama 3, Qwen2,
 * DeepSeek-V3 style), encoding to the same ids as the `tokenizers` library. Features the
 * file asks for that libengram does not implement are refused at load time with
 * ENGRAM_E_UNSUPPORTED and a message naming them, never silently approximated.
 * A tokenizer is immutable after load: any number of threads may use it at once. */
typedef struct engram_tokenizer engram_tokenizer;

/* Loads the tokenizer.json at `path` (NUL-terminated). On success *out receives a new
 * tokenizer the caller frees with engram_tokenizer_free. Errors: ENGRAM_E_IO (cannot read),
 * ENGRAM_E_FORMAT (malformed JSON or inconsistent vocabulary), ENGRAM_E_UNSUPPORTED. */
ENGRAM_API engram_status engram_tokenizer_load(const char *path, engram_tokenizer **out);

/* As engram_tokenizer_load, from `len` bytes of tokenizer.json content (copied as needed;
 * the caller keeps ownership of `json`). */
ENGRAM_API engram_status engram_tokenizer_load_from_memory(const char *json, size_t len,
                                                           engram_tokenizer **out);

/* Frees a tokenizer; NULL is accepted. */
ENGRAM_API void engram_tokenizer_free(engram_tokenizer *tok);

/* The number of token ids: one more than the largest id of the vocabulary and the added
 * tokens. Writes *out. */
ENGRAM_API engram_status engram_tokenizer_vocab_size(const engram_tokenizer *tok, size_t *out);

/* Encodes `text_len` bytes of UTF-8 `text` into token ids. With add_special != 0 the
 * tokens of the file's post-processor are added (e.g. Llama 3's <|begin_of_text|>);
 * special tokens written in the text are always recognised. Caller-owned buffer: *needed
 * receives the number of ids; ids == NULL with capacity 0 is a size query (it still
 * encodes: call once with a generous buffer when speed matters).
 * Errors: ENGRAM_E_INVALID_UTF8 (the message names the byte offset), ENGRAM_E_BUFFER_TOO_SMALL. */
ENGRAM_API engram_status engram_tokenize(const engram_tokenizer *tok, const char *text, size_t text_len,
                                         int add_special, int32_t *ids, size_t capacity, size_t *needed);

/* Decodes `n` ids into UTF-8 text (special tokens kept; bytes that do not form valid UTF-8
 * become U+FFFD). Caller-owned buffer of `capacity` bytes: *needed receives the text's
 * length in bytes plus one for the terminating NUL, which is written.
 * Errors: ENGRAM_E_OUT_OF_RANGE (an id outside the vocabulary), ENGRAM_E_BUFFER_TOO_SMALL. */
ENGRAM_API engram_status engram_detokenize(const engram_tokenizer *tok, const int32_t *ids, size_t n,
                                           char *out, size_t capacity, size_t *needed);

/* The spelling of token `id` as written in tokenizer.json (byte-level characters such as
 * "Ġthe" for model tokens, the content for added tokens), NUL-terminated, into a
 * caller-owned buffer as engram_detokenize. Errors: ENGRAM_E_OUT_OF_RANGE. */
ENGRAM_API engram_status engram_token_to_piece(const engram_tokenizer *tok, int32_t id,
                                               char *out, size_t capacity, size_t *needed);

/* The id of the token spelled exactly `piece` (`len` bytes of UTF-8), written to *id.
 * Errors: ENGRAM_E_OUT_OF_RANGE when no token has that spelling. */
ENGRAM_API engram_status engram_token_to_id(const engram_tokenizer *tok, const char *piece, size_t len,
                                            int32_t *id);

/* The Engram compression table (SPEC section 2): for every id in 0..vocab_size-1 its
 * compressed id, into a caller-owned int64_t buffer of vocab_size elements (*needed).
 * *count (may be NULL) receives the number of compressed ids. Computed on each call
 * (about a second for a 128k vocabulary): keep the result. */
ENGRAM_API engram_status engram_tokenizer_compression_table(const engram_tokenizer *tok, int64_t *out,
                                                            size_t capacity, size_t *needed,
                                                            size_t *count);

/* ------------------------------------------------------------------------------------ */
/* Model: load, compress, hash, retrieve                                                */
/* ------------------------------------------------------------------------------------ */

/* A loaded model: config, tokenizer compression table, per-Engram-layer hash constants and
 * tables (memory-mapped from the file's external data, never copied: opening a model with
 * multi-GB tables takes milliseconds and costs page cache, not heap). Immutable after load:
 * any number of threads may call the functions below on one model at the same time.
 *
 * Pipeline of one Engram layer (SPEC.md sections 3-4), one function per arrow:
 *   raw ids --compress--> compressed ids --hash / row_ids--> row indices --retrieve--> vectors
 * with N = max_ngram_size, K = n_head_per_ngram, E = n_embed_per_ngram and T tokens:
 *   compress  int64 [T]
 *   hash      int64 [T, (N-1)*K]  per-head index in 0..<p(n,j), order 2 heads 0..K-1 first
 *   row_ids   int64 [T, (N-1)*K]  hash + the head's first row in the layer's table
 *   retrieve  float [T, (N-1)*E]  the rows concatenated (tables stored as float32, float16
 *                                 or bfloat16 are converted; float32 is bit-exact)
 * Positions before the start of the sequence read the pad id. Errors: a token id outside
 * 0..<vocab_size or a layer without Engram -> ENGRAM_E_OUT_OF_RANGE; n_ids == 0 ->
 * ENGRAM_E_INVALID_ARGUMENT. */
typedef struct engram_model engram_model;

/* Options of engram_model_load. Get the defaults from engram_model_default_params() and
 * change fields; 0 in n_threads / prefetch_distance means the default. */
typedef struct engram_model_params {
    int32_t n_threads;         /* threads gathering rows in one retrieve call; 0 = one per CPU (max 8) */
    int32_t prefetch_distance; /* how many rows ahead of the one being copied are prefetched
                                  (float16 tables: rows per load-ahead group); 0 = default (32) */
    int32_t huge_pages;        /* nonzero: madvise(MADV_HUGEPAGE) on the tables (default 1) */
    int32_t random_access;     /* nonzero: madvise(MADV_RANDOM) on the tables, no read-ahead (default 0) */
    int32_t populate;          /* nonzero: map every table page at load (slower load, no page
                                  faults later; default 0) */
    int32_t streaming_stores;  /* nonzero: write retrieved vectors of more than 2 MiB per call with
                                  non-temporal stores, which skip reading every output line first
                                  and leave the caches to smaller outputs (default 1) */
} engram_model_params;

/* The default options. Thread-safe. */
ENGRAM_API engram_model_params engram_model_default_params(void);

/* Loads the ONNX model at `path` (NUL-terminated; external data files next to it).
 * params may be NULL (defaults). On success *out owns the model: free it with
 * engram_model_free. Errors: ENGRAM_E_IO (cannot open/map), ENGRAM_E_FORMAT (malformed or
 * inconsistent file), ENGRAM_E_UNSUPPORTED (e.g. a table dtype the engine cannot read). */
ENGRAM_API engram_status engram_model_load(const char *path, const engram_model_params *params,
                                           engram_model **out);

/* Frees a model (NULL is fine). Hash states created from it keep it alive until they are
 * freed too. Must not race with calls using the model. */
ENGRAM_API void engram_model_free(engram_model *model);

/* The model's config as JSON (the object stored in the file, DeepSeek demo field names),
 * NUL-terminated, into a caller buffer of `capacity` bytes; *needed = bytes including the
 * NUL. */
ENGRAM_API engram_status engram_model_config_json(const engram_model *model, char *out, size_t capacity,
                                                  size_t *needed);

/* What the engine derived from the file, as JSON (same buffer convention):
 * {"vocab_size", "compressed_vocab_size", "pad_id", "pad_compressed", "hash_columns" ((N-1)*K),
 *  "vector_width" ((N-1)*E), "layers": [{"layer", "rows", "width", "dtype" ("f32"|"f16"|"bf16"),
 *  "multipliers": [N], "primes": [(N-1)*K], "offsets": [(N-1)*K]}, ...]} (multipliers as
 * JSON integers up to 2^63). For hosts that keep the tables themselves. */
ENGRAM_API engram_status engram_model_memory_json(const engram_model *model, char *out, size_t capacity,
                                                  size_t *needed);

/* A streaming hash state: the last N-1 compressed ids of a sequence (the pad at the start).
 * Pass it to hash/row_ids/retrieve to treat `ids` as the continuation of what was appended
 * so far; hashing token by token this way equals hashing the whole sequence. A state
 * belongs to one thread at a time; it keeps its model alive. */
typedef struct engram_hash_state engram_hash_state;

ENGRAM_API engram_status engram_hash_state_create(const engram_model *model, engram_hash_state **out);
ENGRAM_API void engram_hash_state_free(engram_hash_state *state);
/* Back to the start of a sequence. */
ENGRAM_API engram_status engram_hash_state_reset(engram_hash_state *state);
/* Appends ids (after using them for every layer you need) to the state's sequence.
 * n_ids == 0 is allowed (no-op); ids outside the vocabulary -> ENGRAM_E_OUT_OF_RANGE and
 * the state is unchanged. */
ENGRAM_API engram_status engram_hash_state_append(engram_hash_state *state, const int32_t *ids, size_t n_ids);

/* Compressed ids of `ids`: out int64 [n_ids] (caller buffer, `capacity` elements). */
ENGRAM_API engram_status engram_model_compress(const engram_model *model, const int32_t *ids, size_t n_ids,
                                               int64_t *out, size_t capacity, size_t *needed);

/* Per-head hash indices of `ids` for Engram layer `layer` (a backbone layer id such as 1
 * or 15): out int64 [n_ids, (N-1)*K]. history: NULL for the start of a sequence, or a
 * hash state of the same model (not modified). */
ENGRAM_API engram_status engram_model_hash(const engram_model *model, const engram_hash_state *history,
                                           const int32_t *ids, size_t n_ids, int32_t layer,
                                           int64_t *out, size_t capacity, size_t *needed);

/* Row ids into layer `layer`'s table (hash + head offset): out int64 [n_ids, (N-1)*K]. */
ENGRAM_API engram_status engram_model_row_ids(const engram_model *model, const engram_hash_state *history,
                                              const int32_t *ids, size_t n_ids, int32_t layer,
                                              int64_t *out, size_t capacity, size_t *needed);

/* The retrieved vectors: out float [n_ids, (N-1)*E], row-major. Rows of many tokens are
 * gathered in batches with software prefetch, split across the params' threads. */
ENGRAM_API engram_status engram_model_retrieve(const engram_model *model, const engram_hash_state *history,
                                               const int32_t *ids, size_t n_ids, int32_t layer,
                                               float *out, size_t capacity, size_t *needed);

/* ------------------------------------------------------------------------------------ */
/* Fuse, forward, context and generation                                                */
/* ------------------------------------------------------------------------------------ */

/* The compute half of the engine (docs/EQUATIONS.md; SPEC.md sections 5-7): the Engram fuse
 * step, the backbone forward pass with a KV cache, sampling and generation. Shapes, with
 * T tokens, hc = hc_mult, D = hidden_size, V = vocab_size:
 *   hidden  float [T, hc, D]   the residual streams entering an Engram layer
 *   fuse    float [T, hc, D]   Y, the Engram module's output BEFORE the residual add
 *           float [T, hc]      the gates (one per stream)
 *   logits  float [T, V]
 * Floats are float32, row-major. NaN or Inf in `hidden` -> ENGRAM_E_INVALID_ARGUMENT (the
 * engine does not propagate them silently). Threads: the library keeps a pool of worker
 * threads (one per CPU beyond the caller's, started at first use, asleep when idle); a call of
 * many positions splits its matrix products (OpenBLAS, set to one thread) and loops over it,
 * a call of one position uses OpenBLAS's own threads. The thread count is process-wide, set
 * from the context's n_threads at each forward call; concurrent calls on several contexts are
 * correct, and whoever finds the pool busy runs its share on its own thread. */

/* The fuse step of Engram layer `layer` for a whole sequence from its start: hidden
 * [n_ids, hc, D] (n_hidden must equal n_ids*hc*D, else ENGRAM_E_INVALID_ARGUMENT) and raw
 * token ids [n_ids]. out: Y [n_ids, hc, D] (caller buffer; *needed = n_ids*hc*D). gates:
 * [n_ids, hc] or NULL (then gates_capacity must be 0); too small -> ENGRAM_E_BUFFER_TOO_SMALL.
 * A layer without Engram -> ENGRAM_E_OUT_OF_RANGE. Works on Engram-only files too.
 * Thread-safe (the model is only read). */
ENGRAM_API engram_status engram_model_fuse(const engram_model *model, int32_t layer,
                                           const float *hidden, size_t n_hidden,
                                           const int32_t *ids, size_t n_ids,
                                           float *out, size_t capacity, size_t *needed,
                                           float *gates, size_t gates_capacity);

/* A sequence being run: KV cache, Engram short-conv states, n-gram history, the last
 * position's logits. Prefill then token-by-token decode gives the logits of one full
 * forward. A context belongs to one thread at a time; it keeps its model alive. */
typedef struct engram_context engram_context;

typedef struct engram_context_params {
    size_t max_length; /* positions the context holds; 0 = max_position_embeddings */
    int32_t n_threads; /* kernel threads; 0 = the machine's cores */
} engram_context_params;

/* The defaults (max_length 0, n_threads 0). Thread-safe. */
ENGRAM_API engram_context_params engram_context_default_params(void);

/* A new context for `model` (params may be NULL: defaults). The KV cache for max_length
 * positions is allocated here. Errors: a model without backbone -> ENGRAM_E_UNSUPPORTED;
 * max_length above max_position_embeddings or n_threads < 0 -> ENGRAM_E_INVALID_ARGUMENT. */
ENGRAM_API engram_status engram_context_new(const engram_model *model, const engram_context_params *params,
                                            engram_context **out);

/* Frees a context (NULL is fine). */
ENGRAM_API void engram_context_free(engram_context *ctx);

/* Back to an empty sequence (memory is kept). Also resets the context's fuse streams. */
ENGRAM_API engram_status engram_context_reset(engram_context *ctx);

/* Positions used so far and the maximum (either pointer may be NULL). */
ENGRAM_API engram_status engram_context_position(const engram_context *ctx, size_t *position,
                                                 size_t *max_length);

/* Runs ids [n_ids] as the next positions and writes the logits of every one of them:
 * out [n_ids, V] (*needed = n_ids*V; a size query runs nothing). Errors: an id outside
 * 0..<V -> ENGRAM_E_INVALID_ARGUMENT; more positions than the context has left ->
 * ENGRAM_E_STATE. On error the context is unchanged. */
ENGRAM_API engram_status engram_forward(engram_context *ctx, const int32_t *ids, size_t n_ids,
                                        float *logits, size_t capacity, size_t *needed);

/* Like engram_forward, but computes and writes only the last position's logits [V]
 * (*needed = V): the fast way to feed a prompt. */
ENGRAM_API engram_status engram_context_prefill(engram_context *ctx, const int32_t *ids, size_t n_ids,
                                                float *logits, size_t capacity, size_t *needed);

/* The fuse step of Engram layer `layer` continuing this context's fuse stream of that layer
 * (token by token or in chunks: the same results as engram_model_fuse on the whole
 * sequence). Separate from the forward pass's state; engram_context_reset restarts it.
 * Arguments and errors as engram_model_fuse. */
ENGRAM_API engram_status engram_context_fuse(engram_context *ctx, int32_t layer,
                                             const float *hidden, size_t n_hidden,
                                             const int32_t *ids, size_t n_ids,
                                             float *out, size_t capacity, size_t *needed,
                                             float *gates, size_t gates_capacity);

/* Called with each generated token; return non-zero to stop generation. */
typedef int32_t (*engram_token_callback)(int32_t token, void *user_data);

typedef enum engram_stop_reason {
    ENGRAM_STOP_MAX_TOKENS = 0,  /* max_new_tokens (or the out capacity) reached */
    ENGRAM_STOP_TOKEN = 1,       /* a stop token was generated (it is reported, not run) */
    ENGRAM_STOP_CALLBACK = 2,    /* the callback returned non-zero */
    ENGRAM_STOP_CONTEXT_FULL = 3 /* the context has no position left */
} engram_stop_reason;

/* Sampling: greedy when temperature <= 0 (or top_k == 1); otherwise softmax(logits /
 * temperature) over the top_k most likely tokens (0 = all), then the smallest set reaching
 * top_p (1 = all), drawn from a generator seeded with `seed` (same inputs, same tokens). */
typedef struct engram_generate_params {
    size_t max_new_tokens;      /* default 64 */
    float temperature;          /* default 0 (greedy) */
    int32_t top_k;              /* default 0 (off) */
    float top_p;                /* default 1 (off); must be in (0, 1] */
    uint64_t seed;              /* default 0 */
    const int32_t *stop_tokens; /* may be NULL when n_stop_tokens is 0; not retained */
    size_t n_stop_tokens;
} engram_generate_params;

/* The defaults above. Thread-safe. */
ENGRAM_API engram_generate_params engram_generate_default_params(void);

/* Runs `prompt` (n_prompt may be 0 to continue after earlier calls on this context), then
 * samples up to max_new_tokens tokens, each reported to `callback` (may be NULL) as soon as
 * it is chosen and written to `out` (may be NULL with capacity 0; otherwise generation also
 * stops when out is full). Every generated token is run (so the context can continue with
 * n_prompt 0) except a final stop token and the token sampled when the context is full.
 * *n_generated (required) gets the count, *reason (may be NULL) why it stopped. params may
 * be NULL (defaults). A stop requested by the callback is not an error. The callback runs
 * on the calling thread and must not use this context. Errors: bad params ->
 * ENGRAM_E_INVALID_ARGUMENT; empty prompt on an empty context -> ENGRAM_E_STATE; the prompt
 * does not fit -> ENGRAM_E_STATE (tokens already reported to the callback, and written to
 * out, stay there when a later step fails). */
ENGRAM_API engram_status engram_generate(engram_context *ctx, const int32_t *prompt, size_t n_prompt,
                                         const engram_generate_params *params,
                                         engram_token_callback callback, void *user_data,
                                         int32_t *out, size_t capacity, size_t *n_generated,
                                         engram_stop_reason *reason);

#ifdef __cplusplus
}
#endif

#endif /* ENGRAM_H */
