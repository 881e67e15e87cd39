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
 *  - Handles are opaque. Every create/load has a free; free accepts NULL.
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
    int32_t prefetch_distance; /* rows per load-ahead group (the next group is loaded, the one
                                  after prefetched, while one is copied); 0 = default (32) */
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

#ifdef __cplusplus
}
#endif

#endif /* ENGRAM_H */
